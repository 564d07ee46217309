"""IPv4 fragment reassembly (RFC 791 3.2, RFC 815) for UDP and ICMP.

A fragment set is keyed by identification, protocol, source and
destination (prefilter.fragment_key).  Coverage is kept as sorted disjoint
intervals, so a piece costs O(log n) plus a C-level list move whatever the
arrival order (issue: one FBU in 8,000 reversed fragments).  A set whose
first fragment shows other ports or another ICMP type cannot hold FMIPv4:
it is dropped at once and its key remembered (bounded), so the later
fragments of background traffic cost a dictionary lookup in the prefilter
and nothing here.

Sets expire in capture time (FRAGMENT_TIMEOUT) and the table is bounded
(FRAGMENT_MAX_SETS, FRAGMENT_MAX_OCTETS); a set dropped unfinished that may
have been FMIPv4 gives a capture note (fragment-not-reassembled).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import OrderedDict

from ..wire.ipv4 import inet_ntoa
from ..records import CaptureNote
from ..spec.rules import RULES_BY_NAME, say
from ..spec.numbers import IPPROTO_UDP
from .prefilter import NO_REPLIES, carries_fmip

FRAGMENT_TIMEOUT = 30.0        # seconds of capture time
FRAGMENT_MAX_SETS = 4096       # fragment sets kept at once
FRAGMENT_MAX_OCTETS = 32 << 20  # octets kept in fragment sets at once
REJECTED_MAX = 16384           # keys of rejected sets remembered (FIFO)
RULE_FRAGMENTS = RULES_BY_NAME["fragment-not-reassembled"].id


class FragmentSet:
    __slots__ = ("first_time", "time", "frames", "pieces", "total", "first",
                 "octets", "clipped", "starts", "ends")

    def __init__(self, time: float):
        self.first_time = time
        self.time = time
        self.frames: list[int] = []
        self.pieces: list[tuple[int, bytes]] = []
        self.total: int | None = None     # payload length, once MF=0 is seen
        self.first: bytes | None = None   # start of the offset-0 fragment
        self.octets = 0
        self.clipped = False
        self.starts: list[int] = []       # covered intervals, sorted, disjoint
        self.ends: list[int] = []

    def cover(self, lo: int, hi: int) -> None:
        starts, ends = self.starts, self.ends
        i = bisect_left(ends, lo)         # the first interval reaching lo
        j = bisect_right(starts, hi)      # past the last one starting by hi
        if i < j:
            lo, hi = min(lo, starts[i]), max(hi, ends[j - 1])
        starts[i:j] = [lo]
        ends[i:j] = [hi]

    def complete(self) -> bool:
        return (self.total is not None and not self.clipped
                and len(self.starts) == 1 and self.starts[0] == 0
                and self.ends[0] >= self.total)

    def body(self) -> bytes:
        body = bytearray(self.total)
        for start, part in self.pieces:           # later copies win
            body[start:start + len(part)] = part[:max(0, self.total - start)]
        return bytes(body)


class Reassembler:
    """The fragment table of one capture."""

    def __init__(self):
        # OrderedDicts: the oldest entry in O(1) (a plain dict's first key
        # costs a scan over the holes its deletions leave at the front)
        self.sets: OrderedDict[tuple, FragmentSet] = OrderedDict()
        # decision D16: ports of replies awaited from other ports than 434
        # (the checker's correlator fills it; the prefilter reads it)
        self.replies: set[int] = set()
        self.octets = 0
        self.rejected: OrderedDict[tuple, None] = OrderedDict()   # FIFO

    def reject(self, key: tuple) -> None:
        """A first fragment showed no FMIPv4: forget the set, ignore the
        rest of it (both paths call this for the same fragments)."""
        sets = self.sets
        if sets and key in sets:
            self.octets -= sets.pop(key).octets
        rejected = self.rejected
        if key in rejected:
            rejected.move_to_end(key)
        else:             # the usual case, with fragmented background
            rejected[key] = None
            if len(rejected) > REJECTED_MAX:
                rejected.popitem(last=False)

    def add(self, frame: int, time: float, key: tuple, offset: int,
            piece: bytes, length: int, more: bool) -> tuple[list, object]:
        """Take one fragment (piece: its captured payload, length: the
        payload length from the IP header).  Returns (notes of sets dropped
        meanwhile, the completed FragmentSet or None)."""
        if offset == 0:
            if carries_fmip(key[1], piece, 0, len(piece),
                            self.replies) is False:
                self.reject(key)
                return [], None
            self.rejected.pop(key, None)
        elif key in self.rejected:
            return [], None
        notes = self._expire(time)
        entry = self.sets.get(key)
        if entry is None:
            entry = self.sets[key] = FragmentSet(time)
        entry.frames.append(frame)
        entry.time = time
        if len(piece) < length:
            entry.clipped = True
        entry.pieces.append((offset, piece))
        entry.cover(offset, offset + len(piece))
        entry.octets += len(piece)
        self.octets += len(piece)
        if offset == 0:
            entry.first = piece[:8]      # UDP header / ICMP type
        if not more:
            entry.total = offset + length
        if not entry.complete():
            return notes, None
        del self.sets[key]
        self.octets -= entry.octets
        return notes, entry

    def _expire(self, time: float) -> list:
        """Drop sets older than the timeout, or the oldest while the table
        is over its bounds; only when a fragment is stored and at the end,
        so that both paths see the same points in time."""
        notes = []
        sets = self.sets
        limit = time - FRAGMENT_TIMEOUT
        while sets:
            key = next(iter(sets))
            old = sets[key]
            if (old.first_time >= limit and len(sets) < FRAGMENT_MAX_SETS
                    and self.octets <= FRAGMENT_MAX_OCTETS):
                break
            del sets[key]
            self.octets -= old.octets
            reason = ("expired after 30 s" if old.first_time < limit
                      else "fragment table full")
            note = incomplete_note(key, old, reason, self.replies)
            if note is not None:
                notes.append(note)
        return notes

    def flush(self) -> list:
        """Notes for the sets still open when the capture ends."""
        notes = []
        for key, entry in self.sets.items():
            note = incomplete_note(key, entry, "capture ends before its last "
                                   "fragment", self.replies)
            if note is not None:
                notes.append(note)
        self.sets.clear()
        self.octets = 0
        return notes


def incomplete_note(key: tuple, entry: FragmentSet, reason: str,
                    replies=NO_REPLIES) -> CaptureNote | None:
    ident, proto, addrs = key
    name = "UDP" if proto == IPPROTO_UDP else "ICMP"
    first = entry.first
    what = ""
    if first is not None:
        if carries_fmip(proto, first, 0, len(first), replies) is False:
            return None
        what = "UDP port 434" if proto == IPPROTO_UDP else "ICMP type 41"
    frames = ", ".join(str(f) for f in entry.frames)
    clipped = "; a fragment was clipped by the snap length" if entry.clipped else ""
    return CaptureNote(
        entry.frames[-1], entry.time, RULE_FRAGMENTS, say(
            RULE_FRAGMENTS,
            variant="first-seen" if first is not None else "first-unseen",
            proto=name, src=inet_ntoa(addrs[:4]), dst=inet_ntoa(addrs[4:]),
            ident=f"0x{ident:04x}", frames=frames, reason=reason, what=what,
            clipped=clipped))
