"""What a command imports, run in a fresh interpreter: the start-up tests
of fmip-lint (lint/) and of `fmipdissect handovers` (handovers/) share it.
The start-up figure itself is the benchmark's (`bench/run.py
--startup-only`), not a timed test."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

_RUN = ("import os, sys\n"
        "from fmipdissect.cli import {entry}\n"
        "sys.stdout = open(os.devnull, 'w')\n"
        "status = {entry}(sys.argv[1:])\n"
        "print(status, *sorted(m for m in sys.modules), file=sys.stderr)\n")


def imported(entry: str, *argv: str) -> tuple[int, set[str]]:
    """(exit status, modules loaded) of fmipdissect.cli's `entry`
    ("lint_main" for fmip-lint, "main" for fmipdissect) run on argv."""
    r = subprocess.run([sys.executable, "-c", _RUN.format(entry=entry),
                        *argv], capture_output=True, text=True, cwd=ROOT)
    words = r.stderr.split()
    assert r.returncode == 0 and words, r.stderr
    return int(words[0]), set(words[1:])
