"""Helpers of the input/output tests (docs/reliability.md, "Outputs,
pipes, signals and file names"): the real commands in processes of their
own, on real files, pipes, devices and signals."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
VIOLATIONS = ROOT / "samples" / "violations.pcap"
PREDICTIVE = ROOT / "samples" / "predictive.pcap"


def env(**extra) -> dict:
    e = dict(os.environ)
    e["PYTHONPATH"] = str(ROOT) + os.pathsep + e.get("PYTHONPATH", "")
    e.update(extra)
    return e


def command(*argv) -> list:
    """`fmipdissect ARGV` (argv[0] "lint" is fmip-lint) with this Python."""
    return [sys.executable, "-m", "fmipdissect", *map(os.fsdecode, argv)]


def run(*argv, cwd=None, input=None, stdin=None, file_limit=None,
        extra_env=None, timeout=60):
    """Run a command; stdout and stderr as bytes."""
    def limit():
        if file_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE,
                               (file_limit, file_limit))
    return subprocess.run(command(*argv), cwd=cwd, input=input, stdin=stdin,
                          capture_output=True, timeout=timeout,
                          env=env(**(extra_env or {})), preexec_fn=limit)


def copy(src: Path, dst: Path) -> Path:
    shutil.copyfile(src, dst)
    return dst


def one_error_line(result) -> str:
    """The single line of standard error; no traceback, no internal error."""
    err = result.stderr.decode("utf-8", "replace")
    assert "Traceback" not in err and "internal error" not in err, err
    lines = err.splitlines()
    assert len(lines) == 1, err
    return lines[0]
