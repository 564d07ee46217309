"""Handover records of several vantage points (`handovers --merge`).

The merged stream (correlate/merge.py) hands each FMIPv4 datagram to the
ordinary path once, however many captures saw it, so the correlator makes
one handover of what three captures saw of it.  MergedBuilder is the
HandoverBuilder of that path: it also keeps, per message, where it was
seen, and adds to each record its vantage points, the messages with their
sightings, one-way delays and where one was lost, and the routers'
processing times (the output contract, docs/handovers.md).
"""

from __future__ import annotations

from collections import deque

from ..spec import protocol as P
from .builder import HandoverBuilder
from .records import PROCESSING, HandoverRecord

_NAMES = {m.key: m.abbrev for m in P.MESSAGES}
KEEP_SEEN = 50_000        # datagrams whose sightings wait for their message
                          # event (an HI the correlator holds comes later)


def _ms(seconds):
    return round(seconds * 1000.0, 3)


class MergedBuilder(HandoverBuilder):
    """roles: {vantage: "mn" | "par" | "nar" | "cn" | None}; vantages: the
    vantage names in command-line order."""

    def __init__(self, file: str, diagrams, emit, roles: dict, vantages):
        super().__init__(file, diagrams, emit)
        self.roles = roles
        self.vantages = list(vantages)
        self.seen_of: dict = {}          # id(datagram) -> (datagram, seen)
        self._order: deque = deque()
        self.messages_of: dict = {}      # handover seq -> [(msg, seen)]

    def sighted(self, seen) -> None:
        """The SeenDatagram whose .datagram goes to the correlator next."""
        d = seen.datagram
        self.seen_of[id(d)] = (d, seen)
        self._order.append(d)          # (alive while here: its id is its)
        if len(self._order) > KEEP_SEEN:
            old = self._order.popleft()
            if self.seen_of.get(id(old), (None,))[0] is old:
                del self.seen_of[id(old)]

    def open_starts(self) -> list:
        """Start times of the handovers still open."""
        return [e[2].start for e in self._open_heap if not e[2].over]

    def message(self, obs) -> None:
        super().message(obs)
        ho = obs.handover
        if ho is None:
            return
        entry = self.seen_of.get(id(obs.dgram))
        if entry is None or entry[0] is not obs.dgram:
            return
        del self.seen_of[id(obs.dgram)]
        seen = entry[1]
        self.messages_of.setdefault(ho.seq, []).append((obs.msg, seen))
        steps = ho.data.steps
        if steps and steps[-1].frame == obs.dgram.frame:
            steps[-1].seen = [(o.vantage, o.frame, o.time)
                              for o in seen.observations]

    def record(self, ho) -> HandoverRecord:
        record = super().record(ho)
        messages = self.messages_of.pop(ho.seq, [])
        saw = {o.vantage for _, seen in messages for o in seen.observations}
        record.vantage_points = [v for v in self.vantages if v in saw]
        record.observed = [self._message(record, msg, seen)
                           for msg, seen in messages]
        record.processing_ms = self._processing(messages)
        if messages:
            firsts = [seen.first.frame for _, seen in messages]
            record.first_frame, record.last_frame = firsts[0], firsts[-1]
            record.frames = firsts
        return record

    def _destination_role(self, record, dst):
        if dst == record.par:
            return "par"
        if dst == record.nar:
            return "nar"
        if dst in (record.pcoa, record.ncoa, record.mn):
            return "mn"
        return None

    def _message(self, record, msg, seen) -> dict:
        obs = seen.observations
        role = self._destination_role(record, seen.dst)
        there = [v for v, r in self.roles.items() if r == role] if role else []
        lost_after = None
        if there and not any(o.vantage in there for o in obs):
            lost_after = obs[-1].vantage
        return {"type": _NAMES[msg.key], "code": msg.code, "src": seen.src,
                "dst": seen.dst,
                "seen": [{"vantage": o.vantage, "frame": o.frame,
                          "time": round(o.time, 6)} for o in obs],
                "one_way_ms": (_ms(obs[-1].time - obs[0].time)
                               if len(obs) > 1 else None),
                "lost_after": lost_after}

    def _processing(self, messages) -> dict:
        """PROCESSING: from a message in to the next one out, both as the
        router's own capture saw them (null without that capture)."""
        out = {}
        for key, role, first, then in PROCESSING:
            at = {v for v, r in self.roles.items() if r == role}
            ins = [o.time for m, s in messages if m.key == first
                   for o in s.observations if o.vantage in at]
            outs = [o.time for m, s in messages if m.key == then
                    for o in s.observations if o.vantage in at]
            value = None
            if ins and outs:
                t_out = min(outs)
                before = [t for t in ins if t <= t_out]
                if before:
                    value = _ms(t_out - max(before))
            out[key] = value
        return out
