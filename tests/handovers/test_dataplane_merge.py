"""`fmipdissect handovers --merge` end to end on `gen --vantage` captures:
each handover's `data` against truth.json (every interruption within 1 ms,
every count exact), the summary's `data`, the CSV's flat columns, and the
HTML report's lanes and shaded interruptions in headless Chromium."""

from __future__ import annotations

import re

import pytest

import chromium as C
from gencaps import generate, merge_json, run as _run

COUNTS = ("packets", "lost", "lost_last_seen", "tunnelled", "buffered",
          "reordered", "duplicated")
CASES = {
    "mixed": ("predictive,reactive", "--handovers", "4", "--loss", "0.02",
              "--clock-offset", "par=+1.2s", "--clock-offset", "nar=-2s",
              "--clock-offset", "cn=+0.3s", "--link-delay", "mn-par=2",
              "--link-delay", "mn-nar=9", "--link-delay", "par-nar=17",
              "--link-delay", "par-cn=4"),
    "jitter": ("reactive,predictive", "--handovers", "3", "--jitter", "2",
               "--duplicate", "0.05", "--loss", "0.01", "--seed", "5",
               "--clock-offset", "nar=+1.4s"),
    "no-buffer": ("predictive", "--handovers", "2", "--no-buffer",
                  "--l2-gap", "80", "--clock-offset", "par=-1.7s"),
}


@pytest.fixture(scope="module", params=sorted(CASES))
def merged(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    truth, captures = generate(folder, *CASES[request.param])
    page = folder / "report.html"
    got = merge_json(captures, "--html", str(page))
    csv = _run("handovers", "--merge", "--format", "csv", *captures)
    assert csv.returncode == 0, csv.stderr
    return truth, got, csv.stdout, page


def test_every_interruption_within_1ms_of_the_truth(merged):
    truth, got, _, _ = merged
    assert len(got["handovers"]) == len(truth["handovers"])
    for record, want in zip(got["handovers"], truth["handovers"]):
        for direction in ("down", "up"):
            found, expected = record["data"][direction], \
                want["data"][direction]
            where = (want["index"], want["mode"], direction)
            assert abs(found["interruption_ms"]
                       - expected["interruption_ms"]) <= 1.0, where
            for key in ("last_old", "first_new"):
                assert abs(found[key] - expected[key]) <= 0.001, where
    for direction in ("down", "up"):
        summary = got["summary"]["data"][direction]
        assert summary["interruption_ms"]["count"] == len(got["handovers"])


# The counts are per window, and a window ends where the MN's next
# handover begins (D20): the data plane learns that from the FMIPv4
# messages `handovers --merge` hands to DataPlane.signalling.
def test_every_count_exact(merged):
    truth, got, _, _ = merged
    for record, want in zip(got["handovers"], truth["handovers"]):
        for direction in ("down", "up"):
            found, expected = record["data"][direction], \
                want["data"][direction]
            for key in COUNTS:
                assert found[key] == expected[key], (
                    want["index"], direction, key, found, expected)
    for direction in ("down", "up"):
        summary = got["summary"]["data"][direction]
        for key in ("lost", "tunnelled", "buffered"):
            assert summary[key] == truth["summary"]["data"][direction][key]


def test_csv_has_the_flat_columns(merged):
    truth, got, csv, _ = merged
    lines = csv.splitlines()
    head = lines[0].split(",")
    for column in ("down_interruption_ms", "down_lost", "up_lost",
                   "down_buffered"):
        assert column in head
    rows = [dict(zip(head, line.split(","))) for line in lines[1:]
            if line and not line.startswith("#")]
    assert [float(r["down_interruption_ms"]) for r in rows[:len(
        got["handovers"])]] == [r["data"]["down"]["interruption_ms"]
                                for r in got["handovers"]]


def test_the_page_draws_lanes_and_shades_each_interruption(merged, tmp_path):
    _, got, _, page = merged
    dom, messages = C.dump_dom(page, tmp_path)
    assert messages == [], messages
    diagrams = re.findall(r'<svg class="lanes".*?</svg>', dom, re.S)
    assert len(diagrams) == len(got["handovers"])
    summary = re.search(r'<table class="counts" id="summary">.*?</table>',
                        dom, re.S).group(0)
    for mode in ("predictive", "reactive", "unknown", "baseline"):
        count = sum(1 for h in got["handovers"] if h["mode"] == mode)
        assert re.search(rf"<th>{mode}</th><td[^>]*>{count}</td>", summary), \
            mode
    for svg, record in zip(diagrams, got["handovers"]):
        lanes = re.findall(r'<line class="lane" data-vantage="(\w+)"', svg)
        assert lanes == record["vantage_points"]
        for direction in ("down", "up"):
            one = record["data"][direction]
            strip = re.search(rf'<g class="strip" data-direction='
                              rf'"{direction}">.*?</g>', svg, re.S).group(0)
            shade = re.search(r'<rect class="interruption" data-from="'
                              r'([\d.]+)" data-to="([\d.]+)"', strip)
            assert (float(shade.group(1)), float(shade.group(2))) == \
                pytest.approx((one["last_old"], one["first_new"]),
                              abs=1e-6)
            assert f'{one["interruption_ms"]:.3f} ms' in strip
