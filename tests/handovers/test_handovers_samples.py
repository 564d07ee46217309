"""Every sample's handover records against what its scenario generated.

Expectations come from the generator's frames and times
(handover_oracle.py), never from the tool's output."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from handover_oracle import expected

from fmipdissect.gen.scenarios import SAMPLES
from fmipdissect import handovers

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO / "samples"


def _tool(*args, stdin=None):
    return subprocess.run([sys.executable, "-m", "fmipdissect", "handovers",
                           *map(str, args)], capture_output=True, text=True,
                          input=stdin)


@pytest.mark.parametrize("name", SAMPLES)
def test_records_match_the_generated_scenario(name):
    want = expected(name)
    got = handovers(SAMPLE_DIR / f"{name}.pcap")
    assert len(got) == len(want), [r.first_frame for r in got]
    for r, w in zip(got, want):
        where = f"{name}: handover from frame {w['first_frame']}"
        for key in ("mn", "pcoa", "mode", "initiated_by", "outcome",
                    "first_frame", "last_frame", "frames"):
            assert getattr(r, key) == w[key], (where, key)
        # to the microsecond: capture times and latencies
        assert round(r.start * 1e6) == w["start_us"], where
        assert round(r.end * 1e6) == w["end_us"], where
        assert r.latency_ms == w["latency_ms"], where
        assert r.codes["fback"] == w["codes"]["fback"], where


def test_conformant_samples_have_the_expected_shape():
    """A sanity check of the oracle itself on the scenarios' stories."""
    shape = {name: [(w["mode"], w["initiated_by"], w["outcome"])
                    for w in expected(name)]
             for name in ("predictive", "reactive", "network-initiated",
                          "rejected", "ncoa")}
    assert shape == {
        "predictive": [("predictive", "mn", "completed")],
        "reactive": [("reactive", "mn", "completed")],
        "network-initiated": [("predictive", "network", "completed")],
        "rejected": [("predictive", "mn", "rejected")] * 3,
        "ncoa": [("predictive", "mn", "completed")],
    }
    assert expected("predictive")[0]["latency_ms"] == {
        "rtsolpr_prrtadv": 2.5, "hi_hack": 2.5, "fbu_fback": 4.0,
        "total": 404.2}


def test_a_message_belongs_to_exactly_one_handover():
    for name in SAMPLES:
        seen = []
        for r in handovers(SAMPLE_DIR / f"{name}.pcap"):
            seen += r.frames
        assert len(seen) == len(set(seen)), name


def test_findings_are_fmip_lints_for_the_frames(tmp_path):
    """The counts per handover add up to fmip-lint's findings on its frames."""
    path = SAMPLE_DIR / "violations.pcap"
    lint = subprocess.run([sys.executable, "-m", "fmipdissect", "lint",
                           "--format", "json", str(path)],
                          capture_output=True, text=True)
    findings = json.loads(lint.stdout)["findings"]
    for r in handovers(path):
        frames = set(r.frames)
        mine = [f for f in findings if f["frame"] in frames]
        assert r.findings == {
            "errors": sum(f["severity"] == "error" for f in mine),
            "warnings": sum(f["severity"] == "warning" for f in mine),
            "infos": sum(f["severity"] == "info" for f in mine)}, r.first_frame


def test_json_output_contract():
    run = _tool("--format", "json", SAMPLE_DIR / "rejected.pcap")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert [h["outcome"] for h in doc["handovers"]] == ["rejected"] * 3
    h = doc["handovers"][0]
    assert set(h) >= {"file", "mn", "pcoa", "ncoa", "par", "nar", "mode",
                      "initiated_by", "outcome", "first_frame", "last_frame",
                      "frames", "start", "end", "latency_ms", "codes",
                      "findings"}
    assert set(h["latency_ms"]) == {"rtsolpr_prrtadv", "hi_hack",
                                    "fbu_fback", "total"}
    assert set(h["codes"]) == {"prrtadv", "hi", "hack", "fback"}
    assert set(h["findings"]) == {"errors", "warnings", "infos"}
    s = doc["summary"]
    assert (s["files"], s["handovers"], s["completed"], s["rejected"],
            s["incomplete"]) == (1, 3, 0, 3, 0)
    fbu = s["latency_ms"]["fbu_fback"]
    assert fbu == {"count": 3, "min": 1.0, "p50": 4.0, "p95": 4.0, "max": 4.0}


def test_csv_output_has_a_row_per_handover():
    run = _tool("--format", "csv", SAMPLE_DIR / "rejected.pcap",
                SAMPLE_DIR / "reactive.pcap")
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert [r["outcome"] for r in rows] == ["rejected"] * 3 + ["completed"]
    assert rows[3]["mode"] == "reactive"
    assert rows[3]["frames"] == "1 2 3 4 5 6 7 8"
    assert rows[1]["latency_rtsolpr_prrtadv_ms"] == ""


