"""The HTML diagram of a handover seen from several captures, in headless
Chromium: one lane per vantage point, every sighting placed by its time on
the reference clock, the downlink interruption shaded from the last
old-path delivery to the first new-path one, lost datagrams marked, and a
legend.  The records are built here (as `handovers --merge` makes them) and
their data comes from the real DataPlane on tests/handovers/
dataplane_scenes.py's datagrams."""

from __future__ import annotations

import re

import pytest

import chromium as C
import dataplane_scenes as S

from fmipdissect.handovers.dataplane import DataPlane
from fmipdissect.handovers.html import HtmlReport
from fmipdissect.handovers.lanes import TimeScale, gap_height, lanes
from fmipdissect.handovers.records import HandoverRecord, Step

# the fields `handovers --merge` adds, where this tree's records lack them
_RECORD_EXTRA = tuple(n for n in ("vantage_points", "data")
                      if n not in HandoverRecord.__slots__)
_STEP_EXTRA = tuple(n for n in ("seen",) if n not in Step.__slots__)


class MergedStep(Step):
    __slots__ = _STEP_EXTRA

    def __init__(self, *args, seen, **kwargs):
        super().__init__(*args, **kwargs)
        self.seen = seen


class MergedRecord(HandoverRecord):
    __slots__ = _RECORD_EXTRA

    def __init__(self, *args, vantage_points, data, **kwargs):
        super().__init__(*args, **kwargs)
        self.vantage_points = vantage_points
        self.data = data


# (key, name, code, src, dst, [(vantage, frame, time)]): a predictive
# handover's messages as MN's, PAR's and NAR's captures saw them
MESSAGES = (
    ("rtsolpr", "RtSolPr", 0, S.MN, S.PAR,
     [("mn", 1, 100.2900), ("par", 1, 100.2910)]),
    ("prrtadv", "PrRtAdv", 0, S.PAR, S.MN,
     [("par", 2, 100.2915), ("mn", 2, 100.2925)]),
    ("fbu", "FBU", None, S.MN, S.PAR,
     [("mn", 3, 100.2992), ("par", 3, 100.3002)]),
    ("hi", "HI", 0, S.PAR, S.NAR,
     [("par", 4, 100.3004), ("nar", 1, 100.3024)]),
    ("hack", "HAck", 0, S.NAR, S.PAR,
     [("nar", 2, 100.3026), ("par", 5, 100.3046)]),
    ("fback", "FBAck", 0, S.PAR, S.MN,
     [("par", 6, 100.3048), ("mn", 4, 100.3058)]),
)
VANTAGES = ["mn", "par", "nar"]


def merged_record(buffering=True):
    plane = DataPlane(S.roles())
    for d in S.scene(buffering=buffering):
        plane.observe(d)
    first, last = MESSAGES[0][5][0][2], MESSAGES[-1][5][-1][2]
    steps = [MergedStep(seen[0][1], seen[0][2], key, name, code, src, dst,
                        seen=seen)
             for key, name, code, src, dst, seen in MESSAGES]
    record = MergedRecord(
        file="mn", mn=S.MN, pcoa=S.MN, ncoa=S.MN, par=S.PAR, nar=S.NAR,
        mode="predictive", initiated_by="mn", outcome="completed",
        first_frame=1, last_frame=4, frames=[1, 2, 3, 4, 5, 6], start=first,
        end=last, latency_ms={"rtsolpr_prrtadv": 2.5, "hi_hack": 4.2,
                              "fbu_fback": 6.6, "total": 15.8},
        codes={"prrtadv": 0, "hi": 0, "hack": 0, "fback": 0},
        findings={"errors": 0, "warnings": 0, "infos": 0}, messages=6,
        notes=[], steps=steps, vantage_points=VANTAGES, data=None)
    record.data = plane.data(S.Record(start=first, end=last))
    return record


def _page(tmp_path, *records):
    report = HtmlReport(str(tmp_path / "lanes.html"), max_diagrams=10)
    report.file_start("mn.pcap")
    for r in records:
        report.record(r)
    report.close()
    return tmp_path / "lanes.html"


def _attrs(tag: str) -> dict:
    return dict(re.findall(r'([\w-]+)="([^"]*)"', tag))


