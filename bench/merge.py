"""Benchmark of `fmipdissect handovers --merge` (a script, not a test).

Writes three captures of one network with `fmipdissect gen predictive
--vantage mn,par,nar --handovers 10 --packets N` (N frames each, 1M by
default: the handovers' signalling, the test flow, background traffic;
PAR's clock 700 ms ahead, NAR's 1.3 s behind), then times, in turn (best of
--runs each), whole-process wall time and peak resident memory:

- cat mn par nar > /dev/null (reading the files: the floor),
- fmipdissect handovers --merge mn par nar (one analysis, each datagram
  once, clocks aligned, the data plane),
- mergecap -w merged.pcap mn par nar, then fmipdissect handovers
  merged.pcap (the usual workaround: no de-duplication, no clock
  alignment),

and prints packets per second (3N packets in all) side by side.

    .venv/bin/python bench/merge.py [--packets N] [--runs R] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

NODES = ("mn", "par", "nar")


def timed(argv, stdout=subprocess.DEVNULL):
    """(wall seconds, peak RSS in MB) of one process."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=stdout, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    err = proc.stderr.read().decode()
    proc.stderr.close()
    if os.waitstatus_to_exitcode(status) != 0:
        sys.exit(f"bench: {' '.join(argv)} failed: {err.strip()}")
    return seconds, usage.ru_maxrss / 1024.0


def best(runs, argv):
    results = [timed(argv) for _ in range(runs)]
    return min(r[0] for r in results), max(r[1] for r in results)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--packets", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", metavar="DIR",
                        help="write the captures here and keep them (reused "
                        "when present)")
    args = parser.parse_args()
    folder = args.keep or tempfile.mkdtemp(prefix="fmip-bench-merge-")
    os.makedirs(folder, exist_ok=True)
    py = sys.executable
    tool = [py, "-m", "fmipdissect"]
    paths = [os.path.join(folder, f"{name}.pcap") for name in NODES]
    try:
        if not all(os.path.exists(p) for p in paths):
            subprocess.run(tool + ["gen", "predictive", "--vantage",
                                   ",".join(NODES), "--handovers", "10",
                                   "--packets", str(args.packets),
                                   "--clock-offset", "par=+700ms",
                                   "--clock-offset", "nar=-1.3s", "--force",
                                   "-o", folder], check=True)
        total = 3 * args.packets
        merged = os.path.join(folder, "merged.pcap")
        rows = []
        cat = best(args.runs, ["sh", "-c", "cat \"$@\" > /dev/null", "cat",
                               *paths])
        rows.append(("cat mn par nar", *cat))
        ours = best(args.runs, tool + ["handovers", "--merge", "--format",
                                       "json", *paths])
        rows.append(("handovers --merge", *ours))
        if shutil.which("mergecap"):
            mc = best(args.runs, ["mergecap", "-F", "pcap", "-w", merged,
                                  *paths])
            plain = best(args.runs, tool + ["handovers", "--format", "json",
                                            merged])
            rows.append(("mergecap -w merged", *mc))
            rows.append(("handovers merged", *plain))
            rows.append(("mergecap + handovers", mc[0] + plain[0],
                         max(mc[1], plain[1])))
        print(f"{total:,} packets in 3 captures ({folder})")
        print(f"{'':<28}{'seconds':>9}{'Mpkt/s':>9}{'peak MB':>9}"
              f"{'x cat':>8}")
        for name, seconds, rss in rows:
            print(f"{name:<28}{seconds:>9.2f}{total / seconds / 1e6:>9.2f}"
                  f"{rss:>9.0f}{seconds / cat[0]:>8.1f}")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
