"""Wireshark and fmip-lint give the same verdicts, frame for frame.

For every rule both implement (the rules the generated Lua dissector
declares as expert infos), the set of (frame, rule, message) triples from
tshark's expert infos equals fmip-lint's: the same findings in the same
words (both fill the registry's templates), over:

  * every bundled sample;
  * generated captures: every scenario, repeated for many mobile nodes;
  * fuzzed captures: the messages of those flows with random octets
    changed, cut or extended (ICMP checksums recomputed half the time).

Many "captures" (flows of their own mobile node) are batched into one file
per tshark run, all within 60 s of capture time, so that fmip-lint's expiry
never fires and both see exactly the same state.

Every finding is on the frame it is about: a request never answered is
reported on the request itself by both (fmip-lint when the capture ends,
Wireshark on its second pass).  The words are compared too, and tshark runs
the ways people run it: plain `tshark -2` (no display filter: the first
pass has no protocol tree), with -V (text output, parsed), and with a
display filter (VARIANTS).
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import rdpcap, wrpcap
from wireshark_common import T, require_tool

from fmipdissect.gen import flows as F
from fmipdissect.gen import scenarios as S
from fmipdissect.lint.engine import CaptureLint, LintConfig
from fmipdissect.spec import constraints as K
from fmipdissect.spec import protocol as P
from fmipdissect.spec import rules as R
from fmipdissect.wireshark.luagen import build_context

pytestmark = pytest.mark.tshark

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted((REPO / "samples").glob("*.pcap"))
KEYS = REPO / "samples" / "keys.txt"
SEED = 9
UNITS_PER_FILE = 120
STEP = 0.04          # seconds between frames (less in large batches)
T0 = 1_767_225_600   # 2026-01-01

# Rules both implement: the ones the dissector declares.
SHARED_RULES = frozenset(build_context()["rules"])
_EXPERT_ID = re.compile(r"^(FM\d{3}) ")
_VERBOSE_FRAME = re.compile(r"^Frame (\d+): ")
_VERBOSE_EXPERT = re.compile(r"^\s*\[Expert Info \([^)]*\): (FM\d{3}) "
                             r"[^:]+: (.*)\]$")
# How tshark is run: plain -2, -2 with -V (text), -2 with a display filter.
VARIANTS = {"plain": (), "verbose": ("-V",),
            "filtered": ("-Y", "fmip || icmp || _ws.malformed")}


def lint_findings(path: Path) -> set[tuple[int, str, str]]:
    """(frame, rule, message) of fmip-lint, for the shared rules."""
    out = set()
    config = LintConfig(keys=None)
    for f in CaptureLint(str(path), config):
        if f.rule not in SHARED_RULES:
            continue
        out.add((f.frame, f.rule, f.message))
    return out


def lint_pairs(path: Path) -> set[tuple[int, str]]:
    return {(frame, rule) for frame, rule, _ in lint_findings(path)}


def _fmip_icmp(packet) -> bool:
    """Whether an IP packet carries ICMP type 41 with an FMIPv4 subtype."""
    ip = packet[IP]
    body = bytes(ip.payload)
    return (ip.proto == 1 and len(body) > P.ICMP_SUBTYPE_OFFSET
            and body[0] == P.ICMP_TYPE_EXPERIMENTAL_MOBILITY
            and body[P.ICMP_SUBTYPE_OFFSET] in P.ICMP_MESSAGES)


def tshark_pairs(path: Path) -> set[tuple[int, str]]:
    return {(frame, rule) for frame, rule, _ in tshark_findings(path)}


def verbose_findings(path: Path) -> set[tuple[int, str, str]]:
    """(frame, rule, message) of the expert infos `tshark -2 -V` prints."""
    out, frame = set(), 0
    for line in T.run(path, "-V", two_pass=True).splitlines():
        m = _VERBOSE_FRAME.match(line)
        if m:
            frame = int(m.group(1))
            continue
        m = _VERBOSE_EXPERT.match(line)
        if m and m.group(1) in SHARED_RULES:
            out.add((frame, m.group(1), m.group(2)))
    return out


def tshark_findings(path: Path, variant: str = "plain"
                    ) -> set[tuple[int, str, str]]:
    """(frame, rule, message) of the dissector's expert infos."""
    rows = T.fields(path, ["frame.number", "frame.protocols",
                           "_ws.expert.message"], *VARIANTS[variant],
                    two_pass=True)
    packets = rdpcap(str(path))
    out = set()
    for row in rows:
        frame = int(row["frame.number"][0])
        messages = row["_ws.expert.message"]
        for message in messages:
            assert "Lua Error" not in message and "dissector bug" not in \
                message, (path, frame, message)
            m = _EXPERT_ID.match(message)
            if m and m.group(1) in SHARED_RULES:
                out.add((frame, m.group(1), message.partition(": ")[2]))
        protocols = row["frame.protocols"][0]
        if (protocols.endswith(":icmp")
                and any(m.startswith("Malformed Packet") for m in messages)
                and _fmip_icmp(packets[frame - 1])):
            # An ICMP message shorter than ICMP's own 8-octet header:
            # Wireshark's ICMP dissector marks the frame malformed and
            # throws before the FMIPv4 side can look at it; fmip-lint
            # says the same as a truncated message (docs/wireshark.md).
            # Wireshark's words are its own here (None: not compared).
            out.add((frame, R.TRUNCATED_MESSAGE, None))
    return out


