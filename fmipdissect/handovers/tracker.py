"""Which handover each FMIPv4 message belongs to (decision D13).

The tracker is fed every message fmip-lint's engine checks (the engine's
on_message hook, in capture order) and the findings the engine yields, and
hands out a HandoverRecord as soon as its handover is over.  A handover is
keyed by the MN's PCoA (decision D9) and is *open* until it is over:

* An RtSolPr from the PCoA, a PrRtAdv to it (not to a group address), an FBU
  with it as Home Address or an HI with it in the PCoA option joins the open
  handover of that PCoA, or begins a new one when there is none or the open
  one is *decided*: an FBAck answering one of its FBUs was seen.
* Once decided, a handover still takes: FBAcks of its FBUs (the copies to
  NAR and from NAR to the MN, decision D8), its FBUs sent again with the same
  Identification (the forwarded copy, decision D7), and, after a completed
  predictive handover, the FBU the MN sends again from the new link (to NAR,
  with the same Care-of Address, RFC 4988 4) with what follows it (the
  forwarded FBU, HI, HAck, FBAcks).  Anything else about the PCoA begins the
  next handover: a retry after a rejection is a handover of its own.
* FBAck and HAck never begin a handover.  An FBAck joins the handover (the
  open one or the one before it) holding its Identification, else the open
  one; a HAck joins the handover of the HI it answers (PAR, NAR and
  Identifier, decision D9).  A message about no handover belongs to none.
* A handover is over when the next one of its PCoA begins and that one is
  over too (so late FBAck copies still find it), or when no message about
  the PCoA came for the checker's expiry time (EXPIRY_SECONDS), or at the
  end of the capture.

Latencies (milliseconds between capture timestamps): the first RtSolPr of
the handover to the first PrRtAdv answering one of its RtSolPrs (same MN
address and Identifier, solicited Code), the first HI to the first HAck
answering one of its HIs, the first FBU to the first FBAck answering one of
its FBUs (retransmissions included: the time the MN waited), and total from
its first to its last message.  Memory: the tables expire like fmip-lint's
session state (lint/session.py) and are capped (MAX_OPEN PCoAs with open
handovers, the least recently active closed first, its record handed out
as it stands); records are released in order of their first frame once no
earlier handover is still open (at most REORDER_CAP wait).
"""

from __future__ import annotations

import heapq
from collections import OrderedDict

from ..lint.session import EXPIRY_SECONDS, SWEEP_INTERVAL
from ..lint.state import (FORWARDED, PREDICTIVE, REACTIVE, classify_fbu,
                          is_group, pop_expired)
from ..spec import protocol as P
from ..spec import rules as R
from .records import HandoverRecord, Step

FRAMES_PER_HANDOVER = 1000    # frame numbers kept per record (messages counts all)
STEPS_PER_HANDOVER = 100      # messages kept for the ladder diagram
KEYS_PER_HANDOVER = 8         # FBU Identifications, RtSolPr and HI keys kept
RECENT_FRAMES = 256           # frames whose reader notes wait for their message
REORDER_CAP = 10_000          # closed records waiting for an earlier open one
MAX_OPEN = 8_192             # PCoAs with open handovers (oldest closed first)
FBACK_REJECTED = 128          # RFC 4988 5.2: Code 128 and above refuse the FBU
NETWORK_TRIGGER = 1           # PrRtAdv Code 1: network-initiated (RFC 4988 5.4)
_NAMES = {m.key: m.abbrev for m in P.MESSAGES}
_MODE = {PREDICTIVE: "predictive", REACTIVE: "reactive",
         FORWARDED: "reactive", None: "unknown"}
_CLOCK_BACK = SWEEP_INTERVAL + EXPIRY_SECONDS


