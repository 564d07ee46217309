"""Structure-aware fuzzing (hypothesis) of the Scapy layers, the fast decoder
and the checker, on the same bytes.

Messages are built with the Scapy layers from arbitrary field values (codes
and reserved bits outside their tables, any lengths), with option soups
(ICMP options of every kind, unknown types, explicit wrong Length values,
wrong LLA lengths and padding, raw junk) and extension soups (Mobile IPv4
extensions, MN-PAR authentication extensions with any Length, NCoA options
framed either way), then cut or overwritten at random.  For every input:

* no exception escapes the decoder, the per-message checks, the session,
  the Scapy layers (dissection from the message and from IP, summary,
  show) or the checker over a capture;
* every framing Problem the decoder finds is reported as a finding
  (bench/fuzz.py exercise_message holds these invariants, the same target
  atheris runs);
* decoder and layers agree (tests/test_decode_differential.compare) on every
  message built, and on every mutated one wherever compare can judge.

FMIP_FUZZ_EXAMPLES=N multiplies the number of examples for a longer run.
"""

from __future__ import annotations

import importlib.util
import os
import socket
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import IP, UDP
from scapy.utils import wrpcap
from test_decode_differential import SCAPY_CLASS, compare

from fmipdissect import layers as L
from fmipdissect.spec import protocol as P
from fmipdissect.decode.decoder import decode_icmp, decode_mip
from fmipdissect.lint.engine import CaptureLint, LintConfig

ROOT = Path(__file__).resolve().parents[2]


def load_fuzz_module():
    """bench/fuzz.py (not a package): the shared fuzz target."""
    spec = importlib.util.spec_from_file_location(
        "fmip_bench_fuzz", ROOT / "bench" / "fuzz.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FUZZ = load_fuzz_module()
SCALE = int(os.environ.get("FMIP_FUZZ_EXAMPLES", "1"))


def fuzz_settings(examples: int):
    return settings(max_examples=examples * SCALE, derandomize=True,
                    deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow,
                                           HealthCheck.data_too_large])


# --- strategies ---------------------------------------------------------------

octet = st.integers(0, 255)
ipv4 = st.binary(min_size=4, max_size=4).map(socket.inet_ntoa)


def code_from(table: dict):
    """Mostly a code of the table, sometimes any octet."""
    return st.one_of(st.sampled_from(sorted(table)), octet)


maybe_length = st.one_of(st.none(), octet)   # None: the layers compute it

lla_option = st.builds(
    L.LLAOption, code=code_from(P.LLA_CODES),
    lla=st.one_of(st.none(), st.binary(max_size=12)),
    padding=st.one_of(st.none(), st.binary(max_size=10)),
    len=st.one_of(st.none(), st.none(), octet))
ipv4_option = st.builds(
    L.IPv4AddrOption, code=code_from(P.IPV4_ADDR_CODES), reserved=octet,
    addr=ipv4, len=maybe_length, extra=st.binary(max_size=8))
prefix_option = st.builds(
    L.PrefixOption, code=code_from(P.PREFIX_CODES), prefixlen=octet,
    reserved=st.integers(0, 2**32 - 1), len=maybe_length)
other_option = st.builds(
    L.FMIPOption, type=octet, len=maybe_length, data=st.binary(max_size=22))
icmp_option = st.one_of(lla_option, ipv4_option, prefix_option, other_option)

auth_extension = st.builds(
    L.MNPARAuth, subtype=code_from(P.AUTH_SUBTYPES),
    spi=st.integers(0, 2**32 - 1),
    key=st.one_of(st.none(), st.binary(min_size=1, max_size=20)),
    algorithm=st.sampled_from(sorted(P.AUTH_ALGORITHMS)),
    len=st.one_of(st.none(), st.none(), st.integers(0, 2**16 - 1)))
mip_extension = st.builds(
    L.MIPExtension, type=octet, len=maybe_length, data=st.binary(max_size=20))
ncoa_extension = st.builds(
    L.IPv4AddrOption, code=code_from(P.IPV4_ADDR_CODES), reserved=octet,
    addr=ipv4, len=st.sampled_from([None, 6, 1, 0, 2, 255]))

