"""fmip-lint's benchmark (issues 5 and 14; `make bench`).  A script, not a test.

    .venv/bin/python bench/run.py [--quick] [--runs N] [--no-tshark]
                                  [--no-memory | --memory | --startup-only]

Generates its captures with the project's generator (fixed seed) into
bench/out/cache/ (gitignored; reused while the generator's source and the
parameters are unchanged):

  bg.pcap / bg.pcapng   1,000,000 Ethernet packets, 1% FMIPv4 in complete
                        predictive handovers of many MNs, the rest realistic
                        UDP / TCP background (`gen predictive --packets
                        1000000 --background 0.99`)
  fmip.pcap             FMIPv4 only: 28,572 complete predictive handovers,
                        200,004 messages (`gen predictive --handovers 28572`)
  bg-frag.pcap          bg.pcap with fragmented UDP background (not
                        FMIPv4) added: 45% of its 1,818,180 packets are
                        fragments

then times, each several times (the best run reported: the machines are
shared and noisy), every one a process of its own with the page cache warm:

  fmip-lint             `fmip-lint --format json CAPTURE`, whole-process wall
                        time (interpreter start included) and CPU time
  pure Python walk      the same with FMIPDISSECT_PURE=1 (no C accelerator,
                        capture/accel.py); its JSON findings must be identical
  fmip-lint (slow path) `fmip-lint --no-prefilter`: every frame parsed in
                        full; its JSON findings must be identical
  tshark + plugin       `tshark -n -r CAPTURE -X lua_script:lua/fmip.lua
                        -Y fmip -T fields -e fmip.type -e fmip.subtype
                        -e fmip.code`
  Scapy layers          PcapReader with fmipdissect.layers bound, on the
                        first SCAPY_SUBSET packets, extrapolated (marked *)
  dpkt full parse       Reader + dpkt.ethernet.Ethernet of every packet
  raw read              1 MiB readinto loop over the file
  cat                   `cat CAPTURE > /dev/null`: the disk's limit
  start-up              fmip-lint on the 7-packet sample, beside
                        `python -c pass` (--no-tshark leaves out tshark
                        and Scapy, which take minutes; --startup-only
                        measures only this, best of 15, in seconds)

and prints the machine, one table side by side with ratios against
fmip-lint, and the targets of issues 5 and 14 with PASS / FAIL.  The
memory step (--memory alone, included by default) generates (once, cached
like the others: 5.6 GB) a 10,000,000-packet capture and times fmip-lint
and cat on it, with fmip-lint's peak RSS (GNU time's %M: the process's own
high-water mark, not the bench's, see run_timed).

--quick: 100,000-packet background captures, 20,000 FMIPv4 messages, a
1,000,000-packet memory capture, one run each: a check that everything
works, not figures to quote.  Exit status 0 when every target is met.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from fmipdissect.capture import accel

import against_cat

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
BIN = Path(PYTHON).parent
FMIP_LINT = str(BIN / "fmip-lint")
FMIPDISSECT = str(BIN / "fmipdissect")
COMMON = str(REPO / "bench" / "common.py")
CACHE = REPO / "bench" / "out" / "cache"
LUA = REPO / "lua" / "fmip.lua"
SEED = 4988

# the throughput targets (docs/performance.md), printed as "throughput targets"
TARGET_PCAP = 1_000_000           # packets/s, wall, one process
TARGET_PCAPNG = 500_000
TARGET_FMIP = 100_000             # messages/s
TARGET_TSHARK_RATIO = 25.0
TARGET_RSS_MB = 150
TARGET_HANDOVERS_RATIO = 1.3      # handovers time / fmip-lint time
# the second set ("halve the distance to the disk"), printed as "disk-distance targets"
TARGET14_PCAP_10M = 6_000_000     # packets/s on the 10M-packet pcap
TARGET14_PCAP = 4_500_000         # on the 1M-packet pcap
TARGET14_PCAPNG = 3_000_000
TARGET14_FMIP = 250_000           # messages/s, FMIPv4 only
TARGET14_START_MS = 50            # fmip-lint on a tiny capture
TARGET14_RSS_MB = 50              # peak RSS at 10M packets
PURE_ENV = {accel.PURE_ENV: "1"}       # the pure-Python record walk
GNU_TIME = "/usr/bin/time" if os.access("/usr/bin/time", os.X_OK) else None

HANDOVER_MESSAGES = 7             # predictive flow: RtSolPr .. FBAck x2


class Capture:
    def __init__(self, name: str, path: Path, packets: int, unit: str,
                 label: str):
        self.name, self.path, self.packets = name, path, packets
        self.unit, self.label = unit, label


# --- running a process -------------------------------------------------------

class Timed:
    """One process run: wall seconds, CPU seconds, peak RSS, exit status."""

    def __init__(self, wall, cpu, rss_kb, status, out_path):
        self.wall, self.cpu, self.rss_kb = wall, cpu, rss_kb
        self.status, self.out_path = status, out_path


def run_timed(cmd: list[str], out_path: Path, env: dict | None = None,
              rss: bool = True) -> Timed:
    """Run cmd with stdout to out_path; CPU time from wait4 (of exactly
    this process tree, not of every child so far), peak RSS from GNU time
    (below).  env: variables added to the environment.  rss=False: no GNU
    time around cmd (its own fork and exec would count in the wall time:
    some 5-8 ms, as much as a start-up figure can spare), the RSS from
    wait4."""
    err_path = out_path.with_suffix(".stderr")
    rss_path = out_path.with_suffix(".rss")
    full_env = dict(os.environ, **env) if env else None
    # The peak RSS comes from GNU time when there is one: a child forked
    # (or vforked) from this Python inherits our high-water mark in its
    # ru_maxrss until it execs, which inflated the figure by the bench's
    # own size; GNU time is a small C process that forks the command.
    wrapper = ([GNU_TIME, "-f", "%M", "-o", str(rss_path)]
               if GNU_TIME and rss else [])
    with open(out_path, "wb") as out, open(err_path, "wb") as errors:
        start = time.perf_counter()
        proc = subprocess.Popen(wrapper + cmd, stdout=out, stderr=errors,
                                env=full_env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = err_path.read_text(errors="replace")
    if proc.returncode not in (0, 1):
        raise SystemExit(f"bench: {' '.join(cmd)} failed "
                         f"({proc.returncode}): {err.strip()[-500:]}")
    rss_kb = usage.ru_maxrss
    if wrapper:
        rss_kb = int(rss_path.read_text().split()[-1])
    return Timed(wall, usage.ru_utime + usage.ru_stime, rss_kb,
                 proc.returncode, out_path)


def best(values):
    """The machines are shared and noisy: the fastest run is the one least
    disturbed (the targets are checked on the best of 3)."""
    return min(values)


# --- machine -----------------------------------------------------------------

def machine() -> list[str]:
    cpu = platform.processor() or "?"
    try:
        for line in open("/proc/cpuinfo", encoding="utf-8"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        mem = next(line.split()[1] for line in open("/proc/meminfo")
                   if line.startswith("MemTotal"))
        mem = f"{int(mem) // 1024:,} MiB"
    except (OSError, StopIteration):
        mem = "?"
    tshark = shutil.which("tshark")
    tshark_version = "not installed"
    if tshark:
        tshark_version = subprocess.run(
            [tshark, "--version"], capture_output=True, text=True
        ).stdout.splitlines()[0]
    import dpkt
    import scapy
    return [
        f"CPU        {cpu}, {os.cpu_count()} logical cores, {mem} RAM",
        f"OS         {platform.system()} {platform.release()}",
        f"Python     {platform.python_version()} ({platform.python_implementation()})",
        f"tshark     {tshark_version}",
        f"libraries  dpkt {dpkt.__version__}, scapy {scapy.VERSION}",
        f"load       {', '.join(f'{x:.2f}' for x in os.getloadavg())} "
        f"(1, 5, 15 min) at the start",
    ]


# --- captures ----------------------------------------------------------------

def generator_digest() -> str:
    h = hashlib.sha256()
    package = REPO / "fmipdissect"
    for path in sorted(package.glob("gen/*.py")) + [
            package / "spec" / "protocol.py", package / "wire" / "checksum.py"]:
        h.update(path.read_bytes())
    return h.hexdigest()[:12]


def generate(path: Path, args: list[str]) -> None:
    """`fmipdissect gen predictive -o path ARGS` unless cached."""
    stamp = path.with_suffix(path.suffix + ".params")
    params = json.dumps({"args": args, "generator": generator_digest()})
    if path.exists() and stamp.exists() and stamp.read_text() == params:
        return
    print(f"  generating {path.name}: fmipdissect gen predictive "
          f"{' '.join(args)}", flush=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run([FMIPDISSECT, "gen", "predictive", "-o", str(path), *args],
                   check=True)
    stamp.write_text(params)


BENCH_CAPTURES = ("bg.pcap", "bg.pcapng", "fmip.pcap", "bg-frag.pcap")


def captures(quick: bool) -> list[Capture]:
    bg_packets = 100_000 if quick else 1_000_000
    handovers = (20_000 if quick else 200_000) // HANDOVER_MESSAGES + 1
    sub = CACHE / ("quick" if quick else "full")
    bg_args = ["--packets", str(bg_packets), "--background", "0.99",
               "--seed", str(SEED)]
    fmip_args = ["--handovers", str(handovers), "--seed", str(SEED)]
    out = []
    for name, args, unit, label in (
            ("bg.pcap", bg_args, "pkt/s", "1% FMIPv4"),
            ("bg.pcapng", bg_args, "pkt/s", "1% FMIPv4"),
            ("fmip.pcap", fmip_args, "msg/s", "FMIPv4 only")):
        path = sub / name
        generate(path, args)
        out.append(Capture(name, path, count_packets(path), unit, label))
    path = sub / "bg-frag.pcap"
    with_fragments(out[0].path, path)
    out.append(Capture(path.name, path, count_packets(path), "pkt/s",
                       "45% UDP fragments"))
    assert tuple(c.name for c in out) == BENCH_CAPTURES
    return out


FRAGMENT_EVERY = (11, 3)      # after 11 frames, 3 datagrams of 3 fragments:
                              # 9 of every 20 packets are fragments (45%)


def with_fragments(src: Path, dst: Path) -> None:
    """bg.pcap with fragmented background UDP (not FMIPv4: DNS-like, port
    53 to 5353) mixed in, 45% of the packets (the prefilter must keep such
    fragments out of the full parser).  Cached like the others."""
    stamp = dst.with_suffix(dst.suffix + ".params")
    params = json.dumps({"src": src.stat().st_mtime, "every": FRAGMENT_EVERY,
                         "version": 1})
    if dst.exists() and stamp.exists() and stamp.read_text() == params:
        return
    print(f"  writing {dst.name}: {src.name} + 45% UDP fragments", flush=True)
    import struct
    eth = b"\x02\x00\x00\x00\x00\x02\x02\x00\x00\x00\x00\x01\x08\x00"
    body = struct.pack("!HHHH", 53, 5353, 48, 0) + bytes(40)
    pieces = ((body[:16], 0x2000), (body[16:32], 0x2002), (body[32:], 0x0004))
    record = struct.Struct("<IIII")
    ident = 0
    with open(src, "rb") as f, open(dst, "wb", buffering=1 << 20) as out:
        out.write(f.read(24))
        count = 0
        while True:
            head = f.read(16)
            if len(head) < 16:
                break
            sec, frac, incl, orig = record.unpack(head)
            out.write(head + f.read(incl))
            count += 1
            if count % FRAGMENT_EVERY[0]:
                continue
            for _ in range(FRAGMENT_EVERY[1]):
                ident = (ident + 1) & 0xFFFF
                src_ip = bytes([10, 77, ident >> 8, ident & 0xFF])
                for part, frag in pieces:
                    ip = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(part),
                                     ident, frag, 64, 17, 0, src_ip,
                                     b"\xc0\xa8\x01\x01") + part
                    frame = eth + ip + bytes(max(0, 46 - len(ip)))
                    out.write(record.pack(sec, frac, len(frame), len(frame))
                              + frame)
    stamp.write_text(params)


def count_packets(path: Path) -> int:
    """Frames in the capture, from fmipdissect's own reader (cached)."""
    stamp = path.with_suffix(path.suffix + ".frames")
    if stamp.exists() and stamp.stat().st_mtime >= path.stat().st_mtime:
        return int(stamp.read_text())
    from fmipdissect.capture.reader import CaptureReader
    with CaptureReader(str(path)) as reader:
        for _ in reader:
            pass
        frames = reader.frames
    stamp.write_text(str(frames))
    return frames


