"""Several captures of one network as one stream of datagrams.

Two passes over the capture files (decisions D18, D19):

1. first_pass() merges the captures by their own time stamps (a heap over
   the readers) and recognises the same datagram in several of them by its
   identity (capture/sightings.py, D18) within FIRST_WINDOW seconds, wide
   enough for clocks up to FIRST_WINDOW / 2 apart.  What they saw in common
   goes to the clock estimate (clocks.py, D19); the FMIPv4 messages name
   the mobile nodes' addresses and which capture is whose (roles).
2. MergedStream merges them again on the reference clock and hands on each
   datagram once, as a correlate.observed.SeenDatagram with an Observation
   per sighting, in order of first sighting, MATCH_WINDOW seconds after it
   (time for its other sightings to come).

Memory is bounded by the windows (and at most MAX_PENDING datagrams in
each), never by the captures' length.
"""

from __future__ import annotations

import heapq
from collections import deque

from ..capture.reader import CaptureReader
from ..capture.sightings import SightingReader, sample_hash
from ..records import CaptureNote, Datagram
from ..wire import testflow
from ..wire.ipv4 import inet_ntoa
from .clocks import ClockEstimator
from .observed import Observation, SeenDatagram
from .roles import Roles

FIRST_WINDOW = 10.0      # s: pass 1 matches clocks up to 5 s apart
MATCH_WINDOW = 2.0       # s on the reference clock: path delay + buffering
MAX_PENDING = 200_000    # datagrams waiting for their other sightings
FULL_SIGHTINGS = 10_000  # pass 1 takes every datagram up to this many ...
SAMPLE = 8               # ... then one in SAMPLE (by sample_hash, D19)


def by_time(readers, clocks=None):
    """(time, vantage index, item) of every reader's items in time order
    (each reader in its own order), times through clocks[i].align when
    clocks are given.  Items: Sightings and CaptureNotes."""
    heap = []
    iters = [iter(r) for r in readers]

    def push(i):
        for item in iters[i]:
            t = item[0] if item.__class__ is not CaptureNote else item.time
            if clocks is not None:
                t = clocks[i].align(t)
            heapq.heappush(heap, (t, i, item))
            return

    for i in range(len(iters)):
        push(i)
    pop = heapq.heappop
    while heap:
        t, i, item = pop(heap)
        yield t, i, item
        push(i)


def open_readers(paths, names, replies=None, addresses=None) -> list:
    readers = []
    try:
        for path, name in zip(paths, names):
            readers.append(SightingReader(path, name=name, replies=replies,
                                          addresses=addresses))
    except BaseException:
        for r in readers:
            r.close()
        raise
    return readers


class FirstPass:
    """Pass 1: the clock estimate, the MN addresses, the roles' votes."""

    def __init__(self, paths, names, lla_length: int):
        self.paths, self.names = paths, names
        self.estimator = ClockEstimator(len(paths))
        self.roles = Roles(names, lla_length)
        self.frames = [0] * len(paths)

    def run(self) -> None:
        self.learn_addresses()
        readers = open_readers(self.paths, self.names,
                               addresses=self.roles.addresses)
        pending: dict = {}
        order: deque = deque()
        sample, count = 1, 0
        try:
            for t, i, item in by_time(readers):
                if item.__class__ is CaptureNote:
                    continue
                key = item[2]
                count += 1
                if count == FULL_SIGHTINGS:
                    sample = SAMPLE
                    for r in readers:
                        r.sample = SAMPLE
                if sample > 1 and sample_hash(*key[:3]) % sample:
                    continue
                entry = pending.get(key)
                copy = (i, item[3], item[4])      # vantage, TTL, tunnel
                if entry is None:
                    pending[key] = [item, [[i, t, t]], {copy}]
                    order.append((t, key))
                    while order and (order[0][0] < t - FIRST_WINDOW
                                     or len(order) > MAX_PENDING):
                        self._done(pending.pop(order.popleft()[1]))
                    continue
                if copy in entry[2]:
                    # sent again within the window: which copy another
                    # capture saw is not known, so it bounds nothing (D19)
                    entry[1] = None
                if entry[1] is None:
                    continue
                entry[2].add(copy)
                for seen in entry[1]:
                    if seen[0] == i:
                        seen[2] = t
                        break
                else:
                    entry[1].append([i, t, t])
            while order:
                self._done(pending.pop(order.popleft()[1]))
        finally:
            for n, r in enumerate(readers):
                self.frames[n] = r.frames
                r.close()

    def learn_addresses(self) -> None:
        """Pass 0: the addresses the FMIPv4 messages name, read by the
        FMIPv4 reader's fast path; the sieve of the next passes keeps the
        traffic from and to them (decision D18)."""
        learn = self.roles.learn
        for path, name in zip(self.paths, self.names):
            with CaptureReader(path, name=name) as reader:
                for item in reader:
                    if item.__class__ is Datagram:
                        learn(item)

    def _done(self, entry) -> None:
        item, seen, _ = entry
        if seen is None:
            return
        if len(seen) > 1:
            self.estimator.add(item[2][0], seen)
        if item[9] or (item[7] is not None and item[7][0] in (
                testflow.FLOW_DOWN, testflow.FLOW_UP)):
            self.roles.sighted(item, seen)


