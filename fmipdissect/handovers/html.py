"""`fmipdissect handovers --html FILE`: one self-contained page.

Rendered with jinja2 from templates/report.html.j2: inline CSS and SVG, no
script and no network fetch, so it opens from a file anywhere.  It shows
the summary counts, a latency histogram per latency of decision D13, the
table of handovers in order of their first frame and, for the first
max_diagrams handovers, a ladder diagram: lanes MN, PAR and NAR, one arrow
per message (name, Code, frame), time running down, the latency between
request and response beside it, findings marking the arrow red (error) or
amber (warning) with the rule ids as its tooltip.  A handover of
`handovers --merge` is drawn instead with one lane per vantage point, its
times on the reference clock, and the MN's traffic as strips
(handovers/lanes.py); its table row adds the data plane's interruptions and
losses.

The page stays bounded on any capture: at most max_diagrams diagrams of at
most STEPS_PER_HANDOVER arrows each, at most TABLE_ROWS table rows, and the
histograms are computed from the Summary's values.
"""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from ..errors import one_line
from ..output import atomic_output
from .lanes import LATENCY_PAIRS, answers, lanes
from .records import LATENCY_KEYS, HandoverRecord
from .report import LATENCY_LABELS, Report, clock

TABLE_ROWS = 5000
BINS = 20

# ladder geometry (SVG user units)
LANE_X = {"MN": 90, "PAR": 330, "NAR": 570}
TOP = 50                 # first arrow
ROW = 34                 # between arrows
WIDTH = 800
# the x of each latency's bracket (lanes.LATENCY_PAIRS): FBU-FBAck encloses
# HI-HAck, so it stands apart
BRACKET_X = {"rtsolpr_prrtadv": 630, "hi_hack": 630, "fbu_fback": 710}

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("fmipdissect.handovers", "templates"),
    autoescape=True, trim_blocks=True, lstrip_blocks=True,
    undefined=jinja2.StrictUndefined)


@dataclass
class Arrow:
    y: float
    x1: float
    x2: float
    label: str
    time: str              # "+2.500 ms" from the handover's start
    severity: str          # "error" | "warning" | "info" | ""
    tooltip: str           # the findings, one per line


@dataclass
class Bracket:
    x: float
    y1: float
    y2: float
    text: str


def _lane(addr: str, record: HandoverRecord) -> str:
    if addr == record.par:
        return "PAR"
    if addr == record.nar:
        return "NAR"
    return "MN"


def ladder(record: HandoverRecord) -> dict:
    """The geometry of one handover's ladder diagram."""
    arrows = []
    for i, s in enumerate(record.steps):
        y = TOP + i * ROW
        x1 = LANE_X[_lane(s.src, record)]
        x2 = LANE_X[_lane(s.dst, record)]
        if x1 == x2:                     # to its own lane: a short stub
            x2 = x1 + 60
        code = "" if s.key == "fbu" or s.code is None else f" Code {s.code}"
        note = f" ({s.note})" if s.note else ""
        severities = {f[1] for f in s.findings}
        severity = next((v for v in ("error", "warning", "info")
                         if v in severities), "")
        arrows.append(Arrow(
            y, x1, x2, f"{s.name}{code}{note} #{s.frame}",
            f"+{(s.time - record.start) * 1000:.3f} ms", severity,
            "\n".join(f"{rule} {sev}: {text}"
                      for rule, sev, text in s.findings)))
    brackets = []
    for request, response, key in LATENCY_PAIRS:
        value = record.latency_ms[key]
        first = next((i for i, s in enumerate(record.steps)
                      if s.key == request), None)
        answer = next((i for i, s in enumerate(record.steps)
                       if first is not None and i > first
                       and answers(s, response)), None)
        if value is not None and answer is not None:
            brackets.append(Bracket(BRACKET_X[key], TOP + first * ROW,
                                    TOP + answer * ROW, f"{value:.3f} ms"))
    height = TOP + max(len(arrows), 1) * ROW
    return {"kind": "ladder", "arrows": arrows, "brackets": brackets,
            "height": height,
            "width": WIDTH, "lanes": LANE_X, "dropped": record.steps_dropped}


def histogram(values, bins: int = BINS) -> dict:
    """Equal-width bins from min to max: [(low, high, count)]."""
    if not len(values):
        return {"bars": [], "low": None, "high": None, "top": 0}
    low, high = min(values), max(values)
    width = (high - low) / bins if high > low else 1.0
    counts = [0] * (bins if high > low else 1)
    for v in values:
        counts[min(int((v - low) / width), len(counts) - 1)] += 1
    bars = [(low + i * width, low + (i + 1) * width, c)
            for i, c in enumerate(counts)]
    return {"bars": bars, "low": low, "high": high, "top": max(counts)}


class HtmlReport(Report):
    """Collects what the page shows (bounded) and writes it at close()."""

    def __init__(self, path: str, max_diagrams: int):
        super().__init__(None)
        self.path = path
        self.max_diagrams = max_diagrams
        self.rows: list[HandoverRecord] = []
        self.diagrams: list[tuple[HandoverRecord, dict]] = []
        self.names: list[str] = []

    def file_start(self, name: str) -> None:
        self.names.append(name)

    def record(self, record: HandoverRecord) -> None:
        super().record(record)
        number = self.summary.handovers
        if len(self.diagrams) < self.max_diagrams and record.steps:
            self.diagrams.append((number, record,
                                  lanes(record) or ladder(record)))
        if len(self.rows) < TABLE_ROWS:
            self.rows.append((number, record))
        record.steps = []         # the page keeps only the geometry
        marks = getattr(getattr(record, "data", None), "marks", None)
        if marks:
            marks.clear()         # the strips' datagrams, drawn by now

    def close(self) -> None:
        s = self.summary
        page = _ENV.get_template("report.html.j2").render(
            files=self.names, failed=self.failed, summary=s,
            latency=s.latency(), labels=LATENCY_LABELS, keys=LATENCY_KEYS,
            histograms={k: histogram(s.values[k]) for k in LATENCY_KEYS},
            rows=self.rows, table_cap=TABLE_ROWS, diagrams=self.diagrams,
            has_data=any(getattr(r, "data", None) for _, r in self.rows),
            # --merge: set by merged_summary() before close()
            vantage_points=getattr(self, "vantage_points", None),
            roles=getattr(self, "roles", None) or {},
            plane=getattr(self, "data", None),
            max_diagrams=self.max_diagrams, clock=clock, ms=_ms,
            shown=one_line)
        # the output rule (fmipdissect/output.py): replaced once complete
        with atomic_output(self.path, what="HTML report") as out:
            out.write(page)


def _ms(value):
    return "-" if value is None else f"{value:.3f}"
