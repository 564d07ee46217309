"""The HTML report in a real browser: headless Chromium loads each
sample's report without console messages, and the ladder diagrams are
drawn (one arrow per message in the DOM, pixels of the arrows in a
screenshot)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

import chromium as C

from fmipdissect.gen.scenarios import SAMPLES
from fmipdissect import handovers

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO / "samples"


def _report(tmp_path, *captures, extra=()):
    page = tmp_path / "report.html"
    run = subprocess.run([sys.executable, "-m", "fmipdissect", "handovers",
                          "--html", str(page), *extra, *map(str, captures)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    return page


def test_console_capture_can_fail(tmp_path):
    """The console check sees a page's console output at all."""
    page = tmp_path / "noisy.html"
    page.write_text('<html><body><script>console.error("marker-4988")'
                    '</script></body></html>')
    _, messages = C.dump_dom(page, tmp_path)
    assert any("marker-4988" in m for m in messages)


@pytest.mark.parametrize("name", SAMPLES)
def test_each_sample_report_loads_and_draws_one_arrow_per_message(
        tmp_path, name):
    capture = SAMPLE_DIR / f"{name}.pcap"
    page = _report(tmp_path, capture)
    html = page.read_text()
    # self-contained: nothing fetched, no script
    assert not re.search(r"<script|<link|<img|<iframe|url\(|https?://",
                         html), "the page refers to something outside"
    dom, messages = C.dump_dom(page, tmp_path)
    assert messages == [], messages
    records = handovers(capture)
    ladders = re.findall(r'<svg class="ladder"(.*?)</svg>', dom, re.S)
    assert len(ladders) == len(records)
    for svg, record in zip(ladders, records):
        assert svg.count('<g class="arrow') == record.messages
        frames = re.findall(r"#(\d+)</text>", svg)
        assert [int(f) for f in frames] == record.frames
    errors = sum(r.findings["errors"] for r in records)
    marked = len(re.findall(r'<g class="arrow error">', dom))
    assert (marked > 0) == (errors > 0)


def test_screenshot_shows_the_ladder(tmp_path):
    page = _report(tmp_path, SAMPLE_DIR / "predictive.pcap")
    _, (width, height, rows) = C.screenshot(page, tmp_path)
    assert (width, height) == (900, 1400)
    dark = sum(1 for row in rows for (r, g, b) in row if r < 80 and g < 80
               and b < 80)
    distinct = {px for row in rows[::20] for px in row[::20]}
    assert len(distinct) > 5, "a blank screenshot"
    # the lower half holds the ladder: arrows and their labels are dark
    lower = sum(1 for row in rows[height // 2:] for (r, g, b) in row
                if r < 80 and g < 80 and b < 80)
    assert lower > 2000, (dark, lower)


def test_findings_mark_arrows_red_with_the_rule_as_tooltip(tmp_path):
    page = _report(tmp_path, SAMPLE_DIR / "violations.pcap")
    dom, messages = C.dump_dom(page, tmp_path)
    assert messages == []
    marked = re.findall(r'<g class="arrow (error|warning)">\s*<title>(.*?)'
                        r'</title>', dom, re.S)
    assert {sev for sev, _ in marked} == {"error", "warning"}
    assert all(re.match(r"FM\d{3} (error|warning|info): ", t)
               for _, t in marked)
    _, (_, _, rows) = C.screenshot(page, tmp_path, height=3000)
    red = sum(1 for row in rows for (r, g, b) in row
              if r > 180 and g < 90 and b < 90)
    assert red > 50, "no red arrow drawn"


def test_large_capture_page_is_bounded(tmp_path):
    capture = tmp_path / "many.pcap"
    subprocess.run([sys.executable, "-m", "fmipdissect", "gen", "predictive",
                    "--handovers", "300", "-o", str(capture)], check=True,
                   capture_output=True)
    page = _report(tmp_path, capture, extra=("--max-diagrams", "5"))
    html = page.read_text()
    assert html.count('<svg class="ladder"') == 5
    assert "Diagrams of the first 5 of 300 handovers" in html
    assert len(html) < 400_000
    small = _report(tmp_path, capture, extra=("--max-diagrams", "0"))
    assert '<svg class="ladder"' not in small.read_text()


def test_html_to_an_unwritable_place_is_one_line(tmp_path):
    run = subprocess.run([sys.executable, "-m", "fmipdissect", "handovers",
                          "--html", str(tmp_path / "no" / "such" / "r.html"),
                          str(SAMPLE_DIR / "predictive.pcap")],
                         capture_output=True, text=True)
    assert run.returncode == 2
    assert len(run.stderr.splitlines()) == 1 and "Traceback" not in run.stderr


def test_html_onto_a_capture_is_refused(tmp_path):
    capture = tmp_path / "p.pcap"
    data = (SAMPLE_DIR / "predictive.pcap").read_bytes()
    capture.write_bytes(data)
    run = subprocess.run([sys.executable, "-m", "fmipdissect", "handovers",
                          "--html", str(capture), str(capture)],
                         capture_output=True, text=True)
    assert run.returncode == 2 and "refusing" in run.stderr
    assert capture.read_bytes() == data