class OpenHandover:
    """A handover being built; becomes a HandoverRecord when over."""
    __slots__ = ("pcoa", "seq", "par", "nar", "ncoa", "mode", "network",
                 "first_frame", "last_frame", "frames", "start", "end",
                 "messages", "errors", "warnings", "infos", "steps",
                 "steps_dropped", "idents", "rtsolprs", "his", "rt_first",
                 "hi_first", "fbu_first", "lat_rt", "lat_hi", "lat_fbu",
                 "code_prrtadv", "code_hi", "code_hack", "fback", "fbu_coa",
                 "resumed", "over")

    def __init__(self, pcoa, seq, frame, now, draw):
        self.pcoa = pcoa
        self.seq = seq
        self.par = self.nar = self.ncoa = None
        self.mode = None               # "predictive" | "reactive" | "unknown"
        self.network = False
        self.first_frame = self.last_frame = frame
        self.frames = []
        self.start = self.end = now
        self.messages = 0
        self.errors = self.warnings = self.infos = 0
        self.steps = [] if draw else None     # None: no diagram wanted
        self.steps_dropped = 0
        # small ordered sets (dicts), created when first needed (memory)
        self.idents = _EMPTY           # FBU Identifications
        self.rtsolprs = _EMPTY         # RtSolPr Identifiers
        self.his = _EMPTY              # (PAR, NAR, Identifier)
        self.rt_first = self.hi_first = self.fbu_first = None
        self.lat_rt = self.lat_hi = self.lat_fbu = None
        self.code_prrtadv = self.code_hi = self.code_hack = None
        self.fback = None              # Code of the FBAck that decided it
        self.fbu_coa = None            # Care-of Address of its first FBU
        self.resumed = False           # FBU again from the new link
        self.over = False

    @property
    def decided(self) -> bool:
        return self.fback is not None

    def add(self, msg, dgram, note=""):
        frame, now = dgram.frame, dgram.time
        self.messages += 1
        if len(self.frames) < FRAMES_PER_HANDOVER:
            self.frames.append(frame)
        self.last_frame = frame
        self.end = now
        steps = self.steps
        if steps is None:
            return
        if len(steps) < STEPS_PER_HANDOVER:
            steps.append(Step(frame, now, msg.key, _NAMES[msg.key],
                                   msg.code, dgram.src, dgram.dst, note))
        else:
            self.steps_dropped += 1

    def finding(self, f):
        severity = f.severity
        if severity == "error":
            self.errors += 1
        elif severity == "warning":
            self.warnings += 1
        else:
            self.infos += 1
        for step in reversed(self.steps or ()):
            if step.frame == f.frame:
                step.findings.append((f.rule, f.severity, f.message))
                break

    def record(self, file) -> HandoverRecord:
        ms = _ms
        fback = self.fback
        outcome = ("incomplete" if fback is None else
                   "rejected" if fback >= FBACK_REJECTED else "completed")
        return HandoverRecord(
            file=file, mn=self.pcoa, pcoa=self.pcoa, ncoa=self.ncoa,
            par=self.par, nar=self.nar, mode=self.mode or "unknown",
            initiated_by="network" if self.network else "mn",
            outcome=outcome, first_frame=self.first_frame,
            last_frame=self.last_frame, frames=self.frames,
            start=self.start, end=self.end,
            latency_ms={"rtsolpr_prrtadv": ms(self.lat_rt),
                        "hi_hack": ms(self.lat_hi),
                        "fbu_fback": ms(self.lat_fbu),
                        "total": ms(self.end - self.start)},
            codes={"prrtadv": self.code_prrtadv, "hi": self.code_hi,
                   "hack": self.code_hack, "fback": fback},
            findings={"errors": self.errors, "warnings": self.warnings,
                      "infos": self.infos},
            messages=self.messages, steps=self.steps or [],
            steps_dropped=self.steps_dropped)


def _ms(seconds):
    return None if seconds is None else round(seconds * 1000.0, 3)


_EMPTY: dict = {}    # shared, never written: _remember replaces it


