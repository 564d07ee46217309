"""The HTML report's diagram of a handover seen from several captures
(`handovers --merge --html`): one lane per vantage point, every time on the
reference clock, the MN's traffic as a strip per direction.

- Time runs down on one scale for the whole diagram (TimeScale): each
  message is a line through its sightings, so its slope is its one-way
  delay, and a dot per sighting.
- Beside the lanes, request/response latencies (decision D13) as brackets.
- Two strips, down and up (decision D20): a tick per datagram at the point
  nearest the MN (grey delivered, amber buffered at NAR, decision D21), a
  red cross per lost one, the interruption shaded and its length written
  beside it; the downlink interruption is also shaded across the lanes.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from dataclasses import dataclass, field

from ..spec import protocol as P
from .records import HandoverRecord

WIDTH = 840
TOP = 60                  # the first time on the axis
LANE_LEFT, LANE_RIGHT = 130, 460
# request/response pairs measured beside a diagram (decision D13)
LATENCY_PAIRS = (("rtsolpr", "prrtadv", "rtsolpr_prrtadv"),
                 ("hi", "hack", "hi_hack"), ("fbu", "fback", "fbu_fback"))
BRACKET_X = {"rtsolpr_prrtadv": 480, "hi_hack": 480, "fbu_fback": 552}
STRIP_X = {"down": 640, "up": 740}
STRIP_WIDTH = 14
PX_PER_MS = 2.0           # the scale up to KNEE_MS between two events
KNEE_MS = 100.0           # beyond it a gap grows logarithmically
LABEL_ROOM = 16           # added before each message, for its label
CONTEXT = 0.02            # s of traffic drawn before and after
MAX_MARKS = 500           # strip marks drawn per direction
SCALE_NOTE = (f"Time runs down (reference clock): {PX_PER_MS:g} px/ms "
              f"between events up to {KNEE_MS:g} ms apart, logarithmic "
              f"beyond, {LABEL_ROOM} px more before each message.")


def gap_height(seconds: float) -> float:
    """The height of a gap between two events: linear, then logarithmic
    (the two agree at the knee, in value and slope)."""
    ms = max(0.0, seconds * 1000.0)
    if ms <= KNEE_MS:
        return ms * PX_PER_MS
    return KNEE_MS * PX_PER_MS * (1.0 + math.log(ms / KNEE_MS))


class TimeScale:
    """y of a time: strictly increasing, linear between breakpoints."""

    def __init__(self, times, labelled, top: float = TOP):
        self.t = sorted(set(times))
        self.y = [float(top)]
        for a, b in zip(self.t, self.t[1:]):
            self.y.append(self.y[-1] + gap_height(b - a)
                          + (LABEL_ROOM if b in labelled else 0))

    def __call__(self, t: float) -> float:
        t_, y_ = self.t, self.y
        if t <= t_[0]:
            return y_[0]
        i = bisect_right(t_, t) - 1
        if i >= len(t_) - 1:
            return y_[-1]
        return y_[i] + (y_[i + 1] - y_[i]) * (t - t_[i]) / (t_[i + 1] - t_[i])

    @property
    def bottom(self) -> float:
        return self.y[-1]


@dataclass
class Sighting:
    x: float
    y: float
    tooltip: str


@dataclass
class Message:
    points: str            # SVG polyline points
    head: str              # SVG polygon points of the arrowhead
    label: str
    label_x: float
    label_y: float
    time: str              # "+2.500 ms" from the handover's start
    severity: str
    tooltip: str
    sightings: list = field(default_factory=list)


@dataclass
class Strip:
    direction: str
    x: float
    marks: list            # [(y, kind)]
    shade: tuple | None    # (y1, y2, text, last_old, first_new)


def _first(step) -> float:
    """The time a message was first seen, on the reference clock."""
    return min(t for _, _, t in step.seen)


def _severity(findings) -> str:
    found = {f[1] for f in findings}
    return next((v for v in ("error", "warning", "info") if v in found), "")


def _head(x1, y1, x2, y2) -> str:
    angle = math.atan2(y2 - y1, x2 - x1)
    pts = [(x2, y2)]
    for turn in (2.7, -2.7):
        pts.append((x2 + 9 * math.cos(angle + turn),
                    y2 + 9 * math.sin(angle + turn)))
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in pts)


def _message(step, lane, scale, start) -> Message:
    seen = sorted(step.seen, key=lambda s: s[2])
    pts = [(lane[v], scale(t)) for v, _, t in seen]
    if len({x for x, _ in pts}) == 1:          # seen at one lane: a stub
        pts.append((pts[-1][0] + 40, pts[-1][1]))
    code = "" if step.key == "fbu" or step.code is None else \
        f" Code {step.code}"
    note = f" ({step.note})" if step.note else ""
    (x1, y1), (x2, y2) = pts[0], pts[1]
    return Message(
        points=" ".join(f"{x:.1f},{y:.1f}" for x, y in pts),
        head=_head(*pts[-2], *pts[-1]),
        label=f"{step.name}{code}{note} #{step.frame}",
        label_x=(x1 + x2) / 2, label_y=min(y1, y2) - 5,
        time=f"+{(seen[0][2] - start) * 1000:.3f} ms",
        severity=_severity(step.findings),
        tooltip="\n".join(f"{rule} {sev}: {text}"
                          for rule, sev, text in step.findings),
        sightings=[Sighting(lane[v], scale(t), _sighting_text(
            v, frame, t, start, seen[0] if i else None))
                   for i, (v, frame, t) in enumerate(seen)])


def _sighting_text(vantage, frame, t, start, first) -> str:
    """A dot's tooltip: where and when, and the one-way delay from the
    message's first sighting."""
    text = f"{vantage} frame {frame}: +{(t - start) * 1000:.3f} ms"
    if first is not None:
        text += f", {(t - first[2]) * 1000:.3f} ms after {first[0]}"
    return text


