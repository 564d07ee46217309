"""One capture through every stage at once: fmip-lint's engine (reader,
decoder, checks, correlator) with the handover records subscribed.

The correlator (fmipdissect/correlate/) places each message in its handover
(decision D13); the handover builder (handovers/builder.py) subscribes to
its events and to the checker's findings, so each record counts exactly
fmip-lint's findings for its handover, and the run is as bounded as
fmip-lint: a record is handed out as soon as its handover is over.  This
module joins the two subscribers; neither imports the other.
"""

from __future__ import annotations

from collections import deque

from .handovers.builder import HandoverBuilder
from .lint.cli import GC_THRESHOLD, PROGRESS_MIN_BYTES, build_config
from .lint.engine import CaptureLint, LintConfig

__all__ = ["CaptureHandovers", "GC_THRESHOLD", "build_config",
           "progress_for"]


def progress_for(path, off: bool = False):
    """fmip-lint's progress line for one capture, or None: shown on a
    terminal for standard input and for large files."""
    import os
    import sys
    if off or not sys.stderr.isatty():
        return None
    try:
        if path != "-" and os.path.getsize(path) < PROGRESS_MIN_BYTES:
            return None
    except OSError:
        return None
    from .lint.report.progress import Progress
    return Progress(path)


class CaptureHandovers:
    """Iterate the handover records of one capture file."""

    def __init__(self, path, config: LintConfig | None = None,
                 name: str | None = None, diagrams: int = 0, progress=None):
        self.path = path
        self.progress = progress      # callable(done, size, frames) or None
        self.name = name if name is not None else path
        self.config = config if config is not None else LintConfig()
        self.diagrams = diagrams      # keep the messages of the first N
        self.lint = None

    @property
    def stats(self):
        """fmip-lint's FileStats (packets, messages, finding counts)."""
        return self.lint.stats

    def run(self, emit) -> None:
        """emit(record) for each handover as soon as it is over, in order of
        first frames: memory stays flat whatever the capture holds."""
        for _ in self._records(emit):
            pass

    def __iter__(self):
        """The records; they wait in a queue between findings, so run()
        is the bounded way on a large capture."""
        out = deque()
        take = out.popleft
        for _ in self._records(out.append):
            while out:
                yield take()
        while out:
            yield take()

    def _records(self, emit):
        """Run the capture; yields after each finding (records go to emit)."""
        builder = HandoverBuilder(self.name, self.diagrams, emit)
        self.lint = CaptureLint(self.path, self.config, self.name,
                                progress=self.progress,
                                subscribers=(builder,),
                                on_finding=builder.finding)
        for _ in self.lint:     # (the builder emits as handovers close)
            yield
        builder.finish()
        yield


# --- several captures: `handovers --merge` -------------------------------------

HISTORY_SECONDS = 10.0    # traffic the data plane keeps before a handover
FORGET_EVERY = 4096       # datagrams between two forget_before calls


def _data_plane():
    """The data plane's class (imported when a merge runs: start-up)."""
    from .handovers.dataplane import DataPlane
    return DataPlane


