"""The fast decoder (fmipdissect/decode/decoder.py) and `fmipdissect decode`.

Byte vectors are written by hand from the RFC figures (RFC 4988 5-6, RFC 3344
3.3-3.4, RFC 4721 5; docs/decisions.md), not built with the decoder's own
tables, so a wrong offset in protocol.py or decode/decoder.py shows up here.
"""

from __future__ import annotations

import json
import os
import struct
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fmipdissect import cli
from fmipdissect.wire import checksum
from fmipdissect.decode.decoder import decode_datagram, decode_icmp, decode_mip
from fmipdissect.records import Datagram
from fmipdissect.decode.output import ntp_time

HOME = bytes([10, 0, 0, 5])
PAR = bytes([10, 0, 0, 1])
NAR = bytes([10, 1, 0, 1])
NCOA = bytes([10, 1, 0, 77])
MAC = bytes.fromhex("020000aabbcc")
IDENT = 0xE7B1A2C3_80000000          # NTP seconds 0xe7b1a2c3 = 2023
KEY = b"mn-par shared secret"


# --- hand-written builders ---------------------------------------------------

def auth_ext(spi=0x1234, authenticator=b"\xaa" * 16, subtype=4):
    """Generalized Authentication Extension, RFC 4721 5 (long format)."""
    return struct.pack(">BBHI", 36, subtype, 4 + len(authenticator),
                       spi) + authenticator


def fbu(flags=0, lifetime=5, ident=IDENT, ext=None):
    head = struct.pack(">BBH4s4s4sQ", 20, flags, lifetime, HOME, PAR, NAR,
                       ident)
    return head + (auth_ext() if ext is None else ext)


def fback(code=0, lifetime=5, ident=IDENT, ext=None):
    head = struct.pack(">BBH4s4sQ", 21, code, lifetime, HOME, PAR, ident)
    return head + (auth_ext() if ext is None else ext)


def signed(message: bytes, auth_offset: int) -> bytes:
    """Replace the authenticator of the extension at auth_offset (decision D5)."""
    covered = message[:auth_offset + 8]
    mac = checksum.mn_par_authenticator(covered, KEY)
    return covered + mac + message[auth_offset + 8 + 16:]


def icmp(subtype, code=0, octet5=0, identifier=0, options=b"",
         checksum_value=None):
    """ICMP type 41 message (RFC 4065 3) with the decision D2 checksum."""
    msg = bytearray(struct.pack(">BBHBBH", 41, code, 0, subtype, octet5,
                                identifier) + options)
    value = (checksum.fmip_icmp_checksum(bytes(msg))
             if checksum_value is None else checksum_value)
    msg[2:4] = struct.pack(">H", value)
    return bytes(msg)


