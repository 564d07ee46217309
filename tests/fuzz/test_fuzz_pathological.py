"""Pathological input: the largest messages, thousands of options, lengths
that lie, snaplen shorter than the messages, 10,000 unfinished handovers,
time going backwards, duplicate frames.

Every capture here goes through the three consumers: the fast decoder and
checker (CaptureLint, in process), the real fmip-lint script (exit 0/1/2,
no traceback, JSON on standard output) and real tshark with lua/fmip.lua
(no Lua error, no crash) -- bench/fuzz.py's checks.  Memory of the session
state is measured (tracemalloc) and its expiry and cap checked as
fmipdissect/lint/session.py documents them.
"""

from __future__ import annotations

import socket
import struct
import time
import tracemalloc

import lintcaps
import pytest
from scapy.layers.inet import IP, UDP
from test_fuzz_messages import FUZZ
from test_fuzz_regressions import require_tool

from fmipdissect import layers as L
from fmipdissect.spec import protocol as P
from fmipdissect.wire.checksum import fmip_icmp_checksum
from fmipdissect.decode.decoder import decode_icmp, decode_mip
import correlated as S
from fmipdissect.lint.checks import check_message
from fmipdissect.lint.engine import CaptureLint, LintConfig
from fmipdissect.records import Datagram

IP_MAX = 65535                      # IPv4 Total Length is 16 bits
ICMP_MAX = IP_MAX - 20              # the largest ICMP message in IPv4
UDP_MAX = IP_MAX - 20 - 8           # the largest UDP payload
LINKTYPE_RAW = 101                  # raw IPv4 records (no link header)
T0 = lintcaps.T0


# --- a plain pcap writer: fast for 10,000 records, any snaplen ---------------

def write_pcap(path, records, snaplen=262144):
    """records: (time, ip_octets[, caplen]) -> a raw-IP pcap at path."""
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen,
                            LINKTYPE_RAW))
        for rec in records:
            when, data = rec[0], rec[1]
            cap = min(len(data), rec[2] if len(rec) > 2 else snaplen)
            sec = int(when)
            f.write(struct.pack("<IIII", sec, int((when - sec) * 1e6), cap,
                                len(data)))
            f.write(data[:cap])
    return path


def ip_checksum(header: bytes) -> int:
    s = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4(src: str, dst: str, proto: int, body: bytes) -> bytes:
    """An IPv4 datagram, Total Length as given by body (may be 65535)."""
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), 1, 0, 64,
                       proto, 0, socket.inet_aton(src), socket.inet_aton(dst))
    head = head[:10] + struct.pack("!H", ip_checksum(head)) + head[12:]
    return head + body


def udp434(src, dst, payload: bytes) -> bytes:
    return ipv4(src, dst, 17, struct.pack("!HHHH", 434, 434, 8 + len(payload),
                                          0) + payload)


def icmp(src, dst, message: bytes) -> bytes:
    ck = fmip_icmp_checksum(message)     # decision D2
    return ipv4(src, dst, 1, message[:2] + struct.pack("!H", ck)
                + message[4:])


def all_consumers_survive(path) -> list:
    """The three consumers on one capture; returns the checker's findings."""
    findings = list(CaptureLint(str(path), LintConfig()))
    assert FUZZ.check_lint_inprocess(path) is None
    assert FUZZ.check_lint_batch([path]) is None
    assert FUZZ.check_decode_inprocess(path) is None
    require_tool("tshark")
    assert FUZZ.check_tshark(path) is None
    return findings


# --- the largest messages, thousands of options --------------------------------

def largest_hi_with_prefix_options() -> bytes:
    """An HI of 65,515 octets: 8,188 Prefix options and a 3-octet rest."""
    head = bytes(L.HI(code=0, identifier=1))
    option = bytes(L.PrefixOption(code=0, prefixlen=24))
    count = (ICMP_MAX - len(head)) // len(option)
    raw = head + option * count
    return raw + bytes(ICMP_MAX - len(raw))   # zeros: Pad-like junk at the end


def largest_fbu_with_one_auth() -> bytes:
    """An FBU of 65,507 octets: one authentication extension whose 16-bit
    Length spans the whole UDP payload (RFC 4721 5)."""
    head = bytes(L.FBU(lifetime=5, homeaddr="10.0.0.5", haaddr="10.0.0.1",
                       coa="10.1.0.1", ident=1))
    length = UDP_MAX - len(head) - 4
    return head + struct.pack("!BBHI", P.AUTH_EXT_TYPE,
                              P.AUTH_SUBTYPE_MN_PAR, length, 256) \
        + bytes(length - 4)


