"""Padding and the link-layer address of an LLA option (decision D3).

The LLA option (RFC 4988 6.1) carries no length for the address: it takes
the configured number of octets and the rest of the option must be padding,
Pad1 or one PadN that fills it exactly (RFC 2460 4.2).  With Option-Code 0
(wildcard) the option may hold padding only.  These functions are the one
place that decides it for the Python side (fast decoder, Scapy layers,
generator); the Lua dissector's copy is generated next to the same rules.
"""

from __future__ import annotations

from ..spec import protocol as P

_PAD1, _PADN, _WILDCARD = P.PAD1, P.PADN, P.LLA_WILDCARD


def padding_ok(buf: bytes, start: int = 0, end: int | None = None) -> bool:
    """Whether buf[start:end] is empty, Pad1, or one PadN filling it exactly.

    PadN's data octets are zero-valued (RFC 4988 6.1's example).  No slice
    is taken: the decoder calls this for every LLA option.
    """
    if end is None:
        end = len(buf)
    n = end - start
    if n > 1:
        return (buf[start] == _PADN and buf[start + 1] == n - 2
                and buf.count(0, start + 2, end) == n - 2)
    return n <= 0 or buf[start] == _PAD1


def build_padding(used: int) -> bytes:
    """Padding that brings an option of `used` octets to a multiple of 8:
    Pad1 when one octet is left, else one PadN."""
    n = -used % P.OPTION_UNIT
    if n == 0:
        return b""
    if n == 1:
        return bytes([_PAD1])
    return bytes([_PADN, n - 2]) + bytes(n - 2)


def lla_split(buf: bytes, start: int, end: int, lla_length: int,
              code: int) -> int | None:
    """Where the address of an LLA option ends, or None when the padding
    does not parse (decision D3).

    buf[start:end] is the option after its Option-Code.  The address takes
    lla_length octets when the rest is valid padding; with the wildcard
    Option-Code an option holding only padding has an empty address
    (returns start).
    """
    address_end = start + lla_length
    if address_end <= end and padding_ok(buf, address_end, end):
        return address_end
    if code == _WILDCARD and padding_ok(buf, start, end):
        return start
    return None
