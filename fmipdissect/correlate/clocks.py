"""Each capture's clock offset to the reference capture (decision D19).

A datagram that travels from capture A's node to capture B's leaves A at
a (A's clock) and reaches B at b (B's clock).  With B's offset o (add it to
B's times to get A's clock) and the one-way delay d >= 0: a - b = o - d, a
lower bound of o.  The other way, a - b = o + d, an upper bound.  As NTP
does with its minimum-delay samples, the tightest bounds of both directions
give the offset (their midpoint) and its uncertainty (half their distance).

Which way a datagram went is not known before the clocks are: it is read
from the flows.  Every datagram of one flow (source, destination) crosses
the two captures the same way, and its reverse flow the other way; of the
two orientations of a flow and its reverse, the right one gives a lower
bound at or below the upper bound, the wrong one the opposite.

Captures that share no traffic with the reference are reached through
others (the chain of the least summed uncertainty).  Where the captures are
long enough (DRIFT_MIN_SPAN), the offsets of successive stretches of
DRIFT_BIN seconds, each at the mean time of its datagrams, give a drift
(least squares); the offset is then the line's value at the first
datagram's time (the anchor), and the uncertainty the largest of a
stretch's half-width plus its distance from the line.
"""

from __future__ import annotations

import heapq

from ..plain import Record

DRIFT_BIN = 30.0          # seconds per stretch for the drift estimate
DRIFT_MIN_SPAN = 120.0    # captures shorter than this: no drift
_INF = float("inf")


class Clock(Record):
    """How to put one capture's times on the reference clock."""

    __slots__ = _fields = (
        "offset",        # seconds, added at `anchor` (reference clock)
        "uncertainty",   # seconds, or None (not estimated)
        "drift",         # seconds per second, or None
        "anchor",        # the capture's time the offset is given at
        "pairs",         # datagrams the estimate used
        "manual",        # set by --clock
    )
    _defaults = {"uncertainty": None, "drift": None, "anchor": 0.0,
                 "pairs": 0, "manual": False}

    def align(self, t: float) -> float:
        if self.drift is None:
            return t + self.offset
        return t + self.offset + self.drift * (t - self.anchor)

    def to_dict(self) -> dict:
        return {"offset_ms": _shown(self.offset * 1000.0),
                "uncertainty_ms": _shown(self.uncertainty, 1000.0),
                "drift_ppm": _shown(self.drift, 1e6),
                "pairs": self.pairs}


def _shown(value, scale: float = 1.0):
    """value * scale to three decimals (no "-0.0"), None stays None."""
    return None if value is None else round(value * scale, 3) + 0.0


REFERENCE = Clock(0.0, 0.0, None, 0.0, 0)


class _Bounds:
    """Per (capture pair, flow): the tightest bound each way, per stretch,
    and the mean time of each stretch's datagrams."""
    __slots__ = ("low", "up", "times", "count")

    def __init__(self):
        self.low = {}      # stretch -> max of (last at a) - (first at b)
        self.up = {}       # stretch -> min of (first at a) - (last at b)
        self.times = {}    # stretch -> [sum of first at a, datagrams]
        self.count = 0


