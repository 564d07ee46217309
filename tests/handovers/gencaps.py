"""`fmipdissect gen --vantage` then `handovers --merge`, for the tests that
hold the merge against the generator's truth.json (no tests here)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

NODES = ("mn", "par", "nar", "cn")      # mn first: the reference clock


def run(*args, cwd=None) -> subprocess.CompletedProcess:
    """`python -m fmipdissect ARGS`, its output captured."""
    return subprocess.run([sys.executable, "-m", "fmipdissect", *args],
                          capture_output=True, text=True, cwd=cwd)


def clock_and_delay_args(offsets: dict, delays: dict) -> list[str]:
    """`--clock-offset NODE=OFFSET` and `--link-delay LINK=MS` options."""
    args = []
    for node, offset in offsets.items():
        args += ["--clock-offset", f"{node}={offset}"]
    for link, ms in delays.items():
        args += ["--link-delay", f"{link}={ms}"]
    return args


def generate(folder: Path, *gen_args) -> tuple[dict, list[str]]:
    """Per-node captures of `gen GEN_ARGS --vantage all` in folder: its
    truth.json and the captures' paths, in NODES order."""
    done = run("gen", *gen_args, "--vantage", ",".join(NODES), "-o",
               str(folder))
    assert done.returncode == 0, done.stderr
    truth = json.loads((folder / "truth.json").read_text())
    return truth, [str(folder / f"{n}.pcap") for n in NODES]


def merge_json(captures, *args) -> dict:
    """`handovers --merge --format json ARGS CAPTURES`, parsed."""
    done = run("handovers", "--merge", "--format", "json", *args, *captures)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)