# --- measurements ------------------------------------------------------------

class Result:
    """Median of several runs of one tool on one capture."""

    def __init__(self, rate, wall, cpu_rate=None, rss_kb=None, runs=1,
                 note="", extra=None):
        self.rate, self.wall, self.cpu_rate = rate, wall, cpu_rate
        self.rss_kb, self.runs, self.note = rss_kb, runs, note
        self.extra = extra or {}


def lint_json(path: Path) -> dict:
    return json.loads(path.read_text())


def measure_lint(cap: Capture, runs: int, work: Path, slow: bool = False,
                 env: dict | None = None) -> tuple[Result, dict]:
    """fmip-lint, best of runs; slow: --no-prefilter (the reference path);
    env: e.g. PURE_ENV for the pure-Python record walk."""
    cmd = [FMIP_LINT, "--format", "json", "--no-progress", str(cap.path)]
    if slow:
        cmd.insert(1, "--no-prefilter")
    tag = "slow" if slow else "pure" if env else "fast"
    timings = [run_timed(cmd, work / f"lint-{cap.name}-{tag}.json", env)
               for _ in range(runs)]
    report = lint_json(timings[-1].out_path)
    units = (report["summary"]["messages"] if cap.unit == "msg/s"
             else report["summary"]["packets"])
    wall = best(t.wall for t in timings)
    cpu = best(t.cpu for t in timings)
    return Result(units / wall, wall, units / cpu,
                  max(t.rss_kb for t in timings), runs,
                  extra={"units": units}), report


