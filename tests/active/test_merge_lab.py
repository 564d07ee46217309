"""`handovers --merge` on the lab's own captures (MN, PAR, NAR): one
record per real handover, and NAR's view (which alone reads the predictive
handover as unknown and misses its start) does not change its mode."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import require_netns

pytestmark = pytest.mark.netns


def _tool(*args):
    run = subprocess.run([sys.executable, "-m", "fmipdissect", *args],
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 0, run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def captures(tmp_path_factory):
    require_netns()
    out = tmp_path_factory.mktemp("lab")
    result = json.loads(_tool("lab", "--format", "json", "--out", str(out)))
    return {n: result["captures"][n] for n in ("mn", "par", "nar")}


def _merged(captures, names):
    return json.loads(_tool("handovers", "--merge", "--format", "json",
                            *(f"{n}={captures[n]}" for n in names)))


def test_three_captures_give_the_two_handovers(captures):
    doc = _merged(captures, ("mn", "par", "nar"))
    records = doc["handovers"]
    assert [r["mode"] for r in records] == ["predictive", "reactive"]
    assert all(r["outcome"] == "completed" for r in records)
    for r in records:
        assert r["vantage_points"] == ["mn", "par", "nar"]
        # each message once, seen by its sender's and receiver's captures
        assert all(len(m["seen"]) >= 2 for m in r["messages"]
                   if m["dst"] != "255.255.255.255")
        assert all(v is not None and v >= 0
                   for v in r["processing_ms"].values())
    vantage = doc["summary"]["vantage_points"]
    for name in ("par", "nar"):       # one machine, one clock
        assert abs(vantage[name]["offset_ms"]) <= 1.0
        assert vantage[name]["pairs"] > 0


def test_nar_first_does_not_turn_predictive_into_reactive(captures):
    alone = json.loads(_tool("handovers", "--format", "json",
                             captures["nar"]))
    assert alone["handovers"][0]["mode"] != "predictive"   # what NAR sees
    doc = _merged(captures, ("nar", "par"))
    assert [r["mode"] for r in doc["handovers"]] == ["predictive", "reactive"]
