"""truth.json of `gen --vantage`: what the captures were made to show.

The figures follow the data plane's Readings (the `handovers` contract) so
that the analysis of the captures can be compared with them one for one;
decision D23 says how they were read where the Readings leave room: the
windows (a test-flow packet counts for the window it was sent in),
`packets` and `unsent`, the interruption at the MN, lost and where last
seen among the captures written, tunnelled, buffered, reordered (RFC 4737)
and duplicated.
"""

from __future__ import annotations

import heapq
from collections import Counter

from ..handovers.records import percentile
from ..wire import testflow
from .dataflow import Fate
from .flows import EPOCH_US
from .vantage import PROCESSING_US, Config, Handover

DIRECTIONS = {"down": testflow.FLOW_DOWN, "up": testflow.FLOW_UP}


def seconds(t_us: int | None) -> float | None:
    return None if t_us is None else t_us / 1e6


def _stats(values) -> dict:
    """The summary's {count, min, p50, p95, max} of the values not None
    (nearest-rank percentiles, as the handovers summary has them)."""
    ordered = sorted(v for v in values if v is not None)
    return {"count": len(ordered),
            "min": ordered[0] if ordered else None,
            "p50": percentile(ordered, 50), "p95": percentile(ordered, 95),
            "max": ordered[-1] if ordered else None}


def _interruption(name: str, fates: list[Fate]) -> tuple:
    """(last_old, first_new) at the MN (decision D23), µs or None."""
    if name == "down":
        times = [(f.delivered, f.route) for f in fates
                 if f.delivered is not None]
    else:
        times = [(f.sent, f.route) for f in fates]
    new = [t for t, route in times if route == "new"]
    if not new:
        return None, None
    first_new = min(new)
    old = [t for t, route in times if route == "old" and t < first_new]
    return (max(old) if old else None), first_new


def direction(name: str, fates: list[Fate],
              vantage: tuple[str, ...]) -> dict:
    """One direction of one handover: the contract's DIR record, and
    `unsent`: sequence numbers the MN could not put on the wire."""
    unsent = sum(f.unsent for f in fates)
    fates = [f for f in fates if not f.unsent]
    lost_where = Counter()
    for f in fates:
        if f.delivered is None:
            written = [node for node in f.seen if node in vantage]
            if written:
                lost_where[written[-1]] += 1
    last_old, first_new = _interruption(name, fates)
    gap = None if last_old is None or first_new is None else \
        (first_new - last_old) / 1000
    return {
        "packets": len(fates),
        "interruption_ms": gap,
        "last_old": seconds(last_old),
        "first_new": seconds(first_new),
        "lost": sum(lost_where.values()),
        "tunnelled": sum(f.tunnelled for f in fates),
        "buffered": sum(f.buffered for f in fates),
        "reordered": 0,                   # Tally.settle counts them
        "duplicated": sum(f.duplicated for f in fates),
        "lost_last_seen": dict(sorted(lost_where.items())),
        "unsent": unsent,
    }


class Tally:
    """The test flow's figures, handover by handover, gathered window by
    window (gen/vantage_write.py runs the flow one window at a time), so
    that no window's packets are kept after it: only the deliveries not
    yet settled wait, for the reordering count."""

    def __init__(self, handovers: list[Handover], vantage: tuple[str, ...]):
        self.vantage = vantage
        self.data: dict[int, dict] = {h.index: {} for h in handovers}
        self.flow = {name: Counter() for name in DIRECTIONS}
        self.deliveries: list = []       # heap: (time, flow, seq, window)
        self.highest: dict[int, int] = {}

    def add(self, index: int, fates: list[Fate]) -> None:
        """The fates of every test-flow packet sent in handover index's
        window."""
        for name, number in DIRECTIONS.items():
            mine = [f for f in fates if f.flow == number]
            self.data[index][name] = direction(name, mine, self.vantage)
            count = self.flow[name]
            count["sent"] += len(mine)
            count["unsent"] += sum(f.unsent for f in mine)
            count["received"] += sum(f.delivered is not None for f in mine)
        for f in fates:
            if f.delivered is not None:
                heapq.heappush(self.deliveries,
                               (f.delivered, f.flow, f.seq, f.window))

    def settle(self, until: int | None = None) -> None:
        """Count the reordered among the deliveries before until (all when
        None): no packet sent later can arrive before it."""
        names = {number: name for name, number in DIRECTIONS.items()}
        heap = self.deliveries
        while heap and (until is None or heap[0][0] < until):
            _, flow, seq, window = heapq.heappop(heap)
            if seq < self.highest.get(flow, -1):
                self.data[window][names[flow]]["reordered"] += 1
            self.highest[flow] = max(seq, self.highest.get(flow, -1))


def _handover(h: Handover, data: dict, vantage: tuple[str, ...]) -> dict:
    fast = h.mode != "baseline"
    return {
        "index": h.index,
        "mode": h.mode,
        # the packets sent in it count for it: the first from the
        # capture's start
        "window": [seconds(EPOCH_US if h.index == 1 else h.start),
                   seconds(h.end)],
        "start": seconds(h.start),
        "left_old": seconds(h.leave),
        "attached_new": seconds(h.attach),
        "tunnel_from": seconds(h.tunnel_from),
        "binding_ended": seconds(h.returned),
        "buffering": h.buffering,
        "processing_ms": {k: (PROCESSING_US[k] / 1000 if fast else None)
                          for k in ("par_fbu_hi", "nar_hi_hack",
                                    "par_hack_fback")},
        "vantage_points": [node for node in vantage if any(
            s["vantage"] == node for m in h.messages for s in m["seen"])],
        "messages": h.messages,
        "data": data,
    }


def build(cfg: Config, handovers: list[Handover], tally: Tally,
          vantage: tuple[str, ...], written: dict[str, dict]) -> dict:
    """The whole truth file; written: per node {"file", "packets"}."""
    tally.settle()
    records = [_handover(h, tally.data[h.index], vantage) for h in handovers]
    flow = {name: {key: tally.flow[name][key]
                   for key in ("sent", "unsent", "received")}
            for name in DIRECTIONS}
    totals = {name: {"interruption_ms": _stats(
                         r["data"][name]["interruption_ms"] for r in records),
                     **{key: sum(r["data"][name][key] for r in records)
                        for key in ("packets", "lost", "tunnelled",
                                    "buffered", "reordered", "duplicated",
                                    "unsent")}}
              for name in DIRECTIONS}
    return {
        "reference": "mn",
        "seed": cfg.seed,
        "vantage_points": {
            node: {**written[node],
                   "offset_ms": -cfg.clocks_us.get(node, 0) / 1000,
                   "clock_ms": cfg.clocks_us.get(node, 0) / 1000}
            for node in vantage},
        "link_delay_ms": {k: v / 1000 for k, v in cfg.delays_us.items()},
        "jitter_ms": cfg.jitter_us / 1000,
        "loss": cfg.loss,
        "duplicate": cfg.duplicate,
        "l2_gap_ms": cfg.gap_us / 1000,
        "interval_ms": cfg.interval_us / 1000,
        "buffering": cfg.buffering,
        "traffic": {"rate": cfg.rate, "size": cfg.size,
                    "port": testflow.DEFAULT_PORT},
        "flow": flow,
        "summary": {"handovers": len(handovers),
                    "modes": dict(Counter(h.mode for h in handovers)),
                    "data": totals},
        "handovers": records,
    }
