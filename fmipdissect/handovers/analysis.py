"""Stream one capture through fmip-lint's engine and the handover tracker.

CaptureHandovers(path, config) is iterated for its HandoverRecords, in
order of their first frame (decision D13); the engine is fmip-lint's own
(lint/engine.py), so each record counts exactly fmip-lint's findings for
its frames, and the run is as bounded as fmip-lint: a record is handed out
as soon as its handover is over.
"""

from __future__ import annotations

from collections import deque

from ..lint.engine import CaptureLint, LintConfig
from .tracker import HandoverTracker


class CaptureHandovers:
    """Iterate the handover records of one capture file."""

    def __init__(self, path: str, config: LintConfig | None = None,
                 name: str | None = None, diagrams: int = 0):
        self.path = path
        self.name = name if name is not None else path
        self.config = config if config is not None else LintConfig()
        self.diagrams = diagrams      # keep the messages of the first N
        self.lint = CaptureLint(path, self.config, self.name)

    @property
    def stats(self):
        """fmip-lint's FileStats (packets, messages, finding counts)."""
        return self.lint.stats

    def run(self, emit) -> None:
        """emit(record) for each handover as soon as it is over, in order of
        first frames: memory stays flat whatever the capture holds."""
        tracker = HandoverTracker(self.name, self.diagrams, emit)
        self.lint.on_message = tracker.observe
        finding = tracker.finding
        for f in self.lint:
            finding(f)
        tracker.finish()

    def __iter__(self):
        """The records; they wait in a queue between findings, so run()
        is the bounded way on a large capture."""
        out = deque()
        tracker = HandoverTracker(self.name, self.diagrams, out.append)
        self.lint.on_message = tracker.observe
        finding, take = tracker.finding, out.popleft
        for f in self.lint:
            finding(f)
            while out:
                yield take()
        tracker.finish()
        while out:
            yield take()
