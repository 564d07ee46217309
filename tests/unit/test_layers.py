"""Scapy layers: round trips, properties, coexistence with Scapy, bad input.

The message, code and option tables iterated here come from protocol.py, so
a new code or option is covered without editing this file.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import random
import subprocess
import sys
import textwrap

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.config import conf
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether
from scapy.layers.mobileip import MobileIP, MobileIPRRQ
from scapy.packet import Raw

from fmipdissect.wire import checksum as C
from fmipdissect import layers as L
from fmipdissect.spec import constraints as K
from fmipdissect.spec import protocol as P
from fmipdissect.layers import (FBU, HI, FBAck, FMIPOption, HAck,
                                IPv4AddrOption, LLAOption, MIPExtension,
                                MNPARAuth, PrefixOption, PrRtAdv, RtSolPr)

ICMP_CLASSES = {6: RtSolPr, 7: PrRtAdv, 8: HI, 9: HAck}
MIP_CLASSES = {20: FBU, 21: FBAck}
PROPERTY = settings(max_examples=40, derandomize=True, deadline=None,
                    database=None,
                    suppress_health_check=[HealthCheck.too_slow])


def mip(*layers):
    pkt = IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=434, dport=434)
    for layer in layers:
        pkt = pkt / layer
    return pkt


def icmp(*layers):
    pkt = IP(src="10.0.0.1", dst="10.1.0.1")
    for layer in layers:
        pkt = pkt / layer
    return pkt


def ours(pkt):
    """The layers from the first FMIPv4 one on, as (class, fields) pairs."""
    out, layer, started = [], pkt, False
    while layer:
        started = started or isinstance(layer, tuple(
            ICMP_CLASSES.values()) + tuple(MIP_CLASSES.values()))
        if started:
            out.append((type(layer), dict(layer.fields)))
        layer = layer.payload
    return out


def roundtrip(pkt):
    """bytes -> Ether dissect; the result must rebuild to the same bytes."""
    wire = bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                 / pkt)
    back = Ether(wire)
    assert bytes(back) == wire
    return back


def assert_same_fields(built, dissected):
    """Every field set when building has the same value after dissection."""
    layer = built
    seen = dissected
    while layer:
        assert type(seen) is type(layer), (type(seen), type(layer))
        for name, value in layer.fields.items():
            if value is None:
                continue
            got = seen.getfieldval(name)
            assert got == seen.get_field(name).any2i(seen, value) or \
                got == value, (type(layer).__name__, name, got, value)
        layer, seen = layer.payload, seen.payload


# --- Round trips over every message, code and option ----------------------

def _options_for(msg: P.MessageSpec, code: int) -> list:
    """Options that make the message conformant for this code."""
    opts = []
    for req in K.required_options(msg.key, code):
        opt_code = req.codes[0]
        if req.option == P.OPT_LLA:
            opts.append(LLAOption(code=opt_code, lla="00:11:22:33:44:55"))
        elif req.option == P.OPT_IPV4_ADDR:
            opts.append(IPv4AddrOption(code=opt_code, addr="10.1.0.77"))
    return opts


ICMP_CASES = [(m.subtype, code) for m in P.ICMP_MESSAGES.values()
              for code in m.codes]


@pytest.mark.parametrize("subtype,code", ICMP_CASES)
def test_icmp_message_roundtrip_every_code(subtype, code):
    msg = P.ICMP_MESSAGES[subtype]
    cls = ICMP_CLASSES[subtype]
    built = cls(code=code, identifier=0x4242)
    for opt in _options_for(msg, code):
        built = built / opt
    back = roundtrip(icmp(built))
    assert isinstance(back[IP].payload, cls)
    assert back[IP].proto == 1
    assert_same_fields(built, back[cls])
    assert C.checksum_verdict(bytes(back[cls])) == C.CHECKSUM_OK


@pytest.mark.parametrize("code", sorted(P.FBACK.codes))
def test_fback_roundtrip_every_code(code):
    built = FBAck(code=code, homeaddr="10.0.0.5", haaddr="10.0.0.1",
                  ident=0x0102030405060708)
    if code == P.FBACK_CODE_NCOA_SUPPLIED:
        built = built / IPv4AddrOption(code=P.ADDR_NCOA, addr="10.1.0.77")
    built = built / MNPARAuth(spi=0x1000, key=b"k")
    back = roundtrip(mip(built))
    assert_same_fields(built, back[FBAck])
    assert back[FBAck].code == code


@pytest.mark.parametrize("flag", P.FBU_FLAGS, ids=lambda f: f.name)
def test_fbu_roundtrip_every_flag(flag):
    built = FBU(flags=flag.mask, homeaddr="10.0.0.5", haaddr="10.0.0.1",
                coa="10.1.0.1", ident=1) / MNPARAuth(spi=7)
    back = roundtrip(mip(built))
    assert back[FBU].flags.value == flag.mask
    assert_same_fields(built, back[FBU])


def test_fbu_flag_names_follow_rfc3344():
    fbu = FBU(flags="SBDMGrTx")
    assert bytes(fbu)[1] == 0xFF
    assert bytes(FBU(flags="D"))[1] == 0x20
    assert FBU(bytes(FBU(flags="T"))).flags.T


OPTION_CASES = [(t, code) for t, spec in P.OPTIONS.items()
                for code in spec.codes]


@pytest.mark.parametrize("opt_type,code", OPTION_CASES)
def test_every_option_and_option_code_roundtrip(opt_type, code):
    option = {
        P.OPT_LLA: lambda: LLAOption(code=code, lla="0a:0b:0c:0d:0e:0f"),
        P.OPT_IPV4_ADDR: lambda: IPv4AddrOption(code=code, addr="192.0.2.9"),
        P.OPT_PREFIX: lambda: PrefixOption(code=code, prefixlen=20),
    }[opt_type]()
    for message in (PrRtAdv(identifier=3), HI(identifier=3)):
        built = message / option / IPv4AddrOption(code=2, addr="10.9.9.9")
        back = roundtrip(icmp(built))
        assert_same_fields(built, back[type(message)])
        assert len(bytes(back[type(option)])) % P.OPTION_UNIT == 0


def test_defaults_build_conformant_messages():
    assert bytes(FBU())[:4] == bytes([20, 0, 0, P.LIFETIME_MAX])
    assert bytes(FBAck())[:4] == bytes([21, 0, 0, P.LIFETIME_MAX])
    for subtype, cls in ICMP_CLASSES.items():
        raw = bytes(cls())
        assert raw[0] == 41 and raw[4] == subtype and raw[5] == 0
        assert C.checksum_verdict(raw) == C.CHECKSUM_OK
    assert bytes(IPv4AddrOption())[:4] == bytes([21, 1, 1, 0])
    assert bytes(PrefixOption()) == bytes([22, 1, 0, 0, 0, 0, 0, 0])
    assert bytes(MNPARAuth())[:4] == bytes([36, 4, 0, 20])
    assert bytes(LLAOption(code=2)) == bytes([20, 2, 2]) + bytes(6) + \
        bytes([1, 5]) + bytes(5)


def test_proto_and_ports_are_set_automatically():
    assert IP(bytes(IP() / HI())).proto == 1
    udp = IP(bytes(IP() / UDP() / FBU()))[UDP]
    assert (udp.sport, udp.dport) == (434, 434)
    assert isinstance(udp.payload, FBU)


@pytest.mark.parametrize("sport,dport", [(434, 434), (434, 5000),
                                         (5000, 434)])
def test_either_port_434(sport, dport):
    wire = bytes(IP() / UDP(sport=sport, dport=dport)
                 / FBAck(ident=5) / MNPARAuth())
    assert isinstance(IP(wire)[UDP].payload, FBAck)


# --- Extensions and options dissection ------------------------------------

def test_extension_kinds():
    fback = FBAck(
        bytes(FBAck(code=1))
        + bytes([21, 6, 2, 0, 10, 1, 0, 77])          # NCoA, Length 6 (D4)
        + bytes([21, 2, 1, 2])                        # type 21 other length
        + bytes([130, 3, 1, 2, 3])                    # skippable, short
        + bytes([36, 1, 0, 8, 0, 0, 0, 9, 0xAA, 0xBB, 0xCC, 0xDD]))  # MN-AAA
    kinds = [type(x) for x in fback.iterpayloads()]
    assert kinds == [FBAck, IPv4AddrOption, MIPExtension, MIPExtension,
                     MNPARAuth]
    assert fback[IPv4AddrOption].len == 6
    assert fback[MNPARAuth].subtype == 1
    assert fback[MNPARAuth].authenticator == bytes.fromhex("aabbccdd")
    # In an FBU a type 21 extension is a plain short extension.
    fbu = FBU(bytes(FBU()) + bytes([21, 6, 2, 0, 10, 1, 0, 77]))
    assert type(fbu.payload) is MIPExtension and fbu.payload.len == 6


def test_unknown_and_misframed_options():
    raw = (bytes(HAck(identifier=1))
           + bytes([99, 1, 1, 2, 3, 4, 5, 6])     # unknown type
           + bytes([21, 2, 2, 0, 10, 1, 0, 77]) + bytes(range(8))  # Length 2
           + bytes([22, 1, 0, 16, 0, 0, 0, 0]))   # prefix
    hack = HAck(raw)
    kinds = [type(x) for x in hack.iterpayloads()]
    assert kinds == [HAck, FMIPOption, IPv4AddrOption, PrefixOption]
    assert hack[FMIPOption].data == bytes([1, 2, 3, 4, 5, 6])
    # misframed: fixed fields decoded, the octets Length adds shown as extra
    assert hack[IPv4AddrOption].addr == "10.1.0.77"
    assert hack[IPv4AddrOption].extra == bytes(range(8))
    assert hack[PrefixOption].prefixlen == 16
    assert "extra" not in hack[PrefixOption].fields
    assert bytes(hack) == raw
    # too short for the 8-octet layout: generic option
    short = HAck(bytes(HAck()) + bytes([22, 1, 0, 16]))
    assert type(short.payload) is FMIPOption


def test_auth_extension_too_short_for_spi_stays_raw():
    raw = bytes(FBU()) + bytes([36, 4, 0, 2, 1, 2, 3, 4, 5, 6])
    fbu = FBU(raw)
    assert type(fbu.payload) is Raw and bytes(fbu) == raw


def test_option_length_zero_stops_the_chain():
    raw = bytes(HI()) + bytes([20, 0, 2]) + bytes(13)
    hi = IP(bytes(IP(proto=1) / Raw(raw)))[HI]
    assert type(hi.payload) is FMIPOption and hi.payload.len == 0
    assert isinstance(hi.payload.payload, Raw)
    assert bytes(hi) == raw


def test_option_length_past_the_end():
    raw = bytes(HI()) + bytes([20, 9, 2, 1, 2, 3, 4, 5, 6, 7])
    hi = HI(raw)
    assert hi[LLAOption].lla == "01:02:03:04:05:06"
    assert hi[LLAOption].padding == b"\x07"
    assert bytes(hi) == raw


def test_lla_padding_variants():
    assert LLAOption(bytes(LLAOption(code=1, lla=b"\x01" * 6))).padding == \
        bytes([1, 5, 0, 0, 0, 0, 0])
    # explicit bad padding is kept when building and shown when dissecting
    bad = bytes(LLAOption(code=1, lla=b"\x01" * 6, padding=b"\xff" * 7))
    assert bad[1] == 2 and LLAOption(bad).padding == b"\xff" * 7
    # wildcard with an all-zero address (code 0, address present)
    zero = bytes(LLAOption(code=0, lla=bytes(6)))
    assert LLAOption(zero).lla == "00:00:00:00:00:00"


def test_lla_length_setting():
    with pytest.raises(ValueError):
        L.set_lla_length(-1)
    with pytest.raises(ValueError):
        L.set_lla_length("6")
    raw = bytes(LLAOption(code=1, lla="01:02:03:04:05:06:07:08"))
    try:
        L.set_lla_length(8)
        assert LLAOption(raw).lla == "01:02:03:04:05:06:07:08"
    finally:
        L.set_lla_length(P.DEFAULT_LLA_LENGTH)
    assert L.LLA_LENGTH == P.DEFAULT_LLA_LENGTH


def test_lla_accepts_bytes_and_text():
    for value in (b"\x00\x11\x22\x33\x44\x55", "00:11:22:33:44:55",
                  "00-11-22-33-44-55", "00:11:22:33:44:55".upper(),
                  "0:11:22:33:44:55", "001122334455"):
        assert LLAOption(code=2, lla=value).lla == "00:11:22:33:44:55"


# --- answers, hashret, summaries ------------------------------------------

def test_fback_answers_fbu():
    fbu = mip(FBU(homeaddr="10.0.0.5", ident=77) / MNPARAuth())
    fback = IP(src="10.0.0.1", dst="10.0.0.5") / UDP(sport=434, dport=434) \
        / FBAck(homeaddr="10.0.0.5", ident=77) / MNPARAuth()
    other = IP(src="10.0.0.1", dst="10.0.0.5") / UDP(sport=434, dport=434) \
        / FBAck(homeaddr="10.0.0.5", ident=78) / MNPARAuth()
    fbu, fback, other = (IP(bytes(p)) for p in (fbu, fback, other))
    assert fback.answers(fbu) and not other.answers(fbu)
    assert fback.hashret() == fbu.hashret() != other.hashret()
    assert not fbu.answers(fback)


def test_hack_answers_hi_and_prrtadv_answers_rtsolpr():
    assert HAck(identifier=5).answers(HI(identifier=5))
    assert not HAck(identifier=5).answers(HI(identifier=6))
    assert not HAck(identifier=5).answers(RtSolPr(identifier=5))
    assert PrRtAdv(identifier=5).answers(RtSolPr(identifier=5))
    assert not PrRtAdv(code=1).answers(RtSolPr())  # unsolicited (D9)
    assert HAck(identifier=5).hashret() == HI(identifier=5).hashret()
    hi = IP(src="10.0.0.1", dst="10.1.0.1") / HI(identifier=9)
    hack = IP(src="10.1.0.1", dst="10.0.0.1") / HAck(identifier=9)
    hi, hack = IP(bytes(hi)), IP(bytes(hack))
    assert hack.answers(hi) and hack.hashret() == hi.hashret()


def test_summaries():
    fbu = IP(bytes(mip(FBU(homeaddr="10.0.0.5", haaddr="10.0.0.1",
                           coa="10.1.0.1", ident=0x10)
                       / MNPARAuth(spi=0x100))))
    assert fbu.summary() == ("IP / UDP / FBU 10.0.0.5 > 10.0.0.1 "
                             "coa=10.1.0.1 ident=0x10 / MN-PAR Auth SPI=0x100")
    hi = IP(bytes(icmp(HI(identifier=3) / LLAOption(code=2, lla=bytes(6))
                       / IPv4AddrOption(code=1, addr="10.0.0.5"))))
    summary = hi.summary()
    assert summary.startswith("IP / HI ") and "id=3" in summary
    assert "LLA Link-Layer Address of the MN 00:00:00:00:00:00" in summary
    assert summary.endswith("IPv4Addr Previous CoA 10.0.0.5")
    assert "NCoA supplied" in FBAck(code=1).mysummary()
    assert "id=3" in HAck(identifier=3).mysummary()


# --- Hypothesis properties ------------------------------------------------

ipv4 = st.tuples(*[st.integers(0, 255)] * 4).map(
    lambda t: ".".join(map(str, t)))


@PROPERTY
@given(flags=st.integers(0, 255), lifetime=st.integers(0, 0xFFFF),
       home=ipv4, ha=ipv4, coa=ipv4, ident=st.integers(0, 2 ** 64 - 1),
       spi=st.integers(0, 2 ** 32 - 1), key=st.binary(min_size=1, max_size=40),
       algorithm=st.sampled_from(sorted(P.AUTH_ALGORITHMS)),
       extensions=st.lists(st.tuples(st.integers(128, 255),
                                     st.binary(max_size=20)), max_size=3))
def test_property_fbu(flags, lifetime, home, ha, coa, ident, spi, key,
                      algorithm, extensions):
    built = FBU(flags=flags, lifetime=lifetime, homeaddr=home, haaddr=ha,
                coa=coa, ident=ident)
    for ext_type, data in extensions:
        built = built / MIPExtension(type=ext_type, data=data)
    built = built / MNPARAuth(spi=spi, key=key, algorithm=algorithm)
    back = roundtrip(mip(built))
    fbu = back[FBU]
    assert (fbu.flags.value, fbu.lifetime, fbu.homeaddr, fbu.haaddr, fbu.coa,
            fbu.ident) == (flags, lifetime, home, ha, coa, ident)
    assert [(x.type, x.data) for x in fbu.iterpayloads()
            if isinstance(x, MIPExtension)] == extensions
    payload = bytes(fbu)
    auth = fbu[MNPARAuth]
    covered = len(payload) - len(auth.authenticator)
    digest = {"hmac-md5": hashlib.md5, "hmac-sha1": hashlib.sha1,
              "hmac-sha256": hashlib.sha256}[algorithm]
    assert auth.authenticator == hmac.new(key, payload[:covered],
                                          digest).digest()
    assert auth.spi == spi and auth.len == 4 + P.AUTH_ALGORITHMS[algorithm]


def _option_strategy():
    lla = st.builds(
        lambda code, addr: LLAOption(code=code, lla=addr),
        st.integers(0, 255), st.binary(min_size=6, max_size=6))
    addr = st.builds(lambda code, a, r: IPv4AddrOption(code=code, addr=a,
                                                       reserved=r),
                     st.integers(0, 255), ipv4, st.integers(0, 255))
    prefix = st.builds(lambda n, r: PrefixOption(prefixlen=n, reserved=r),
                       st.integers(0, 255), st.integers(0, 2 ** 32 - 1))
    # data of 8k-2 octets so that the option fills whole 8-octet units
    unknown = st.builds(lambda t, d: FMIPOption(type=t, data=d),
                        st.integers(23, 255),
                        st.sampled_from([6, 14]).flatmap(
                            lambda n: st.binary(min_size=n, max_size=n)))
    return st.one_of(lla, addr, prefix, unknown)


@PROPERTY
@given(subtype=st.sampled_from(sorted(ICMP_CLASSES)),
       code=st.integers(0, 255), identifier=st.integers(0, 0xFFFF),
       reserved=st.integers(0, 255), options=st.lists(_option_strategy(),
                                                      max_size=4))
def test_property_icmp(subtype, code, identifier, reserved, options):
    cls = ICMP_CLASSES[subtype]
    if cls is HI:
        built = HI(code=code, identifier=identifier, S=reserved >> 7,
                   U=(reserved >> 6) & 1, reserved=reserved & 0x3F)
    else:
        built = cls(code=code, identifier=identifier, reserved=reserved)
    for opt in options:
        built = built / opt
    back = roundtrip(icmp(built))
    message = back[cls]
    assert bytes(message)[5] == reserved
    assert (message.code, message.identifier) == (code, identifier)
    # decision D2: built checksums always verify, reserved bits or not.
    assert C.checksum_verdict(bytes(message)) == C.CHECKSUM_OK
    got = [type(x) for x in message.iterpayloads()][1:]
    assert got == [type(o) for o in options]
    assert_same_fields(built, message)


@PROPERTY
@given(tail=st.binary(max_size=64), subtype=st.integers(6, 9))
def test_property_garbage_after_icmp_header(tail, subtype):
    raw = bytes(ICMP_CLASSES[subtype]()) + tail
    wire = bytes(IP(proto=1) / Raw(raw))
    pkt = IP(wire)
    assert isinstance(pkt.payload, ICMP_CLASSES[subtype])
    assert bytes(pkt) == wire


@PROPERTY
@given(tail=st.binary(max_size=64), mtype=st.sampled_from([20, 21]))
def test_property_garbage_after_mip_header(tail, mtype):
    raw = bytes(MIP_CLASSES[mtype]()) + tail
    wire = bytes(IP() / UDP(sport=434, dport=434) / Raw(raw))
    pkt = IP(wire)
    assert isinstance(pkt[UDP].payload, MIP_CLASSES[mtype])
    assert bytes(pkt) == wire


# --- Malformed input never raises ------------------------------------------

def _valid_messages() -> list[bytes]:
    return [
        bytes(FBU(ident=1) / MIPExtension(type=130, data=b"xy")
              / MNPARAuth(key=b"k")),
        bytes(FBAck(code=1) / IPv4AddrOption(code=2) / MNPARAuth()),
        bytes(RtSolPr() / LLAOption(code=0, lla=b"")),
        bytes(PrRtAdv() / LLAOption(code=1) / LLAOption(code=3)
              / IPv4AddrOption(code=3) / PrefixOption(prefixlen=24)),
        bytes(HI(S=1) / LLAOption(code=2) / IPv4AddrOption(code=1)),
        bytes(HAck(code=3) / IPv4AddrOption(code=2)),
    ]


def _wrap(message: bytes) -> bytes:
    if message[0] in MIP_CLASSES:
        return bytes(Ether() / IP() / UDP(sport=434, dport=434)
                     / Raw(message))
    return bytes(Ether() / IP(proto=1) / Raw(message))


def _mutations(message: bytes, rng: random.Random):
    for n in range(len(message) + 1):            # every truncation
        yield message[:n]
    for i in range(len(message)):                # each octet to 0 and 0xff
        for value in (0, 0xFF):
            yield message[:i] + bytes([value]) + message[i + 1:]
    for _ in range(40):                          # random garbage tails
        keep = rng.randrange(len(message) + 1)
        yield message[:keep] + rng.randbytes(rng.randrange(40))


def test_malformed_input_never_raises_and_is_kept():
    rng = random.Random(4988)
    count = 0
    for message in _valid_messages():
        for mutated in _mutations(message, rng):
            if not mutated:
                continue
            wire = _wrap(mutated)
            pkt = Ether(wire)
            assert bytes(pkt) == wire        # nothing lost or invented
            pkt.summary()
            repr(pkt)
            count += 1
    assert count > 500


def test_our_dissectors_do_not_raise_even_in_debug_mode():
    """With conf.debug_dissector Scapy re-raises dissector errors; ours must
    still have none (messages whose fixed header is complete)."""
    rng = random.Random(41)
    old = conf.debug_dissector
    conf.debug_dissector = True
    try:
        for message in _valid_messages():
            header = (P.MIP_MESSAGES.get(message[0])
                      or P.ICMP_MESSAGES[message[4]]).header_len
            for mutated in _mutations(message, rng):
                if len(mutated) < header or mutated[0] != message[0] or \
                        (message[0] == 41 and mutated[4] != message[4]):
                    continue
                wire = _wrap(mutated)
                assert bytes(Ether(wire)) == wire
    finally:
        conf.debug_dissector = old


ALL_CLASSES = [FBU, FBAck, RtSolPr, PrRtAdv, HI, HAck, LLAOption,
               IPv4AddrOption, PrefixOption, FMIPOption, MNPARAuth,
               MIPExtension]


@pytest.mark.parametrize("cls", ALL_CLASSES, ids=lambda c: c.__name__)
def test_direct_dissection_of_truncated_input(cls):
    """cls(raw[:n]) never raises, even in debug mode: complete fields are
    decoded, the rest is None and the partial octets stay Raw."""
    full = {FBU: FBU(ident=5) / MNPARAuth(), FBAck: FBAck(code=1)
            / IPv4AddrOption(code=2), LLAOption: LLAOption(code=2),
            FMIPOption: FMIPOption(type=99, data=b"abcdef"),
            MIPExtension: MIPExtension(type=130, data=b"ab")}.get(cls, None)
    raw = bytes(full if full is not None else cls())
    if cls in ICMP_CLASSES.values():
        raw = bytes(cls(identifier=3) / IPv4AddrOption(code=2))
    old = conf.debug_dissector
    conf.debug_dissector = True
    try:
        for n in range(1, len(raw) + 1):
            pkt = cls(raw[:n])
            assert bytes(pkt) == raw[:n]
            pkt.summary()
            pkt.show(dump=True)
            pkt.hashret()
    finally:
        conf.debug_dissector = old
    if cls is FBU:
        assert FBU(raw[:20]).ident is None
        assert isinstance(FBU(raw[:20]).payload, Raw)


def test_short_messages_stay_scapy_layers():
    # A type 20 shorter than the FBU header stays MobileIP + Raw, as before.
    wire = bytes(IP() / UDP(sport=434, dport=434) / Raw(bytes([20, 0, 0])))
    assert type(IP(wire)[UDP].payload) is MobileIP
    # A type 41 shorter than 8 octets is left to Scapy (which makes it Raw).
    wire = bytes(IP(proto=1) / Raw(bytes([41, 0, 0, 0, 8, 0, 0])))
    assert not isinstance(IP(wire).payload, tuple(ICMP_CLASSES.values()))
    wire = bytes(IP(proto=1) / Raw(bytes([41, 0, 0, 0, 5, 0, 0, 0])))
    assert type(IP(wire).payload) is ICMP
    wire = bytes(IP() / UDP(sport=434, dport=434) / MobileIP()
                 / MobileIPRRQ())
    assert isinstance(IP(wire)[UDP].payload.payload, MobileIPRRQ)


# --- Coexistence with Scapy's own layers (separate processes) ---------------

_COEXIST_SCRIPT = textwrap.dedent(r'''
    import os, sys
    from scapy.all import *
    if os.environ.get("WITH_FMIP") == "1":
        import fmipdissect.layers  # noqa: F401
    conf.color_theme = NoTheme()
    eth = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    ip = IP(src="192.0.2.1", dst="192.0.2.2")
    pkts = [
        ip / ICMP(), ip / ICMP(type=0, id=3, seq=4) / b"payload",
        ip / ICMP(type=3, code=1) / IP(dst="1.2.3.4") / UDP(dport=53),
        ip / ICMP(type=11) / IP(dst="1.2.3.4", proto=1) / ICMP(),
        ip / ICMP(type=5, gw="1.1.1.1"),
        ip / ICMP(type=13, ts_ori=1, ts_rx=2, ts_tx=3),
        ip / ICMP(type=12, ptr=4), ip / ICMP(type=17),
        ip / ICMP(type=40) / (b"\x00" * 12),
        ip / ICMP(type=3) / IP(proto=1)
        / Raw(bytes([41, 0, 0, 0, 8, 0, 0, 1])),
        IP(src="192.0.2.1", dst="192.0.2.2", proto=1, flags="MF")
        / Raw(bytes([41, 0, 0, 0, 5, 0, 0, 1]) + bytes(8)),
        IP(src="192.0.2.1", dst="192.0.2.2", proto=1, frag=3)
        / Raw(bytes([41, 0, 0, 0, 8, 0, 0, 1]) + bytes(8)),
        ip / UDP(sport=434, dport=434) / MobileIP() / MobileIPRRQ(),
        ip / UDP(sport=1234, dport=434) / MobileIP() / MobileIPRRQ(id=5),
        ip / UDP(sport=434, dport=1234) / MobileIP(type=3) / MobileIPRRP(),
        ip / UDP(sport=434, dport=434) / MobileIP(type=4)
        / MobileIPTunnelData() / IP() / ICMP(),
        ip / UDP(sport=434, dport=434) / MobileIP(type=2) / b"abc",
        ip / UDP(sport=434, dport=434) / Raw(bytes([20, 0, 0, 10]) + bytes(8)),
        ip / UDP(sport=53, dport=434) / DNS(),
        ip / UDP(dport=53) / DNS(qd=DNSQR(qname="example.org")),
        ip / TCP(dport=434), IPv6() / ICMPv6EchoRequest(),
    ]
    for t in range(0, 256, 17):
        pkts.append(ip / ICMP(type=t, code=1) / Raw(bytes(range(20))))
    for sub in list(range(0, 6)) + [10, 11, 255]:
        pkts.append(ip / Raw(bytes([41, 0, 0, 0, sub, 0, 0, 1]) + bytes(16)))
        pkts[-1][IP].proto = 1
    for n in range(0, 8):
        pkts.append(ip / Raw(bytes([41, 0, 0, 0, 8, 0, 0, 1])[:n]))
        pkts[-1][IP].proto = 1
    for p in pkts:
        wire = bytes(eth / p)
        d = Ether(wire)
        print(wire.hex())
        print(repr(d))
        print(d.summary())
        print(d.show2(dump=True))
''')


def _run_coexist(with_fmip: bool) -> str:
    env = dict(os.environ, WITH_FMIP="1" if with_fmip else "0")
    out = subprocess.run([sys.executable, "-c", _COEXIST_SCRIPT], env=env,
                         capture_output=True, text=True, timeout=120,
                         check=True)
    return out.stdout


def test_scapy_layers_dissect_exactly_as_before():
    before, after = _run_coexist(False), _run_coexist(True)
    assert before.count("\n") > 200
    assert "MobileIPRRQ" in before and "ICMP" in before
    assert after == before


def test_module_docstring_examples():
    import doctest
    result = doctest.testmod(L)
    assert result.attempted >= 5 and result.failed == 0
