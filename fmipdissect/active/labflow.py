"""The lab's own reading of its captures: the test flow per handover
(decision D22).  Until `handovers --merge` reports the data plane, the
lab's summary comes from here; it reads only what the captures hold.

Per handover, inside its window (from its start until 100 ms before the
MN turns home):
down  sent: the CN's capture, flow 1 leaving the CN; received: the MN's
      capture, flow 1 arriving at the MN (on either link); lost: sent and
      never received; interruption_ms: the longest time between two
      arrivals at the MN; tunnelled: packets that reached NAR through
      the tunnel; buffered: those that came before the MN's first packet
      on NAR's link and that NAR handed on (its tunnel device, in its
      capture) more than BUFFER_MARGIN after they arrived: it held them
      until the MN attached (RFC 4988 4.1).
up    the same for flow 2, from the MN's capture to the CN's.
"""

from __future__ import annotations

from dataclasses import dataclass

import dpkt

from ..spec.numbers import IPPROTO_IPIP, IPPROTO_UDP
from ..wire import testflow as T

# s before the MN turns home at which a handover's window ends: a packet
# the CN sent just before is still on its way when the binding ends, and
# what the return home loses is not this handover's
RETURN_MARGIN = 0.1
# s a packet stays in NAR beyond its way through to count as held (the
# data plane's reading, D21, uses the same margin)
BUFFER_MARGIN = 0.001
SLL_OUTGOING = 4                  # packet type of a frame the node sent
LINKTYPE_SLL, LINKTYPE_SLL2 = 113, 276


@dataclass(frozen=True)
class FlowPacket:
    time: float
    flow: int
    seq: int
    outgoing: bool
    tunnelled: bool              # seen inside IP in IP (RFC 2003)


def _udp_flow(ip: bytes):
    """(flow, seq) of a test-flow datagram in IPv4 octets, else None."""
    if len(ip) < 28 or ip[9] != IPPROTO_UDP:
        return None
    ihl = (ip[0] & 0x0F) * 4
    if int.from_bytes(ip[ihl + 2:ihl + 4], "big") != T.DEFAULT_PORT:
        return None
    got = T.parse(ip[ihl + 8:])
    return None if got is None else got[:2]


def read_flow(path: str) -> list[FlowPacket]:
    """Every test-flow packet of a `dumpcap -i any` capture."""
    out = []
    with open(path, "rb") as f:
        for time, frame, linktype in _frames(f):
            if linktype == LINKTYPE_SLL2:
                pkttype, ip = frame[10], frame[20:]
                ethertype = frame[0:2]
            elif linktype == LINKTYPE_SLL:
                pkttype, ip = frame[1], frame[16:]
                ethertype = frame[14:16]
            else:
                continue
            if ethertype != b"\x08\x00" or len(ip) < 20:
                continue
            tunnelled = ip[9] == IPPROTO_IPIP
            if tunnelled:
                ip = ip[(ip[0] & 0x0F) * 4:]
            got = _udp_flow(ip)
            if got is not None:
                out.append(FlowPacket(time, got[0], got[1],
                                      pkttype == SLL_OUTGOING, tunnelled))
    return out


def _frames(f):
    reader = dpkt.pcapng.Reader(f)
    linktype = reader.datalink()
    for ts, buf in reader:
        yield float(ts), bytes(buf), linktype


