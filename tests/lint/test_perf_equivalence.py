"""The fast paths the benchmark relies on give what the slow paths give.

- fmip-lint's findings and summary with the reader's prefilter (the
  default) equal those of `--no-prefilter`, which parses every frame in
  full (the capture reader's reference path), on generated captures with
  background traffic (pcap and pcapng, every link type the generator
  writes), on captures through every encapsulation, on fragmented
  background traffic, and on the committed samples;
- the decoder's one-sum ICMP checksum verdict equals
  checksum.checksum_verdict (decision D2) on any octets;
- `fmip-lint -j N` over several captures runs N worker processes and
  reports in the order of the arguments.

The figures themselves are measured by bench/run.py (`make bench`), not here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fmipdissect.wire import checksum as C
from fmipdissect.decode import decoder as D
from fmipdissect.capture.reader import CaptureReader
from fmipdissect.gen.generate import GenOptions, generate_file
from fmipdissect.lint.engine import CaptureLint, LintConfig

REPO = Path(__file__).resolve().parents[2]
FMIP_LINT = str(Path(sys.executable).with_name("fmip-lint"))


def _lint(path, prefilter):
    run = CaptureLint(str(path), LintConfig(prefilter=prefilter))
    findings = list(run)
    return findings, run.stats


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """Background-heavy captures: 3,000 packets, 10% FMIPv4 handovers."""
    d = tmp_path_factory.mktemp("perf")
    out = []
    for linktype in ("ethernet", "cooked", "raw"):
        for ext in ("pcap", "pcapng"):
            path = d / f"bg-{linktype}.{ext}"
            generate_file(GenOptions(scenario="predictive", packets=3000,
                                     background=0.9, linktype=linktype,
                                     seed=5), path)
            out.append(path)
    return out


def test_prefilter_and_full_parse_find_the_same(generated):
    for path in generated:
        fast, fast_stats = _lint(path, True)
        slow, slow_stats = _lint(path, False)
        assert fast_stats.packets == slow_stats.packets == 3000, path
        assert fast_stats.messages == slow_stats.messages > 200, path
        assert fast == slow, path
        assert fast_stats == slow_stats, path
        # and record for record (TTL, ports, payload: all of a Datagram)
        assert (list(CaptureReader(str(path)))
                == list(CaptureReader(str(path), prefilter=False))), path


def test_prefilter_and_full_parse_agree_on_the_samples():
    paths = sorted((REPO / "samples").glob("*.pcap*"))
    paths += sorted((REPO / "tests" / "fuzz" / "regressions" / "captures").glob("*.pcap*"))
    paths = [p for p in paths if not p.name.endswith(".txt")]
    assert len(paths) >= 6
    rules = set()
    for path in paths:
        fast, fast_stats = _lint(path, True)
        slow, slow_stats = _lint(path, False)
        assert fast == slow, path
        assert fast_stats == slow_stats, path
        rules |= {f.rule for f in fast}
    assert len(rules) > 30      # violations.pcap: one frame per rule


def test_prefilter_and_full_parse_agree_through_encapsulations(tmp_path):
    """Tunnels, label stacks, PPPoE, VXLAN, LLC/SNAP, PPP (the captures of
    tests/unit/test_capture_encap.py): same findings, same records."""
    from test_capture_encap import CASES, write_case
    for name in sorted(CASES):
        path = write_case(tmp_path / f"{name}.pcap", name)
        fast, fast_stats = _lint(path, True)
        slow, slow_stats = _lint(path, False)
        assert fast == slow, name
        assert fast_stats == slow_stats and fast_stats.messages == 2, name
        assert (list(CaptureReader(path))
                == list(CaptureReader(path, prefilter=False))), name


def test_no_prefilter_option_gives_the_same_json(generated):
    path = str(generated[1])     # Ethernet pcapng
    fast = subprocess.run([FMIP_LINT, "--format", "json", path],
                          capture_output=True, text=True)
    slow = subprocess.run([FMIP_LINT, "--no-prefilter", "--format", "json",
                           path], capture_output=True, text=True)
    assert fast.returncode == slow.returncode == 0, slow.stderr
    assert json.loads(fast.stdout) == json.loads(slow.stdout)
    assert json.loads(fast.stdout)["summary"]["packets"] == 3000


# --- the ICMP checksum verdict (decision D2) ------------------------------------

def _with_checksum(body: bytes, subtype: int, how: str) -> bytes:
    raw = bytearray(body)
    raw[0], raw[4] = 41, subtype
    raw[2] = raw[3] = 0
    if how == "rfc":
        value = C.fmip_icmp_checksum(bytes(raw))
    elif how == "plain":
        value = C.plain_icmp_checksum(bytes(raw))
    else:
        return bytes([41]) + bytes(body[1:4]) + bytes(raw[4:])   # sent sum
    raw[2], raw[3] = value >> 8, value & 0xFF
    return bytes(raw)


@settings(max_examples=400, deadline=None)
@given(body=st.binary(min_size=6, max_size=80),
       subtype=st.sampled_from(sorted(D._ICMP)),
       how=st.sampled_from(("rfc", "plain", "as-is")))
def test_one_sum_checksum_verdict_is_the_reference(body, subtype, how):
    raw = _with_checksum(body, subtype, how)
    if len(raw) & 1:
        raw = raw[:-1]
    expected = C.reference_verdict(raw)
    assert C.one_sum_verdict(raw, C.RESERVED_MASKS[subtype]) == expected
    # and through the decoder, whatever the length
    assert D.decode_icmp(raw).checksum_verdict == expected


def test_checksum_verdict_edge_sums():
    """Sums that fold to 0x0000 / 0xFFFF: the one's-complement corners."""
    for subtype in sorted(D._ICMP):
        for fill in (0x00, 0xFF):
            for n in (6, 8, 24):
                for how in ("rfc", "plain", "as-is"):
                    raw = _with_checksum(bytes([fill]) * n, subtype, how)
                    assert (C.one_sum_verdict(raw, C.RESERVED_MASKS[subtype])
                            == C.reference_verdict(raw)), (raw.hex(), how)


