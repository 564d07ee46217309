"""Stage 1: capture files -> IPv4 datagrams (pcap, pcapng, link layers,
fragment reassembly)."""

from .reader import CaptureError, CaptureReader

__all__ = ["CaptureError", "CaptureReader"]
