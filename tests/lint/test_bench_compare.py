"""bench/compare_commits.py runs: two versions of fmip-lint side by side,
in a temporary worktree that is removed afterwards.  The figures it prints
are not checked here (they belong to the benchmark, docs/performance.md)."""

from __future__ import annotations

import fcntl
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "compare_commits.py"


@pytest.fixture
def alone():
    """One worktree-making test at a time (pytest -n runs them side by
    side, and each compares the worktree list before and after)."""
    path = Path(tempfile.gettempdir()) / "fmipdissect-bench-tests.lock"
    with open(path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _worktrees() -> set:
    """The worktrees' folders (not their commits: other worktrees of the
    repository may commit meanwhile)."""
    listed = subprocess.run(["git", "-C", str(ROOT), "worktree", "list",
                             "--porcelain"], capture_output=True, text=True,
                            check=True).stdout
    return {line.split(" ", 1)[1] for line in listed.splitlines()
            if line.startswith("worktree ")}


def test_compare_with_head_on_a_sample(alone):
    before = _worktrees()
    samples = sorted((ROOT / "samples").iterdir())
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--base", "HEAD", "--runs", "1",
         str(ROOT / "samples" / "predictive.pcap")],
        capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    row = [line for line in done.stdout.splitlines()
           if line.startswith(str(ROOT / "samples" / "predictive.pcap"))]
    assert len(row) == 1 and row[0].endswith("identical"), done.stdout
    assert "x " in row[0]                     # the speed-up column
    assert "record walk: base" in done.stdout
    assert _worktrees() == before             # the worktree is gone
    assert sorted((ROOT / "samples").iterdir()) == samples   # nothing left


def test_unknown_capture_is_a_usage_error():
    done = subprocess.run([sys.executable, str(SCRIPT), "no-such.pcap"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert "neither a file nor one of" in done.stderr
    assert "Traceback" not in done.stderr


INSTRUCTIONS = ROOT / "bench" / "instructions.py"


@pytest.mark.skipif(shutil.which("valgrind") is None,
                    reason="valgrind not installed (perf stat may be)")
def test_instructions_per_message_against_head(tmp_path, alone):
    """bench/instructions.py counts a base commit and the tree and prints
    both per message and at start-up; its worktree is gone afterwards."""
    before = _worktrees()
    done = subprocess.run(
        [sys.executable, str(INSTRUCTIONS), "--base", "HEAD",
         "--messages", "40"], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows = {line.split()[0] + " " + line.split()[1]: line.split()[2:]
            for line in done.stdout.splitlines()
            if line.strip().startswith(("per message", "start-up"))}
    assert set(rows) == {"per message", "start-up (sample)"}, done.stdout
    # two counts each (on 40 messages the start-up's own variation may
    # outweigh them: their size is the benchmark's business)
    for row in rows.values():
        float(row[0].replace(",", "")), float(row[1].replace(",", ""))
    start_base, start_tree = (int(v.replace(",", ""))
                              for v in rows["start-up (sample)"][:2])
    assert start_base > 10_000_000 and start_tree > 10_000_000
    assert "counted with valgrind" in done.stdout
    assert _worktrees() == before
