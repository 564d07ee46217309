"""How fast `gen --vantage` writes the merge bench's captures.  A script.

    .venv/bin/python bench/bench_gen_vantage.py [--packets N] [--runs N]

Times (best of --runs, each a process of its own, peak RSS from GNU time
as bench/run.py measures it), side by side:

  gen --vantage      `gen predictive --vantage mn,par,nar --handovers 10
                     --packets N`: three captures of N frames each
  gen (one file)     `gen predictive --packets 3N --background 0.99`: the
                     single-capture generator writing as many frames
  cat                `cat` of the three captures to /dev/null

and prints frames per second and the ratios against gen --vantage.
Captures go to bench/out/gen-vantage/ (gitignored).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from run import run_timed

OUT = Path(__file__).resolve().parent / "out" / "gen-vantage"


def _best(cmd: list[str], runs: int, name: str):
    return min((run_timed(cmd, OUT / f"{name}.stdout") for _ in range(runs)),
               key=lambda r: r.wall)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    gen = [sys.executable, "-m", "fmipdissect", "gen", "predictive"]
    frames = 3 * args.packets
    rows = [
        ("gen --vantage", _best(gen + [
            "--vantage", "mn,par,nar", "--handovers", "10", "--packets",
            str(args.packets), "-o", str(OUT / "vantage")], args.runs,
            "vantage")),
        ("gen (one file)", _best(gen + [
            "--packets", str(frames), "--background", "0.99", "--force", "-o",
            str(OUT / "one.pcap")], args.runs, "one")),
        ("cat", _best(["cat", *(str(OUT / "vantage" / f"{n}.pcap")
                               for n in ("mn", "par", "nar"))],
                      args.runs, "cat")),
    ]
    subprocess.run(["sync"], check=False)
    base = rows[0][1].wall
    print(f"{frames:,} frames (3 captures of {args.packets:,})")
    print(f"{'':16} {'wall s':>8} {'frames/s':>12} {'peak MB':>8} "
          f"{'x gen --vantage':>16}")
    for name, r in rows:
        print(f"{name:16} {r.wall:8.2f} {frames / r.wall:12,.0f} "
              f"{r.rss_kb / 1024:8.0f} {r.wall / base:16.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
