"""Stage 2: datagrams -> FMIPv4 message records (decoder.py), and the
`fmipdissect decode` output (output.py)."""

from .decoder import decode_datagram, decode_icmp, decode_mip

__all__ = ["decode_datagram", "decode_icmp", "decode_mip"]