def lla_opt(code, lla=MAC, padding=None):
    """LLA option, RFC 4988 6.1: padded with one PadN (RFC 2460 4.2)."""
    body = bytes([code]) + lla
    if padding is None:
        need = -(2 + len(body)) % 8
        padding = (b"" if need == 0 else b"\x00" if need == 1
                   else bytes([1, need - 2]) + bytes(need - 2))
    body += padding
    assert (2 + len(body)) % 8 == 0
    return bytes([20, (2 + len(body)) // 8]) + body


def v4_opt(code, addr=NCOA, length=1, reserved=0):
    return bytes([21, length, code, reserved]) + addr


def prefix_opt(prefixlen=24, reserved=0, length=1, code=0):
    return bytes([22, length, code, prefixlen]) + struct.pack(">I", reserved)


def rules(msg):
    return [p.rule for p in msg.problems]


# --- FBU / FBAck ---------------------------------------------------------------

def test_fbu_fields_and_auth_extension():
    raw = signed(fbu(flags=0x22, lifetime=7), 24)
    m = decode_mip(raw)
    assert (m.key, m.type, m.flags, m.lifetime) == ("fbu", 20, 0x22, 7)
    assert (m.homeaddr, m.haaddr, m.coa) == ("10.0.0.5", "10.0.0.1",
                                             "10.1.0.1")
    assert m.ident == IDENT and m.code is None and m.subtype is None
    assert m.checksum is None and m.checksum_verdict is None
    assert m.problems == [] and m.raw == raw
    [auth] = m.elements
    assert (auth.kind, auth.offset, auth.type, auth.code) == ("auth", 24, 36, 4)
    assert (auth.length, auth.size, auth.spi) == (20, 24, 0x1234)
    assert m.auth_end == 32
    # decision D5: auth_end delimits what the real HMAC-MD5 covers.
    assert auth.authenticator == checksum.mn_par_authenticator(
        raw[:m.auth_end], KEY)


def test_fbu_lifetime_is_16_bits():
    # decision D1: a non-zero high octet is part of the Lifetime.
    assert decode_mip(fbu(lifetime=0x0105)).lifetime == 0x0105


def test_fback_with_ncoa_option_before_auth():
    raw = fback(code=1, ext=v4_opt(2) + auth_ext(spi=7))
    m = decode_mip(raw)
    assert (m.key, m.code, m.lifetime, m.ident) == ("fback", 1, 5, IDENT)
    assert (m.homeaddr, m.haaddr, m.coa) == ("10.0.0.5", "10.0.0.1", None)
    ncoa, auth = m.elements
    assert (ncoa.kind, ncoa.offset, ncoa.code, ncoa.addr) == (
        "ipv4addr", 20, 2, "10.1.0.77")
    assert (ncoa.length, ncoa.size, ncoa.reserved) == (1, 8, 0)
    assert (auth.offset, auth.spi) == (28, 7)
    assert m.auth_end == 36 and m.problems == []


def test_fback_ncoa_octet_length_6_is_accepted():
    # decision D4: Length 6 (octet count) frames the same 8 octets; the checker
    # warns (FM108), the decoder reports nothing.
    m = decode_mip(fback(code=1, ext=v4_opt(2, length=6) + auth_ext()))
    ncoa, auth = m.elements
    assert (ncoa.length, ncoa.size, ncoa.addr) == (6, 8, "10.1.0.77")
    assert auth.offset == 28 and m.problems == []


def test_fback_ncoa_other_length_is_fm308():
    # Neither framing of D4: shown as a Mobile IPv4 extension (octet count).
    m = decode_mip(fback(code=1, ext=bytes([21, 4, 2, 0, 10, 1]) + auth_ext()))
    assert rules(m) == ["FM308"] and "offset 20" in m.problems[0].message
    assert [e.kind for e in m.elements] == ["extension", "auth"]
    assert m.elements[0].data == bytes([2, 0, 10, 1])
    assert m.elements[1].offset == 26


def test_ipv4_option_in_fbu_is_an_unknown_extension():
    # decision D4 is about FBAck only; in an FBU type 21 is not defined.
    m = decode_mip(fbu(ext=bytes([21, 1, 2]) + auth_ext()))
    assert [(e.kind, e.size) for e in m.elements] == [("extension", 3),
                                                      ("auth", 24)]
    assert rules(m) == ["FM110"]


def test_ncoa_after_auth_is_decoded():
    m = decode_mip(fback(code=1, ext=auth_ext() + v4_opt(2)))
    assert [e.kind for e in m.elements] == ["auth", "ipv4addr"]
    assert m.auth_end == 28 and m.elements[1].addr == "10.1.0.77"


def test_short_extensions_and_unknown_non_skippable():
    ext = bytes([130, 2, 9, 9]) + bytes([50, 0]) + bytes([32, 1, 5]) + auth_ext()
    m = decode_mip(fbu(ext=ext))
    kinds = [(e.kind, e.type, e.length, e.size, e.data) for e in m.elements]
    assert kinds[:3] == [("extension", 130, 2, 4, b"\x09\x09"),
                         ("extension", 50, 0, 2, b""),
                         ("extension", 32, 1, 3, b"\x05")]
    # 130 is skippable and 32 a known Mobile IPv4 extension: only 50 counts.
    assert [(p.rule, p.offset) for p in m.problems] == [("FM110", 28)]
    assert "offset 28" in m.problems[0].message
    assert m.auth_end == 24 + 4 + 2 + 3 + 8


def test_first_auth_extension_sets_auth_end():
    m = decode_mip(fbu(ext=auth_ext(subtype=1) + auth_ext(spi=9)))
    assert [e.code for e in m.elements] == [1, 4]
    assert m.auth_end == 32


def test_not_fmip_udp():
    assert decode_mip(b"") is None
    assert decode_mip(bytes([1]) + bytes(23)) is None   # RRQ, not ours
    assert decode_mip(bytes([3]) + bytes(19)) is None   # RRP


# --- ICMP messages ---------------------------------------------------------------

def test_rtsolpr():
    raw = icmp(6, identifier=0x1234, options=lla_opt(1))
    m = decode_icmp(raw)
    assert (m.key, m.type, m.code, m.subtype, m.identifier) == (
        "rtsolpr", 41, 0, 6, 0x1234)
    assert m.reserved == 0 and m.flags is None
    assert m.checksum == struct.unpack(">H", raw[2:4])[0]
    assert m.checksum_verdict == checksum.CHECKSUM_OK
    [lla] = m.elements
    assert (lla.kind, lla.offset, lla.type, lla.length, lla.size) == (
        "lla", 8, 20, 2, 16)
    assert (lla.code, lla.lla, lla.padding_ok) == (1, MAC, True)
    assert lla.data == raw[10:24]
    assert m.problems == [] and m.lifetime is None and m.auth_end is None


def test_prrtadv_all_options():
    opts = (lla_opt(1) + lla_opt(3, bytes.fromhex("020000000003"))
            + v4_opt(3, NAR) + prefix_opt(24) + v4_opt(2))
    m = decode_icmp(icmp(7, code=0, identifier=9, options=opts))
    assert m.key == "prrtadv" and m.problems == []
    assert [(e.kind, e.code) for e in m.elements] == [
        ("lla", 1), ("lla", 3), ("ipv4addr", 3), ("prefix", 0),
        ("ipv4addr", 2)]
    assert [e.offset for e in m.elements] == [8, 24, 40, 48, 56]
    prefix = m.elements[3]
    assert (prefix.prefixlen, prefix.reserved, prefix.size) == (24, 0, 8)
    assert m.elements[2].addr == "10.1.0.1"


def test_hi_flags_and_reserved_bits():
    opts = lla_opt(2) + v4_opt(1, HOME)
    m = decode_icmp(icmp(8, code=0, octet5=0xC5, identifier=77, options=opts))
    assert (m.key, m.flags, m.reserved, m.identifier) == ("hi", 0xC0, 0x05, 77)
    assert m.checksum_verdict == checksum.CHECKSUM_OK   # D2: rsvd zeroed
    assert [e.addr for e in m.options("ipv4addr")] == ["10.0.0.5"]
    assert m.options("lla", 2)[0].lla == MAC


def test_hack():
    m = decode_icmp(icmp(9, code=3, identifier=77, options=v4_opt(2)))
    assert (m.key, m.code, m.identifier) == ("hack", 3, 77)
    assert m.elements[0].addr == "10.1.0.77" and m.problems == []


def test_checksum_verdicts():
    # decision D2: the checksum zeroes the Reserved field.
    good = icmp(9, octet5=0x11)
    assert decode_icmp(good).checksum_verdict == checksum.CHECKSUM_OK
    plain = bytearray(good)
    plain[2:4] = b"\0\0"
    plain[2:4] = struct.pack(">H", checksum.internet_checksum(bytes(plain)))
    m = decode_icmp(bytes(plain))
    assert m.checksum_verdict == checksum.CHECKSUM_PLAIN_SUM
    assert m.reserved == 0x11
    bad = icmp(9, checksum_value=0xBEEF)
    assert decode_icmp(bad).checksum_verdict == checksum.CHECKSUM_BAD


def test_not_fmip_icmp():
    assert decode_icmp(b"") is None
    assert decode_icmp(bytes([8, 0, 0, 0, 0, 0, 0, 0])) is None   # echo
    assert decode_icmp(bytes([41, 0, 0, 0, 5, 0, 0, 0])) is None  # subtype 5
    assert decode_icmp(bytes([41, 0, 0, 0, 10, 0, 0, 0])) is None
    assert decode_icmp(bytes([41, 0, 0, 0])) is None   # no subtype


def test_decode_datagram_dispatch():
    u = Datagram(1, 0.0, "10.0.0.5", "10.0.0.1", 17, 64, 434, 434, fbu())
    i = Datagram(2, 0.0, "10.0.0.1", "10.1.0.1", 1, 64, None, None,
                 icmp(9, options=v4_opt(2)))
    esp = Datagram(3, 0.0, "10.0.0.1", "10.1.0.1", 50, 64, None, None, fbu())
    assert decode_datagram(u).key == "fbu"
    assert decode_datagram(i).key == "hack"
    assert decode_datagram(esp) is None


# --- LLA option and padding (decision D3) ------------------------------------------

@pytest.mark.parametrize("lla_length,padding,ok", [
    (6, bytes([1, 5]) + bytes(5), True),   # 3 + 6 + PadN(7) = 16
    (5, b"", True),                        # 3 + 5 = 8, no padding
    (4, b"\x00", True),                    # Pad1
    (6, bytes(7), False),                  # seven Pad1: not one PadN
    (6, bytes([1, 4]) + bytes(5), False),  # PadN length off by one
    (6, bytes([1, 5, 0, 0, 7, 0, 0]), False),  # PadN data not zero
])
def test_lla_padding(lla_length, padding, ok):
    lla = bytes(range(1, lla_length + 1))
    raw = icmp(6, options=lla_opt(1, lla, padding) + v4_opt(2))
    m = decode_icmp(raw, lla_length=lla_length)
    opt = m.elements[0]
    assert opt.lla == lla and opt.padding_ok is ok
    assert ("FM304" in rules(m)) is not ok
    assert opt.data == raw[10:10 + opt.size - 2]   # raw rest kept
    assert m.elements[1].offset == 8 + opt.size    # parsing continues


def test_lla_length_setting_changes_address():
    raw = icmp(6, options=lla_opt(1, bytes(range(8))))   # 3+8 -> PadN(5)
    assert decode_icmp(raw, lla_length=8).elements[0].lla == bytes(range(8))
    m = decode_icmp(raw)   # default 6: the rest does not parse as padding
    assert m.elements[0].padding_ok is False and rules(m) == ["FM304"]
    assert "offset 8" in m.problems[0].message


def test_lla_wildcard_may_hold_only_padding():
    opt = bytes([20, 1, 0, 1, 3, 0, 0, 0])   # Option-Code 0, PadN(5)
    m = decode_icmp(icmp(6, options=opt))
    assert m.elements[0].lla == b"" and m.elements[0].padding_ok is True
    assert m.problems == []
    # Not with another Option-Code: the address is missing.
    m = decode_icmp(icmp(6, options=bytes([20, 1, 1, 1, 3, 0, 0, 0])))
    assert rules(m) == ["FM304"] and m.elements[0].padding_ok is False


def test_lla_address_longer_than_option():
    m = decode_icmp(icmp(6, options=bytes([20, 1, 1]) + bytes(5)),
                    lla_length=10)
    assert rules(m) == ["FM304"] and m.elements[0].lla == bytes(5)


# --- each framing problem on a minimal input -------------------------------------

_PROBLEM_CASES = [
    (fbu()[:23], "FM301", 23),
    (fback()[:19], "FM301", 19),
    (icmp(9)[:7], "FM301", 7),
    (icmp(9, options=bytes([21, 0, 2, 0])), "FM302", 8),
    (icmp(9, options=v4_opt(2) + bytes([99])), "FM303", 16),
    (icmp(9, options=bytes([21, 2]) + bytes(6)), "FM303", 8),
    (fbu(ext=auth_ext()[:-1]), "FM303", 24),
    (fbu(ext=bytes([36, 4, 0])), "FM303", 24),
    (fbu(ext=bytes([36, 4, 0, 2, 0, 0])), "FM303", 24),   # no room for SPI
    (fbu(ext=bytes([130, 5, 1])), "FM303", 24),
    (fbu(ext=bytes([130])), "FM303", 24),
    (icmp(6, options=lla_opt(1, padding=bytes(7))), "FM304", 8),
    (icmp(9, options=bytes([30, 1]) + bytes(6)), "FM305", 8),
    (icmp(9, options=v4_opt(9)), "FM306", 8),
    (icmp(6, options=lla_opt(8)), "FM306", 8),
    (icmp(7, options=prefix_opt(code=1)), "FM306", 8),
    (icmp(9, options=v4_opt(2, reserved=1)), "FM307", 8),
    (icmp(7, options=prefix_opt(reserved=0x100)), "FM307", 8),
    (icmp(9, options=v4_opt(2, length=2) + bytes(8)), "FM308", 8),
    (icmp(7, options=prefix_opt(length=2) + bytes(8)), "FM308", 8),
    (fback(ext=bytes([21, 2, 2, 0])), "FM308", 20),
    (fbu(ext=bytes([7, 0])), "FM110", 24),
]


@pytest.mark.parametrize("raw,rule,offset", _PROBLEM_CASES, ids=[
    f"{rule}-{i}" for i, (_, rule, _) in enumerate(_PROBLEM_CASES)])
def test_problem_rules(raw, rule, offset):
    """Problem.offset is where the message or the option starts."""
    m = decode_mip(raw) or decode_icmp(raw)
    assert m is not None
    assert [(p.rule, p.offset) for p in m.problems] == [(rule, offset)]
    # the message names where it happened (truncation: the length)
    assert str(offset) in m.problems[0].message


def test_option_length_zero_stops_parsing():
    m = decode_icmp(icmp(9, options=bytes([21, 0, 2, 0]) + v4_opt(2)))
    assert m.elements == [] and rules(m) == ["FM302"]


def test_truncated_header_keeps_fields_that_fit():
    m = decode_mip(fbu()[:10])
    assert (m.key, m.type, m.flags, m.lifetime, m.homeaddr) == (
        "fbu", 20, 0, 5, "10.0.0.5")
    assert m.haaddr is None and m.ident is None and m.elements == []
    m = decode_icmp(icmp(8, octet5=0x80)[:6])
    assert (m.key, m.code, m.subtype, m.flags, m.identifier) == (
        "hi", 0, 8, 0x80, None)
    assert rules(m) == ["FM301"]


def test_never_restarts_on_option_after_fixed_length():
    # An 8-octet option followed by octets that are not an option: FM303.
    m = decode_icmp(icmp(9, options=v4_opt(2) + bytes([21, 3, 2])))
    assert [e.kind for e in m.elements] == ["ipv4addr"]
    assert rules(m) == ["FM303"]


# --- robustness (hypothesis) -------------------------------------------------------

_prefixes = st.sampled_from([b"", b"\x14", b"\x15", b"\x29\x00\x00\x00\x06",
                             b"\x29\x00\x00\x00\x07", b"\x29\x00\x00\x00\x08",
                             b"\x29\x00\x00\x00\x09"])


@settings(max_examples=400, deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(prefix=_prefixes, body=st.binary(max_size=120),
       lla_length=st.integers(0, 40))
def test_random_bytes_never_raise(prefix, body, lla_length):
    raw = prefix + body
    for fn in (decode_mip, decode_icmp):
        m = fn(raw, lla_length=lla_length)
        if m is None:
            continue
        assert m.raw == raw
        end = 0
        for el in m.elements:   # elements tile the body, in order
            assert el.offset >= end and el.offset + el.size <= len(raw)
            end = el.offset + el.size
        for p in m.problems:
            assert p.rule.startswith("FM") and p.message


@settings(max_examples=200, deadline=None)
@given(opts=st.lists(st.sampled_from([
    lla_opt(1), lla_opt(2), lla_opt(0, b"", bytes([1, 3, 0, 0, 0])),
    v4_opt(1), v4_opt(3, NAR), prefix_opt(16)]), max_size=6))
def test_valid_option_sequences_decode_cleanly(opts):
    m = decode_icmp(icmp(7, options=b"".join(opts)))
    assert m.problems == [] and len(m.elements) == len(opts)
    assert sum(e.size for e in m.elements) == sum(len(o) for o in opts)


def test_ntp_time_display():
    assert ntp_time(IDENT).startswith("2023-")
    assert ntp_time(0x0000000100000000) is None   # 1900: not plausible
    assert ntp_time(None) is None


# --- the decode command ----------------------------------------------------------

@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.packet import Raw
    from scapy.utils import wrpcap

    t0 = 1764173733.123456
    frames = [
        IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=434, dport=434)
        / Raw(signed(fbu(), 24)),
        IP(src="10.0.0.1", dst="10.1.0.1", proto=1)
        / Raw(icmp(8, code=0, octet5=0x80, identifier=77,
                   options=lla_opt(2) + v4_opt(1, HOME))),
        IP(src="10.1.0.1", dst="10.0.0.1", proto=1)
        / Raw(icmp(9, code=3, identifier=77, options=v4_opt(2))),
        IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=5000, dport=53)
        / Raw(b"not ours"),
        IP(src="10.0.0.1", dst="10.0.0.5") / UDP(sport=434, dport=434)
        / Raw(fback(code=1, ext=v4_opt(2, length=6) + auth_ext())),
        IP(src="10.0.0.5", dst="10.0.0.1", proto=1)
        / Raw(icmp(6, identifier=1, options=lla_opt(1, padding=bytes(7)),
                   checksum_value=0xBEEF)),
    ]
    packets = []
    for i, f in enumerate(frames):
        p = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / f
        p.time = t0 + i
        packets.append(p)
    path = tmp_path_factory.mktemp("decode") / "flow.pcap"
    wrpcap(str(path), packets)
    return str(path)


def test_decode_command_text(capture, capsys):
    assert cli.main(["decode", capture]) == 0
    out = capsys.readouterr().out
    assert "Frame 1  2025-11-26T16:15:33.123456Z  10.0.0.5:434 -> " \
           "10.0.0.1:434, UDP" in out
    assert "Fast Binding Update (FBU), RFC 4988 5.1" in out
    assert "Identification: 0xe7b1a2c380000000 (NTP time 2023-" in out
    assert "SPI: 0x00001234" in out
    assert "1... .... = Assigned address configuration (S): Set" in out
    assert "Option-Code: 2 (Link-Layer Address of the MN)" in out
    assert "Link-Layer Address: 02:00:00:aa:bb:cc" in out
    assert "Code: 3 (Handover Accepted, NCoA assigned)" in out
    assert "[correct (Checksum and Reserved zeroed, decision D2)]" in out
    assert "0xbeef [incorrect, should be 0x" in out
    assert "FM304 lla-bad-padding" in out
    assert "Length: 6 (octets after Length: Mobile IPv4 framing, decision D4)" in out
    assert "Length: 2 (16 octets)" in out
    assert "Frame 4" not in out   # DNS is not FMIPv4
    assert out.rstrip().endswith(f"5 FMIPv4 messages in {capture}")


def test_decode_command_json(capture, capsys):
    assert cli.main(["decode", capture, "--format", "json"]) == 0
    document = json.loads(capsys.readouterr().out)      # one document
    assert document["summary"] == {"files": 1, "messages": 5, "notes": 0}
    objs = document["records"]
    assert {o["file"] for o in objs} == {capture}
    assert [o["frame"] for o in objs] == [1, 2, 3, 5, 6]
    assert [o["message"] for o in objs] == ["fbu", "hi", "hack", "fback",
                                            "rtsolpr"]
    fbu_obj, hi_obj, hack_obj, fback_obj, rtsolpr_obj = objs
    assert set(fbu_obj) == set(hi_obj)   # stable keys
    assert fbu_obj["time"] == "2025-11-26T16:15:33.123456Z"
    assert (fbu_obj["src"], fbu_obj["sport"], fbu_obj["proto"]) == (
        "10.0.0.5", 434, "udp")
    assert fbu_obj["ident"] == "0xe7b1a2c380000000"
    assert fbu_obj["ident_ntp"].startswith("2023-")
    assert fbu_obj["auth_end"] == 32
    assert fbu_obj["elements"][0]["kind"] == "auth"
    assert fbu_obj["elements"][0]["spi"] == 0x1234
    assert hi_obj["flags_set"] == ["s"] and hi_obj["sport"] is None
    assert hi_obj["elements"][0]["lla"] == "02:00:00:aa:bb:cc"
    assert hi_obj["checksum_verdict"] == "ok"
    assert fback_obj["code_text"] == "FBU Accepted, NCoA supplied"
    assert fback_obj["elements"][0]["length"] == 6
    assert rtsolpr_obj["checksum_verdict"] == "bad"
    [problem] = rtsolpr_obj["problems"]
    assert (problem["rule"], problem["name"], problem["severity"]) == (
        "FM304", "lla-bad-padding", "error")


def test_decode_command_lla_length(capture, capsys):
    assert cli.main(["decode", capture, "--format", "jsonl",
                     "--lla-length", "5"]) == 0
    objs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert objs[1]["elements"][0]["lla"] == "02:00:00:aa:bb"
    assert objs[1]["elements"][0]["padding_ok"] is False


def test_decode_command_cut_capture(capture, tmp_path, capsys):
    """A capture cut inside its last record: messages before it, then the
    reader's FM901 note; still exit 0 (decode reports, lint judges)."""
    data = open(capture, "rb").read()
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(data[:-5])
    assert cli.main(["decode", str(cut)]) == 0
    out = capsys.readouterr().out
    assert "[warning: FM901 capture-truncated]" in out
    assert "Frame 5 " in out and "Frame 6 " not in out.split("FM901")[0]
    assert cli.main(["decode", str(cut), "--format", "jsonl"]) == 0
    objs = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert [o["record"] for o in objs] == ["message"] * 4 + ["note"]
    assert (objs[-1]["rule"], objs[-1]["name"]) == ("FM901",
                                                    "capture-truncated")


@pytest.mark.parametrize("args,words", [
    (["decode", "/nonexistent/x.pcap"], "x.pcap"),
    (["decode", "{notpcap}"], ""),
    (["decode", "{capture}", "--lla-length", "-1"], "--lla-length"),
])
def test_decode_command_bad_input(tmp_path, capture, args, words):
    notpcap = tmp_path / "notes.txt"
    notpcap.write_text("hello, this is not a capture\n")
    before = notpcap.read_bytes()
    args = [a.format(notpcap=notpcap, capture=capture) for a in args]
    exe = os.path.join(os.path.dirname(sys.executable), "fmipdissect")
    r = subprocess.run([exe, *args],
                       capture_output=True, text=True,
                       env=dict(os.environ, PYTHONWARNINGS="ignore"))
    assert r.returncode == 2, r
    assert r.stdout == ""
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in r.stderr, r.stderr
    assert lines[0].startswith("fmipdissect decode: error: ")
    assert words in lines[0]
    assert notpcap.read_bytes() == before


def test_decode_command_does_not_import_scapy(capture):
    """`decode` starts fast: it needs neither Scapy nor dpkt."""
    code = ("import sys, io, contextlib\n"
            "from fmipdissect import cli\n"
            "with contextlib.redirect_stdout(io.StringIO()):\n"
            f"    assert cli.main(['decode', {capture!r}]) == 0\n"
            "print('scapy' in sys.modules)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "False"
