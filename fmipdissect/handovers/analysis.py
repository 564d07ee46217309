"""Stream one capture through fmip-lint's engine and the handover tracker.

CaptureHandovers(path, config) is iterated for its HandoverRecords, in
order of their first frame (decision D13); the engine is fmip-lint's own
(lint/engine.py), so each record counts exactly fmip-lint's findings for
its frames, and the run is as bounded as fmip-lint: a record is handed out
as soon as its handover is over.
"""

from __future__ import annotations

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

    def __iter__(self):
        tracker = HandoverTracker(self.name, self.diagrams)
        self.lint.on_message = tracker.observe
        finding, drain = tracker.finding, tracker.drain
        for f in self.lint:
            finding(f)
            if tracker._ready:
                yield from drain()
        tracker.finish()
        yield from drain(final=True)
