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
DRIFT_BIN seconds give a drift (least squares), applied from the anchor.
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
    """Per (capture pair, flow): the tightest bound each way, per stretch."""
    __slots__ = ("low", "up", "count")

    def __init__(self):
        self.low = {}      # stretch -> max of (last at a) - (first at b)
        self.up = {}       # stretch -> min of (first at a) - (last at b)
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
        if fa < self.first:
            self.first = fa
        if fa > self.last:
            self.last = fa

    def _pair(self, a: int, b: int, stretch=None):
        """(lower, upper, datagrams) for b's offset to a, or None."""
        flows = {k[2]: v for k, v in self.flows.items()
                 if k[0] == a and k[1] == b}
        lower, upper, count = -_INF, _INF, 0
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
            count += there.count + back.count
        if lower == -_INF or upper == _INF:
            return None
        return lower, upper, count

    def solve(self) -> list:
        """A Clock per vantage (index 0 the reference), None where no chain
        of shared datagrams reaches it."""
        n = self.vantages
        edges = {}
        for a in range(n):
            for b in range(a + 1, n):
                found = self._pair(a, b)
                if found is None:
                    continue
                lower, upper, count = found
                mid, half = (lower + upper) / 2, abs(upper - lower) / 2
                edges.setdefault(a, []).append((b, mid, half, count))
                edges.setdefault(b, []).append((a, -mid, half, count))
        clocks: list = [None] * n
        clocks[0] = REFERENCE
        done = set()
        heap = [(0.0, 0, 0.0, 0, [])]
        while heap:
            unc, v, off, pairs, path = heapq.heappop(heap)
            if v in done:
                continue
            done.add(v)
            if v:
                clocks[v] = Clock(off, unc, None, 0.0, pairs)
            for w, mid, half, count in edges.get(v, ()):
                if w not in done:
                    heapq.heappush(heap, (unc + half, w, off + mid,
                                          pairs + count, path + [(v, w)]))
                    # (path: the chain, for the drift below)
            if v:
                self._drift(clocks[v], path)
        return clocks

    def _drift(self, clock: Clock, path) -> None:
        """A drift along the chain, where the captures are long enough."""
        if self.last - self.first < DRIFT_MIN_SPAN:
            return
        total = 0.0
        for a, b in path:
            slope = self._slope(min(a, b), max(a, b))
            if slope is None:
                return
            total += slope if a < b else -slope
        clock.drift = total
        clock.anchor = (self.first + self.last) / 2 - clock.offset

    def _slope(self, a: int, b: int):
        stretches = sorted({s for (x, y, _), v in self.flows.items()
                            if x == a and y == b for s in v.low})
        points = []
        for s in stretches:
            found = self._pair(a, b, s)
            if found is not None:
                points.append(((s + 0.5) * DRIFT_BIN,
                               (found[0] + found[1]) / 2))
        if len(points) < 3:
            return None
        mx = sum(p[0] for p in points) / len(points)
        my = sum(p[1] for p in points) / len(points)
        sxx = sum((p[0] - mx) ** 2 for p in points)
        return sum((p[0] - mx) * (p[1] - my) for p in points) / sxx


def _bounds(there: _Bounds, back: _Bounds, stretch):
    """(lower, upper) when `there` crosses a -> b and `back` b -> a."""
    if stretch is None:
        if not there.low or not back.up:
            return None
        return max(there.low.values()), min(back.up.values())
    if stretch not in there.low or stretch not in back.up:
        return None
    return there.low[stretch], back.up[stretch]
