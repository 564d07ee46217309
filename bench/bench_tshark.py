"""tshark packets per second with and without the FMIPv4 Lua dissector.

    .venv/bin/python bench/bench_tshark.py [--packets 100000] [--runs 3]

Writes a capture of N packets (the predictive handover flow repeated for
many mobile nodes, `fmipdissect gen predictive --packets N`; or a given
--capture), then times `tshark -n -r CAPTURE` (summary lines, as a user
runs it) without and with `-X lua_script:lua/fmip.lua`, median of --runs
runs each, and prints both side by side.  Not a test: numbers depend on the
machine.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fmipdissect.wireshark import tshark as T


def make_capture(path: Path, packets: int) -> None:
    from fmipdissect.gen.generate import GenOptions, generate_file
    generate_file(GenOptions(scenario="predictive", packets=packets), path)


def count_frames(path: Path) -> int:
    out = subprocess.run([T.find_tshark(), "-n", "-r", str(path), "-T",
                          "fields", "-e", "frame.number"],
                         capture_output=True, text=True, check=True).stdout
    return len(out.splitlines())


def time_tshark(path: Path, lua: bool, runs: int) -> float:
    """Median wall-clock seconds of `tshark -n -r path` (output discarded)."""
    times = []
    for _ in range(runs):
        cmd = T.command(path, lua=lua)
        start = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--capture", type=Path,
                    help="use this capture instead of generating one")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        path = args.capture
        if path is None:
            path = Path(tmp) / "bench.pcap"
            print(f"writing {args.packets} packets to {path} ...",
                  file=sys.stderr)
            make_capture(path, args.packets)
        frames = count_frames(path)
        plain = time_tshark(path, lua=False, runs=args.runs)
        plugin = time_tshark(path, lua=True, runs=args.runs)
    print(f"tshark {frames} packets, median of {args.runs} runs")
    print(f"{'':24}{'seconds':>10}{'packets/s':>14}")
    print(f"{'without the plugin':24}{plain:10.2f}{frames / plain:14,.0f}")
    print(f"{'with lua/fmip.lua':24}{plugin:10.2f}{frames / plugin:14,.0f}")
    print(f"slowdown: x{plugin / plain:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