def _remember(table: dict, key) -> dict:
    """table with key added, capped at KEYS_PER_HANDOVER (oldest dropped
    first); assign the result back (the first key creates the dict)."""
    if key not in table:
        if table is _EMPTY:
            return {key: None}
        table[key] = None
        if len(table) > KEYS_PER_HANDOVER:
            del table[next(iter(table))]
    return table


def _addr_option(msg, code):
    for e in msg.elements:
        if e.kind == "ipv4addr" and e.code == code and e.addr is not None:
            return e.addr
    return None


class _Slot:
    """The handovers of one PCoA: the open one and the one before it."""
    __slots__ = ("current", "previous", "last")

    def __init__(self, current, now):
        self.current = current
        self.previous = None
        self.last = now


class _HiRef:
    __slots__ = ("handover", "last")

    def __init__(self, handover, now):
        self.handover = handover
        self.last = now


class HandoverTracker:
    """observe() every message, finding() every finding, then finish();
    each record goes to emit() as soon as it can (in order)."""

    def __init__(self, file: str, diagrams: int = 0, emit=None):
        self.file = file
        self.emit = emit               # called with each record, in order
        self.diagrams = diagrams       # keep the steps of the first N
        self.slots: OrderedDict[str, _Slot] = OrderedDict()
        self.his: OrderedDict[tuple, _HiRef] = OrderedDict()
        self._frame = 0                # the latest message's frame
        self._current = None           # and its handover
        self.pending: OrderedDict[int, list] = OrderedDict()  # findings first
        self._open_heap: list = []     # (first_frame, seq, handover)
        self._ready: list = []         # (first_frame, seq, record)
        self._seq = 0
        self._open = 0                 # handovers not over
        self._next_sweep = float("-inf")
        self.capped = 0                # handovers closed early by the cap
        self._handlers = {"fbu": self._fbu, "fback": self._fback,
                          "rtsolpr": self._rtsolpr, "prrtadv": self._prrtadv,
                          "hi": self._hi, "hack": self._hack}

    # --- entry points ----------------------------------------------------

    def observe(self, msg, dgram) -> None:
        now = dgram.time
        if now >= self._next_sweep or now < self._next_sweep - _CLOCK_BACK:
            # (second test: the clock went back, as in lint/session.py)
            if self._next_sweep != float("-inf"):
                self._expire(now)
            self._next_sweep = now + SWEEP_INTERVAL
        frame = dgram.frame
        self._frame = frame
        if msg.problems and msg.problems[0].rule == R.TRUNCATED_MESSAGE:
            self._current = None
            return          # fixed header cut: nothing reliable to place it by
        ho = self._current = self._handlers[msg.key](msg, dgram, now)
        if ho is not None and self.pending:
            for f in self.pending.pop(frame, ()):
                ho.finding(f)
        if self._ready:
            self.release()

    def finding(self, f) -> None:
        """Count a finding for the handover its frame belongs to.  The
        engine yields a message's findings right after the message; a
        reader note (FM9xx) comes before its frame's message."""
        if f.frame == self._frame:
            ho = self._current
            if ho is not None and not ho.over:
                ho.finding(f)
            return
        pending = self.pending
        pending.setdefault(f.frame, []).append(f)
        if len(pending) > RECENT_FRAMES:
            pending.popitem(last=False)

    def finish(self) -> None:
        """The capture ended: every handover is over; emit the rest."""
        for slot in self.slots.values():
            self._close_slot(slot)
        self.slots.clear()
        self.his.clear()
        self.pending.clear()
        self.release(final=True)

    def release(self, final: bool = False) -> None:
        """emit() the records whose handovers are over, by first frame, once
        no earlier handover is still open (or the buffer is over its cap)."""
        heap, ready, emit = self._open_heap, self._ready, self.emit
        while heap and heap[0][2].over:
            heapq.heappop(heap)
        while ready and (final or not heap or ready[0][0] < heap[0][0]
                         or len(ready) > REORDER_CAP):
            emit(heapq.heappop(ready)[2])

    # --- bookkeeping -------------------------------------------------------

    def _close(self, ho) -> None:
        if ho is not None and not ho.over:
            ho.over = True
            self._open -= 1
            heap = self._open_heap
            if len(heap) > 2 * self._open + 1024:   # drop closed ones: O(1)
                heap[:] = [e for e in heap if not e[2].over]   # amortised
                heapq.heapify(heap)
            heapq.heappush(self._ready, (ho.first_frame, ho.seq,
                                         ho.record(self.file)))

    def _close_slot(self, slot) -> None:
        self._close(slot.previous)
        self._close(slot.current)

    def _expire(self, now) -> None:
        horizon = now - EXPIRY_SECONDS
        future = now + EXPIRY_SECONDS
        for _, slot in pop_expired(self.slots, horizon, now, future):
            self._close_slot(slot)
        for _ in pop_expired(self.his, horizon, now, future):
            pass

    def _begin(self, pcoa, dgram, now) -> OpenHandover:
        self._seq += 1
        ho = OpenHandover(pcoa, self._seq, dgram.frame, now,
                          self._seq <= self.diagrams)
        self._open += 1
        heapq.heappush(self._open_heap, (ho.first_frame, ho.seq, ho))
        slot = self.slots.get(pcoa)
        if slot is None:
            self.slots[pcoa] = _Slot(ho, now)
            if len(self.slots) > MAX_OPEN:         # oldest PCoA closed early
                _, old = self.slots.popitem(last=False)
                self._close_slot(old)
                self.capped += 1
        else:
            self._close(slot.previous)
            slot.previous = slot.current
            slot.current = ho
            self._touch(pcoa, slot, now)
        return ho

    def _touch(self, pcoa, slot, now) -> None:
        slot.last = now
        self.slots.move_to_end(pcoa)

    def _join_or_begin(self, pcoa, dgram, now, joins) -> OpenHandover:
        slot = self.slots.get(pcoa)
        if slot is not None and joins(slot.current):
            self._touch(pcoa, slot, now)
            return slot.current
        return self._begin(pcoa, dgram, now)

    # --- messages ------------------------------------------------------------

    def _rtsolpr(self, msg, dgram, now):
        ho = self._join_or_begin(dgram.src, dgram, now, _undecided)
        ho.add(msg, dgram)
        ho.rtsolprs = _remember(ho.rtsolprs, msg.identifier)
        if ho.rt_first is None:
            ho.rt_first = now
        if ho.par is None:
            ho.par = dgram.dst
        return ho

    def _prrtadv(self, msg, dgram, now):
        dst = dgram.dst
        if is_group(dst):
            return None
        ho = self._join_or_begin(dst, dgram, now, _undecided)
        if ho.messages == 0 and msg.code == NETWORK_TRIGGER:
            ho.network = True      # decision D13: begun by the network
        ho.add(msg, dgram)
        if ho.code_prrtadv is None:
            ho.code_prrtadv = msg.code
        if (ho.lat_rt is None and msg.code not in P.PRRTADV_UNSOLICITED
                and msg.identifier in ho.rtsolprs):
            ho.lat_rt = now - ho.rt_first
        if ho.par is None:
            ho.par = dgram.src
        if ho.nar is None:
            ho.nar = _addr_option(msg, P.ADDR_NAR_IP)
        if ho.ncoa is None:
            ho.ncoa = _addr_option(msg, P.ADDR_NCOA)
        return ho

    def _holding(self, pcoa, ident):
        """The open handover of pcoa or the one before it with an FBU of
        this Identification, else None; and the slot."""
        slot = self.slots.get(pcoa)
        if slot is None:
            return None, None
        for ho in (slot.current, slot.previous):
            if ho is not None and not ho.over and ident in ho.idents:
                return ho, slot
        return None, slot

    def _fbu(self, msg, dgram, now):
        pcoa = msg.homeaddr
        if pcoa is None:
            return None
        role = classify_fbu(dgram.src, dgram.dst, msg)
        ho, slot = self._holding(pcoa, msg.ident)
        if ho is not None:
            self._touch(pcoa, slot, now)
            if ho.decided:
                ho.resumed = True          # the same FBU again, RFC 4988 4
        else:
            current = slot.current if slot is not None else None
            if current is not None and _resumes(current, role, msg):
                current.resumed = True
            ho = self._join_or_begin(pcoa, dgram, now, _undecided_or_resumed)
        ho.add(msg, dgram, "forwarded" if role == FORWARDED else "")
        ho.idents = _remember(ho.idents, msg.ident)
        if ho.fbu_first is None:
            ho.fbu_first = now
            ho.fbu_coa = msg.coa
            ho.mode = _MODE[role]
        if ho.par is None:
            ho.par = msg.haaddr
        if ho.nar is None and role != FORWARDED:
            ho.nar = msg.coa           # RFC 4988 5.1, 7: NAR's IP address
        return ho

    def _fback(self, msg, dgram, now):
        pcoa = msg.homeaddr
        if pcoa is None:
            return None
        ho, slot = self._holding(pcoa, msg.ident)
        if ho is None:
            if slot is None or slot.current.over:
                return None
            ho = slot.current          # an Identification of no FBU (identification mismatch)
        elif ho.fback is None:
            ho.fback = msg.code        # decision D13: decides the outcome
            ho.lat_fbu = now - ho.fbu_first
        else:
            ho.resumed = False         # the FBU from the new link answered
        self._touch(pcoa, slot, now)
        ho.add(msg, dgram)
        if ho.ncoa is None:
            ho.ncoa = _addr_option(msg, P.ADDR_NCOA)
        return ho

    def _hi(self, msg, dgram, now):
        pcoa = _addr_option(msg, P.ADDR_PCOA)
        if pcoa is None:
            return None
        ho = self._join_or_begin(pcoa, dgram, now, _undecided_or_resumed)
        ho.add(msg, dgram)
        key = (dgram.src, dgram.dst, msg.identifier)
        ho.his = _remember(ho.his, key)
        ref = self.his.get(key)
        if ref is None:
            self.his[key] = _HiRef(ho, now)
            if len(self.his) > MAX_OPEN:
                self.his.popitem(last=False)
        else:
            ref.handover, ref.last = ho, now
            self.his.move_to_end(key)
        if ho.hi_first is None:
            ho.hi_first = now
            ho.code_hi = msg.code
            ho.par, ho.nar = dgram.src, dgram.dst   # the routers themselves
        return ho

    def _hack(self, msg, dgram, now):
        key = (dgram.dst, dgram.src, msg.identifier)
        ref = self.his.get(key)
        if ref is None or ref.handover.over:
            return None
        ho = ref.handover
        slot = self.slots.get(ho.pcoa)
        if slot is not None:
            self._touch(ho.pcoa, slot, now)
        ho.add(msg, dgram)
        if ho.code_hack is None:
            ho.code_hack = msg.code
        if ho.lat_hi is None and key in ho.his:
            ho.lat_hi = now - ho.hi_first
        if ho.ncoa is None:
            ho.ncoa = _addr_option(msg, P.ADDR_NCOA)
        return ho


def _undecided(ho) -> bool:
    return not ho.over and ho.fback is None


def _undecided_or_resumed(ho) -> bool:
    return not ho.over and (ho.fback is None or ho.resumed)


def _resumes(ho, role, msg) -> bool:
    """After a completed predictive handover, the MN's FBU from the new link
    (to NAR, or NAR's forwarded copy) for the same NAR (RFC 4988 4)."""
    return (not ho.over and ho.fback is not None
            and ho.fback < FBACK_REJECTED and ho.mode == "predictive"
            and role in (REACTIVE, FORWARDED) and msg.coa == ho.fbu_coa)