fbu = st.builds(L.FBU, flags=octet, lifetime=st.integers(0, 2**16 - 1),
                homeaddr=ipv4, haaddr=ipv4, coa=ipv4,
                ident=st.integers(0, 2**64 - 1))
fback = st.builds(L.FBAck, code=code_from(P.FBACK_CODES),
                  lifetime=st.integers(0, 2**16 - 1), homeaddr=ipv4,
                  haaddr=ipv4, ident=st.integers(0, 2**64 - 1))


def icmp_header(cls):
    kw = dict(code=code_from(cls.spec.codes), identifier=st.integers(0, 65535),
              chksum=st.one_of(st.none(), st.none(), st.integers(0, 65535)))
    if cls is L.HI:
        kw.update(S=st.integers(0, 1), U=st.integers(0, 1),
                  reserved=st.integers(0, 63))
    else:
        kw["reserved"] = octet
    return st.builds(cls, **kw)


def stack(header, parts):
    pkt = header
    for part in parts:
        pkt = pkt / part
    return pkt


junk = st.binary(min_size=1, max_size=12).map(lambda b: [b])
icmp_messages = st.builds(
    lambda h, opts, tail: stack(h, opts + tail),
    st.one_of(*(icmp_header(c) for c in (L.RtSolPr, L.PrRtAdv, L.HI,
                                        L.HAck))),
    st.lists(icmp_option, max_size=8),
    st.one_of(st.just([]), st.just([]), junk))
mip_messages = st.builds(
    lambda h, exts, tail: stack(h, exts + tail),
    st.one_of(fbu, fback),
    st.lists(st.one_of(mip_extension, auth_extension, ncoa_extension),
             max_size=6),
    st.one_of(st.just([]), st.just([]), junk))
messages = st.one_of(icmp_messages, mip_messages)


@st.composite
def mutated(draw, base=messages):
    """A built message, then cut and/or a few octets overwritten."""
    raw = bytearray(bytes(draw(base)))
    for _ in range(draw(st.integers(0, 4))):
        raw[draw(st.integers(0, len(raw) - 1))] = draw(octet)
    if draw(st.booleans()):
        raw = raw[:draw(st.integers(0, len(raw)))]
    return bytes(raw)


# --- what must hold for any octets ---------------------------------------------

def decoded(raw: bytes):
    return decode_mip(raw) or decode_icmp(raw)


def check_layers(raw: bytes) -> None:
    """The layers dissect anything without raising and keep every octet."""
    for cls in (L.FBU, L.FBAck, L.RtSolPr, L.PrRtAdv, L.HI, L.HAck):
        layer = cls(raw)
        if raw:    # Scapy reads b"" as "no octets given": the defaults
            assert bytes(layer) == raw, cls.__name__
        layer.summary()
        layer.show(dump=True)
    for pkt in (IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=434, dport=434)
                / raw, IP(src="10.0.0.1", dst="10.1.0.1", proto=1) / raw):
        back = IP(bytes(pkt))
        back.summary()
        back.show(dump=True)


def check_everything(raw: bytes) -> list[str]:
    FUZZ.exercise_message(raw)
    FUZZ.exercise_message(raw, lla_length=8)
    check_layers(raw)
    msg = decoded(raw)
    if msg is None:
        return []
    return compare(0, raw, msg)


# --- tests ----------------------------------------------------------------------

@fuzz_settings(300)
@given(messages)
def test_built_messages(pkt):
    raw = bytes(pkt)
    msg = decoded(raw)
    assert msg is not None and msg.key == SCAPY_CLASS_KEY[type(pkt)]
    mismatches = check_everything(raw)
    assert not mismatches, mismatches


SCAPY_CLASS_KEY = {cls: key for key, cls in SCAPY_CLASS.items()}


@fuzz_settings(300)
@given(mutated())
def test_mutated_messages(raw):
    mismatches = check_everything(raw)
    assert not mismatches, mismatches


