"""Machine instructions per FMIPv4 message: the tree against a base commit.

    .venv/bin/python bench/instructions.py [--base COMMIT] [--messages N]

Wall time on a shared 2-core VM moves by a third from run to run, so a
slowdown of a few percent does not show in it; the count of machine
instructions a run executes moves by well under 1%.  This script counts
them for `fmip-lint --format json` (whole process, through the same
`python -P -c` entry as bench/compare_commits.py) on an FMIPv4-only
capture of N messages (default 20,000: `fmipdissect gen predictive
--handovers N/7+1 --seed 4988`, cached in bench/out/cache/) and on the
7-message sample samples/predictive.pcap, and prints

  per message   (instructions on N messages - on the sample) / (N - 7)
  start-up      instructions on the sample (interpreter, imports, 7 messages)

for the base commit (default 46225f2; checked out into a temporary git
worktree, byte-compiled and its C accelerator built as compare_commits
does) and for the working tree, side by side, with their ratio.

The counter is valgrind (`--tool=cachegrind --cache-sim=no`: the
instruction count only, about 40 times slower than the run itself), or
`perf stat -e instructions:u` where valgrind is not installed and the
machine exposes the counter (a VM often does not); without either, it
says so and counts nothing.  `make bench` runs it after bench/run.py
(BASE=COMMIT to change the base).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import compare_commits
import run as bench

DEFAULT_BASE = compare_commits.DEFAULT_BASE
DEFAULT_MESSAGES = 20_000
SAMPLE = bench.REPO / "samples" / "predictive.pcap"
SAMPLE_MESSAGES = 7


def counter() -> str | None:
    """"valgrind", "perf" or None: what can count instructions here."""
    if shutil.which("valgrind"):
        return "valgrind"
    if shutil.which("perf"):
        probe = subprocess.run(["perf", "stat", "-x,", "-e",
                                "instructions:u", "true"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and "<not" not in probe.stderr:
            return "perf"
    return None


def count(tool: str, root: Path, capture: Path) -> int:
    """Instructions of one fmip-lint run of the tree at root."""
    cmd = compare_commits.lint_cmd(capture)
    if tool == "valgrind":
        cmd = ["valgrind", "--tool=cachegrind", "--cache-sim=no",
               "--cachegrind-out-file=/dev/null"] + cmd
        pattern = r"I\s+refs:\s+([\d,]+)"
    else:
        cmd = ["perf", "stat", "-x,", "-e", "instructions:u"] + cmd
        pattern = r"^(\d+),,instructions"
    done = subprocess.run(cmd, env=dict(os.environ, PYTHONPATH=str(root)),
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True)
    if done.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(cmd)} failed "
                         f"({done.returncode}): {done.stderr[-500:]}")
    found = re.search(pattern, done.stderr, re.M)
    if found is None:
        raise SystemExit(f"bench: no instruction count from {tool}: "
                         f"{done.stderr[-300:]}")
    return int(found.group(1).replace(",", ""))


def fmip_capture(messages: int) -> Path:
    """The FMIPv4-only capture of about `messages` messages (cached)."""
    handovers = messages // bench.HANDOVER_MESSAGES + 1
    path = bench.CACHE / "instructions" / f"fmip-{messages}.pcap"
    bench.generate(path, ["--handovers", str(handovers), "--seed",
                          str(bench.SEED)])
    return path


def per_message(tool: str, root: Path, capture: Path, messages: int):
    """(instructions per message, start-up instructions) at root."""
    big = count(tool, root, capture)
    small = count(tool, root, SAMPLE)
    return (big - small) / (messages - SAMPLE_MESSAGES), small


def report(base: str = DEFAULT_BASE,
           messages: int = DEFAULT_MESSAGES) -> dict | None:
    """Print the instruction figures of base and the tree; return them."""
    tool = counter()
    print(f"\nmachine instructions, fmip-lint on an FMIPv4-only capture, "
          f"base {base} against the working tree:")
    if tool is None:
        print("  not counted: neither valgrind nor a usable `perf stat` "
              "(instructions:u) on this machine")
        return None
    capture = fmip_capture(messages)
    counted = int(bench.count_packets(capture))
    work = Path(tempfile.mkdtemp(prefix="fmip-instructions-"))
    try:
        tree = compare_commits.checkout(base, work)
        subprocess.run([bench.PYTHON, "-m", "compileall", "-q",
                        str(bench.REPO / "fmipdissect")], check=True)
        got = {side: per_message(tool, root, capture, counted)
               for side, root in (("base", tree), ("tree", bench.REPO))}
    finally:
        subprocess.run(["git", "-C", str(bench.REPO), "worktree", "remove",
                        "--force", str(work / "base")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    (base_msg, base_start), (tree_msg, tree_start) = got["base"], got["tree"]
    print(f"  counted with {tool}, {counted:,} messages "
          f"({capture.relative_to(bench.REPO)}) and the 7-message sample")
    print(f"  {'':22} {'base ' + base:>16} {'tree':>12} {'tree/base':>10}"
          f" {'speed-up':>9}")
    print(f"  {'per message':22} {base_msg:16,.0f} {tree_msg:12,.0f} "
          f"{tree_msg / base_msg:10.3f} {base_msg / tree_msg:8.2f}x")
    print(f"  {'start-up (sample)':22} {base_start:16,} {tree_start:12,} "
          f"{tree_start / base_start:10.3f} {base_start / tree_start:8.2f}x")
    return {"tool": tool, "base": base, "base_message": base_msg,
            "tree_message": tree_msg, "base_startup": base_start,
            "tree_startup": tree_start}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/instructions.py",
        description="Machine instructions per FMIPv4 message of fmip-lint, "
                    "the working tree against a base commit.")
    parser.add_argument("--base", default=DEFAULT_BASE,
                        help=f"the commit to compare with (default "
                             f"{DEFAULT_BASE})")
    parser.add_argument("--messages", type=int, default=DEFAULT_MESSAGES,
                        help="FMIPv4 messages in the capture counted "
                             f"(default {DEFAULT_MESSAGES:,})")
    args = parser.parse_args(argv)
    os.chdir(bench.REPO)
    report(args.base, args.messages)
    return 0


if __name__ == "__main__":
    sys.exit(main())