class MergedStream:
    """Pass 2: iterate SeenDatagrams (and the captures' notes) on the
    reference clock.  keep(addrs8) says which non-FMIPv4 datagrams are
    wanted (by their source and destination octets); None: all.
    addresses: the readers' sieve (SightingReader), None: none."""

    def __init__(self, paths, names, clocks, replies=None, keep=None,
                 window: float = MATCH_WINDOW, addresses=None):
        self.names = names
        self.clocks = clocks
        self.keep = keep
        self.window = window
        self.readers = open_readers(paths, names, replies, addresses)
        self.time = None          # the stream's time: the last sighting's

    @property
    def frames(self) -> int:
        return sum(r.frames for r in self.readers)

    @property
    def size(self):
        return sum(r.size or 0 for r in self.readers)

    @property
    def bytes_read(self) -> int:
        return sum(r.bytes_read for r in self.readers)

    def close(self) -> None:
        for r in self.readers:
            r.close()

    def __iter__(self):
        pending: dict = {}
        order: deque = deque()
        names, keep, window = self.names, self.keep, self.window
        for t, i, item in by_time(self.readers, self.clocks):
            self.time = t
            if item.__class__ is CaptureNote:
                yield item
                continue
            while order and (order[0][0] < t - window
                             or len(order) > MAX_PENDING):
                yield _finish(pending, order.popleft())
            key = item[2]
            entry = pending.get(key)
            obs = Observation(names[i], item[1], t, item[4])
            # the same capture, TTL and tunnel again: not a router's other
            # copy but the datagram sent again, a datagram of its own (D18)
            copy = (i, item[3], item[4])
            if entry is not None and copy not in entry[1]:
                seen = entry[0]
                seen.observations.append(obs)
                entry[1].append(copy)
                if seen.datagram is None and item[9]:
                    seen.datagram = _aligned(item[9][0], t)
                continue
            if not item[9] and keep is not None and not keep(key[0]):
                continue
            seen = _seen(item, obs, t)
            pending[key] = (seen, [copy])
            order.append((t, key, seen))
        while order:
            yield _finish(pending, order.popleft())


def _seen(item, obs, t) -> SeenDatagram:
    key = item[2]
    return SeenDatagram(inet_ntoa(key[0][:4]), inet_ntoa(key[0][4:]), key[1],
                        key[2], item[5], item[6], item[7], item[8], [obs],
                        _aligned(item[9][0], t) if item[9] else None)


def _finish(pending, entry) -> SeenDatagram:
    _, key, seen = entry
    if pending.get(key, (None,))[0] is seen:
        del pending[key]
    return seen


def _aligned(d: Datagram, t: float) -> Datagram:
    """The FMIPv4 Datagram with its time on the reference clock."""
    values = d._values()
    return Datagram(values[0], t, *values[2:])