@fuzz_settings(200)
@given(st.binary(max_size=64), st.sampled_from([b"\x14", b"\x15",
                                                b"\x29\x00\x00\x00\x06",
                                                b"\x29\x00\x00\x00\x08"]))
def test_arbitrary_octets_after_a_message_type(tail, head):
    """Headers and option areas of pure noise."""
    raw = head + tail
    assert decoded(raw) is not None
    check_everything(raw)


@st.composite
def well_formed_icmp(draw):
    cls = draw(st.sampled_from([L.RtSolPr, L.PrRtAdv, L.HI, L.HAck]))
    kw = dict(code=draw(st.sampled_from(sorted(cls.spec.codes))),
              identifier=draw(st.integers(0, 65535)))
    if cls is L.HI:
        kw.update(S=draw(st.integers(0, 1)), U=draw(st.integers(0, 1)))
    opts = draw(st.lists(st.one_of(
        st.builds(L.LLAOption, code=st.sampled_from(sorted(P.LLA_CODES)),
                  lla=st.binary(min_size=6, max_size=6)),
        st.builds(L.IPv4AddrOption,
                  code=st.sampled_from(sorted(P.IPV4_ADDR_CODES)), addr=ipv4),
        st.builds(L.PrefixOption, code=st.sampled_from(sorted(P.PREFIX_CODES)),
                  prefixlen=st.integers(0, 32))), max_size=6))
    return stack(cls(**kw), opts)


@st.composite
def well_formed_mip(draw):
    if draw(st.booleans()):
        pkt = draw(st.builds(L.FBU, lifetime=st.integers(0, 10),
                             homeaddr=ipv4, haaddr=ipv4, coa=ipv4,
                             ident=st.integers(0, 2**64 - 1)))
        parts = []
    else:
        pkt = draw(st.builds(L.FBAck, code=st.sampled_from(
            sorted(P.FBACK_CODES)), homeaddr=ipv4, haaddr=ipv4,
            ident=st.integers(0, 2**64 - 1)))
        parts = [L.IPv4AddrOption(code=P.ADDR_NCOA, addr=draw(ipv4))] \
            if draw(st.booleans()) else []
    parts.append(L.MNPARAuth(spi=draw(st.integers(0, 2**32 - 1)),
                             key=draw(st.binary(min_size=1, max_size=16))))
    return stack(pkt, parts)


@fuzz_settings(200)
@given(st.one_of(well_formed_icmp(), well_formed_mip()))
def test_well_formed_messages_round_trip_without_problems(pkt):
    """No framing problem, the layers give the same octets back, and the
    decoder and the layers agree field by field."""
    raw = bytes(pkt)
    msg = decoded(raw)
    assert msg.problems == [], msg.problems
    assert bytes(SCAPY_CLASS[msg.key](raw)) == raw
    assert compare(0, raw, msg) == []
    FUZZ.exercise_message(raw)


def capture_packets(raws: list[bytes]):
    out = []
    for i, raw in enumerate(raws):
        if raw[:1] in (b"\x14", b"\x15") or not raw:
            pkt = IP(src="10.0.0.5", dst="10.0.0.1") / UDP(
                sport=434, dport=434) / raw
        else:
            pkt = IP(src="10.0.0.1", dst="10.1.0.1", proto=1) / raw
        pkt.time = 1_700_000_000 + i * 0.25
        out.append(pkt)
    return out


@fuzz_settings(40)
@given(st.lists(st.one_of(mutated(), messages.map(bytes)), min_size=1,
                max_size=12))
def test_checker_over_captures_of_fuzzed_messages(tmp_path_factory, raws):
    """The whole checker over a capture: no exception, and every message
    whose decoding found a framing problem has that finding at its frame."""
    path = tmp_path_factory.mktemp("fuzz") / "fuzz.pcap"
    wrpcap(str(path), capture_packets(raws))
    findings = list(CaptureLint(str(path), LintConfig()))
    at_frame = {(f.frame, f.rule) for f in findings}
    for frame, raw in enumerate(raws, 1):
        msg = decoded(raw)
        if msg is None:
            continue
        for p in msg.problems:
            assert (frame, p.rule) in at_frame, (frame, p, raw.hex())
