"""The correlation cases of tests/lint/test_correlation_regressions.py in
Wireshark: the dissector's expert infos and links, and the handover tap,
say what fmip-lint and `fmipdissect handovers` say (one matcher, generated
from the same tables)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from wireshark_common import require_tool

import lintcaps as L
from fmipdissect.wireshark import tshark as T

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "handovers"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lint"))
from test_correlation_regressions import (  # noqa: E402
    ANSWERED_THEN_OTHER, OTHER_MN, _hi_for, _retimed)
from test_rules_differential import assert_agree, tshark_findings  # noqa: E402
from test_wireshark_handovers import tool_rows, tshark_rows  # noqa: E402

pytestmark = pytest.mark.tshark

CASES = {
    "repeated-identifier": [_hi_for(L.MN), _hi_for(OTHER_MN), L.hack()],
    "two-hacks": [_hi_for(L.MN), _hi_for(OTHER_MN), L.hack(), L.hack()],
    "wrong-way": [_hi_for(L.MN), L.hack(src=L.PAR, dst=L.NAR)],
    "nar-view": [_hi_for(L.MN), L.hack(), L.fback(src=L.PAR, dst=L.NAR),
                 L.fbu(src=L.MN, dst=L.NAR)],
    "replay": [L.fbu(), L.fback(), L.fbu()],
    "unanswered": [L.fbu(), L.rtsolpr(), _hi_for(L.MN), L.prrtadv(
        identifier=L.RT_ID + 1)],
    **{f"answered-then-other-{pair}": packets
       for pair, packets in ANSWERED_THEN_OTHER.items()},
}


@pytest.mark.parametrize("variant", ["plain", "filtered"])
@pytest.mark.parametrize("case", CASES)
def test_wireshark_and_fmip_lint_agree(case, variant, tmp_path):
    require_tool("tshark")
    path = L.write(tmp_path / f"{case}.pcap", CASES[case])
    assert_agree(path, variant)
    assert tshark_rows(path) == tool_rows(path)


def test_repeated_identifier_and_wrong_way_in_wireshark(tmp_path):
    require_tool("tshark")
    path = L.write(tmp_path / "dup.pcap", CASES["repeated-identifier"])
    got = {(frame, rule) for frame, rule, _ in tshark_findings(path)}
    assert (2, "FM405") in got and (1, "FM405") not in got
    path = L.write(tmp_path / "wrong.pcap", CASES["wrong-way"])
    got = {(frame, rule) for frame, rule, _ in tshark_findings(path)}
    assert {(2, "FM419"), (1, "FM405")} <= got
    assert not [r for _, r in got if r == "FM404"]


def test_handover_tap_modes_and_replays(tmp_path):
    require_tool("tshark")
    nar = L.write(tmp_path / "nar.pcap", CASES["nar-view"])
    assert [(r[3], r[5]) for r in tshark_rows(nar)] == [("predictive",
                                                         "completed")]
    replay = L.write(tmp_path / "replay.pcap", CASES["replay"])
    assert [(r[0], r[5]) for r in tshark_rows(replay)] == [
        (1, "completed"), (3, "incomplete")]


def test_a_reply_stamped_before_its_request(tmp_path):
    """No negative response time, no negative latency: a note instead."""
    require_tool("tshark")
    path = L.write(tmp_path / "back.pcap", [L.fbu(), L.fback()])
    _retimed(path, [L.T0 + 10, L.T0 + 9.5])
    text = T.verbose(path, two_pass=True)
    assert ("[Response time not computed: the reply is stamped 500.000 ms "
            "before its request]") in text
    assert "Response time:" not in text.replace("[Response time not", "")
    [row] = tshark_rows(path)
    assert row[6] is None and tool_rows(path) == [row]


@pytest.mark.parametrize("sample", ["violations", "predictive", "reactive"])
def test_every_link_in_every_tshark_mode(sample):
    """`tshark -2 -V` without a display filter builds no tree on its first
    pass; the ICMP side is a dissector-table entry, so it records every
    request then too: the same links as with a display filter and as with
    -T fields."""
    require_tool("tshark")
    path = Path(__file__).resolve().parents[2] / "samples" / f"{sample}.pcap"

    def links(text: str) -> list[str]:
        return [line.strip() for line in text.splitlines()
                if "[Response in frame:" in line
                or "[Response to request in frame:" in line]
    plain = links(T.run(path, "-V", two_pass=True))
    filtered = links(T.run(path, "-V", "-Y", "fmip", two_pass=True))
    rows = T.fields(path, ["fmip.response_in", "fmip.response_to"],
                    two_pass=True)
    count = sum(len(r["fmip.response_in"]) + len(r["fmip.response_to"])
                for r in rows)
    assert plain == filtered
    assert len(plain) == count > 0