def test_the_time_scale_keeps_long_gaps_longer():
    assert gap_height(0.4) > 100 * gap_height(0.0002) > 0
    assert gap_height(0.1) == pytest.approx(200.0)
    assert gap_height(10.0) < 2000          # compressed, not linear
    scale = TimeScale([0.0, 0.0002, 0.4002, 10.4002], set())
    ys = [scale(t) for t in (0.0, 0.0001, 0.0002, 0.2, 0.4002, 5.0)]
    assert ys == sorted(ys) and len(set(ys)) == len(ys)


def test_a_record_without_sightings_keeps_the_ladder():
    record = merged_record()
    for step in record.steps:
        step.seen = []
    assert lanes(record) is None


def test_lanes_sightings_aligned_and_interruption_shaded(tmp_path):
    record = merged_record()
    page = _page(tmp_path, record)
    dom, messages = C.dump_dom(page, tmp_path)
    assert messages == [], messages
    svg = re.search(r'<svg class="lanes".*?</svg>', dom, re.S).group(0)
    lane_x = {a["data-vantage"]: float(a["x1"]) for a in map(
        _attrs, re.findall(r'<line class="lane"[^>]*>', svg))}
    assert list(lane_x) == VANTAGES
    # every sighting on its vantage point's lane, lower when later
    dots = [(float(_attrs(tag)["cx"]), float(_attrs(tag)["cy"]), v,
             float(ms)) for tag, v, ms in re.findall(
        r'(<circle class="sighting"[^>]*>)<title>(\w+) frame \d+: '
        r'\+([\d.]+) ms(?:, [\d.]+ ms after \w+)?</title>', svg)]
    assert len(dots) == sum(len(m[5]) for m in MESSAGES)
    assert all(x == lane_x[v] for x, _, v, _ in dots)
    by_time = sorted(dots, key=lambda d: d[3])
    assert [d[1] for d in by_time] == sorted(d[1] for d in dots)
    assert len({d[1] for d in dots}) == len({d[3] for d in dots})
    # the downlink strip: shading from the last old to the first new tick
    strip = re.search(r'<g class="strip" data-direction="down">.*?</g>',
                      svg, re.S).group(0)
    shade = _attrs(re.search(r'<rect class="interruption"[^>]*>',
                             strip).group(0))
    assert (float(shade["data-from"]), float(shade["data-to"])) == (
        100.297, 100.451)
    top, bottom = float(shade["y"]), float(shade["y"]) + float(
        shade["height"])
    ticks = sorted(float(_attrs(t)["y1"]) for t in re.findall(
        r'<line class="mark (?:delivered|buffered)"[^>]*>', strip))
    assert max(y for y in ticks if y <= top + 0.01) == pytest.approx(
        top, abs=0.01)
    assert min(y for y in ticks if y >= top + 0.01) == pytest.approx(
        bottom, abs=0.01)
    assert "154.000 ms" in strip
    # time-scaled: the 154 ms pause is far taller than HI's 2 ms hop
    hi_dots = [d for d in dots if d[3] in (10.4, 12.4)]
    assert bottom - top > 20 * abs(hi_dots[1][1] - hi_dots[0][1]) > 0
    assert "par frame 4: +10.400 ms" in svg        # HI leaves PAR
    assert "nar frame 1: +12.400 ms, 2.000 ms after par" in svg
    assert 'class="legend"' in svg and "interruption" in svg
    row = re.search(r'<table id="handovers">.*?</table>', dom, re.S).group(0)
    assert "down interruption" in row and "<td class=\"num\">154.000</td>" in row
    assert len(re.findall(r'<path class="mark lost"', strip)) == 0


def test_lost_datagrams_are_marked(tmp_path):
    page = _page(tmp_path, merged_record(buffering=False))
    dom, messages = C.dump_dom(page, tmp_path)
    assert messages == []
    strip = re.search(r'<g class="strip" data-direction="down">.*?</g>',
                      dom, re.S).group(0)
    assert len(re.findall(r'<path class="mark lost"', strip)) == 30
    assert "157.000 ms" in strip


def _near(pixel, colour, tolerance=12):
    return all(abs(a - b) <= tolerance for a, b in zip(pixel, colour))


