"""Checksums (decision D2) and MN-PAR authenticators (decision D5).

The checksum literals were worked out by a plain one's complement sum of the
hand-written messages; the HMAC literals are the published RFC 2202 /
RFC 4231 test vectors.  Full-message authenticators are recomputed here with
the standard library's hmac, independently of fmipdissect.
"""

from __future__ import annotations

import hashlib
import hmac

import pytest
from scapy.layers.inet import IP, UDP

from fmipdissect.wire import checksum as C
from fmipdissect.spec import protocol as P
from fmipdissect.layers import (FBU, HI, FBAck, IPv4AddrOption, LLAOption,
                                MIPExtension, MNPARAuth, RtSolPr)


def hexbytes(*parts: str) -> bytes:
    return bytes.fromhex("".join(parts).replace(" ", ""))


# --- internet checksum -----------------------------------------------------

def test_rfc1071_example():
    # RFC 1071 3: the words 0001 f203 f4f5 f6f7 sum to ddf2; checksum 220d.
    assert C.internet_checksum(hexbytes("0001f203f4f5f6f7")) == 0x220D


def test_odd_length_is_padded_with_zero():
    assert C.internet_checksum(b"\x12") == C.internet_checksum(b"\x12\x00")
    assert C.internet_checksum(b"\x12") == 0xEDFF


# RtSolPr whose Reserved octet is 0xab (sent as zero, RFC 4988 5.3).
RTSOLPR_RESERVED = hexbytes(
    "29" "00" "0000"       # Type 41, Code 0, Checksum (set below)
    "06" "ab" "1234"       # Subtype 6, Reserved 0xab, Identifier
    "140201" "001122334455" "01050000000000")   # New AP LLA option
RTSOLPR_D2 = 0x0B62      # Reserved treated as zero (decision D2)
RTSOLPR_PLAIN = 0x0AB7   # plain sum over the octets as sent

# HI with S, U and reserved bits 0b000101 set (octet 5 = 0xc5).
HI_RESERVED = hexbytes(
    "29" "00" "0000"       # Type 41, Code 0, Checksum (set below)
    "08" "c5" "0007"       # Subtype 8, S U + reserved 000101, Identifier 7
    "140202" "020000000001" "01050000000000"    # MN's LLA option
    "15010100" "0a000005")                     # PCoA option
HI_D2 = 0x922D           # only the 6 reserved bits zeroed; S and U stay
HI_PLAIN = 0x9228


def with_checksum(message: bytes, value: int) -> bytes:
    return message[:2] + value.to_bytes(2, "big") + message[4:]


@pytest.mark.parametrize("message,d2,plain", [
    (RTSOLPR_RESERVED, RTSOLPR_D2, RTSOLPR_PLAIN),
    (HI_RESERVED, HI_D2, HI_PLAIN),
], ids=["rtsolpr", "hi"])
def test_reserved_bits_are_zeroed(message, d2, plain):
    assert C.fmip_icmp_checksum(message) == d2
    assert C.plain_icmp_checksum(message) == plain
    # The Checksum field itself never counts.
    assert C.fmip_icmp_checksum(with_checksum(message, 0xFFFF)) == d2


@pytest.mark.parametrize("message,d2,plain", [
    (RTSOLPR_RESERVED, RTSOLPR_D2, RTSOLPR_PLAIN),
    (HI_RESERVED, HI_D2, HI_PLAIN),
], ids=["rtsolpr", "hi"])
def test_checksum_verdicts(message, d2, plain):
    assert C.checksum_verdict(with_checksum(message, d2)) == C.CHECKSUM_OK
    assert C.checksum_verdict(with_checksum(message, plain)) == \
        C.CHECKSUM_PLAIN_SUM
    assert C.checksum_verdict(with_checksum(message, d2 ^ 0x0100)) == \
        C.CHECKSUM_BAD
    assert C.checksum_verdict(message[:3]) == C.CHECKSUM_BAD


def test_hi_s_and_u_count_in_the_checksum():
    # Clearing S and U must change the D2 checksum (only reserved bits are
    # zeroed).
    cleared = HI_RESERVED[:5] + bytes([HI_RESERVED[5] & 0x3F]) + \
        HI_RESERVED[6:]
    assert C.fmip_icmp_checksum(cleared) != HI_D2


def test_layers_build_the_d2_checksum_with_reserved_bits():
    hi = (HI(S=1, U=1, reserved=0b000101, identifier=7)
          / LLAOption(code=2, lla="02:00:00:00:00:01")
          / IPv4AddrOption(code=1, addr="10.0.0.5"))
    assert bytes(hi) == with_checksum(HI_RESERVED, HI_D2)
    rtsolpr = RtSolPr(reserved=0xAB, identifier=0x1234) / LLAOption(
        code=1, lla="00:11:22:33:44:55")
    assert bytes(rtsolpr) == with_checksum(RTSOLPR_RESERVED, RTSOLPR_D2)
    assert C.checksum_verdict(bytes(rtsolpr)) == C.CHECKSUM_OK
    # An explicit checksum is kept (to build bad packets on purpose).
    bad = bytes(RtSolPr(chksum=0x1234))
    assert bad[2:4] == b"\x12\x34"


def test_checksum_covers_options():
    base = bytes(HI(identifier=1) / IPv4AddrOption(addr="10.0.0.5"))
    other = bytes(HI(identifier=1) / IPv4AddrOption(addr="10.0.0.6"))
    assert base[2:4] != other[2:4]
    assert C.checksum_verdict(base) == C.CHECKSUM_OK
    assert C.checksum_verdict(other) == C.CHECKSUM_OK


