"""Hostile captures against the checker's session state.

    .venv/bin/python bench/stress_session.py [--sizes 10000,100000,1000000]
                                             [--family NAME]... [--quick]

A script, not a test.  Each family builds a capture of N messages (written
with struct calls from one template message built with the project's Scapy
layers, so a million messages take seconds), runs `fmip-lint --format json`
on it as a process of its own, and prints wall time, peak RSS (wait4's
ru_maxrss), output size and the growth factor from the previous size.
Targets: peak RSS < 150 MB at the largest size, output linear in the input,
CPU time growth per 10x input under 12x (wall time is shown too: on a
shared machine it measures the neighbours as much as the checker).

Families (FAMILIES below; bench/stress.py may run them beside its own):
  fbu-flood       FBUs of N distinct MNs within 10 s, none acknowledged
  hi-flood        HIs between N distinct router pairs within 10 s
  hack-flood      HAcks from N distinct routers, one per second
  rtsolpr-flood   RtSolPrs of N distinct (MN, Identifier) within 10 s
  huge-options    PrRtAdvs with 1,000 New Router's IP options each to one
                  MN, then as many FBUs whose CoA is none of them (FM415);
                  N counts options
  findings-j2     N findings (FBU Lifetime 11 s, never acknowledged: FM101 +
                  FM403 each) in two files, `fmip-lint -j 2`
  handovers-fbu, handovers-hi   `fmipdissect handovers --format json` on
                  the fbu-flood and hi-flood captures

Captures are cached in bench/out/stress/ (gitignored) per family, size and
this script's digest.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import os
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
BIN = Path(sys.executable).parent
FMIP_LINT = str(BIN / "fmip-lint")
CACHE = REPO / "bench" / "out" / "stress"
TARGET_RSS_MB = 150
TARGET_TIME_GROWTH = 12.0      # per 10x input
T0 = 1_767_225_600.0
ETH = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
PAR = "10.255.0.1"
NAR = "10.254.0.1"


def ip4(n: int, base: int = 10) -> bytes:
    """The n-th address of base.0.0.0/8 (distinct for n < 2**24 - 2)."""
    return bytes([base]) + (n + 1).to_bytes(3, "big")


def aton(text: str) -> bytes:
    return bytes(int(x) for x in text.split("."))


# --- writing -----------------------------------------------------------------

class PcapWriter:
    def __init__(self, path: Path):
        self.f = open(path, "wb", buffering=1 << 20)
        self.f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144,
                                 1))

    def ip(self, t: float, src: bytes, dst: bytes, proto: int,
           payload: bytes) -> None:
        from fmipdissect.gen.generate import ip_header_checksum
        if proto == 17:
            payload = struct.pack("!HHHH", 434, 434, 8 + len(payload), 0) \
                + payload
        header = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0,
                                       20 + len(payload), 0, 0, 64, proto, 0,
                                       src, dst))
        header[10:12] = struct.pack("!H", ip_header_checksum(header))
        frame = ETH + bytes(header) + payload
        sec = int(t)
        usec = int(round((t - sec) * 1e6))
        if usec >= 1_000_000:
            sec, usec = sec + 1, usec - 1_000_000
        self.f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame))
                     + frame)

    def close(self) -> None:
        self.f.close()


# --- templates (built once with the Scapy layers) ------------------------------

def _bytes(layer) -> bytes:
    return bytes(layer)


def fbu_template(lifetime: int = 10) -> bytes:
    from fmipdissect.layers import FBU, MNPARAuth
    return _bytes(FBU(homeaddr="10.0.0.1", haaddr=PAR, coa=NAR, ident=0,
                      lifetime=lifetime)
                  / MNPARAuth(spi=0x100, key=b"stress-key"))


def icmp_template(kind: str, options=()) -> bytes:
    """An ICMP FMIPv4 message with Identifier 0 and the checksum of
    decision D2 computed for it."""
    from fmipdissect import layers as L
    msg = {"hi": L.HI(code=0, identifier=0, U=1),
           "hack": L.HAck(code=0, identifier=0),
           "rtsolpr": L.RtSolPr(identifier=0),
           "prrtadv": L.PrRtAdv(code=1, identifier=0)}[kind]
    for o in options:
        msg = msg / o
    return _bytes(msg)


def with_identifier(template: bytes, identifier: int) -> bytes:
    """The template (Identifier 0) with another Identifier: the checksum
    adjusted arithmetically (RFC 1624), so no sum over the message."""
    ck = struct.unpack_from("!H", template, 2)[0]
    total = (~ck & 0xFFFF) + identifier
    total = (total & 0xFFFF) + (total >> 16)
    return (template[:2] + struct.pack("!H", ~total & 0xFFFF) + template[4:6]
            + struct.pack("!H", identifier) + template[8:])


# --- the families ---------------------------------------------------------------

def build_fbu_flood(path: Path, n: int) -> None:
    t = fbu_template()
    w = PcapWriter(path)
    for i in range(n):
        mn = ip4(i)
        w.ip(T0 + 10.0 * i / n, mn, aton(PAR), 17,
             t[:4] + mn + t[8:16] + struct.pack("!Q", i + 1) + t[24:])
    w.close()


def build_hi_flood(path: Path, n: int) -> None:
    from fmipdissect.layers import IPv4AddrOption, LLAOption
    t = icmp_template("hi", [LLAOption(code=2, lla="02:00:00:aa:00:01"),
                             IPv4AddrOption(code=1, addr="10.0.0.1")])
    w = PcapWriter(path)
    for i in range(n):
        # the PCoA option's address stays: only the routers differ
        w.ip(T0 + 10.0 * i / n, ip4(i, 11), ip4(i, 12), 1,
             with_identifier(t, i % 65535 + 1))
    w.close()


def build_hack_flood(path: Path, n: int) -> None:
    t = icmp_template("hack")
    w = PcapWriter(path)
    for i in range(n):
        w.ip(T0 + float(i), ip4(i, 12), aton(PAR), 1,
             with_identifier(t, i % 65535 + 1))
    w.close()


def build_rtsolpr_flood(path: Path, n: int) -> None:
    from fmipdissect.layers import LLAOption
    t = icmp_template("rtsolpr", [LLAOption(code=1, lla="02:00:00:cc:00:02")])
    w = PcapWriter(path)
    for i in range(n):
        w.ip(T0 + 10.0 * i / n, ip4(i // 7), aton(PAR), 1,
             with_identifier(t, i % 65535 + 1))
    w.close()


OPTIONS_PER_PRRTADV = 1000


def build_huge_options(path: Path, n: int) -> None:
    from fmipdissect.layers import IPv4AddrOption
    from fmipdissect.wire.checksum import fmip_icmp_checksum
    mn = aton("10.0.0.1")
    base = icmp_template("prrtadv", [IPv4AddrOption(code=3, addr=NAR)])
    head, option = base[:8], base[8:]
    fbu = fbu_template()
    fbu = fbu[:4] + mn + fbu[8:16] + struct.pack("!Q", 1) + fbu[24:]
    w = PcapWriter(path)
    rounds = max(1, n // OPTIONS_PER_PRRTADV)
    k = 0
    for r in range(rounds):
        opts = bytearray()
        for _ in range(OPTIONS_PER_PRRTADV):
            opts += option[:4] + ip4(k, 13)
            k += 1
        msg = bytearray(head + bytes(opts))
        msg[2:4] = struct.pack("!H", fmip_icmp_checksum(bytes(msg)))
        w.ip(T0 + r * 0.01, aton(PAR), mn, 1, bytes(msg))
    for r in range(rounds):       # CoA (NAR) is none of the addresses
        ident = struct.pack("!Q", r + 1)
        w.ip(T0 + 5 + r * 0.01, mn, aton(PAR), 17, fbu[:16] + ident + fbu[24:])
    w.close()


def build_findings(path: Path, n: int) -> None:
    """n/2 FBUs with Lifetime 11 (FM101), none acknowledged (FM403)."""
    t = fbu_template(lifetime=11)
    w = PcapWriter(path)
    for i in range(n // 2):
        mn = ip4(i)
        w.ip(T0 + 10.0 * i / n, mn, aton(PAR), 17,
             t[:4] + mn + t[8:16] + struct.pack("!Q", i + 1) + t[24:])
    w.close()


@dataclass(frozen=True)
class Family:
    name: str
    build: Callable[[Path, int], None]
    files: int = 1               # the capture split over this many files
    jobs: int = 1                # fmip-lint -j
    unit: str = "messages"
    command: str = "lint"        # or "handovers": fmipdissect handovers
    captures_of: str = ""        # reuse another family's captures


FAMILIES = {f.name: f for f in (
    Family("fbu-flood", build_fbu_flood),
    Family("hi-flood", build_hi_flood),
    Family("hack-flood", build_hack_flood),
    Family("rtsolpr-flood", build_rtsolpr_flood),
    Family("huge-options", build_huge_options, unit="options"),
    Family("findings-j2", build_findings, files=2, jobs=2, unit="findings"),
    # the handover tracker on the same floods: as bounded as the checker
    Family("handovers-fbu", build_fbu_flood, command="handovers",
           captures_of="fbu-flood"),
    Family("handovers-hi", build_hi_flood, command="handovers",
           captures_of="hi-flood"),
)}


# --- running -----------------------------------------------------------------------

BUILD_VERSION = 1   # bump when a builder's output changes (cache key)


def digest() -> str:
    return f"v{BUILD_VERSION}"


def captures(family: Family, n: int) -> list[Path]:
    CACHE.mkdir(parents=True, exist_ok=True)
    paths = []
    for part in range(family.files):
        name = family.captures_of or family.name
        path = CACHE / f"{name}-{n}-{part}-{digest()}.pcap"
        if not path.exists():
            tmp = path.with_suffix(".tmp")
            family.build(tmp, n // family.files)
            tmp.rename(path)
        paths.append(path)
    return paths


@dataclass
class Row:
    family: str
    n: int
    input_bytes: int
    wall: float
    rss_mb: float
    output_bytes: int
    status: int
    cpu: float = 0.0         # user + system seconds of the command's tree


def measure(family: Family, n: int) -> Row:
    paths = captures(family, n)
    cmd = [FMIP_LINT, "--format", "json", "--no-progress"]
    if family.command == "handovers":
        cmd = [str(BIN / "fmipdissect"), "handovers", "--format", "json"]
    if family.jobs > 1:
        cmd += ["-j", str(family.jobs)]
    cmd += [str(p) for p in paths]
    out_path = CACHE / "out.json"
    rusage = CACHE / "rusage.txt"
    # GNU time: a small C process forks the command, so the peak RSS is the
    # command's own (a fork of this Python would start with our pages);
    # with -j N, Linux folds the waited-for workers in: the largest process.
    timed = ["/usr/bin/time", "-f", "%e %M %U %S", "-o", str(rusage), *cmd]
    with open(out_path, "wb") as out:
        proc = subprocess.run(timed, stdout=out, stderr=subprocess.DEVNULL)
    wall, rss_kb, user, system = rusage.read_text().split()[-4:]
    size = out_path.stat().st_size
    out_path.unlink()
    return Row(family.name, n, sum(p.stat().st_size for p in paths),
               float(wall), int(rss_kb) / 1024, size, proc.returncode,
               float(user) + float(system))


def cpu_growth(prev: Row, row: Row) -> float:
    """CPU time growth from prev to row.  CPU time (user + system): on a
    shared machine wall time measures the neighbours as much as the
    checker."""
    return row.cpu / max(prev.cpu, 1e-3)


def cpu_growth_per10(prev: Row, row: Row) -> float:
    """cpu_growth normalised to 10x input."""
    return cpu_growth(prev, row) ** (1 / max(1e-9, math.log10(row.n / prev.n)))


def print_rows(rows: list[Row]) -> list[tuple[str, bool, str]]:
    print(f"{'family':<15}{'size':>10}{'input MB':>10}{'wall s':>9}"
          f"{'CPU s':>9}{'peak RSS MB':>13}{'output MB':>11}{'CPU x':>7}"
          f"{'output x':>10}{'exit':>6}")
    checks = []
    prev = None
    for r in rows:
        grow_t = grow_o = ""
        if prev is not None and prev.family == r.family:
            factor = r.n / prev.n
            gt = cpu_growth(prev, r)
            go = r.output_bytes / max(prev.output_bytes, 1)
            grow_t, grow_o = f"{gt:.1f}", f"{go:.1f}"
            per10 = cpu_growth_per10(prev, r)
            checks.append((f"{r.family}: CPU time growth per 10x input "
                           f"{prev.n:,} -> {r.n:,} < {TARGET_TIME_GROWTH:g}x",
                           per10 < TARGET_TIME_GROWTH, f"{per10:.1f}x"))
            checks.append((f"{r.family}: output linear {prev.n:,} -> "
                           f"{r.n:,} (growth <= 1.2 x input growth)",
                           go <= factor * 1.2, f"{go:.1f}x for {factor:g}x"))
        print(f"{r.family:<15}{r.n:>10,}{r.input_bytes / 1e6:>10.1f}"
              f"{r.wall:>9.2f}{r.cpu:>9.2f}{r.rss_mb:>13.1f}"
              f"{r.output_bytes / 1e6:>11.2f}{grow_t:>7}{grow_o:>10}"
              f"{r.status:>6}")
        nxt = rows.index(r) + 1
        if nxt == len(rows) or rows[nxt].family != r.family:
            checks.append((f"{r.family}: peak RSS at {r.n:,} < "
                           f"{TARGET_RSS_MB} MB", r.rss_mb < TARGET_RSS_MB,
                           f"{r.rss_mb:.1f} MB"))
        prev = r
    return checks


def add_size_arguments(ap: argparse.ArgumentParser, families) -> None:
    """--sizes, --family and --quick (this script and bench/stress.py)."""
    ap.add_argument("--sizes", default=None,
                    help="comma-separated sizes (default 10000,100000,"
                    "1000000; --quick 1000,10000)")
    ap.add_argument("--family", action="append", choices=sorted(families),
                    help="only these families (may be repeated)")
    ap.add_argument("--quick", action="store_true")


def sizes_and_names(args, families) -> tuple[list[int], list[str]]:
    """The sizes and family names add_size_arguments' options ask for."""
    sizes = [int(s) for s in (args.sizes or ("1000,10000" if args.quick else
                                             "10000,100000,1000000"))
             .split(",")]
    return sizes, args.family or list(families)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_size_arguments(ap, FAMILIES)
    args = ap.parse_args(argv)
    sizes, names = sizes_and_names(args, FAMILIES)
    print(f"session stress (bench/stress_session.py), sizes "
          f"{', '.join(f'{s:,}' for s in sizes)}; fmip-lint --format json; "
          f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    return run_families(FAMILIES, names, sizes)


def _cpu_growth_ok(rows: list[Row]) -> bool:
    return all(cpu_growth_per10(a, b) < TARGET_TIME_GROWTH
               for a, b in zip(rows, rows[1:]))


def family_rows(family: Family, sizes: list[int]) -> list[Row]:
    """One family at each size.  The machines are shared: when a CPU-time
    growth misses the target, every size is measured once more and the
    faster run of each kept (best of 2, as bench/run.py's best of N); the
    peak RSS kept is the larger of the two."""
    rows = []
    for n in sizes:
        print(f"  {family.name} {n:,} ...", file=sys.stderr, flush=True)
        rows.append(measure(family, n))
    if len(rows) < 2 or _cpu_growth_ok(rows):
        return rows
    print(f"  {family.name}: time growth over target, measuring again "
          f"(best of 2)", file=sys.stderr, flush=True)
    best = []
    for first in rows:
        again = measure(family, first.n)
        keep = again if again.cpu < first.cpu else first
        keep.rss_mb = max(first.rss_mb, again.rss_mb)
        best.append(keep)
    return best


def run_families(families, names, sizes) -> int:
    """Measure each named family at each size, print the table and the
    PASS/FAIL lines; 0 when every target holds (bench/stress.py too)."""
    rows = []
    for name in names:
        rows += family_rows(families[name], sizes)
    print()
    checks = print_rows(rows)
    print()
    verdicts = {True: "PASS", False: "FAIL"}
    for label, ok, value in checks:
        print(f"  {verdicts[ok]}  {label}: {value}")
    return 0 if all(ok for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
