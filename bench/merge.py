"""Benchmark of `fmipdissect handovers --merge` (a script, not a test).

Writes one 1,000,000-packet capture with `fmipdissect gen` (1% FMIPv4
handovers of distinct MNs among 99% background TCP/UDP), then three
vantage points of it: every packet seen by each, the second capture's
clock 700 ms ahead and 2 ms later on the wire, the third's 1300 ms behind
and 5 ms later, TTL one and two less (checksum updated, RFC 1624): 3M
packets in all.  Then times, in turn (best of --runs each), whole-process
wall time and peak resident memory of each process:

- cat a b c > /dev/null (reading the files: the floor),
- fmipdissect handovers --merge a b c (one analysis, each datagram once),
- mergecap -w merged.pcap a b c, then fmipdissect handovers merged.pcap
  (the usual workaround: no de-duplication, no clock alignment),

and prints packets per second side by side.

    .venv/bin/python bench/merge.py [--packets N] [--runs R] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import time

VANTAGES = (("a", 0.0, 0.0, 0), ("b", -0.7, 0.002, 1), ("c", 1.3, 0.005, 2))
# (name, offset to the reference in seconds, delay, hops: TTL less)


def derive(base: str, out: str, offset: float, delay: float, hops: int):
    """A copy of the pcap `base` as another vantage point saw it."""
    shift = delay - offset                     # its clock: true - offset
    with open(base, "rb") as f, open(out, "wb") as w:
        head = f.read(24)
        ns = head[:4] == b"\x4d\x3c\xb2\xa1"
        units = 1e9 if ns else 1e6
        w.write(head)
        record = struct.Struct("<IIII")
        while True:
            h = f.read(16)
            if len(h) < 16:
                break
            sec, frac, incl, orig = record.unpack(h)
            data = bytearray(f.read(incl))
            t = sec + frac / units + shift
            sec = int(t)
            frac = min(int(round((t - sec) * units)), int(units) - 1)
            if hops and incl >= 34 and data[12:14] == b"\x08\x00" \
                    and data[22] > hops:
                data[22] -= hops                       # TTL
                total = (data[24] << 8 | data[25]) + (hops << 8)
                total = (total & 0xFFFF) + (total >> 16)  # RFC 1624
                data[24], data[25] = total >> 8, total & 0xFF
            w.write(record.pack(sec, frac, incl, orig))
            w.write(data)


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
    base = os.path.join(folder, "base.pcap")
    paths = [os.path.join(folder, f"{name}.pcap") for name, *_ in VANTAGES]
    try:
        if not all(os.path.exists(p) for p in paths):
            subprocess.run(tool + ["gen", "predictive", "--packets",
                                   str(args.packets), "--background", "0.99",
                                   "--force", "-o", base], check=True,
                           stderr=subprocess.DEVNULL)
            for path, (_, offset, delay, hops) in zip(paths, VANTAGES):
                derive(base, path, offset, delay, hops)
            os.remove(base)
        total = 3 * args.packets
        merged = os.path.join(folder, "merged.pcap")
        rows = []
        cat = best(args.runs, ["sh", "-c", "cat \"$@\" > /dev/null", "cat",
                               *paths])
        rows.append(("cat a b c", *cat))
        ours = best(args.runs, tool + ["handovers", "--merge", "--format",
                                       "json", *paths])
        rows.append(("handovers --merge a b c", *ours))
        if shutil.which("mergecap"):
            mc = best(args.runs, ["mergecap", "-F", "pcap", "-w", merged,
                                  *paths])
            plain = best(args.runs, tool + ["handovers", "--format", "json",
                                            merged])
            rows.append(("mergecap -w merged a b c", *mc))
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
