"""The cases of tests/lint/test_judged_right.py in Wireshark: the dissector
reports the corrected and the new checks with fmip-lint's words, on the
same frames, in plain `tshark -2` and with a display filter."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from wireshark_common import require_tool

import lintcaps as L

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "differential"))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "lint"))
from test_judged_right import CASES  # noqa: E402
from test_rules_differential import assert_agree, tshark_findings  # noqa: E402

pytestmark = pytest.mark.tshark


@pytest.mark.parametrize("variant", ["plain", "filtered"])
@pytest.mark.parametrize("case", CASES)
def test_wireshark_agrees_with_fmip_lint(case, variant, tmp_path):
    require_tool("tshark")
    path = L.write(tmp_path / f"{case}.pcap", CASES[case][0])
    assert_agree(path, variant)


def test_wireshark_reports_each_new_check(tmp_path):
    require_tool("tshark")
    for case, (packets, want) in CASES.items():
        path = L.write(tmp_path / f"{case}.pcap", packets)
        got = {(frame, rule) for frame, rule, _ in tshark_findings(path)
               if not rule.startswith("FM4") or rule >= "FM421"}
        assert want <= got, (case, sorted(got))
        assert (case != "prrtadv-undefined-code"
                or not [r for _, r in got if r in ("FM406", "FM420")]), case
