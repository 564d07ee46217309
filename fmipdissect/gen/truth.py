"""truth.json of `gen --vantage`: what the captures were made to show.

The figures follow the data plane's Readings (the `handovers` contract) so
that the analysis of the captures can be compared with them one for one;
where the Readings leave room, decision D23 says how they were read here:

* a handover's window runs from its start (its first message; for a
  baseline handover MOVE before the MN leaves) to the next handover's
  start; the first also holds what came before it.  A test-flow packet
  belongs to the window its sender sent it in.
* interruption, down: at the MN's capture, from the last packet delivered
  over the old link before the first delivered over the new link, to that
  first; up: from the last packet the MN sent on the old link before its
  first on the new link, to that first.  Times on the reference clock (the
  MN's), milliseconds.
* lost: sent, seen by at least one of the captures written, never by the
  destination's; lost_last_seen: the last written capture that saw it.
* tunnelled: put into the PAR-NAR tunnel (lost in it or not); buffered:
  reached NAR before the MN attached there and was delivered after.
* reordered: delivered after a packet of the same flow with a higher
  sequence number (RFC 4737's reordered packet); duplicated: always 0, the
  generator never duplicates.
"""

from __future__ import annotations

from collections import Counter

from ..wire import testflow
from .dataflow import Fate
from .vantage import PROCESSING_US, Config, Handover

DIRECTIONS = {"down": testflow.FLOW_DOWN, "up": testflow.FLOW_UP}


def seconds(t_us: int | None) -> float | None:
    return None if t_us is None else t_us / 1e6


def _reordered(fates: list[Fate]) -> set[tuple[int, int]]:
    """(flow, seq) of every packet delivered after a higher one."""
    out = set()
    for flow in DIRECTIONS.values():
        arrived = sorted((f.delivered, f.seq) for f in fates
                         if f.flow == flow and f.delivered is not None)
        highest = -1
        for _, seq in arrived:
            if seq < highest:
                out.add((flow, seq))
            highest = max(highest, seq)
    return out


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


def direction(name: str, fates: list[Fate], reordered: set,
              vantage: tuple[str, ...]) -> dict:
    """One direction of one handover: the contract's DIR record."""
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
        "reordered": sum((f.flow, f.seq) in reordered for f in fates),
        "duplicated": 0,
        "lost_last_seen": dict(sorted(lost_where.items())),
    }


def _handover(h: Handover, fates: list[Fate], reordered: set,
              vantage: tuple[str, ...]) -> dict:
    mine = [f for f in fates if f.window == h.index]
    fast = h.mode != "baseline"
    return {
        "index": h.index,
        "mode": h.mode,
        "window": [seconds(h.start), seconds(h.end)],
        "left_old": seconds(h.leave),
        "attached_new": seconds(h.attach),
        "tunnel_from": seconds(h.tunnel_from),
        "binding_ended": seconds(h.returned),
        "buffering": h.buffering,
        "processing_ms": {k: (PROCESSING_US[k] / 1000 if fast else None)
                          for k in ("par_fbu_hi", "nar_hi_hack",
                                    "par_hack_fback")},
        "messages": h.messages,
        "data": {name: direction(name, [f for f in mine if f.flow == flow],
                                 reordered, vantage)
                 for name, flow in DIRECTIONS.items()},
    }


def build(cfg: Config, handovers: list[Handover], fates: list[Fate],
          vantage: tuple[str, ...], written: dict[str, dict]) -> dict:
    """The whole truth file; written: per node {"file", "packets"}."""
    reordered = _reordered(fates)
    records = [_handover(h, fates, reordered, vantage) for h in handovers]
    flow = {}
    for name, number in DIRECTIONS.items():
        mine = [f for f in fates if f.flow == number]
        flow[name] = {"sent": len(mine),
                      "received": sum(f.delivered is not None for f in mine)}
    totals = {name: {key: sum(r["data"][name][key] for r in records)
                     for key in ("packets", "lost", "tunnelled", "buffered",
                                 "reordered")}
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
        "loss": cfg.loss,
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