def measure_handovers(cap: Capture, runs: int, work: Path) -> Result:
    """`fmipdissect handovers --format json`: the same engine as fmip-lint
    plus the handover tracker."""
    cmd = [FMIPDISSECT, "handovers", "--format", "json", str(cap.path)]
    timings = [run_timed(cmd, work / f"handovers-{cap.name}.json")
               for _ in range(runs)]
    doc = json.loads(timings[-1].out_path.read_text())
    wall = best(t.wall for t in timings)
    units = cap.packets
    if cap.unit == "msg/s":
        units = sum(h["messages"] for h in doc["handovers"])
    return Result(units / wall, wall, rss_kb=max(t.rss_kb for t in timings),
                  runs=runs, extra={"handovers": len(doc["handovers"])})


def measure_tshark(cap: Capture, runs: int, work: Path) -> Result:
    tshark = shutil.which("tshark")
    if tshark is None:
        return Result(None, None, note="tshark not installed")
    cmd = [tshark, "-n", "-r", str(cap.path), "-X", f"lua_script:{LUA}",
           "-Y", "fmip", "-T", "fields", "-e", "fmip.type", "-e",
           "fmip.subtype", "-e", "fmip.code"]
    timings = [run_timed(cmd, work / f"tshark-{cap.name}.txt")
               for _ in range(runs)]
    lines = sum(1 for _ in open(timings[-1].out_path, "rb"))
    wall = best(t.wall for t in timings)
    return Result(cap.packets / wall, wall, runs=runs,
                  extra={"frames_shown": lines})