def percentile(values: list, p: float):
    """Nearest-rank percentile; None for no values."""
    if not values:
        return None
    ranked = sorted(values)
    k = max(0, min(len(ranked) - 1, -(-len(ranked) * p // 100) - 1))
    return ranked[int(k)]


def _longest_gap(times: list, start: float, end: float):
    """The longest time between two arrivals from the last one before
    start to the last one before end, in ms."""
    before = [t for t in times if t < start]
    inside = sorted(t for t in times if start <= t < end)
    inside[:0] = [max(before)] if before else []
    if len(inside) < 2:
        return None
    return round(max(b - a for a, b in zip(inside, inside[1:])) * 1000, 1)


def _direction(flow, senders, receivers, start, end):
    sent = {p.seq for p in senders if p.flow == flow and p.outgoing
            and start <= p.time < end}
    arrivals = [p for p in receivers if p.flow == flow and not p.outgoing
                and not p.tunnelled]
    got = {p.seq for p in arrivals}
    return {"sent": len(sent), "received": len(sent & got),
            "lost": len(sent - got),
            "interruption_ms": _longest_gap([p.time for p in arrivals],
                                            start, end)}


def per_handover(packets: dict, move: dict) -> dict:
    """One handover's numbers (the module's docstring)."""
    start, end = move["start"], move["home"] - RETURN_MARGIN
    down = _direction(T.FLOW_DOWN, packets["cn"], packets["mn"], start, end)
    up = _direction(T.FLOW_UP, packets["mn"], packets["cn"], start, end)
    arrived, handed = {}, {}       # at NAR: out of the tunnel, to the kernel
    for p in packets["nar"]:
        if p.flow == T.FLOW_DOWN and not p.outgoing:
            (arrived if p.tunnelled else handed).setdefault(p.seq, p.time)
    mine = {q for q, t in arrived.items() if start <= t < end}
    # the MN is on NAR's link from its first packet there (its uplink
    # resumes as it attaches): only what came before can have been held
    here = min((p.time for p in packets["nar"] if p.flow == T.FLOW_UP
                and not p.outgoing and not p.tunnelled
                and start <= p.time < end), default=end)
    down["tunnelled"] = len(mine)
    down["buffered"] = len({q for q in mine if arrived[q] < here
                            and q in handed
                            and handed[q] - arrived[q] > BUFFER_MARGIN})
    return {"mode": move["mode"], "outcome": move["outcome"],
            "down": down, "up": up}


def totals(packets: dict) -> dict:
    """Per direction: packets that left the sender, and how many of them
    arrived (unique sequence numbers), over the whole run."""
    def count(flow, senders, receivers):
        sent = {p.seq for p in senders if p.flow == flow and p.outgoing}
        got = {p.seq for p in receivers if p.flow == flow
               and not p.outgoing and not p.tunnelled}
        return {"sent": len(sent), "received": len(got)}
    return {"down": count(T.FLOW_DOWN, packets["cn"], packets["mn"]),
            "up": count(T.FLOW_UP, packets["mn"], packets["cn"])}


def summary(rows: list, modes) -> dict:
    """{MODE: {handovers, down_interruption_ms {p50, p95, max}, lost,
    buffered, up_lost, up_interruption_ms}} (lost: downlink)."""
    out = {}
    for mode in modes:
        mine = [r for r in rows if r["mode"] == mode]
        if not mine:
            continue
        gaps = [r["down"]["interruption_ms"] for r in mine
                if r["down"]["interruption_ms"] is not None]
        up = [r["up"]["interruption_ms"] for r in mine
              if r["up"]["interruption_ms"] is not None]
        out[mode] = {
            "handovers": len(mine),
            "down_interruption_ms": {"p50": percentile(gaps, 50),
                                     "p95": percentile(gaps, 95),
                                     "max": max(gaps, default=None)},
            "lost": sum(r["down"]["lost"] or 0 for r in mine),
            "buffered": sum(r["down"]["buffered"] or 0 for r in mine),
            "up_lost": sum(r["up"]["lost"] or 0 for r in mine),
            "up_interruption_ms": {"p50": percentile(up, 50),
                                   "max": max(up, default=None)}}
    return out


def analyse(captures: dict, moves: list, modes, merged=None) -> dict:
    """Per handover and per mode; a mode's summary comes from the merged
    analysis (`handovers --merge`, its `data` per handover) when that has
    every handover of the mode, else from the lab's own reading (the
    summary says which: `source`)."""
    packets = {node: read_flow(captures[node])
               for node in ("mn", "nar", "cn")}
    rows = [per_handover(packets, m) for m in moves]
    from_merge = merged_rows(merged)
    chosen, sources = [], {}
    for mode in modes:
        mine = [r for r in rows if r["mode"] == mode]
        theirs = [r for r in from_merge if r["mode"] == mode]
        use = theirs if mine and len(theirs) == len(mine) else mine
        sources[mode] = "merged" if use is theirs and use else "lab"
        chosen += use
    result = summary(chosen, modes)
    for mode, s in result.items():
        s["source"] = sources[mode]
    return {"handovers": rows, "summary": result, "totals": totals(packets)}


def merged_rows(merged) -> list:
    """The merged analysis's handovers with a data plane, as rows of the
    shape per_handover gives."""
    rows = []
    for h in (merged or {}).get("handovers", []):
        data = h.get("data")
        if not data:
            continue
        rows.append({"mode": h.get("mode"), "outcome": h.get("outcome"),
                     "down": {k: data["down"].get(k) for k in
                              ("lost", "interruption_ms", "buffered",
                               "tunnelled")},
                     "up": {k: data["up"].get(k) for k in
                            ("lost", "interruption_ms")}})
    return rows
