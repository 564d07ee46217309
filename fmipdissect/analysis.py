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
