"""fmip-lint -j N: memory does not grow with the number of findings.  A
script, not a test.

    .venv/bin/python bench/jobs_memory.py [--sizes 10000,100000,1000000]

For each size, writes two pcap files of size/2 FBUs each whose Lifetime is
over 10 s (one FM101 error per frame, so `size` findings in all) to a
temporary directory and runs `fmip-lint -j 1` and `fmip-lint -j 2` on
both, the report to /dev/null.  Prints wall time and peak RSS (wait4's
ru_maxrss: the largest of fmip-lint and its worker processes) side by side,
and how the RSS grows from one size to the next.  The -j workers spool
their findings to temporary files and the parent reads them back one at a
time (lint/cli.py), so both columns should stay flat.
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FMIP_LINT = str(Path(sys.executable).with_name("fmip-lint"))


def over_long_fbu() -> bytes:
    """One Ethernet frame: an FBU with Lifetime 11 (rule FM101).  Built in
    a process of its own: a child forked from a process that has loaded
    Scapy would start with Scapy's pages in its peak RSS."""
    code = ("import sys; sys.path.insert(0, 'tests'); import lintcaps; "
            "sys.stdout.buffer.write(bytes(lintcaps.fbu(lifetime=11)))")
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT,
                          capture_output=True, check=True).stdout


def write_capture(path: Path, frame: bytes, count: int) -> None:
    record = struct.Struct("<IIII")
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(count):
            f.write(record.pack(1_700_000_000 + i // 1000, (i % 1000) * 1000,
                                len(frame), len(frame)) + frame)


def measure(argv: list[str]) -> tuple[float, float]:
    """(wall seconds, peak RSS in MB) of one fmip-lint run."""
    start = time.perf_counter()
    with open(os.devnull, "wb") as null:
        proc = subprocess.Popen([FMIP_LINT, *argv], stdout=null)
        _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"fmip-lint failed: {argv}")
    return wall, usage.ru_maxrss / 1024


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000",
                        help="findings per run, comma-separated")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    frame = over_long_fbu()
    print(f"{'findings':>10}  {'-j 1 time':>9}  {'-j 1 RSS':>9}  "
          f"{'-j 2 time':>9}  {'-j 2 RSS':>9}")
    previous = None
    with tempfile.TemporaryDirectory(prefix="fmip-jobs-") as tmp:
        for size in sizes:
            files = [Path(tmp) / f"{size}-{i}.pcap" for i in (1, 2)]
            for path in files:
                write_capture(path, frame, size // 2)
            one = measure(["-j", "1", *map(str, files)])
            two = measure(["-j", "2", *map(str, files)])
            growth = ""
            if previous:
                growth = (f"   RSS x{one[1] / previous[0]:.2f} / "
                          f"x{two[1] / previous[1]:.2f} for "
                          f"x{size / previous[2]:.0f} findings")
            print(f"{size:>10,}  {one[0]:>8.2f}s  {one[1]:>6.1f} MB  "
                  f"{two[0]:>8.2f}s  {two[1]:>6.1f} MB{growth}")
            previous = (one[1], two[1], size)
            for path in files:
                path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