def largest_fbu_with_many_extensions() -> bytes:
    """An FBU of 65,507 octets of skippable extensions (Length 255 each)."""
    head = bytes(L.FBU(homeaddr="10.0.0.5", haaddr="10.0.0.1", ident=2))
    ext = bytes([200, 255]) + bytes(255)
    raw = head + ext * ((UDP_MAX - len(head)) // len(ext))
    rest = UDP_MAX - len(raw)
    return raw + bytes([201, rest - 2]) + bytes(rest - 2)


def test_largest_icmp_message_with_thousands_of_options():
    raw = largest_hi_with_prefix_options()
    assert len(raw) == ICMP_MAX
    started = time.perf_counter()
    msg = decode_icmp(raw)
    assert time.perf_counter() - started < 1.0
    assert len(msg.options("prefix")) == 8188
    # the 3 zero octets left: an option of Length 0 (FM302), reported
    assert [p.rule for p in msg.problems] == ["FM302"]
    FUZZ.exercise_message(raw)
    # The Scapy layers chain options as payloads, recursively: past about
    # 200 of them Scapy keeps the rest as Raw (its own guard against
    # recursion); nothing raises and every octet is kept.
    layer = L.HI(raw)
    assert bytes(layer) == raw
    assert len(layer.layers()) >= 100
    layer.summary()


def test_largest_fbus():
    for raw in (largest_fbu_with_one_auth(),
                largest_fbu_with_many_extensions()):
        assert len(raw) == UDP_MAX
        msg = decode_mip(raw)
        assert msg.problems == [] or {p.rule for p in msg.problems} == {
            "FM110"}, msg.problems[:3]
        assert sum(e.size for e in msg.elements) == UDP_MAX - 24
        FUZZ.exercise_message(raw)
        assert bytes(L.FBU(raw)) == raw


def test_largest_messages_through_all_consumers(tmp_path):
    path = write_pcap(tmp_path / "largest.pcap", [
        (T0, icmp("10.0.0.1", "10.1.0.1", largest_hi_with_prefix_options())),
        (T0 + 1, udp434("10.0.0.5", "10.0.0.1", largest_fbu_with_one_auth())),
        (T0 + 2, udp434("10.0.0.5", "10.0.0.1",
                        largest_fbu_with_many_extensions())),
    ])
    findings = all_consumers_survive(path)
    assert ("FM302", 1) in {(f.rule, f.frame) for f in findings}


def test_option_length_zero_and_extension_past_the_end(tmp_path):
    hi = bytes(L.HI(code=0, identifier=3)) + bytes([20, 0, 2]) + bytes(5)
    fbu = bytes(L.FBU(homeaddr="10.0.0.5", haaddr="10.0.0.1", ident=3)) \
        + struct.pack("!BBHI", P.AUTH_EXT_TYPE, P.AUTH_SUBTYPE_MN_PAR,
                      0xFFFF, 256) + bytes(16)
    short_ext = bytes(L.FBU(homeaddr="10.0.0.5", haaddr="10.0.0.1",
                            ident=4)) + bytes([200, 255, 1, 2])
    assert [p.rule for p in decode_icmp(hi).problems] == ["FM302"]
    assert [p.rule for p in decode_mip(fbu).problems] == ["FM303"]
    assert [p.rule for p in decode_mip(short_ext).problems] == ["FM303"]
    path = write_pcap(tmp_path / "lengths.pcap", [
        (T0, icmp("10.0.0.1", "10.1.0.1", hi)),
        (T0 + 1, udp434("10.0.0.5", "10.0.0.1", fbu)),
        (T0 + 2, udp434("10.0.0.5", "10.0.0.1", short_ext))])
    found = {(f.frame, f.rule) for f in all_consumers_survive(path)}
    assert {(1, "FM302"), (2, "FM303"), (3, "FM303")} <= found


@pytest.mark.parametrize("snaplen", [1, 19, 20, 27, 28, 40, 60])
def test_snaplen_shorter_than_the_messages(tmp_path, snaplen):
    """Cut in the IP header, the UDP/ICMP header or the message: the reader
    notes the clipped records (FM903) and nothing is checked as if whole."""
    flow = lintcaps.predictive_flow()
    records = [(T0 + i, bytes(p[IP]), snaplen) for i, p in enumerate(flow)]
    path = write_pcap(tmp_path / f"snap{snaplen}.pcap", records,
                      snaplen=snaplen)
    findings = all_consumers_survive(path)
    rules = {f.rule for f in findings}
    assert rules <= {"FM903", "FM901", "FM902"} | {
        r for r in rules if r.startswith("FM4")}, rules
    if snaplen >= 28:
        assert "FM903" in rules


# --- 10,000 unfinished handovers: bounded state, expiry ---------------------------

def _fbu_template():
    return bytes(lintcaps.fbu()[IP])


def unfinished_handovers(count, t0=T0, step=0.001):
    """count FBUs of distinct MNs (10.x.y.z), none answered."""
    template = bytes(lintcaps.fbu()[UDP].payload)
    for n in range(count):
        mn = f"10.{100 + n // 62500}.{n // 250 % 250}.{n % 250 + 1}"
        payload = bytearray(template)
        payload[4:8] = socket.inet_aton(mn)           # Home Address
        payload[16:24] = struct.pack("!Q", n)         # Identification
        yield t0 + n * step, mn, bytes(payload)


def _datagram(frame, when, src, dst, proto, payload):
    sport = dport = 434 if proto == 17 else None
    return Datagram(frame, when, src, dst, proto, 64, sport, dport, payload)


def test_ten_thousand_unfinished_handovers_memory_and_expiry():
    session = S.Session()
    tracemalloc.start()
    try:
        found = []
        for frame, (when, mn, payload) in enumerate(
                unfinished_handovers(10_000), 1):
            d = _datagram(frame, when, mn, lintcaps.PAR, 17, payload)
            msg = decode_mip(payload)
            found += check_message(msg, d)
            found += session.observe(msg, d)
        held = len(session.handovers)
        current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held == 10_000               # all within EXPIRY_SECONDS: all kept
    assert not [r for r, _ in found if r == "FM403"]
    # a few hundred octets per handover (raw FBU kept for decision D7)
    assert peak < 10_000 * 2048, peak
    # EXPIRY_SECONDS of capture time later one message sweeps them all,
    # each reported unacknowledged then (correlate/correlator.py)
    late = T0 + 10 + S.EXPIRY_SECONDS + S.SWEEP_INTERVAL
    d = _datagram(10_001, late, "10.0.0.99", lintcaps.PAR, 1,
                  bytes(lintcaps.rtsolpr(src="10.0.0.99")[IP].payload))
    out = session.observe(decode_icmp(d.payload), d)
    assert sum(rule == "FM403" for rule, _ in out) == 10_000
    assert len(session.handovers) == 0
    assert len(session.rtsolprs) == 1


def test_handovers_beyond_the_cap_stay_bounded():
    """More distinct handovers than MAX_ENTRIES within the expiry time: the
    table never holds more than MAX_ENTRIES; the dropped ones are reported."""
    cap = S.MAX_ENTRIES
    session = S.Session()
    dropped = 0
    for frame, (when, mn, payload) in enumerate(
            unfinished_handovers(cap + 500, step=0.0001), 1):
        d = _datagram(frame, when, mn, lintcaps.PAR, 17, payload)
        dropped += sum(rule == "FM403"
                       for rule, _ in session.observe(decode_mip(payload), d))
        assert len(session.handovers) <= cap
    assert len(session.handovers) == cap
    assert dropped == 500


def test_ten_thousand_unfinished_handovers_through_a_capture(tmp_path):
    records = [(when, udp434(mn, lintcaps.PAR, payload))
               for when, mn, payload in unfinished_handovers(10_000)]
    path = write_pcap(tmp_path / "unfinished.pcap", records)
    run = CaptureLint(str(path), LintConfig())
    started = time.perf_counter()
    findings = list(run)
    assert time.perf_counter() - started < 20
    assert run.messages == 10_000
    assert sum(f.rule == "FM403" for f in findings) == 10_000
    assert FUZZ.check_lint_batch([path]) is None


# --- time going backwards, duplicate frames ------------------------------------------

def flow_records(flow, times):
    return [(t, bytes(p[IP])) for p, t in zip(flow, times)]


def test_timestamps_going_backwards(tmp_path):
    """A conformant flow whose clock jumps back by an hour mid-handover:
    still matched (no unanswered request), nothing raises."""
    flow = lintcaps.predictive_flow()
    times = [T0 + 3600, T0 + 3600.1, T0 + 3600.2, T0, T0 + 0.1, T0 + 0.2,
             T0 + 0.3]
    path = write_pcap(tmp_path / "backwards.pcap", flow_records(flow, times))
    rules = {f.rule for f in all_consumers_survive(path)}
    assert not rules & {"FM403", "FM405", "FM407"}, rules


def test_one_frame_from_the_far_future_does_not_stop_expiry():
    """A corrupt timestamp (year 2100) on one frame: handovers begun after
    it are still forgotten EXPIRY_SECONDS after their last message, not
    kept until the end of the capture."""
    session = S.Session()
    frame = 0
    for when, mn, payload in unfinished_handovers(1, t0=T0):
        frame += 1
        session.observe(decode_mip(payload),
                        _datagram(frame, when, mn, lintcaps.PAR, 17, payload))
    future = 4_102_444_800.0      # 2100-01-01
    rt = bytes(lintcaps.rtsolpr(src="10.0.0.98")[IP].payload)
    frame += 1
    session.observe(decode_icmp(rt), _datagram(frame, future, "10.0.0.98",
                                               lintcaps.PAR, 1, rt))
    for when, mn, payload in unfinished_handovers(100, t0=T0 + 1):
        frame += 1
        session.observe(decode_mip(payload),
                        _datagram(frame, when, mn + "", lintcaps.PAR, 17,
                                  payload))
    later = T0 + 1 + S.EXPIRY_SECONDS * 2
    rt2 = bytes(lintcaps.rtsolpr(src="10.0.0.97")[IP].payload)
    out = session.observe(decode_icmp(rt2), _datagram(
        frame + 1, later, "10.0.0.97", lintcaps.PAR, 1, rt2))
    assert sum(rule == "FM403" for rule, _ in out) >= 100
    assert len(session.handovers) <= 1


def test_duplicate_frames(tmp_path):
    """Every frame twice (a capture on two interfaces, mergecap of a file
    with itself): no unanswered request, no error."""
    flow = lintcaps.predictive_flow()
    records = []
    for i, p in enumerate(flow):
        records += [(T0 + i * 0.01, bytes(p[IP]))] * 2
    path = write_pcap(tmp_path / "duplicates.pcap", records)
    findings = all_consumers_survive(path)
    assert not [f for f in findings if f.severity == "error"], findings
    assert not {f.rule for f in findings} & {"FM403", "FM405", "FM407"}


def _pcapng_block(btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    return (struct.pack("<II", btype, 12 + len(body)) + body
            + struct.pack("<I", 12 + len(body)))


@pytest.mark.parametrize("tsresol, tsoffset, stamp", [
    (0, 0, 2**64 - 1),              # seconds: 1.8e19 s, past any date
    (6, -2**62, 5),                 # far before 1970
    (0, 2**63 - 1, 2**40),          # if_tsoffset at its largest
    (0x80 | 0x7F, 0, 2**64 - 1),    # 2^-127 s units: all times ~0
])
def test_timestamps_out_of_any_date_range(tmp_path, tsresol, tsoffset, stamp):
    """pcapng if_tsresol / if_tsoffset / timestamps at their extremes: text
    and JSON reports, decode, tshark all survive (no date overflow)."""
    frame = bytes(lintcaps.fbu(lifetime=99))        # FM101 on each frame
    options = (struct.pack("<HH", 9, 1) + bytes([tsresol, 0, 0, 0])
               + struct.pack("<HHq", 14, 8, tsoffset) + bytes(4))
    epb = _pcapng_block(6, struct.pack("<IIIII", 0, stamp >> 32,
                                       stamp & 0xFFFFFFFF, len(frame),
                                       len(frame)) + frame)
    path = tmp_path / "times.pcapng"
    path.write_bytes(
        _pcapng_block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1))
        + _pcapng_block(1, struct.pack("<HHI", 1, 0, 0) + options)
        + epb + epb)
    found = [(f.frame, f.rule) for f in all_consumers_survive(path)]
    assert found.count((1, "FM101")) == 1 and (2, "FM101") in found