def assert_agree(path: Path, variant: str = "plain") -> int:
    lint_all = lint_findings(path)
    shark_all = tshark_findings(path, variant)
    if variant == "verbose":
        # -V shows no field of a frame ICMP's own dissector stopped on;
        # those are compared in the other variants
        truncated = {f[:2] for f in tshark_findings(path)
                     if f[1] == R.TRUNCATED_MESSAGE and f[2] is None}
        shark_all = verbose_findings(path) | {(n, r, None) for n, r in
                                              truncated}
    lint = {(frame, rule) for frame, rule, _ in lint_all}
    shark = {(frame, rule) for frame, rule, _ in shark_all}
    unworded = {(frame, rule) for frame, rule, message in shark_all
                if message is None}
    worded_lint = {f for f in lint_all if f[:2] not in unworded}
    worded_shark = {f for f in shark_all if f[:2] not in unworded}
    assert worded_lint == worded_shark, (
        f"{path.name}: different words: fmip-lint "
        f"{sorted(worded_lint - worded_shark)[:6]}; Wireshark "
        f"{sorted(worded_shark - worded_lint)[:6]}")
    only_lint = sorted(lint - shark)
    only_shark = sorted(shark - lint)
    assert not only_lint and not only_shark, (
        f"{path.name}: fmip-lint only {only_lint[:12]}; "
        f"Wireshark only {only_shark[:12]}")
    return len(lint)


# --- captures ------------------------------------------------------------------

def _units(rng: random.Random, count: int, first: int):
    """count flows, each of its own MN: (scenario name, frames)."""
    names = [n for n in S.SAMPLES if S.SCENARIOS[n].repeatable]
    for i in range(count):
        name = rng.choice(names)
        p = F.params_for(F.Params(), first + i, F.EPOCH_US)
        yield name, S.SCENARIOS[name].build(p)