class ClockEstimator:
    """Feed it the datagrams seen by several captures (add), then solve()."""

    def __init__(self, vantages: int):
        self.vantages = vantages
        self.flows: dict[tuple, _Bounds] = {}     # (a, b, flow) -> _Bounds
        self.first = _INF
        self.last = -_INF

    def add(self, flow: bytes, seen) -> None:
        """seen: [(vantage, first time, last time)] of one datagram in its
        captures' own clocks; flow: its source and destination."""
        for i, (a, fa, la) in enumerate(seen):
            for b, fb, lb in seen[i + 1:]:
                if a > b:
                    a, fa, la, b, fb, lb = b, fb, lb, a, fa, la
                self._add(a, b, flow, fa, la, fb, lb)

    def _add(self, a, b, flow, fa, la, fb, lb) -> None:
        key = (a, b, flow)
        bounds = self.flows.get(key)
        if bounds is None:
            bounds = self.flows[key] = _Bounds()
        bounds.count += 1
        stretch = int(fa // DRIFT_BIN)
        low, up = la - fb, fa - lb
        if low > bounds.low.get(stretch, -_INF):
            bounds.low[stretch] = low
        if up < bounds.up.get(stretch, _INF):
            bounds.up[stretch] = up
        times = bounds.times.setdefault(stretch, [0.0, 0])
        times[0] += fa
        times[1] += 1
        if fa < self.first:
            self.first = fa
        if fa > self.last:
            self.last = fa

    def _pair(self, a: int, b: int, stretch=None):
        """(lower, upper, datagrams, their mean time) for b's offset to a
        (in one stretch, or over all), or None."""
        flows = {k[2]: v for k, v in self.flows.items()
                 if k[0] == a and k[1] == b}
        lower, upper, count, total = -_INF, _INF, 0, 0.0
        for flow, there in flows.items():
            back = flows.get(flow[4:] + flow[:4])
            if back is None or flow > flow[4:] + flow[:4]:
                continue        # no reverse flow, or the pair seen already
            one = _bounds(there, back, stretch)
            other = _bounds(back, there, stretch)
            if one is None or other is None:
                continue
            best = one if one[1] - one[0] >= other[1] - other[0] else other
            lower, upper = max(lower, best[0]), min(upper, best[1])
            for side in (there, back):
                for s, (t, n) in side.times.items():
                    if stretch is None or s == stretch:
                        total += t
                        count += n
        if lower == -_INF or upper == _INF:
            return None
        return lower, upper, count, total / count

    def _edge(self, a: int, b: int):
        """(offset at self.first, drift or None, uncertainty, datagrams)
        of b to a, or None."""
        found = self._pair(a, b)
        if found is None:
            return None
        lower, upper, count, _ = found
        mid, half = (lower + upper) / 2, abs(upper - lower) / 2
        if self.last - self.first < DRIFT_MIN_SPAN:
            return mid, None, half, count
        points = []
        for s in sorted({s for (x, y, _), v in self.flows.items()
                         if x == a and y == b for s in v.low}):
            found = self._pair(a, b, s)
            if found is not None:
                points.append((found[3], (found[0] + found[1]) / 2,
                               abs(found[1] - found[0]) / 2))
        fit = _line(points)
        if fit is None:
            return mid, None, half, count
        value, slope = fit
        at = self.first
        offset = value(at)
        worst = max(h + abs(m - value(t)) for t, m, h in points)
        return offset, slope, worst, count

    def solve(self) -> list:
        """A Clock per vantage (index 0 the reference), None where no chain
        of shared datagrams reaches it."""
        n = self.vantages
        edges = {}
        for a in range(n):
            for b in range(a + 1, n):
                found = self._edge(a, b)
                if found is None:
                    continue
                offset, slope, half, count = found
                back = None if slope is None else -slope
                edges.setdefault(a, []).append((b, offset, slope, half, count))
                edges.setdefault(b, []).append((a, -offset, back, half,
                                                count))
        clocks: list = [None] * n
        clocks[0] = REFERENCE
        done = set()
        heap = [(0.0, 0, 0.0, None, 0)]
        while heap:
            unc, v, off, drift, pairs = heapq.heappop(heap)
            if v in done:
                continue
            done.add(v)
            if v:
                clocks[v] = Clock(off, unc, drift, self.first, pairs)
            for w, offset, slope, half, count in edges.get(v, ()):
                if w not in done:
                    both = (drift if slope is None else
                            slope + (drift or 0.0))
                    heapq.heappush(heap, (unc + half, w, off + offset, both,
                                          pairs + count))
        return clocks


def _line(points):
    """Least squares through (time, offset, _) points: (value(t), slope),
    or None with fewer than 3 points or no spread in time."""
    if len(points) < 3:
        return None
    mx = sum(p[0] for p in points) / len(points)
    my = sum(p[1] for p in points) / len(points)
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if sxx <= 0:
        return None
    slope = sum((p[0] - mx) * (p[1] - my) for p in points) / sxx
    return (lambda t: my + slope * (t - mx)), slope


def _bounds(there: _Bounds, back: _Bounds, stretch):
    """(lower, upper) when `there` crosses a -> b and `back` b -> a."""
    if stretch is None:
        if not there.low or not back.up:
            return None
        return max(there.low.values()), min(back.up.values())
    if stretch not in there.low or stretch not in back.up:
        return None
    return there.low[stretch], back.up[stretch]
