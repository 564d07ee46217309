"""A one-line progress bar on standard error while a large capture is read
(a terminal only; fmip-lint's --no-progress turns it off).  Where the size
is not known (standard input, a pipe), the line says the octets and packets
read so far instead."""

from __future__ import annotations

import sys
import time as _time


class Progress:
    """A one-line progress bar on standard error (a terminal only)."""

    def __init__(self, name: str, stream=None, interval: float = 0.2):
        self.name = name
        self.stream = stream or sys.stderr
        self.interval = interval
        self._next = 0.0
        self._shown = False

    def __call__(self, done: int, size: int, frames: int | None = None) -> None:
        if not size:                      # standard input: no size known
            self._so_far(done, frames)
            return
        now = _time.monotonic()
        if done < size and now < self._next:
            return
        self._next = now + self.interval
        if done >= size:
            self.clear()
            return
        frac = done / size if size else 1.0
        bar = "#" * int(frac * 30)
        self.stream.write(f"\r{self.name} [{bar:<30}] {frac:4.0%}")
        self.stream.flush()
        self._shown = True

    def _so_far(self, done: int, frames) -> None:
        """Octets and packets so far; the engine's last call (done equal to
        the size, 0) erases the line."""
        now = _time.monotonic()
        if not done:
            self.clear()
            return
        if now < self._next:
            return
        self._next = now + self.interval
        packets = "" if frames is None else f", {frames:,} packets"
        self.stream.write(f"\r\033[K{self.name}: {done / 1e6:,.1f} MB"
                          f"{packets} so far")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Erase the bar, so that a finding printed next starts clean."""
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False