def test_text_table_is_aligned_and_summarised():
    run = _tool(SAMPLE_DIR / "rejected.pcap")
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    head, rows = lines[0], lines[1:4]
    assert head.split()[:3] == ["FIRST", "LAST", "MSGS"]
    # each row's values end where their right-aligned headings end
    for word in ("LAST", "TOTAL ms"):
        end = head.index(word) + len(word)
        for row in rows:
            assert row[end - 1] != " " and (len(row) == end
                                            or row[end] == " "), (word, row)
    assert "3 handovers in 1 file: 0 completed, 3 rejected" in run.stdout
    assert any(line.startswith("FBU-FBAck") for line in lines)


def test_a_capture_without_handovers_prints_an_empty_table(tmp_path):
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap
    path = tmp_path / "quiet.pcap"
    wrpcap(str(path), [Ether() / IP(src="10.0.0.1", dst="10.0.0.2")
                       / UDP(sport=53, dport=53)])
    run = _tool(path)
    assert run.returncode == 0, run.stderr
    lines = run.stdout.splitlines()
    assert lines[0].split()[0] == "FIRST"
    assert lines[1] == f"(no handover in {path})"
    assert "0 handovers in 1 file" in run.stdout
    doc = json.loads(_tool("--format", "json", path).stdout)
    assert doc["handovers"] == [] and doc["summary"]["handovers"] == 0


@pytest.mark.parametrize("content, words", [
    (None, "No such file"),
    (b"this is not a capture file at all\n", ""),
    (b"", ""),
])
def test_bad_input_is_one_line_and_status_2(tmp_path, content, words):
    path = tmp_path / "bad.pcap"
    if content is not None:
        path.write_bytes(content)
    run = _tool(path)
    lint = subprocess.run([sys.executable, "-m", "fmipdissect", "lint",
                           str(path)], capture_output=True, text=True)
    assert run.returncode == 2 == lint.returncode
    assert len(run.stderr.splitlines()) == 1
    assert "Traceback" not in run.stderr
    # the same message as fmip-lint's
    assert (run.stderr.split("error: ", 1)[1]
            == lint.stderr.split("error: ", 1)[1])
    if content is not None:
        assert path.read_bytes() == content


def test_bad_file_among_good_ones_still_reports_the_others(tmp_path):
    run = _tool("--format", "json", tmp_path / "missing.pcap",
                SAMPLE_DIR / "predictive.pcap")
    assert run.returncode == 2
    doc = json.loads(run.stdout)
    assert len(doc["handovers"]) == 1
    assert doc["summary"]["failed"][0]["file"].endswith("missing.pcap")


def test_bad_options_are_one_line(tmp_path):
    for args in (["--format", "xml", "x.pcap"], ["--max-diagrams", "-1",
                                                 "x.pcap"], []):
        run = _tool(*args)
        assert run.returncode == 2, args
        assert len(run.stderr.strip().splitlines()) == 1, run.stderr


def test_python_api_is_the_function_after_the_subpackage():
    import fmipdissect
    import fmipdissect.handovers.cli  # noqa: F401  (the subpackage loaded)
    records = fmipdissect.handovers(SAMPLE_DIR / "rejected.pcap")
    assert [r.outcome for r in records] == ["rejected"] * 3
    assert records[0].to_dict()["latency_ms"]["fbu_fback"] == 4.0
    from fmipdissect.api import handovers as api_handovers
    assert [r.to_dict() for r in api_handovers(str(SAMPLE_DIR / "rejected.pcap"))] \
        == [r.to_dict() for r in records]


def test_the_vantage_sample_merged_against_its_truth():
    """samples/vantage (what `make run` merges): the handovers, their
    modes, the clock offsets and each interruption as truth.json says."""
    folder = SAMPLE_DIR / "vantage"
    truth = json.loads((folder / "truth.json").read_text())
    done = _tool("--merge", "--format", "json",
                 *(folder / f"{n}.pcap" for n in ("mn", "par", "nar", "cn")))
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert [h["mode"] for h in got["handovers"]] == \
        [h["mode"] for h in truth["handovers"]] == \
        ["predictive", "reactive", "baseline"]
    for name, point in got["summary"]["vantage_points"].items():
        want = truth["vantage_points"][name]["offset_ms"]
        assert abs(point["offset_ms"] - want) <= min(
            1.0, point["uncertainty_ms"] or 1.0), name
    for h, t in zip(got["handovers"], truth["handovers"]):
        for way in ("down", "up"):
            assert h["data"][way]["interruption_ms"] == pytest.approx(
                t["data"][way]["interruption_ms"], abs=1.0), (h["mode"], way)
            assert h["data"][way]["lost"] == t["data"][way]["lost"]