def test_screenshot_shows_the_shaded_interruption(tmp_path):
    """The strip's shading in pixels is as tall as the DOM says (one CSS
    pixel per device pixel), and the pale band crosses the lanes."""
    page = _page(tmp_path, merged_record())
    dom, _ = C.dump_dom(page, tmp_path)
    strip = re.search(r'<g class="strip" data-direction="down">.*?</g>',
                      dom, re.S).group(0)
    height = float(_attrs(re.search(r'<rect class="interruption"[^>]*>',
                                    strip).group(0))["height"])
    _, (width, _, rows) = C.screenshot(page, tmp_path, height=1600)
    strong = (236, 170, 153)        # #e76f51 at 0.55 over the strip's grey
    longest, where = 0, None
    for x in range(width):
        run = 0
        for y, row in enumerate(rows):
            run = run + 1 if _near(row[x], strong) else 0
            if run > longest:
                longest, where = run, (x, y)
    assert abs(longest - height) <= 2, (longest, height)
    middle = rows[where[1] - longest // 2]
    pale = sum(1 for px in middle if _near(px, (253, 241, 231), 6))
    assert pale > 300, pale


def test_the_page_keeps_no_strip_datagrams_of_a_record(tmp_path):
    """Bounded: once a handover is drawn (or not), its datagrams go."""
    record = merged_record()
    assert record.data.marks["down"]
    report = HtmlReport(str(tmp_path / "r.html"), max_diagrams=0)
    report.record(record)
    assert record.data.marks == {}
    assert record.data["down"]["interruption_ms"] == 154.0


def test_the_page_lists_vantage_points_and_the_traffic_summary(tmp_path):
    """--merge hands the report the clocks, roles and the data plane's
    summary before close() (merged_summary): two more tables."""
    record = merged_record(buffering=False)
    report = HtmlReport(str(tmp_path / "r.html"), max_diagrams=1)
    report.file_start("mn+par+nar+cn")
    report.record(record)
    vantage = {n: {"file": f"{n}.pcap", "offset_ms": o, "uncertainty_ms": u,
                   "drift_ppm": None, "pairs": p}
               for n, o, u, p in (("mn", 0.0, 0.0, 0),
                                  ("par", -1500.0, 0.004, 812),
                                  ("nar", 2000.0, 0.01, 640))}
    plane = DataPlane(S.roles())
    plane.observe(S.scene(buffering=False)[0])
    summary = {"down": {"interruption_ms": {"count": 1, "min": 157.0,
                                            "p50": 157.0, "p95": 157.0,
                                            "max": 157.0},
                        "lost": 30, "tunnelled": 90, "buffered": 0},
               "up": plane.summary()["up"]}
    report.vantage_points, report.roles, report.data = (
        vantage, {"mn": "mn", "par": "par", "nar": None}, summary)
    report.close()
    dom, messages = C.dump_dom(tmp_path / "r.html", tmp_path)
    assert messages == []
    table = re.search(r'<table id="vantage-points">.*?</table>', dom,
                      re.S).group(0)
    assert re.search(r"<td>par</td><td>par.pcap</td><td>par</td>"
                     r'<td class="num">-1500.000</td>', table)
    assert "<td>nar</td><td>nar.pcap</td><td>-</td>" in table
    traffic = re.search(r'<table id="traffic">.*?</table>', dom,
                        re.S).group(0)
    assert re.search(r'<td>down</td><td class="num">1</td>\s*'
                     r'<td class="num">157.000</td>', traffic)
    assert '<td class="num">30</td><td class="num">90</td>' in traffic


def test_a_fast_flow_is_thinned_but_keeps_every_loss():
    from fmipdissect.handovers.lanes import MAX_MARKS, _thinned
    marks = [(i * 1e-4, "lost" if i % 97 == 0 else "delivered")
             for i in range(20000)]
    kept = _thinned(marks)
    assert len(kept) <= MAX_MARKS
    assert sum(1 for _, k in kept if k == "lost") == sum(
        1 for _, k in marks if k == "lost")
    assert kept == sorted(kept) and _thinned(marks[:10]) == marks[:10]


def test_a_message_one_capture_saw_is_a_stub_on_its_lane():
    record = merged_record()
    record.steps[0].seen = [("mn", 1, 100.29)]
    geometry = lanes(record)
    first = geometry["messages"][0]
    (x1, y1), (x2, y2) = [tuple(map(float, p.split(",")))
                          for p in first.points.split()]
    assert x1 == geometry["lanes"]["mn"] and x2 == x1 + 40 and y1 == y2
    assert len(first.sightings) == 1
    assert list(geometry["lanes"]) == ["mn", "par", "nar"]
