"""How fast the data plane reads the MN's traffic.  A script.

    .venv/bin/python bench/bench_dataplane.py [--seconds S] [--rate R]

A test flow of R packets/s each way for S seconds, a handover every
second, as the merge hands it on (SeenDatagrams of four captures, built
before the clock starts).  Times, best of three, side by side:

  list append        the floor: each datagram appended to a list
  observe            DataPlane.observe for each, forget_before every 4096
                     (as `handovers --merge` drives it)
  data               DataPlane.data for each handover (its window's
                     datagrams read per D20 and D21)

and prints datagrams per second and the ratios against the floor.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fmipdissect.correlate.observed import Observation, SeenDatagram  # noqa: E402
from fmipdissect.handovers.dataplane import DataPlane  # noqa: E402

CN, MN = "198.18.3.10", "198.18.1.10"
ROLES = {"mn": "mn", "par": "par", "nar": "nar", "cn": "cn"}


class Handover:
    def __init__(self, start):
        self.mn = self.pcoa = self.ncoa = MN
        self.par = self.nar = None
        self.start, self.end, self.mode = start, start + 0.06, "predictive"


def stream(seconds: float, rate: float) -> list:
    """Downlink over PAR, then 0.2 s of each second through the tunnel."""
    out = []
    for i in range(int(seconds * rate)):
        t = 100.0 + i / rate
        tunnel = 0.1 <= (t - 100.0) % 1.0 < 0.3
        hops = [("cn", t, None), ("par", t + 0.001, None)]
        if tunnel:
            hops += [("par", t + 0.001, ("198.18.0.1", "198.18.0.2")),
                     ("nar", t + 0.003, ("198.18.0.1", "198.18.0.2")),
                     ("nar", t + 0.003, None), ("mn", t + 0.004, None)]
        else:
            hops += [("par", t + 0.001, None), ("mn", t + 0.002, None)]
        obs = [Observation(v, i + 1, at, tun) for v, at, tun in hops]
        out.append(SeenDatagram(CN, MN, 17, i & 0xFFFF, 9434, 9434, (1, i),
                                84, obs))
    return out


def best(fn, runs=3) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=300.0)
    ap.add_argument("--rate", type=float, default=2000.0)
    args = ap.parse_args(argv)
    seen = stream(args.seconds, args.rate)
    handovers = [Handover(100.1 + k) for k in range(int(args.seconds) - 1)]

    def floor():
        kept = []
        for d in seen:
            kept.append(d)

    def observe():
        plane = DataPlane(ROLES)
        for n, d in enumerate(seen, 1):
            plane.observe(d)
            if not n % 4096:
                plane.forget_before(d.observations[0].time - 10.0)

    plane = DataPlane(ROLES)
    for d in seen:
        plane.observe(d)

    def data():
        plane._until.clear()
        for h in handovers:
            plane.data(h)

    base, obs, dat = best(floor), best(observe), best(data)
    n = len(seen)
    print(f"{n} datagrams, {len(handovers)} handovers")
    print(f"{'list append':14} {n / base / 1e6:8.2f} M datagrams/s   1.00x")
    print(f"{'observe':14} {n / obs / 1e6:8.2f} M datagrams/s "
          f"{obs / base:6.2f}x")
    print(f"{'data':14} {dat / len(handovers) * 1e3:8.2f} ms per handover "
          f"({n / dat / 1e6:.2f} M datagrams/s read)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