def answers(step, response: str) -> bool:
    """The step is the `response` a latency of decision D13 ends with (a
    PrRtAdv only when solicited)."""
    return step.key == response and not (
        step.key == "prrtadv" and step.code not in P.PRRTADV_SOLICITED)


def _brackets(record, steps, scale) -> list:
    """Request/response latencies (D13) from the first sightings."""
    out = []
    for request, response, key in LATENCY_PAIRS:
        value = record.latency_ms.get(key)
        first = next((s for s in steps if s.key == request), None)
        answer = next((s for s in steps if first is not None
                       and answers(s, response)
                       and _first(s) >= _first(first)), None)
        if value is not None and answer is not None:
            out.append((BRACKET_X[key], scale(_first(first)),
                        scale(_first(answer)), f"{value:.3f} ms"))
    return out


def _strip(direction, data, marks, scale, lo, hi) -> Strip:
    one = data.get(direction) or {}
    t0, t1 = one.get("last_old"), one.get("first_new")
    shade = None
    if t0 is not None and t1 is not None:
        shade = (scale(t0), scale(t1), f"{one['interruption_ms']:.3f} ms",
                 t0, t1)
    inside = [(t, kind) for t, kind in marks.get(direction, ())
              if lo <= t <= hi]
    return Strip(direction, STRIP_X[direction],
                 [(scale(t), kind) for t, kind in _thinned(inside)], shade)


def _thinned(marks) -> list:
    """At most MAX_MARKS: every lost and buffered datagram first, then the
    delivered ones evenly spaced (a fast flow's ticks would only merge)."""
    if len(marks) <= MAX_MARKS:
        return marks
    rare = [m for m in marks if m[1] != "delivered"][:MAX_MARKS]
    common = [m for m in marks if m[1] == "delivered"]
    room = MAX_MARKS - len(rare)
    step = max(1, -(-len(common) // room)) if room > 0 else 0
    return sorted(rare + (common[::step] if step else []))


def lanes(record: HandoverRecord) -> dict | None:
    """The geometry of one merged handover's diagram, None when its steps
    carry no sightings (then the ladder diagram is drawn)."""
    steps = [s for s in record.steps if getattr(s, "seen", None)]
    if not steps:
        return None
    names = list(getattr(record, "vantage_points", None) or ())
    for v in (v for s in steps for v, _, _ in s.seen):
        if v not in names:
            names.append(v)
    data = getattr(record, "data", None) or {}
    marks = getattr(data, "marks", None) or {}
    times = [t for s in steps for _, _, t in s.seen]
    ends = [data[k][e] for k in ("down", "up") if data.get(k)
            for e in ("last_old", "first_new") if data[k][e] is not None]
    lo, hi = min(times + ends) - CONTEXT, max(times + ends) + CONTEXT
    scale = TimeScale(times + ends + [lo, hi], {_first(s) for s in steps})
    step_x = (LANE_RIGHT - LANE_LEFT) / max(1, len(names) - 1)
    lane = {v: LANE_LEFT + i * step_x for i, v in enumerate(names)}
    start = min(times)
    strips = [_strip(k, data, marks, scale, lo, hi) for k in ("down", "up")
              if data.get(k)]
    return {"kind": "lanes", "lanes": lane, "width": WIDTH,
            "height": scale.bottom, "top": TOP,
            "messages": [_message(s, lane, scale, start) for s in steps],
            "brackets": _brackets(record, steps, scale), "strips": strips,
            "strip_width": STRIP_WIDTH, "scale_note": SCALE_NOTE,
            "dropped": record.steps_dropped, "start": start}
