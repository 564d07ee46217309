"""What the FMIPv4 Lua dissector costs tshark, side by side.

    .venv/bin/python bench/bench_tshark.py [--packets 100000] [--runs 3]
                                           [--repeats 5000,10000,20000]
                                           [--requests 20000]
                                           [--parts ratio,repeats,memory,ordinary]

Three measurements, each tshark run in its own process with the package's
isolated configuration (fmipdissect.wireshark.tshark.isolated_env: no
installed plugin, no user preference), its standard error kept and checked
for Lua errors (a run that did not load the dissector would time the wrong
thing):

1. Cost ratio.  A capture of N FMIPv4 messages only (`fmipdissect gen
   predictive --packets N`, complete predictive handovers of many MNs: the
   worst case), timed with and without `-X lua_script:lua/fmip.lua`, for
   `tshark -n -2 -V` (every frame decoded and printed, two passes) and for
   `tshark -n` (summary lines).  Best of --runs, wall and CPU time.
2. Repeats.  One FBU repeated R times (same Home Address and
   Identification: one request seen again and again), for each R of
   --repeats: seconds with the plugin, and seconds per 1,000 repeats, which
   stays flat when the cost is linear.
3. Memory per request.  Q and 2Q distinct unanswered FBUs (--requests Q):
   the peak RSS (wait4) with and without the plugin; the plugin's extra
   growth from Q to 2Q requests, divided by Q, is what one request costs
   for the whole run.
4. Ordinary captures.  200,000 packets (--ordinary-packets) of UDP/TCP
   background with 1% FMIPv4, and with one handover (about 0%): `tshark
   -n -r`, `-T fields -e frame.number` and `-2 -V`, with and without the
   plugin, runs taking turns, best of --runs.

Beside the plugin, row 1 times a floor: the cheapest Lua dissector that
shows the same tree, written here from the plugin's own output.  For each
FMIPv4 message it adds as many tree items, each on its own byte range, as
the plugin shows on average on that capture (counted in its `-V` text),
and sets the Info column; it has no logic at all (no checks, no expert
infos, no request/response links, nothing kept between packets), skips
its items when the tree is not shown (the first pass of -2), and reaches
ICMP type 41 through the "ip.proto" table, without the cost of a Field
extractor.  No Lua dissector that shows that tree can cost less than it.

Not a test: the figures depend on the machine; docs/performance.md holds a
measured run.
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

from fmipdissect.wireshark import tshark as T

ROOT = Path(__file__).resolve().parents[1]
LUA: Path | None = None    # a frozen copy of the plugin for the whole run


def cmd(path: Path, *args: str, lua: bool = True) -> list[str]:
    return T.command(path, *args, lua=lua, lua_path=LUA)


def make_handovers(path: Path, packets: int) -> None:
    from fmipdissect.gen.generate import GenOptions, generate_file
    generate_file(GenOptions(scenario="predictive", packets=packets), path)


def _first_fbu_frame() -> bytes:
    """The Ethernet frame of the predictive sample's FBU (frame 3)."""
    data = (ROOT / "samples" / "predictive.pcap").read_bytes()
    off, frame = 24, 0
    while off < len(data):
        incl = struct.unpack_from("<I", data, off + 8)[0]
        frame += 1
        if frame == 3:
            return data[off + 16:off + 16 + incl]
        off += 16 + incl
    raise SystemExit("samples/predictive.pcap has no frame 3")


def write_fbus(path: Path, count: int, distinct: bool) -> None:
    """count FBUs 1 ms apart: the same one (distinct=False) or each with
    its own Identification (the last 4 octets of the 8-octet field)."""
    frame = bytearray(_first_fbu_frame())
    ident_end = 14 + 20 + 8 + 24          # Ethernet, IPv4, UDP, FBU ident
    with open(path, "wb") as f:
        f.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        for i in range(count):
            if distinct:
                frame[ident_end - 4:ident_end] = struct.pack(">I", i)
            sec, usec = 1_767_225_600 + i // 1000, (i % 1000) * 1000
            f.write(struct.pack("<IIII", sec, usec, len(frame), len(frame)))
            f.write(frame)


