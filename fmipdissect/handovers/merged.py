"""Handover records of several vantage points (`handovers --merge`).

The merged stream (correlate/merge.py) hands each FMIPv4 datagram to the
ordinary path once, however many captures saw it, so the correlator makes
one handover of what three captures saw of it.  MergedBuilder is the
HandoverBuilder of that path: it also keeps, per message, where it was
seen, and adds to each record its vantage points, the messages with their
sightings, one-way delays and where one was lost, and the routers'
processing times (the output contract, docs/handovers.md).  It also
turns the moves correlate/registrations.py finds in Mobile IPv4
registrations into records of mode "baseline" (decision D25).
"""

from __future__ import annotations

import heapq
from collections import deque

from ..correlate.registrations import Registrations
from ..spec import protocol as P
from .builder import HandoverBuilder
from .records import (CODE_KEYS, LATENCY_KEYS, PROCESSING, PROCESSING_KEYS,
                      HandoverRecord, Step)

_NAMES = {m.key: m.abbrev for m in P.MESSAGES}
KEEP_SEEN = 50_000        # datagrams whose sightings wait for their message
                          # event (an HI the correlator holds comes later)


def _ms(seconds):
    return round(seconds * 1000.0, 3)


def _step(name, code, seen) -> Step:
    """A registration as the HTML report draws a message (its key is its
    name: no FMIPv4 message has it)."""
    first = seen.first
    return Step(first.frame, first.time, name, name, code, seen.src,
                seen.dst, seen=[(o.vantage, o.frame, o.time)
                                for o in seen.observations])


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
        self.registrations = Registrations(self._move_opened,
                                           self._move_closed)
        self._fmip: dict = {}            # FMIPv4 handover seq -> [PCoA,
                                         # FBAck seen]

    def sighted(self, seen) -> None:
        """The SeenDatagram whose .datagram goes to the correlator next."""
        d = seen.datagram
        self.seen_of[id(d)] = (d, seen)
        self._order.append(d)          # (alive while here: its id is its)
        if len(self._order) > KEEP_SEEN:
            old = self._order.popleft()
            if self.seen_of.get(id(old), (None,))[0] is old:
                del self.seen_of[id(old)]
        self.registrations.seen(seen)

    def open_starts(self) -> list:
        """Start times of the handovers still open."""
        return [e[2].start for e in self._open_heap if not e[2].over]

    def message(self, obs) -> None:
        super().message(obs)
        ho = obs.handover
        if ho is None:
            return
        self._fast_handover(ho)
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

    def _fast_handover(self, ho) -> None:
        """Tell the registrations an FMIPv4 handover of ho.pcoa is under
        way, and where it took the MN once its FBAck is in (D25)."""
        state = self._fmip.get(ho.seq)
        if state is None:
            state = self._fmip[ho.seq] = [ho.pcoa, False]
            self.registrations.fmip_opened(ho.pcoa)
        if ho.ncoa is not None:
            self.registrations.fmip_ncoa(ho.ncoa, ho.end)
        if not state[1] and ho.fback is not None:
            state[1] = True
            self.registrations.fmip_closed(state[0], ho.ncoa or ho.nar)

    def handover_closed(self, ho) -> None:
        state = self._fmip.pop(ho.seq, None)
        if state is not None and not state[1]:
            self.registrations.fmip_closed(state[0], ho.ncoa or ho.nar)
        super().handover_closed(ho)

    def finish(self) -> None:
        self.registrations.finish()
        super().finish()

    # --- moves without a fast handover (D25) ------------------------------

    def _move_opened(self, move) -> None:
        """A move awaits its Reply: the records after it wait for it, as
        for an open handover (HandoverBuilder.release)."""
        self._open += 1
        heapq.heappush(self._open_heap, (move.frame, move.seq, move))

    def _move_closed(self, move) -> None:
        self._open -= 1
        if not move.dropped:
            heapq.heappush(self._ready, (move.frame, move.seq,
                                         self.baseline_record(move)))
        self.release()

    def baseline_record(self, move) -> HandoverRecord:
        """The record of a move without a fast handover (D25)."""
        names = P.REGISTRATION_NAMES
        messages = [(names[P.REGISTRATION_REQUEST], None, s)
                    for s in move.requests]
        if move.reply is not None:
            messages.append((names[P.REGISTRATION_REPLY], move.code,
                             move.reply))
        start, end = move.start, messages[-1][2].first.time
        outcome = ("incomplete" if move.reply is None else "completed"
                   if move.code in P.REGISTRATION_ACCEPTED else "rejected")
        latency = dict.fromkeys(LATENCY_KEYS)
        notes = []
        if move.reply is not None:
            latency["total"] = _ms(end - start)
            notes.append(f"Registration Request to Reply (Code "
                         f"{move.code}): {latency['total']:.3f} ms")
        frames = [s.first.frame for _, _, s in messages]
        foreign = move.foreign_agent
        record = HandoverRecord(
            file=self.file, mn=move.home, pcoa=move.home,
            ncoa=None if foreign else move.coa, par=move.agent,
            nar=move.coa if foreign else None, mode="baseline",
            initiated_by="mn", outcome=outcome, first_frame=frames[0],
            last_frame=frames[-1], frames=frames, start=start, end=end,
            latency_ms=latency, codes=dict.fromkeys(CODE_KEYS),
            findings={"errors": 0, "warnings": 0, "infos": 0},
            messages=len(messages), notes=notes,
            steps=[_step(name, code, s) for name, code, s in messages]
            if self.diagrams else [])
        saw = {o.vantage for _, _, s in messages for o in s.observations}
        record.vantage_points = [v for v in self.vantages if v in saw]
        record.observed = [self._message(record, name, code, s)
                           for name, code, s in messages]
        record.processing_ms = dict.fromkeys(PROCESSING_KEYS)
        return record

    # --- FMIPv4 handovers ---------------------------------------------------

    def record(self, ho) -> HandoverRecord:
        record = super().record(ho)
        messages = self.messages_of.pop(ho.seq, [])
        saw = {o.vantage for _, seen in messages for o in seen.observations}
        record.vantage_points = [v for v in self.vantages if v in saw]
        record.observed = [self._message(record, _NAMES[msg.key], msg.code,
                                         seen) for msg, seen in messages]
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

    def _message(self, record, name, code, seen) -> dict:
        obs = seen.observations
        role = self._destination_role(record, seen.dst)
        there = [v for v, r in self.roles.items() if r == role] if role else []
        lost_after = None
        if there and not any(o.vantage in there for o in obs):
            lost_after = obs[-1].vantage
        return {"type": name, "code": code, "src": seen.src,
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
