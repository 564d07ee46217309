"""RFC checksums and MN-PAR authenticators (decisions D2, D5).

Pure functions over bytes, shared by the Scapy layers, the fast decoder, the
generator and the checker.
"""

from __future__ import annotations

import struct

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


# Octet 5 of an ICMP type 41 message: Reserved, or HI's S U + 6 bits.
_RESERVED_OFFSET = P.ICMP_SUBTYPE_OFFSET + 1
# The reserved bits of octet 5 per FMIPv4 subtype (decision D2 zeroes them).
RESERVED_MASKS = {
    subtype: next(f.reserved_mask for f in m.fields
                  if f.offset == _RESERVED_OFFSET)
    for subtype, m in P.ICMP_MESSAGES.items()}


def reserved_mask(subtype: int) -> int:
    """The reserved bits of octet 5 of an ICMP type 41 FMIPv4 message."""
    return RESERVED_MASKS.get(subtype, 0)


def fmip_icmp_checksum(message: bytes) -> int:
    """RFC 4988 5.3-5.6 checksum (decision D2): Checksum and Reserved zeroed.

    message is the whole ICMP message from the Type field on.  For HI only
    the six reserved bits are zeroed; S and U stay.
    """
    buf = bytearray(message)
    if len(buf) >= 4:
        buf[2] = buf[3] = 0
    if len(buf) > _RESERVED_OFFSET:
        buf[_RESERVED_OFFSET] &= ~reserved_mask(buf[P.ICMP_SUBTYPE_OFFSET]) & 0xFF
    return internet_checksum(bytes(buf))


def plain_icmp_checksum(message: bytes) -> int:
    """The usual ICMP checksum over the octets as sent (Wireshark's check)."""
    buf = bytearray(message)
    if len(buf) >= 4:
        buf[2] = buf[3] = 0
    return internet_checksum(bytes(buf))


def checksum_verdict(message: bytes) -> str:
    """ok, plain-sum (warning) or bad, as decision D2 defines them."""
    if len(message) > _RESERVED_OFFSET and not len(message) & 1:
        return one_sum_verdict(
            message, reserved_mask(message[P.ICMP_SUBTYPE_OFFSET]))
    return reference_verdict(message)


def reference_verdict(message: bytes) -> str:
    """checksum_verdict by the book: two copies, two sums."""
    if len(message) < 4:
        return CHECKSUM_BAD
    sent = (message[2] << 8) | message[3]
    if sent == fmip_icmp_checksum(message):
        return CHECKSUM_OK
    if sent == plain_icmp_checksum(message):
        return CHECKSUM_PLAIN_SUM
    return CHECKSUM_BAD


def _folded_complement(total: int) -> int:
    """internet_checksum's last steps on a host-order word sum."""
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    if _LITTLE_ENDIAN:
        total = ((total & 0xFF) << 8) | (total >> 8)
    return (~total) & 0xFFFF


def one_sum_verdict(raw: bytes, reserved_bits_mask: int) -> str:
    """reference_verdict(raw) from one sum over the octets as sent.

    The reference copies the message twice to zero the Checksum (and for
    D2 the reserved bits) before summing; the sum is linear, so both sums
    are the sum as sent less those words.  For messages of even length of
    at least 6 octets (the decoder checks every ICMP message it reads);
    held against the reference by tests/lint/test_perf_equivalence.py.

    The sum is taken modulo 0xFFFF, as one integer: the message read as a
    big-endian number is the sum of its 16-bit words W times powers of
    2**16, and 2**16 = 1 (mod 0xFFFF), so it equals sum(W) modulo 0xFFFF.
    The one's complement sum of RFC 1071 (end-around carry) of a total
    T > 0 is the value in 1..0xFFFF congruent to T; its complement, the
    checksum expected, is then (-T) % 0xFFFF, in 0..0xFFFE (a Checksum
    field of 0xFFFF never matches, as in the reference).  T is positive
    when the first octet (the ICMP Type, which nothing zeroes) is not 0;
    a message with Type 0 takes the sum word by word (_word_sum_verdict).
    """
    if not raw[0]:
        return _word_sum_verdict(raw, reserved_bits_mask)
    total = int.from_bytes(raw, "big") % 0xFFFF        # sum(W) mod 0xFFFF
    sent = raw[2] << 8 | raw[3]
    if sent == (sent + (raw[5] & reserved_bits_mask) - total) % 0xFFFF:
        return CHECKSUM_OK
    if sent == (sent - total) % 0xFFFF:
        return CHECKSUM_PLAIN_SUM
    return CHECKSUM_BAD


def _word_sum_verdict(raw: bytes, reserved_bits_mask: int) -> str:
    """one_sum_verdict word by word, for any first octet."""
    total = sum(memoryview(raw).cast("H"))     # host order (RFC 1071 2(B))
    sent = raw[2] << 8 | raw[3]
    if _LITTLE_ENDIAN:
        total -= raw[3] << 8 | raw[2]           # the Checksum field, zeroed
        reserved_bits = (raw[5] & reserved_bits_mask) << 8
    else:
        total -= sent
        reserved_bits = raw[5] & reserved_bits_mask
    if sent == _folded_complement(total - reserved_bits):
        return CHECKSUM_OK
    if sent == _folded_complement(total):
        return CHECKSUM_PLAIN_SUM
    return CHECKSUM_BAD


def authenticator_matches(sent: bytes, expected: bytes) -> bool:
    """Constant-time comparison of an authenticator (decision D5)."""
    import hmac                      # here: start-up
    return hmac.compare_digest(sent, expected)


def mn_par_authenticator(covered: bytes, key: bytes,
                         algorithm: str = P.DEFAULT_AUTH_ALGORITHM) -> bytes:
    """The MN-PAR authenticator (decision D5).

    covered is the UDP payload from the Type field through the SPI field of
    the authentication extension (all preceding extensions included).
    """
    import hashlib
    import hmac
    digest = {"hmac-md5": hashlib.md5, "hmac-sha1": hashlib.sha1,
              "hmac-sha256": hashlib.sha256}.get(algorithm)
    if digest is None:
        raise ValueError(f"unknown authentication algorithm {algorithm!r}")
    return hmac.new(key, covered, digest).digest()


# --- sums for patching packets (the generator) ----------------------------

def fold(total: int) -> int:
    """The end-around carry of a one's complement sum (RFC 1071)."""
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return total


def word_sum(data: bytes) -> int:
    """The sum of data's 16-bit words in network order, unfolded (an odd
    length is padded with a zero octet): sums of parts add up."""
    if len(data) % 2:
        data += b"\x00"
    return sum(struct.unpack(f"!{len(data) // 2}H", data))


def ip_header_checksum(header: bytes | bytearray) -> int:
    """The IPv4 header checksum, the field itself taken as zero."""
    buf = bytes(header[:10]) + b"\x00\x00" + bytes(header[12:])
    return ~fold(word_sum(buf)) & 0xFFFF


def l4_checksum(src: bytes, dst: bytes, proto: int, segment: bytes) -> int:
    """UDP/TCP checksum with the IPv4 pseudo-header (segment's own checksum
    field zeroed by the caller); 0 is sent as 0xFFFF (RFC 768)."""
    pseudo = src + dst + struct.pack("!BBH", 0, proto, len(segment))
    value = ~fold(word_sum(pseudo) + word_sum(segment)) & 0xFFFF
    return value or 0xFFFF