def run_tshark(cmd: list[str]) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + sys) and peak RSS in KiB of one
    isolated tshark run; its output is discarded, its stderr checked."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err,
                                env=T.isolated_env())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    T.check_stderr(stderr)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"tshark failed: {' '.join(cmd)}\n{stderr}")
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def best(cmd: list[str], runs: int) -> tuple[float, float, int]:
    results = [run_tshark(cmd) for _ in range(runs)]
    return (min(r[0] for r in results), min(r[1] for r in results),
            max(r[2] for r in results))


# The floor (see the module's docstring).  {items} and the message tests
# are filled in from the plugin's output and fmipdissect/spec/protocol.py.
FLOOR_LUA = """
local p = Proto("fmipfloor", "Floor: the plugin's tree without its logic")
local f_octet = ProtoField.uint8("fmipfloor.octet", "Octet", base.DEC)
p.fields = {{f_octet}}
local add, range = TreeItem.add, Tvb.range
local function show(tvb, pinfo, tree)
  local n = tvb:len()
  local top = add(tree, p, range(tvb, 0, n))
  pinfo.cols.info = "FMIPv4 floor"
  if top.len == 0 then return end          -- the tree is not shown
  for i = 1, {items} do add(top, f_octet, range(tvb, i % n, 1)) end
end
local MIP_TYPES = {{{mip_types}}}
function p.dissector(tvb, pinfo, tree)
  if MIP_TYPES[tvb:range(0, 1):uint()] then show(tvb, pinfo, tree) end
  return tvb:len()
end
DissectorTable.get("udp.port"):add({udp_port}, p)
local q = Proto("fmipfloor_icmp", "Floor, ICMP side")
local icmp = Dissector.get("icmp")
local SUBTYPES = {{{subtypes}}}
function q.dissector(tvb, pinfo, tree)
  local consumed = icmp:call(tvb, pinfo, tree)
  if tvb:len() > {subtype_offset} and tvb:range(0, 1):uint() == {icmp_type}
     and SUBTYPES[tvb:range({subtype_offset}, 1):uint()] then
    show(tvb, pinfo, tree)
  end
  return consumed
end
DissectorTable.get("ip.proto"):add(1, q)
"""


def items_per_message(path: Path) -> int:
    """The plugin's tree items per FMIPv4 message below its top item, on
    average over path with `tshark -n -2 -V` (one line per item)."""
    messages = items = 0
    inside = False
    # stderr in a file, as run_tshark: a pipe read only after stdout ends
    # would block tshark once it held 64 KB of messages
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(cmd(path, "-2", "-V"), stdout=subprocess.PIPE,
                                stderr=err, text=True, env=T.isolated_env())
        for line in proc.stdout:
            if line.startswith("Mobile IPv4 Fast Handovers"):
                messages, inside = messages + 1, True
            elif line[:1].strip():
                inside = False          # the next top-level item
            elif inside and line.strip():
                items += 1
        proc.wait()
        err.seek(0)
        T.check_stderr(err.read().decode(errors="replace"))
    if messages == 0:
        raise SystemExit(f"the plugin showed no FMIPv4 message in {path}")
    return round(items / messages)


def write_floor(path: Path, capture: Path) -> int:
    from fmipdissect.spec import protocol as P
    items = items_per_message(capture)
    table = lambda keys: ", ".join(f"[{k}] = true" for k in sorted(keys))
    path.write_text(FLOOR_LUA.format(
        items=items, udp_port=P.MIP_UDP_PORT,
        mip_types=table(P.MIP_MESSAGES),
        icmp_type=P.ICMP_TYPE_EXPERIMENTAL_MOBILITY,
        subtype_offset=P.ICMP_SUBTYPE_OFFSET,
        subtypes=table(P.ICMP_MESSAGES)), encoding="utf-8")
    return items