class MergedHandovers:
    """Iterate the handover records of several captures of one network, one
    per vantage point (correlate/merge.py): paths and names in order, the
    first the reference clock; manual: {name: offset in seconds} (--clock)."""

    def __init__(self, paths, names, config: LintConfig | None = None,
                 manual: dict | None = None, diagrams: int = 0):
        self.paths, self.names = list(paths), list(names)
        self.config = config if config is not None else LintConfig()
        self.manual = dict(manual or {})
        self.diagrams = diagrams
        self.name = "+".join(self.names)
        self.clocks = self.roles = self.keep = self.addresses = None
        self.lint = self.dp = None

    @property
    def stats(self):
        return self.lint.stats

    def prepare(self) -> None:
        """Passes 0 and 1: the addresses worth keeping, the clocks (pass 1
        only when one is not set by hand, or to find roles for a single
        capture) and the roles."""
        from .correlate.clocks import Clock
        from .correlate.merge import FirstPass
        first = FirstPass(self.paths, self.names, self.config.lla_length)
        if len(self.manual) < len(self.names) - 1 or len(self.names) == 1:
            first.run()
        else:
            first.learn_addresses()
        clocks = first.estimator.solve()
        for i, name in enumerate(self.names):
            if name in self.manual:
                clocks[i] = Clock(self.manual[name], 0.0, None, 0.0, 0, True)
            elif clocks[i] is None:
                clocks[i] = Clock(0.0, None)     # no datagram in common
        self.clocks = clocks
        self.roles = first.roles.resolve(clocks)
        self.keep = first.roles.keep()
        self.addresses = first.roles.addresses

    def vantage_points(self) -> dict:
        return {name: {"file": str(path), **clock.to_dict()}
                for name, path, clock in zip(self.names, self.paths,
                                             self.clocks)}

    def summary_data(self):
        return None if self.dp is None else self.dp.summary()

    def run(self, emit) -> None:
        """emit(record) for each handover, its data plane's `data` filled
        in once the stream is SETTLE_SECONDS past its end."""
        from .correlate.merge import MergedStream
        from .handovers.merged import MergedBuilder
        if self.clocks is None:
            self.prepare()
        self.dp = dp = _data_plane()(self.roles)
        held = deque()
        builder = MergedBuilder(self.name, self.diagrams, held.append,
                                self.roles, self.names)
        feed = _Feed(builder, dp, held, emit)

        def open_reader(replies):
            feed.stream = MergedStream(self.paths, self.names, self.clocks,
                                       replies, self.keep,
                                       addresses=self.addresses)
            return feed
        self.lint = CaptureLint(self.name, self.config, self.name,
                                subscribers=(builder,),
                                on_finding=builder.finding,
                                open_reader=open_reader)
        for _ in self.lint:
            pass
        builder.finish()
        feed.release(None)


class _Feed:
    """The merged stream as the checker's reader: the FMIPv4 datagrams (on
    the reference clock, numbered in the merged stream's order) go on to
    the checker and the correlator, the others to the data plane; the
    held records go out once the stream is past their settling time."""

    def __init__(self, builder, dp, held, emit):
        self.builder, self.dp, self.held, self.emit = builder, dp, held, emit
        self.settle = dp.SETTLE_SECONDS
        self.stream = None

    frames = property(lambda self: self.stream.frames)
    size = property(lambda self: self.stream.size)
    bytes_read = property(lambda self: self.stream.bytes_read)

    def close(self) -> None:
        self.stream.close()

    def __iter__(self):
        from .correlate.observed import SeenDatagram
        from .records import Datagram
        builder, dp, number = self.builder, self.dp, 0
        for item in self.stream:
            if item.__class__ is not SeenDatagram:
                # a note of one capture: its frame number is that
                # capture's, not the merged stream's (which the handover
                # records match findings by): frame 0, matching none
                values = item._values()
                yield item.__class__(0, *values[1:])
                continue
            number += 1
            t = item.first.time
            if self.held and t > self.held[0].end + self.settle:
                self.release(t)
            if item.datagram is None:
                dp.observe(item)
                if not number % FORGET_EVERY:
                    dp.forget_before(self._horizon(t))
                continue
            dp.signalling(item)         # where the MN's next handover begins
            values = item.datagram._values()
            item.datagram = Datagram(number, *values[1:])
            builder.sighted(item)
            yield item.datagram

    def _horizon(self, t: float) -> float:
        starts = [r.start for r in self.held]
        starts += self.builder.open_starts()
        return min(starts + [t]) - HISTORY_SECONDS

    def release(self, t) -> None:
        """Emit the held records settled at stream time t (None: all)."""
        held, dp = self.held, self.dp
        while held and (t is None or t > held[0].end + self.settle):
            record = held.popleft()
            record.data = dp.data(record)
            self.emit(record)
