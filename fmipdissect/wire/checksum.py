"""RFC checksums and MN-PAR authenticators (decisions D2, D5).

Pure functions over bytes, shared by the Scapy layers, the fast decoder, the
generator and the checker.
"""

from __future__ import annotations

import hashlib
import hmac

from ..spec import protocol as P

CHECKSUM_OK = "ok"
CHECKSUM_PLAIN_SUM = "plain-sum"   # decision D2: warning, not an error
CHECKSUM_BAD = "bad"


def internet_checksum(data: bytes) -> int:
    """The 16-bit one's complement of the one's complement sum (RFC 1071)."""
    if len(data) % 2:
        data = bytes(data) + b"\x00"
    total = sum(memoryview(bytes(data)).cast("H"))  # host order, see below
    # Summing 16-bit words in host order and swapping the result is
    # equivalent to summing in network order (RFC 1071 2(B)).
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    if _LITTLE_ENDIAN:
        total = ((total & 0xFF) << 8) | (total >> 8)
    return (~total) & 0xFFFF


_LITTLE_ENDIAN = memoryview(b"\x01\x00").cast("H")[0] == 1


def reserved_mask(subtype: int) -> int:
    """The reserved bits of octet 5 of an ICMP type 41 FMIPv4 message."""
    msg = P.ICMP_MESSAGES.get(subtype)
    if msg is None:
        return 0
    return msg.fields[4].reserved_mask   # Reserved, or HI's S U + 6 bits


def fmip_icmp_checksum(message: bytes) -> int:
    """RFC 4988 5.3-5.6 checksum (decision D2): Checksum and Reserved zeroed.

    message is the whole ICMP message from the Type field on.  For HI only
    the six reserved bits are zeroed; S and U stay.
    """
    buf = bytearray(message)
    if len(buf) >= 4:
        buf[2] = buf[3] = 0
    if len(buf) >= 6:
        buf[5] &= ~reserved_mask(buf[4]) & 0xFF
    return internet_checksum(bytes(buf))


def plain_icmp_checksum(message: bytes) -> int:
    """The usual ICMP checksum over the octets as sent (Wireshark's check)."""
    buf = bytearray(message)
    if len(buf) >= 4:
        buf[2] = buf[3] = 0
    return internet_checksum(bytes(buf))


def checksum_verdict(message: bytes) -> str:
    """ok, plain-sum (warning) or bad, as decision D2 defines them."""
    if len(message) < 4:
        return CHECKSUM_BAD
    sent = (message[2] << 8) | message[3]
    if sent == fmip_icmp_checksum(message):
        return CHECKSUM_OK
    if sent == plain_icmp_checksum(message):
        return CHECKSUM_PLAIN_SUM
    return CHECKSUM_BAD


def mn_par_authenticator(covered: bytes, key: bytes,
                         algorithm: str = P.DEFAULT_AUTH_ALGORITHM) -> bytes:
    """The MN-PAR authenticator (decision D5).

    covered is the UDP payload from the Type field through the SPI field of
    the authentication extension (all preceding extensions included).
    """
    digest = {"hmac-md5": hashlib.md5, "hmac-sha1": hashlib.sha1,
              "hmac-sha256": hashlib.sha256}.get(algorithm)
    if digest is None:
        raise ValueError(f"unknown authentication algorithm {algorithm!r}")
    return hmac.new(key, covered, digest).digest()