def cost_ratio(path: Path, runs: int, work: Path) -> None:
    floor = work / "floor.lua"
    items = write_floor(floor, path)
    print(f"\n1. Cost of the plugin on {path.name}: FMIPv4 messages only, "
          f"best of {runs}")
    print(f"   floor: a Lua dissector with no logic adding the plugin's "
          f"{items} tree items per message")
    print(f"{'command':28}{'without':>9}{'floor':>9}{'with':>9}"
          f"{'floor ratio':>13}{'ratio':>8}{'CPU ratio':>11}")
    for label, args in (("tshark -n -2 -V", ("-2", "-V")),
                        ("tshark -n (summary lines)", ())):
        plain = best(cmd(path, *args, lua=False), runs)
        bare = best(T.command(path, *args, lua=True, lua_path=floor), runs)
        plugin = best(cmd(path, *args), runs)
        print(f"{label:28}{plain[0]:8.2f}s{bare[0]:8.2f}s{plugin[0]:8.2f}s"
              f"{bare[0] / plain[0]:12.2f}x{plugin[0] / plain[0]:7.2f}x"
              f"{plugin[1] / plain[1]:10.2f}x")


def repeats(sizes: list[int], runs: int, work: Path) -> None:
    print(f"\n2. One FBU repeated R times (`tshark -n -2 -V`), best of {runs}")
    print(f"{'R':>8}{'with plugin':>13}{'without':>10}{'s per 1000':>12}")
    for r in sizes:
        path = work / f"repeat-{r}.pcap"
        write_fbus(path, r, distinct=False)
        plugin = best(cmd(path, "-2", "-V"), runs)
        plain = best(cmd(path, "-2", "-V", lua=False), runs)
        print(f"{r:8d}{plugin[0]:12.2f}s{plain[0]:9.2f}s"
              f"{plugin[0] / r * 1000:11.3f}s")


# Loaded after the plugin (same Lua state): at the end of the run, the Lua
# heap after a full collection, i.e. what the plugin's state really holds.
HEAP_PROBE = """
local tap = Listener.new(nil, nil)
function tap.draw()
  collectgarbage("collect")
  io.stderr:write(string.format("lua-heap-bytes %d\\n", math.floor(collectgarbage("count") * 1024)))
end
"""


def lua_heap(path: Path, probe: Path) -> int:
    command = cmd(path, "-2", "-V") + ["-X", f"lua_script:{probe}"]
    proc = subprocess.run(command, stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, text=True,
                          env=T.isolated_env())
    T.check_stderr(proc.stderr)
    for line in proc.stderr.splitlines():
        if line.startswith("lua-heap-bytes "):
            return int(line.split()[1])
    raise SystemExit("the heap probe printed nothing")


def memory(q: int, work: Path) -> None:
    print(f"\n3. Memory: {q} and {2 * q} distinct unanswered FBUs "
          f"(`tshark -n -2 -V`)")
    probe = work / "heap_probe.lua"
    probe.write_text(HEAP_PROBE, encoding="utf-8")
    rss, heap = {}, {}
    for count in (q, 2 * q):
        path = work / f"requests-{count}.pcap"
        write_fbus(path, count, distinct=True)
        for lua in (False, True):
            rss[count, lua] = run_tshark(cmd(path, "-2", "-V", lua=lua))[2]
        heap[count] = lua_heap(path, probe)
    print(f"{'requests':>10}{'RSS without':>13}{'RSS with':>11}"
          f"{'Lua heap':>11}")
    for count in (q, 2 * q):
        print(f"{count:10d}{rss[count, False] / 1024:12.1f}M"
              f"{rss[count, True] / 1024:10.1f}M"
              f"{heap[count] / 1048576:10.1f}M")
    per_request = (heap[2 * q] - heap[q]) / q
    rss_extra = ((rss[2 * q, True] - rss[q, True])
                 - (rss[2 * q, False] - rss[q, False])) * 1024 / q
    print(f"per request: {per_request:,.0f} bytes of Lua state kept for the "
          f"whole run ({rss_extra:,.0f} bytes of peak RSS, garbage "
          f"not yet collected included)")


