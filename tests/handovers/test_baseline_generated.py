"""Moves without a fast handover (decision D25) on `gen --vantage`
captures: `handovers --merge` makes one record of mode "baseline" per
Mobile IPv4 re-registration, as many as truth.json counts, with the
Request and Reply seen where the generator put them."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from gencaps import clock_and_delay_args, generate, merge_json
from gencaps import run as _run

# (scenario, handovers, clock offsets, link delays)
CASES = [
    ("baseline", 3, {"par": "+700ms", "nar": "-1300ms", "cn": "+1900ms"},
     {"mn-par": 2, "par-nar": 5, "par-cn": 10, "mn-nar": 3}),
    ("predictive,baseline", 4, {"par": "-2s", "nar": "+2s", "cn": "-1.25s"},
     {"mn-par": 1, "par-nar": 20, "par-cn": 7, "mn-nar": 3}),
    ("all", 6, {"par": "+1.5s", "nar": "-0.4s", "cn": "+0.05s"},
     {"mn-par": 2, "par-nar": 13, "par-cn": 20, "mn-nar": 1}),
]


@pytest.fixture(scope="module", params=range(len(CASES)),
                ids=[c[0] for c in CASES])
def generated(request, tmp_path_factory):
    scenario, count, offsets, delays = CASES[request.param]
    truth, paths = generate(tmp_path_factory.mktemp("gen"), scenario,
                            "--handovers", str(count),
                            *clock_and_delay_args(offsets, delays))
    return truth, merge_json(paths), paths


def _baselines(truth, got):
    pairs = list(zip(got["handovers"], truth["handovers"]))
    return [(r, h) for r, h in pairs if h["mode"] == "baseline"]


def test_count_and_modes_are_truths(generated):
    truth, got, _ = generated
    assert [r["mode"] for r in got["handovers"]] == \
        [h["mode"] for h in truth["handovers"]]
    assert "baseline" in [r["mode"] for r in got["handovers"]]


def test_baseline_record_fields(generated):
    truth, got, _ = generated
    for record, want in _baselines(truth, got):
        request, reply = want["messages"]
        assert record["outcome"] == "completed"
        assert record["initiated_by"] == "mn"
        assert record["mn"] == record["pcoa"] == "198.18.1.10"
        assert record["ncoa"] == request["src"]       # co-located CoA
        assert record["par"] == request["dst"] == "198.18.1.1"
        assert record["codes"] == dict.fromkeys(record["codes"])
        assert record["processing_ms"] == dict.fromkeys(
            record["processing_ms"])
        assert record["vantage_points"] == want["vantage_points"]
        assert record["start"] == pytest.approx(request["seen"][0]["time"],
                                                abs=1e-6)
        assert record["end"] == pytest.approx(reply["seen"][0]["time"],
                                              abs=1e-6)


def test_latency_is_request_to_reply(generated):
    truth, got, _ = generated
    for record, want in _baselines(truth, got):
        request, reply = want["messages"]
        wanted = (reply["seen"][0]["time"] - request["seen"][0]["time"]) * 1e3
        latency = record["latency_ms"]
        assert latency["total"] == pytest.approx(wanted, abs=1e-3)
        assert [latency[k] for k in ("rtsolpr_prrtadv", "hi_hack",
                                     "fbu_fback")] == [None] * 3
        assert f"{latency['total']:.3f} ms" in " ".join(record["notes"])


def test_messages_seen_where_truth_saw_them(generated):
    truth, got, _ = generated
    for record, want in _baselines(truth, got):
        shape = [(m["type"], m["code"], m["src"], m["dst"],
                  [(s["vantage"], s["frame"], round(s["time"], 6))
                   for s in m["seen"]], m["lost_after"])
                 for m in record["messages"]]
        wanted = [(m["type"], m["code"], m["src"], m["dst"],
                   [(s["vantage"], s["frame"], round(s["time"], 6))
                    for s in m["seen"]], m["lost_after"])
                  for m in want["messages"]]
        assert shape == wanted
        for m, w in zip(record["messages"], want["messages"]):
            assert m["one_way_ms"] == pytest.approx(w["one_way_ms"], abs=1e-3)
        assert record["frames"] == [m["seen"][0]["frame"]
                                    for m in want["messages"]]


def test_fast_handovers_unchanged(generated):
    """The FMIPv4 records are what they were without baseline records:
    one per FMIPv4 handover, their own messages only."""
    truth, got, _ = generated
    for record, want in zip(got["handovers"], truth["handovers"]):
        if want["mode"] == "baseline":
            continue
        assert [m["type"] for m in record["messages"]] == \
            [m["type"] for m in want["messages"]]
        assert "Registration" not in json.dumps(record["messages"])


def test_text_and_csv_count_the_baseline(generated):
    truth, got, paths = generated
    wanted = sum(h["mode"] == "baseline" for h in truth["handovers"])
    text = _run("handovers", "--merge", *paths)
    assert text.returncode == 0, text.stderr
    assert f" {wanted} baseline, " in text.stdout
    rows = list(csv.DictReader(io.StringIO(
        _run("handovers", "--merge", "--format", "csv", *paths).stdout)))
    assert [r["mode"] for r in rows] == [h["mode"] for h in truth["handovers"]]
    for row in rows:
        if row["mode"] == "baseline":
            assert row["messages"] == "2"
            assert row["latency_total_ms"] and not row["latency_fbu_fback_ms"]


def test_baseline_interruption_and_losses_are_truths(generated):
    """The data plane reads a baseline record's traffic as any record's:
    the interruption (within 1 ms) and the packets lost and buffered each
    way are truth.json's (no loss on the links: what is lost is what
    arrived before the Reply)."""
    truth, got, _ = generated
    for record, want in _baselines(truth, got):
        for direction in ("down", "up"):
            found, expected = record["data"][direction], \
                want["data"][direction]
            assert abs(found["interruption_ms"]
                       - expected["interruption_ms"]) <= 1.0, direction
            assert (found["lost"], found["buffered"]) == \
                (expected["lost"], expected["buffered"]), direction
        assert record["data"]["down"]["lost"] > 0


def test_html_report_shows_the_baseline(generated, tmp_path):
    """The page of a merge with baseline records loads in headless
    Chromium without console messages and draws their registrations."""
    import chromium
    truth, _, paths = generated
    page = tmp_path / "report.html"
    run = _run("handovers", "--merge", "--html", str(page), *paths)
    assert run.returncode == 0, run.stderr
    dom, console = chromium.dump_dom(page, tmp_path)
    assert console == []
    assert dom.count("RegistrationRequest") >= 1
    baseline = sum(h["mode"] == "baseline" for h in truth["handovers"])
    # a row per baseline handover, and the summary's count
    assert dom.count(">baseline<") == baseline + 1
    assert re.search(rf"<th>baseline</th><td[^>]*>{baseline}</td>", dom)