def _mutate(rng: random.Random, packet):
    """The packet with its FMIPv4 message changed at random."""
    ip = packet[IP]
    body = bytes(ip[UDP].payload) if UDP in ip else bytes(ip.payload)
    raw = bytearray(body)
    how = rng.randrange(4)
    if how == 0 and len(raw) > 1:
        for _ in range(rng.randrange(1, 4)):
            raw[rng.randrange(1, len(raw))] = rng.randrange(256)
    elif how == 1 and len(raw) > 2:
        del raw[rng.randrange(2, len(raw)):]
    elif how == 2:
        raw += bytes(rng.randrange(256) for _ in range(rng.randrange(1, 12)))
    else:
        i = rng.randrange(len(raw))
        raw[i] = rng.choice((0, 1, 2, 3, 4, 5, 6, 7, 20, 21, 22, 36, 255))
    if UDP in ip:
        return (IP(src=ip.src, dst=ip.dst) /
                UDP(sport=ip[UDP].sport, dport=ip[UDP].dport) / Raw(raw))
    if rng.random() < 0.5 and len(raw) >= 6:
        from fmipdissect.wire.checksum import fmip_icmp_checksum
        raw[2:4] = b"\x00\x00"
        raw[2:4] = fmip_icmp_checksum(bytes(raw)).to_bytes(2, "big")
    return IP(src=ip.src, dst=ip.dst, proto=1) / Raw(raw)


def write_batch(path: Path, rng: random.Random, first: int,
                fuzz: float) -> Path:
    packets = []
    for _, frames in _units(rng, UNITS_PER_FILE, first):
        for fr in frames:
            pkt = fr.packet
            if fuzz and rng.random() < fuzz:
                pkt = _mutate(rng, pkt)
            if rng.random() < 0.03:
                continue       # a lost packet: unanswered requests, orphans
            packets.append(pkt)
    if fuzz > 0.5:
        rng.shuffle(packets)   # replies before requests, copies out of place
    step = min(STEP, 55.0 / max(len(packets), 1))   # within 60 s in all
    out = []
    for i, pkt in enumerate(packets):
        e = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / pkt
        e.time = T0 + i * step
        out.append(e)
    wrpcap(str(path), out)
    return path


# --- tests ------------------------------------------------------------------------

@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.name)
def test_samples_agree(sample, variant):
    require_tool("tshark")
    assert_agree(sample, variant)


def test_violations_sample_shows_the_shared_rules():
    """The comparison is not vacuous: the violations sample makes both
    report most shared rules."""
    require_tool("tshark")
    seen = {rule for _, rule in tshark_pairs(REPO / "samples" /
                                             "violations.pcap")}
    assert len(seen) >= 0.8 * len(SHARED_RULES), sorted(SHARED_RULES - seen)


@pytest.mark.parametrize("batch,fuzz,variant", [
    (0, 0.0, "plain"), (1, 0.3, "plain"), (2, 0.7, "plain"),
    (0, 0.0, "filtered"), (2, 0.7, "filtered"), (1, 0.3, "verbose")])
def test_generated_and_fuzzed_captures_agree(batch, fuzz, variant, tmp_path):
    require_tool("tshark")
    rng = random.Random(f"{SEED}-{batch}")
    path = write_batch(tmp_path / f"batch{batch}.pcap", rng,
                       first=1 + batch * UNITS_PER_FILE, fuzz=fuzz)
    found = assert_agree(path, variant)
    assert found > 0


@pytest.mark.parametrize("cut", [6, 30], ids=["in-header", "in-body"])
def test_clipped_fbus_agree(cut, tmp_path):
    """packet-clipped (FM903): the same words where the snap length cuts
    into the fixed header and where it cuts into the extensions.  (FBU
    only: the ICMP postdissector sees no reported length beyond the
    captured octets, so a clipped ICMP message is not marked clipped in
    Wireshark today; and a clipped FBU still starts a request there.)"""
    require_tool("tshark")
    import lintcaps
    packet = lintcaps.fbu()
    snaplen = 14 + 20 + 8 + cut     # Ethernet, IPv4, UDP, cut octets
    path = lintcaps.write_clipped(tmp_path / "clipped.pcap", packet, snaplen)
    clipped_lint = {f for f in lint_findings(path)
                    if f[1] == R.PACKET_CLIPPED}
    clipped_shark = {f for f in tshark_findings(path)
                     if f[1] == R.PACKET_CLIPPED}
    assert len(clipped_lint) == 1 and clipped_lint == clipped_shark, (
        clipped_lint, clipped_shark)