# --- HMAC (RFC 2104 / RFC 2202 / RFC 4231 vectors) -----------------------

RFC2202_HMAC_MD5 = [
    (b"\x0b" * 16, b"Hi There", "9294727a3638bb1c13f48ef8158bfc9d"),
    (b"Jefe", b"what do ya want for nothing?",
     "750c783e6ab0b503eaa86e310a5db738"),
    (b"\xaa" * 16, b"\xdd" * 50, "56be34521d144c88dbb8c733f0e8b3f6"),
    (bytes(range(1, 26)), b"\xcd" * 50, "697eaf0aca3a3aea3a75164746ffaa79"),
    (b"\x0c" * 16, b"Test With Truncation",
     "56461ef2342edc00f9bab995690efd4c"),
    (b"\xaa" * 80, b"Test Using Larger Than Block-Size Key - Hash Key First",
     "6b1ab7fe4bd7bf8f0b62e6ce61b9d0cd"),
    (b"\xaa" * 80, b"Test Using Larger Than Block-Size Key and Larger Than "
     b"One Block-Size Data", "6f630fad67cda0ee1fb1f562db3aa53e"),
]


@pytest.mark.parametrize("key,data,digest", RFC2202_HMAC_MD5,
                         ids=[f"rfc2202-{i}" for i in range(1, 8)])
def test_rfc2202_hmac_md5(key, data, digest):
    assert C.mn_par_authenticator(data, key).hex() == digest
    assert C.mn_par_authenticator(data, key, "hmac-md5").hex() == digest


@pytest.mark.parametrize("algorithm,key,data,digest", [
    ("hmac-sha1", b"\x0b" * 20, b"Hi There",
     "b617318655057264e28bc0b6fb378c8ef146be00"),        # RFC 2202 2
    ("hmac-sha1", b"Jefe", b"what do ya want for nothing?",
     "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    ("hmac-sha256", b"\x0b" * 20, b"Hi There",             # RFC 4231 4.2
     "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    ("hmac-sha256", b"Jefe", b"what do ya want for nothing?",
     "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
])
def test_other_algorithms(algorithm, key, data, digest):
    out = C.mn_par_authenticator(data, key, algorithm)
    assert out.hex() == digest
    assert len(out) == P.AUTH_ALGORITHMS[algorithm]


def test_unknown_algorithm_is_refused():
    with pytest.raises(ValueError):
        C.mn_par_authenticator(b"x", b"k", "hmac-crc32")


# --- Authenticators in built messages (decision D5) --------------------------

KEY = b"mn-par shared secret"
_DIGESTS = {"hmac-md5": hashlib.md5, "hmac-sha1": hashlib.sha1,
            "hmac-sha256": hashlib.sha256}


def _udp_payload(pkt) -> bytes:
    return bytes(IP(bytes(pkt))[UDP].payload)


@pytest.mark.parametrize("algorithm", sorted(_DIGESTS))
def test_fbu_authenticator_matches_independent_hmac(algorithm):
    pkt = (IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=434, dport=434)
           / FBU(flags="T", homeaddr="10.0.0.5", haaddr="10.0.0.1",
                 coa="10.1.0.1", ident=0xE88A2B3C00000001)
           / MNPARAuth(spi=0x100, key=KEY, algorithm=algorithm))
    payload = _udp_payload(pkt)
    n = P.AUTH_ALGORITHMS[algorithm]
    # FBU header 24 octets, then Type, Subtype, Length, SPI (8 octets).
    assert len(payload) == 24 + 8 + n
    assert payload[24:28] == bytes([36, 4]) + (4 + n).to_bytes(2, "big")
    expected = hmac.new(KEY, payload[:32], _DIGESTS[algorithm]).digest()
    assert payload[32:] == expected
    dissected = IP(bytes(pkt))[MNPARAuth]
    assert dissected.authenticator == expected and dissected.len == 4 + n


def test_authenticator_covers_preceding_extensions():
    def build(vendor_data):
        return bytes(FBU(homeaddr="10.0.0.5", haaddr="10.0.0.1",
                         coa="10.1.0.1", ident=7)
                     / MIPExtension(type=130, data=vendor_data)
                     / MNPARAuth(spi=5, key=KEY))
    one, two = build(b"abcd"), build(b"abce")
    covered = 24 + 2 + 4 + 8     # header, extension, auth Type..SPI
    assert one[covered:] == hmac.new(KEY, one[:covered], hashlib.md5).digest()
    assert one[covered:] != two[covered:]


def test_fback_authenticator_covers_ncoa_option():
    fback = (FBAck(code=1, homeaddr="10.0.0.5", haaddr="10.0.0.1", ident=9)
             / IPv4AddrOption(code=2, addr="10.1.0.77")
             / MNPARAuth(spi=5, key=KEY))
    raw = bytes(fback)
    covered = 20 + 8 + 8
    assert raw[covered:] == hmac.new(KEY, raw[:covered], hashlib.md5).digest()
    # The same object rebuilt (copies) gives the same bytes.
    assert bytes(fback.copy()) == raw


def test_no_key_builds_zero_authenticator_and_explicit_is_kept():
    raw = bytes(FBU() / MNPARAuth(spi=1))
    assert raw[24:] == hexbytes("24040014" "00000001") + bytes(16)
    explicit = bytes(FBU() / MNPARAuth(spi=1, key=KEY,
                                       authenticator=b"\x01" * 16))
    assert explicit[32:] == b"\x01" * 16


def test_standalone_extension_covers_its_own_header():
    raw = bytes(MNPARAuth(spi=3, key=KEY))
    assert raw[8:] == hmac.new(KEY, raw[:8], hashlib.md5).digest()
