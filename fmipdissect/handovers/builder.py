"""Handover records from the correlator's events (decision D13).

HandoverBuilder subscribes to the correlator (fmipdissect/correlate/),
which decides which handover each message belongs to, and to the checker's
findings (each with its handover).  It keeps what a record shows beyond the
correlator's state (the frames, the ladder diagram's steps, the finding
counts) and hands out a HandoverRecord as soon as its handover is over, in
order of first frames: a record waits only while an earlier handover is
still open (at most REORDER_CAP wait).
"""

from __future__ import annotations

import heapq
from collections import OrderedDict

from ..correlate import Subscriber
from ..spec import protocol as P
from .records import HandoverRecord, Step

FRAMES_PER_HANDOVER = 1000    # frame numbers kept per record (messages counts all)
STEPS_PER_HANDOVER = 100      # messages kept for the ladder diagram
FINDINGS_PER_STEP = 100       # findings a step of the diagram names
RECENT_FRAMES = 256           # frames whose reader notes wait for their message
REORDER_CAP = 10_000          # closed records waiting for an earlier open one
_NAMES = {m.key: m.abbrev for m in P.MESSAGES}
_REFUSED = P.FBACK_CODE_REFUSED_MIN


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000.0, 3)


class Drawn:
    """What a record shows of a handover beyond the correlator's state."""
    __slots__ = ("frames", "steps", "steps_dropped", "errors", "warnings",
                 "infos")

    def __init__(self, draw: bool):
        self.frames = []
        self.steps = [] if draw else None     # None: no diagram wanted
        self.steps_dropped = 0
        self.errors = self.warnings = self.infos = 0

    def add(self, obs, note) -> None:
        dgram, msg = obs.dgram, obs.msg
        if len(self.frames) < FRAMES_PER_HANDOVER:
            self.frames.append(dgram.frame)
        steps = self.steps
        if steps is None:
            return
        if len(steps) < STEPS_PER_HANDOVER:
            steps.append(Step(dgram.frame, dgram.time, msg.key,
                              _NAMES[msg.key], msg.code, dgram.src,
                              dgram.dst, note))
        else:
            self.steps_dropped += 1

    def finding(self, f) -> None:
        severity = f.severity
        if severity == "error":
            self.errors += 1
        elif severity == "warning":
            self.warnings += 1
        else:
            self.infos += 1
        # a finding about a request comes later, on the request's frame
        for step in reversed(self.steps or ()):
            if step.frame == f.frame:
                if len(step.findings) < FINDINGS_PER_STEP:
                    step.findings.append((f.rule, f.severity, f.message))
                break


def record_of(ho, drawn: Drawn, file) -> HandoverRecord:
    fback = ho.fback
    outcome = ("incomplete" if fback is None else
               "rejected" if fback >= _REFUSED else "completed")
    total = ho.end - ho.start
    if total < 0:
        ho.note(f"total latency not computed: the last message (frame "
                f"{ho.last_frame}) is stamped {-total * 1000.0:.3f} ms "
                f"before the first (frame {ho.first_frame})")
        total = None
    return HandoverRecord(
        file=file, mn=ho.pcoa, pcoa=ho.pcoa, ncoa=ho.ncoa,
        par=ho.par, nar=ho.nar, mode=ho.mode,
        initiated_by="network" if ho.network else "mn",
        outcome=outcome, first_frame=ho.first_frame,
        last_frame=ho.last_frame, frames=drawn.frames,
        start=ho.start, end=ho.end,
        latency_ms={"rtsolpr_prrtadv": _ms(ho.lat_rt),
                    "hi_hack": _ms(ho.lat_hi),
                    "fbu_fback": _ms(ho.lat_fbu), "total": _ms(total)},
        codes={"prrtadv": ho.code_prrtadv, "hi": ho.code_hi,
               "hack": ho.code_hack, "fback": fback},
        findings={"errors": drawn.errors, "warnings": drawn.warnings,
                  "infos": drawn.infos},
        messages=ho.messages, notes=list(ho.notes or ()),
        steps=drawn.steps or [], steps_dropped=drawn.steps_dropped)


class HandoverBuilder(Subscriber):
    """Subscribe it to the correlator and pass it every finding
    (finding(f, handover)); then finish().  Each record goes to emit() as
    soon as it can, in order of first frames."""

    def __init__(self, file: str, diagrams: int = 0, emit=None):
        self.file = file
        self.emit = emit
        self.diagrams = diagrams       # keep the steps of the first N
        self.pending: OrderedDict[int, list] = OrderedDict()   # reader notes
        self._open_heap: list = []     # (first_frame, seq, handover)
        self._ready: list = []         # (first_frame, seq, record)
        self._open = 0

    # --- correlator events -----------------------------------------------

    def handover_opened(self, ho) -> None:
        ho.data = Drawn(ho.seq <= self.diagrams)
        self._open += 1
        heapq.heappush(self._open_heap, (ho.first_frame, ho.seq, ho))

    def message(self, obs) -> None:
        ho = obs.handover
        if ho is None:
            return
        drawn = ho.data
        drawn.add(obs, "forwarded" if obs.role == "forwarded" else "")
        if self.pending:
            for f in self.pending.pop(obs.dgram.frame, ()):
                drawn.finding(f)

    def handover_closed(self, ho) -> None:
        self._open -= 1
        heap = self._open_heap
        if len(heap) > 2 * self._open + 1024:     # drop closed ones: O(1)
            heap[:] = [e for e in heap if not e[2].over]   # amortised
            heapq.heapify(heap)
        heapq.heappush(self._ready, (ho.first_frame, ho.seq, self.record(ho)))
        ho.data = None
        self.release()     # a record goes out as soon as its turn comes

    def record(self, ho) -> HandoverRecord:
        """The record of a handover that is over."""
        return record_of(ho, ho.data, self.file)

    # --- findings ----------------------------------------------------------

    def finding(self, f, ho) -> None:
        """Count a finding for its handover.  A reader note (FM9xx) has
        none: it comes before its frame's message and waits for it."""
        if ho is not None:
            if not ho.over:
                ho.data.finding(f)
            return
        pending = self.pending
        pending.setdefault(f.frame, []).append(f)
        if len(pending) > RECENT_FRAMES:
            pending.popitem(last=False)

    def release(self, final: bool = False) -> None:
        """emit() the records whose handovers are over, by first frame, once
        no earlier handover is still open (or the buffer is over its cap)."""
        heap, ready, emit = self._open_heap, self._ready, self.emit
        while heap and heap[0][2].over:
            heapq.heappop(heap)
        while ready and (final or not heap or ready[0][0] < heap[0][0]
                         or len(ready) > REORDER_CAP):
            emit(heapq.heappop(ready)[2])

    def finish(self) -> None:
        """After the correlator's finish(): emit the rest."""
        self.pending.clear()
        self.release(final=True)