def _summing_to_multiple_of_ffff(subtype: int, words: int) -> bytearray:
    """A type 41 message (Checksum and reserved bits zero) whose word sum
    is a positive multiple of 0xFFFF: its one's complement sum is 0xFFFF,
    so the checksum expected is 0x0000, and 0xFFFF must not pass for it."""
    raw = bytearray(2 * words)
    raw[0], raw[4] = 41, subtype
    total = sum(int.from_bytes(raw[i:i + 2], "big")
                for i in range(0, len(raw), 2))
    need = -total % 0xFFFF
    for i in range(6, len(raw), 2):          # spread over the later words
        take = min(need, 0xFFFF)
        raw[i:i + 2] = take.to_bytes(2, "big")
        need -= take
    assert need == 0
    assert sum(int.from_bytes(raw[i:i + 2], "big")
               for i in range(0, len(raw), 2)) % 0xFFFF == 0
    return raw


@pytest.mark.parametrize("words", (4, 12, 40))
def test_checksum_verdict_negative_zero(words):
    """The modular sum (int.from_bytes % 0xFFFF) on its edge: a sum that
    folds to 0xFFFF, whose complement 0x0000 is the checksum, against a
    Checksum field of 0x0000 and of 0xFFFF (one's complement's two zeros),
    with reserved bits set and clear."""
    for subtype in sorted(D._ICMP):
        mask = C.RESERVED_MASKS[subtype]
        base = _summing_to_multiple_of_ffff(subtype, words)
        assert C.fmip_icmp_checksum(bytes(base)) == 0
        verdicts = set()
        for sent in (0x0000, 0xFFFF, 0x0001, 0xFFFE):
            for reserved in {0, mask}:
                raw = bytearray(base)
                raw[2:4] = sent.to_bytes(2, "big")
                raw[5] |= reserved
                verdict = C.one_sum_verdict(bytes(raw), mask)
                assert verdict == C.reference_verdict(bytes(raw)), (
                    raw.hex(), sent, reserved)
                verdicts.add(verdict)
        assert C.CHECKSUM_OK in verdicts and C.CHECKSUM_BAD in verdicts


@settings(max_examples=200, deadline=None)
@given(body=st.binary(min_size=6, max_size=40).map(
    lambda b: b"\x00" + b[1:len(b) & ~1]))
def test_checksum_verdict_type_zero(body):
    """A first octet of 0 (the sum may then be 0): the word-by-word sum."""
    for mask in set(C.RESERVED_MASKS.values()):
        assert C.one_sum_verdict(body, mask) == C.reference_verdict(body)


# --- -j N ---------------------------------------------------------------------

def _children(pid: int) -> set[int]:
    found = set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue
        # pid (comm) state ppid ...: comm may hold spaces, so split after ')'
        fields = stat[stat.rindex(b")") + 2:].split()
        if int(fields[1]) == pid:
            found.add(int(entry))
    return found


@pytest.mark.skipif(not os.path.isdir("/proc/self"), reason="needs /proc")
def test_jobs_run_that_many_processes_and_report_in_order(tmp_path):
    paths = []
    for i in range(4):
        path = tmp_path / f"c{i}.pcap"
        generate_file(GenOptions(scenario="predictive", packets=60_000,
                                 background=0.95, seed=10 + i), path)
        paths.append(str(path))
    serial = subprocess.run([FMIP_LINT, "--format", "json", *paths],
                            capture_output=True, text=True)
    proc = subprocess.Popen([FMIP_LINT, "-j", "2", "--format", "json", *paths],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    workers = set()
    while proc.poll() is None:
        workers |= _children(proc.pid)
        time.sleep(0.005)
    out, err = proc.communicate()
    assert proc.returncode == serial.returncode == 0, err
    assert len(workers) == 2, workers
    parallel = json.loads(out)
    assert parallel == json.loads(serial.stdout)
    assert [f["file"] for f in parallel["summary"]["by_file"]] == paths
