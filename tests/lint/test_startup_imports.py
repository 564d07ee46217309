"""What `fmip-lint` on a tiny capture imports (start-up, issue 14).

The start-up figure itself is the benchmark's (`bench/run.py
--startup-only`), not a timed test; this holds the modules that made it
slow off the path a plain run takes, and shows that each still comes when
its option asks for it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "samples" / "predictive.pcap")
KEYS = str(ROOT / "samples" / "keys.txt")

# Modules a plain run needs none of: dataclasses (inspect, ast, dis),
# argparse's shutil (with bz2, lzma), the signal module's enums,
# contextlib, and the parts of our own that only an option needs.
NOT_FOR_A_PLAIN_RUN = (
    "dataclasses", "inspect", "ast", "dis", "shutil", "bz2", "lzma",
    "signal", "contextlib", "tempfile", "pickle", "hashlib", "socket",
    "typing", "fmipdissect.lint.keys", "fmipdissect.capture.pcapng",
    "fmipdissect.lint.report.progress", "fmipdissect.lint.report.json")

RUN = ("import os, sys\n"
       "from fmipdissect.cli import lint_main\n"
       "sys.stdout = open(os.devnull, 'w')\n"
       "status = lint_main(sys.argv[1:])\n"
       "print(status, *sorted(m for m in sys.modules), file=sys.stderr)\n")


def imported(*argv: str) -> tuple[int, set[str]]:
    r = subprocess.run([sys.executable, "-c", RUN, *argv],
                       capture_output=True, text=True, cwd=ROOT)
    words = r.stderr.split()
    assert r.returncode == 0 and words, r.stderr
    return int(words[0]), set(words[1:])


def test_a_plain_run_imports_nothing_it_does_not_need():
    status, modules = imported(SAMPLE)
    assert status == 0
    assert "fmipdissect.lint.engine" in modules      # it did check
    assert not modules & set(NOT_FOR_A_PLAIN_RUN), \
        sorted(modules & set(NOT_FOR_A_PLAIN_RUN))


def test_options_still_bring_their_modules():
    _, modules = imported("--keys", KEYS, "--format", "json", SAMPLE)
    assert {"fmipdissect.lint.keys", "hashlib",
            "fmipdissect.lint.report.json"} <= modules