# Ordinary captures: UDP/TCP background with 1% FMIPv4 messages, and with
# one handover in 200,000 packets (about 0%); the commands of a user who
# installed the plugin and reads other traffic.
ORDINARY_SHARES = (("1% FMIPv4", 0.99), ("~0% FMIPv4", 0.99999))
ORDINARY_COMMANDS = (("tshark -n -r", ()),
                     ("tshark -n -T fields -e frame.number",
                      ("-T", "fields", "-e", "frame.number")),
                     ("tshark -n -2 -V", ("-2", "-V")))


def ordinary(packets: int, runs: int, work: Path) -> None:
    """The plugin's cost on captures with little or no FMIPv4: with and
    without it, runs taking turns, best of runs each."""
    from fmipdissect.gen.generate import GenOptions, generate_file
    print(f"\n4. Cost of the plugin on ordinary captures ({packets:,} "
          f"packets), best of {runs}, with and without taking turns")
    print(f"{'capture':<12}{'command':<38}{'without':>9}{'with':>9}"
          f"{'ratio':>8}{'CPU ratio':>11}")
    for label, share in ORDINARY_SHARES:
        path = work / f"ordinary-{share}.pcap"
        generate_file(GenOptions(scenario="predictive", packets=packets,
                                 background=share), path)
        for name, args in ORDINARY_COMMANDS:
            timed = {False: [], True: []}
            for _ in range(runs):
                for lua in (False, True):
                    timed[lua].append(run_tshark(cmd(path, *args, lua=lua)))
            w0, w1 = (min(r[0] for r in timed[x]) for x in (False, True))
            c0, c1 = (min(r[1] for r in timed[x]) for x in (False, True))
            print(f"{label:<12}{name:<38}{w0:8.2f}s{w1:8.2f}s"
                  f"{w1 / w0:7.2f}x{c1 / c0:10.2f}x")


PARTS = ("ratio", "repeats", "memory", "ordinary")   # what --parts can name


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--repeats", default="5000,10000,20000",
                    help="comma-separated repeat counts (default %(default)s)")
    ap.add_argument("--requests", type=int, default=20_000)
    ap.add_argument("--parts", default=",".join(PARTS),
                    help="which measurements to run, comma-separated "
                         "(default %(default)s)")
    ap.add_argument("--ordinary-packets", type=int, default=200_000,
                    help="packets of the ordinary captures (default "
                         "%(default)s)")
    ap.add_argument("--capture", type=Path,
                    help="use this capture for the cost ratio instead of "
                         "generating one")
    args = ap.parse_args(argv)
    parts = set(args.parts.split(","))
    unknown = parts - set(PARTS)
    if unknown:
        ap.error(f"--parts: unknown {', '.join(sorted(unknown))} (choose "
                 f"from {', '.join(PARTS)})")
    version = subprocess.run([T.find_tshark(), "--version"],
                             capture_output=True, text=True).stdout
    print("tshark:", version.splitlines()[0] if version else "?")
    global LUA
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        LUA = work / "fmip.lua"
        LUA.write_bytes(T.dissector_path().read_bytes())
        print("plugin:", T.dissector_path(), "(a copy, taken at the start)")
        path = args.capture
        if path is None and parts & {"ratio"}:
            path = work / f"fmip-{args.packets}.pcap"
            print(f"writing {args.packets} FMIPv4 messages to {path.name} ...",
                  file=sys.stderr)
            make_handovers(path, args.packets)
        if "ratio" in parts:
            cost_ratio(path, args.runs, work)
        if "repeats" in parts:
            repeats([int(r) for r in args.repeats.split(",")], args.runs,
                    work)
        if "memory" in parts:
            memory(args.requests, work)
        if "ordinary" in parts:
            ordinary(args.ordinary_packets, args.runs, work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