def measure_common(tool: str, cap: Capture, runs: int, work: Path,
                   limit: int | None = None) -> Result:
    cmd = [PYTHON, COMMON, tool, str(cap.path)]
    if limit is not None:
        cmd.append(str(limit))
    rows = []
    for _ in range(runs):
        t = run_timed(cmd, work / f"{tool}-{cap.name}.json")
        rows.append(json.loads(t.out_path.read_text()))
    seconds = best(r["seconds"] for r in rows)
    packets = rows[-1]["packets"] or cap.packets
    note = ""
    if limit is not None and packets < cap.packets:
        note = f"* first {packets:,} packets, extrapolated"
    return Result(packets / seconds, seconds * cap.packets / packets,
                  runs=runs, note=note, extra={"found": rows[-1]["found"]})


def measure_cat(cap: Capture, runs: int) -> Result:
    """`cat CAPTURE > /dev/null`, whole process: the disk's (page cache's)
    limit the targets measure the distance to."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(["cat", str(cap.path)], stdout=subprocess.DEVNULL,
                       check=True)
        timings.append(time.perf_counter() - start)
    wall = best(timings)
    units = cap.packets
    return Result(units / wall, wall, runs=runs)


def measure_startup(runs: int, work: Path) -> dict:
    """Milliseconds, best of runs: the interpreter alone, and fmip-lint on
    the 7-packet predictive sample (target: start-up <= 50 ms); each the
    bare process, without GNU time around it (run_timed's rss=False), the
    three taking turns so that a busy moment of the machine hits all three
    alike."""
    tiny = str(REPO / "samples" / "predictive.pcap")
    commands = {"python -c pass": [PYTHON, "-c", "pass"],
                "python -c 'import argparse'":
                    [PYTHON, "-c", "import argparse"],
                "fmip-lint samples/predictive.pcap": [FMIP_LINT, tiny]}
    walls: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, cmd in commands.items():
            walls[label].append(run_timed(cmd, work / "startup.txt",
                                          rss=False).wall)
    return {label: 1000 * best(w) for label, w in walls.items()}


def startup_check(startup: dict) -> tuple[str, bool, str]:
    """The issue-14 start-up target as a (label, verdict, figures) check."""
    return (f"fmip-lint start-up on a tiny capture <= {TARGET14_START_MS} ms",
            startup["fmip-lint samples/predictive.pcap"] <= TARGET14_START_MS,
            ", ".join(f"{k} {v:.0f} ms" for k, v in startup.items()))


def print_checks(title: str, checks: list[tuple[str, bool | None, str]]):
    """A title, then a PASS / FAIL / info line per (label, verdict, value)."""
    print(title)
    for label, ok, value in checks:
        print(f"  {VERDICTS[ok]}  {label}: {value}")


VERDICTS = {True: "PASS", False: "FAIL", None: "info"}


def findings_equal(fast: dict, slow: dict) -> bool:
    return (fast["findings"] == slow["findings"]
            and fast["summary"] == slow["summary"])


# --- memory --------------------------------------------------------------------

def memory_step(packets: int, runs: int, quick: bool) -> dict:
    """fmip-lint on a `packets`-packet pcap (1% FMIPv4), cached in
    bench/out/cache like the others: best wall time of runs, peak RSS, and
    `cat` of the same file, the disk's limit."""
    sub = CACHE / ("quick" if quick else "full")
    path = sub / f"bg-{packets // 1_000_000}m.pcap"
    start = time.perf_counter()
    generate(path, ["--packets", str(packets), "--background", "0.99",
                    "--seed", str(SEED), "--force"])     # (over 1 GiB)
    gen_seconds = time.perf_counter() - start
    size = path.stat().st_size
    with tempfile.TemporaryDirectory(prefix="fmip-bench-") as tmp:
        timings = [run_timed([FMIP_LINT, "--format", "json", "--no-progress",
                              str(path)], Path(tmp) / "lint.json")
                   for _ in range(runs)]
        summary = lint_json(timings[-1].out_path)["summary"]
    cap = Capture(path.name, path, summary["packets"], "pkt/s", "")
    cat = measure_cat(cap, runs)
    wall = best(t.wall for t in timings)
    return {"packets": summary["packets"], "messages": summary["messages"],
            "size": size, "rss_mb": max(t.rss_kb for t in timings) / 1024,
            "wall": wall, "cpu": best(t.cpu for t in timings),
            "gen_seconds": gen_seconds, "cat_wall": cat.wall}


# --- output ----------------------------------------------------------------------

def fmt_rate(rate) -> str:
    return "-" if rate is None else f"{rate:,.0f}"


def print_table(caps, table) -> None:
    """table: row label -> {capture name: Result}."""
    first = 34
    cell = 27
    head1 = " " * first + "".join(f"{c.name:>{cell}}" for c in caps)
    head2 = " " * first + "".join(
        f"{f'{c.packets:,} pkts, {c.label}':>{cell}}" for c in caps)
    head3 = f"{'':{first}}" + "".join(
        f"{c.unit + '   lint÷tool':>{cell}}" for c in caps)
    print(head1)
    print(head2)
    print(head3)
    print("-" * (first + cell * len(caps)))
    lint = table["fmip-lint"]
    for label, results in table.items():
        line = f"{label:<{first}}"
        for c in caps:
            r = results.get(c.name)
            if r is None or r.rate is None:
                line += f"{'-':>{cell}}"
                continue
            star = "*" if r.note.startswith("*") else " "
            if label == "fmip-lint, CPU time":
                line += f"{fmt_rate(r.rate) + star:>{cell - 9}}{'':>9}"
                continue
            base = lint[c.name].rate
            ratio = base / r.rate
            line += f"{fmt_rate(r.rate) + star:>{cell - 9}}{ratio:>8.2f}x"
        print(line)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true",
                    help="small captures, one run each (a smoke test)")
    ap.add_argument("--runs", type=int, default=None,
                    help="runs per measurement (default 5 for fmip-lint, "
                    "3 for the others; 1 with --quick)")
    ap.add_argument("--scapy-subset", type=int, default=None,
                    help="packets Scapy reads (default 10,000; 2,000 quick)")
    group = ap.add_mutually_exclusive_group()
    group.add_argument("--memory", action="store_true",
                       help="only the 10,000,000-packet memory step")
    group.add_argument("--no-memory", action="store_true",
                       help="skip the memory step")
    ap.add_argument("--no-tshark", action="store_true",
                    help="leave out tshark and Scapy (minutes each): the "
                    "fmip-lint, dpkt, cat and raw-read rows only")
    ap.add_argument("--memory-packets", type=int, default=None,
                    help="packets of the memory capture (default "
                    "10,000,000; 1,000,000 with --quick)")
    ap.add_argument("--base", default=None,
                    help="the commit whose machine instructions per FMIPv4 "
                    "message are counted beside the tree's (default "
                    "46225f2; bench/instructions.py)")
    ap.add_argument("--no-instructions", action="store_true",
                    help="do not count machine instructions (valgrind)")
    group.add_argument("--startup-only", action="store_true",
                       help="only the start-up figures (best of --runs, "
                       "default 15): seconds, no capture generated")
    args = ap.parse_args(argv)
    quick = args.quick
    lint_runs = args.runs or (1 if quick else 3)
    runs = args.runs or (1 if quick else 3)
    subset = args.scapy_subset or (2_000 if quick else 10_000)
    memory_packets = args.memory_packets or (1_000_000 if quick
                                             else 10_000_000)
    started = time.perf_counter()
    os.chdir(REPO)
    print("fmipdissect benchmark (bench/run.py" + (" --quick" if quick else "")
          + ")")
    for line in machine():
        print("  " + line)
    print(f"  command    {' '.join([os.path.relpath(PYTHON, REPO), 'bench/run.py'] + sys.argv[1:])}")
    print(flush=True)
    checks: list[tuple[str, bool, str]] = []
    checks14: list[tuple[str, bool, str]] = []
    checks27: list[tuple[str, bool, str]] = []

    if args.startup_only:
        with tempfile.TemporaryDirectory(prefix="fmip-bench-") as tmp:
            startup = measure_startup(args.runs or 15, Path(tmp))
        found = [startup_check(startup),
                 against_cat.startup_check(startup)]
        print_checks(f"start-up, best of {args.runs or 15}:", found)
        return 0 if all(ok for _, ok, _ in found) else 1

    if not args.memory:
        print("captures:", flush=True)
        caps = captures(quick)
        for c in caps:
            print(f"  {c.path.relative_to(REPO)}: {c.packets:,} packets, "
                  f"{c.path.stat().st_size / 1e6:,.0f} MB")
        print(flush=True)
        table: dict[str, dict[str, Result]] = {
            "fmip-lint": {}, "fmip-lint, CPU time": {},
            "fmip-lint, pure Python walk": {},
            "fmip-lint --no-prefilter (1 run)": {},
            "fmipdissect handovers": {},
            "tshark -X lua_script:lua/fmip.lua": {},
            "Scapy layers (PcapReader)": {}, "dpkt full parse": {},
            "raw read (page cache)": {},
            "cat > /dev/null (the disk's limit)": {}}
        equal = {}
        with tempfile.TemporaryDirectory(prefix="fmip-bench-") as tmp:
            work = Path(tmp)
            for c in caps:
                print(f"measuring {c.name} ...", flush=True)
                fast, report = measure_lint(c, lint_runs, work)
                table["fmip-lint"][c.name] = fast
                table["fmip-lint, CPU time"][c.name] = Result(
                    fast.cpu_rate, None)
                pure, pure_report = measure_lint(c, lint_runs, work,
                                                 env=PURE_ENV)
                table["fmip-lint, pure Python walk"][c.name] = pure
                slow, slow_report = measure_lint(c, 1, work, slow=True)
                table["fmip-lint --no-prefilter (1 run)"][c.name] = slow
                equal[c.name] = (findings_equal(report, slow_report)
                                 and findings_equal(report, pure_report))
                fast.extra["findings"] = len(report["findings"])
                table["fmipdissect handovers"][c.name] = \
                    measure_handovers(c, lint_runs, work)
                if not args.no_tshark:
                    table["tshark -X lua_script:lua/fmip.lua"][c.name] = \
                        measure_tshark(c, runs, work)
                    table["Scapy layers (PcapReader)"][c.name] = \
                        measure_common("scapy", c, runs, work, subset)
                table["dpkt full parse"][c.name] = \
                    measure_common("dpkt", c, runs, work)
                table["raw read (page cache)"][c.name] = \
                    measure_common("raw", c, runs, work)
                table["cat > /dev/null (the disk's limit)"][c.name] = \
                    measure_cat(c, runs)
            startup = measure_startup(max(runs, 5), work)
        print()
        print(f"Best of {lint_runs} runs for fmip-lint, {runs} for the "
              f"others; rates are units per wall-clock second; lint÷tool = "
              f"how many times faster fmip-lint is (below 1: slower).")
        print("fmip-lint, tshark and cat: whole process (start-up included); "
              "Scapy, dpkt, raw read: their loop alone.  The pure Python "
              "walk: FMIPDISSECT_PURE=1 (no C accelerator).")
        print()
        print_table(caps, table)
        notes = {r.note for row in table.values() for r in row.values()
                 if r.note}
        for c in caps:
            s = table["Scapy layers (PcapReader)"].get(c.name)
            if s is not None and s.note:
                print(f"  * Scapy on {c.name}: {s.note[2:]} "
                      f"({s.wall:,.0f} s for the whole file)")
        for note in sorted(n for n in notes if not n.startswith("*")):
            print(f"  {note}")
        print()
        print("details:")
        for c in caps:
            f = table["fmip-lint"][c.name]
            t = table["tshark -X lua_script:lua/fmip.lua"].get(c.name) \
                or Result(None, None)
            d = table["dpkt full parse"][c.name]
            sc = table["Scapy layers (PcapReader)"].get(c.name) \
                or Result(None, None, extra={"found": 0})
            print(f"  {c.name}: fmip-lint {f.wall:.2f} s wall, "
                  f"{f.extra['units']:,} {c.unit[:-2]}s, "
                  f"{f.extra['findings']} finding(s), peak RSS "
                  f"{f.rss_kb / 1024:.0f} MB; tshark "
                  + (f"{t.wall:.1f} s, {t.extra['frames_shown']:,} frames "
                     f"shown" if t.rate else "-")
                  + f"; dpkt {d.extra['found']:,} candidates; Scapy "
                  f"{sc.extra['found']:,} FMIPv4 messages in its subset")
        print()

        lint = table["fmip-lint"]
        bg, bgng, fmip, frag = caps

        def judged(ok):
            # --quick captures are too small for rates (start-up dominates)
            return None if quick else ok
        checks.append((f"fmip-lint on {bg.name} >= {TARGET_PCAP:,} pkt/s",
                       judged(lint[bg.name].rate >= TARGET_PCAP),
                       f"{lint[bg.name].rate:,.0f}"))
        checks.append((f"fmip-lint on {bgng.name} >= {TARGET_PCAPNG:,} pkt/s",
                       judged(lint[bgng.name].rate >= TARGET_PCAPNG),
                       f"{lint[bgng.name].rate:,.0f}"))
        checks.append((f"fmip-lint on {frag.name} (45% UDP fragments) >= "
                       f"{TARGET_PCAP:,} pkt/s",
                       judged(lint[frag.name].rate >= TARGET_PCAP),
                       f"{lint[frag.name].rate:,.0f}"))
        checks.append((f"fmip-lint on {fmip.name} >= {TARGET_FMIP:,} msg/s",
                       judged(lint[fmip.name].rate >= TARGET_FMIP),
                       f"{lint[fmip.name].rate:,.0f}"))
        ho = table["fmipdissect handovers"]
        for c in caps:
            ratio = ho[c.name].wall / lint[c.name].wall
            checks.append((f"handovers within {TARGET_HANDOVERS_RATIO}x of "
                           f"fmip-lint's time on {c.name}",
                           judged(ratio <= TARGET_HANDOVERS_RATIO)
                           if c is not fmip else None,
                           f"{ratio:.2f}x, {ho[c.name].extra['handovers']:,} "
                           f"handovers, peak RSS "
                           f"{ho[c.name].rss_kb / 1024:.0f} MB"))
        for c in caps:
            checks.append((f"findings on {c.name} identical to "
                           f"--no-prefilter and to the pure Python walk",
                           equal[c.name],
                           "identical" if equal[c.name] else "DIFFERENT"))
        cat = table["cat > /dev/null (the disk's limit)"]
        for c, target in ((bg, TARGET14_PCAP), (bgng, TARGET14_PCAPNG),
                          (fmip, TARGET14_FMIP)):
            checks14.append((f"fmip-lint on {c.name} >= {target:,} {c.unit}",
                             judged(lint[c.name].rate >= target),
                             f"{lint[c.name].rate:,.0f} ({lint[c.name].wall:.2f} s"
                             f", {lint[c.name].wall / cat[c.name].wall:.1f}x "
                             f"cat's {cat[c.name].wall:.2f} s)"))
        checks14.append(startup_check(startup))
        checks27 = against_cat.checks(caps, table, startup, judged)
        ts = table["tshark -X lua_script:lua/fmip.lua"]
        for c in caps if not args.no_tshark else ():
            # the comparison is on the busy-router capture (1%
            # FMIPv4); on the FMIPv4-only one the ratio is shown, not judged
            target = c is not fmip
            if ts[c.name].rate is None:
                checks.append((f"fmip-lint >= {TARGET_TSHARK_RATIO:g}x tshark "
                               f"with the plugin on {c.name}",
                               judged(False) if target else None,
                               "tshark not installed"))
                continue
            ratio = lint[c.name].rate / ts[c.name].rate
            checks.append((f"fmip-lint >= {TARGET_TSHARK_RATIO:g}x tshark "
                           f"with the plugin on {c.name}",
                           judged(ratio >= TARGET_TSHARK_RATIO) if target
                           else None, f"{ratio:.1f}x"))

    if not args.no_memory:
        print(f"memory step: {memory_packets:,} packets", flush=True)
        mem = memory_step(memory_packets, lint_runs, quick)
        rate = mem["packets"] / mem["wall"]
        print(f"  fmip-lint on {mem['packets']:,} packets "
              f"({mem['size'] / 1e9:.1f} GB, {mem['messages']:,} FMIPv4 "
              f"messages): {mem['wall']:.2f} s wall, best of {lint_runs} "
              f"({rate:,.0f} pkt/s), peak RSS {mem['rss_mb']:.1f} MB "
              f"(GNU time's %M); cat {mem['cat_wall']:.2f} s "
              f"({mem['packets'] / mem['cat_wall']:,.0f} pkt/s); generating "
              f"(or finding it cached) took {mem['gen_seconds']:.0f} s")
        print()
        checks.append((f"peak RSS on {mem['packets']:,} packets < "
                       f"{TARGET_RSS_MB} MB", mem["rss_mb"] < TARGET_RSS_MB,
                       f"{mem['rss_mb']:.1f} MB"))
        checks14.append((f"fmip-lint on {mem['packets']:,} packets >= "
                         f"{TARGET14_PCAP_10M:,} pkt/s",
                         None if quick else rate >= TARGET14_PCAP_10M,
                         f"{rate:,.0f} ({mem['wall'] / mem['cat_wall']:.1f}x "
                         f"cat's time)"))
        checks14.append((f"peak RSS on {mem['packets']:,} packets < "
                         f"{TARGET14_RSS_MB} MB",
                         mem["rss_mb"] < TARGET14_RSS_MB,
                         f"{mem['rss_mb']:.1f} MB"))
        checks27.append(against_cat.memory_check(
            mem, lambda ok: None if quick else ok))
    if not args.no_instructions:
        import instructions
        counted = instructions.report(args.base or instructions.DEFAULT_BASE)
        checks27.append(against_cat.instructions_check(counted))
        print()

    print_checks("throughput targets:", checks)
    print_checks("disk-distance targets:", checks14)
    print_checks("targets against cat, FMIPv4-dense work:", checks27)
    checks += checks14 + checks27
    if quick:
        print("  (--quick: rates on small captures are shown, not judged)")
    print(f"\nbenchmark took {time.perf_counter() - started:,.0f} s")
    return 0 if all(ok is not False for _, ok, _ in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
