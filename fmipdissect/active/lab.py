"""`fmipdissect lab`: MN, PAR and NAR in network namespaces of their own.

    fmip<tag>-mn  fmip-old ---- fmip-mn  fmip<tag>-par
    198.18.1.10   fmip-new --.  fmip-nar 198.18.1.1, 198.18.0.1/30
                             |     |
                             '- fmip-mn  fmip<tag>-nar
                                fmip-par 198.18.2.1, 198.18.0.2/30

The MN's node also holds the prober's stand-ins: a NAR (198.18.1.3, behind
the new access point 02:00:00:cc:00:03 of PAR's neighbourhood) for the
probe of PAR, and a PAR (198.18.2.2) for the probe of NAR.  Steps: capture
on every node (dumpcap), start the PAR and NAR emulators, run a predictive
and a reactive handover with the MN emulator, stop the captures, probe PAR
and NAR, then end every process and delete every namespace (also on
failure, Ctrl-C or SIGTERM).  Addresses come from 198.18.0.0/15 (RFC 2544's
benchmarking range), so nothing here can collide with a real network.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field

from ..errors import InputError
from ..gen.flows import SAMPLE_SPI
from . import netns as N

PAR_ADDR, NAR_ADDR, PCOA = "198.18.1.1", "198.18.2.1", "198.18.1.10"
PROBE_NAR, PROBE_PAR = "198.18.1.3", "198.18.2.2"   # the prober's stand-ins
NCOA_POOL = "198.18.2.100"
AP_OF_NAR, AP_OF_PROBE = "02:00:00:cc:00:02", "02:00:00:cc:00:03"
MACS = {("mn", "fmip-old"): "02:00:00:aa:00:01",
        ("mn", "fmip-new"): "02:00:00:aa:00:02",
        ("par", "fmip-mn"): "02:00:00:bb:00:01",
        ("par", "fmip-nar"): "02:00:00:bb:01:01",
        ("nar", "fmip-mn"): "02:00:00:bb:00:02",
        ("nar", "fmip-par"): "02:00:00:bb:01:02"}
LAB_KEY = b"fmipdissect-lab-mn-par-key"
PROBE_TIMEOUT = 0.5       # s; the emulators answer within milliseconds
START_TIMEOUT = 20.0      # s for a process to come up on a busy machine
# s between the last message and stopping dumpcap: libpcap's ring hands
# frames to dumpcap in blocks, each retired after a timeout of a few hundred
# ms; stopped sooner, dumpcap loses the frames of the open block (measured:
# 2 captures in 25 lost all their frames at 0.1 s, none at 0.6 s)
CAPTURE_SETTLE = 0.6


def add_arguments(p) -> None:
    p.add_argument("--fault", action="append", default=[],
                   metavar="ROLE:NAME",
                   help="inject a fault into the emulator of ROLE (par, nar "
                        "or mn); repeatable; `--fault help` lists them")
    p.add_argument("--out", metavar="DIR",
                   help="keep the captures (mn, par, nar .pcapng), the "
                        "probes' exchanges and the key file in DIR")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--timeout", type=float, default=PROBE_TIMEOUT,
                   metavar="S",
                   help=f"seconds the MN and the probes wait for each reply "
                        f"(default {PROBE_TIMEOUT}; the emulators answer "
                        f"within milliseconds, raise it on a slow machine)")


@dataclass
class LabRun:
    captures: dict = field(default_factory=dict)
    mn: list = field(default_factory=list)        # MN outcomes (dicts)
    probe: dict = field(default_factory=dict)     # target -> probe JSON
    lint: dict = field(default_factory=dict)      # node -> summary counts
    handovers: tuple = (None, "")    # (JSON, text) of PAR's capture
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)    # phase -> seconds


def parse_lab_faults(texts: list[str]) -> dict[str, list[str]]:
    from .faults import parse_faults
    by_role: dict[str, list[str]] = {"par": [], "nar": [], "mn": []}
    for text in texts:
        role, sep, name = text.partition(":")
        if not sep or role not in by_role:
            raise InputError(f"bad --fault {text!r}: expected ROLE:NAME, "
                             f"ROLE one of par, nar, mn")
        by_role[role].append(name)
    for role, names in by_role.items():
        parse_faults(names, role)      # InputError for a bad one, before any start
    return by_role


def run(args) -> int:
    if "help" in args.fault:
        from .cases import catching
        from .faults import fault_help
        sys.stdout.write(fault_help(catching()))
        return 0
    faults = parse_lab_faults(args.fault)
    if not 0 < args.timeout <= 10:
        raise InputError("--timeout must be between 0 and 10 seconds")
    N.require_root()
    if shutil.which("dumpcap") is None:
        raise InputError("the lab captures with dumpcap (Wireshark's "
                         "capture tool): install wireshark-common or tshark")
    # what a lab killed with SIGKILL left: namespaces with their processes,
    # and /tmp/fmip-lab-PID-* with the MN-PAR key in it
    from ..children import private_folder
    left = N.remove_stale()
    if left:
        print(f"fmipdissect lab: note: removed what an earlier, killed run "
              f"left: {', '.join(left)}", file=sys.stderr)
    work = args.out or private_folder("fmip-lab-")
    if args.out:
        os.makedirs(args.out, exist_ok=True)
    start = time.monotonic()
    previous = N.cleanup_on_signals()
    try:
        with N.Namespaces() as lab:
            result = _run_lab(lab, work, faults, args.timeout)
    finally:
        N.restore_signals(previous)
        if not args.out:
            shutil.rmtree(work, ignore_errors=True)
    result.seconds = time.monotonic() - start
    from .report import lab_json, lab_text
    if args.format == "json":
        json.dump(lab_json(result, keep=bool(args.out)), sys.stdout, indent=2)
        print()
    else:
        sys.stdout.write(lab_text(result, keep=bool(args.out)))
    return 0


def build(lab: N.Namespaces) -> dict[str, str]:
    """The three namespaces, their links, addresses and routes."""
    ns = {node: lab.add(node) for node in ("mn", "par", "nar")}
    for (a, if_a), (b, if_b) in ((("mn", "fmip-old"), ("par", "fmip-mn")),
                                 (("mn", "fmip-new"), ("nar", "fmip-mn")),
                                 (("par", "fmip-nar"), ("nar", "fmip-par"))):
        lab.link(ns[a], if_a, MACS[a, if_a], ns[b], if_b, MACS[b, if_b])
    lab.address(ns["mn"], "fmip-old", f"{PCOA}/24")
    lab.address(ns["mn"], "fmip-old", f"{PROBE_NAR}/24")
    lab.address(ns["mn"], "fmip-new", f"{PROBE_PAR}/24")
    lab.address(ns["par"], "fmip-mn", f"{PAR_ADDR}/24")
    lab.address(ns["par"], "fmip-nar", "198.18.0.1/30")
    lab.address(ns["nar"], "fmip-mn", f"{NAR_ADDR}/24")
    lab.address(ns["nar"], "fmip-par", "198.18.0.2/30")
    lab.route(ns["par"], "198.18.2.0/24", "via", "198.18.0.2")
    lab.route(ns["nar"], "198.18.1.0/24", "via", "198.18.0.1")
    # NAR's host route to the MN on its new link (RFC 4988 4.1).
    lab.route(ns["nar"], f"{PCOA}/32", "dev", "fmip-mn")
    return ns


def _capture(lab, ns, node, work):
    path = os.path.join(work, f"{node}.pcapng")
    log = os.path.join(work, f"dumpcap-{node}.log")
    # "any": one interface, frames in the order they came; dumpcap writes
    # several interfaces' frames in blocks out of time order.
    argv = ["dumpcap", "-q", "-i", "any", "-w", path]
    with open(log, "wb") as err:
        proc = lab.start(ns, argv, stdout=err, stderr=err)
    return proc, path, log


def _emulator(lab, ns, work, role, args):
    log = os.path.join(work, f"emulate-{role}.log")
    with open(log, "wb") as err:
        proc = lab.start(ns, N.python_argv("emulate", role, "-v", *args),
                         stdout=err, stderr=err, env=_env())
    return proc, log


def _env() -> dict:
    """The children find this very fmipdissect, installed or not."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _wait_up(proc, log, text, what):
    if not N.wait_for_text(log, text, proc, START_TIMEOUT):
        with open(log, encoding="utf-8", errors="replace") as f:
            tail = f.read().strip().splitlines()[-1:] or ["no output"]
        raise InputError(f"{what} did not start: {tail[0]}")


def _run_lab(lab, work, faults, timeout=PROBE_TIMEOUT) -> LabRun:
    result = LabRun()
    clock = [time.monotonic()]

    def phase(name):
        now = time.monotonic()
        result.phases[name] = round(now - clock[0], 2)
        clock[0] = now

    ns = build(lab)
    keys = os.path.join(work, "keys.txt")
    with open(keys, "w", encoding="ascii") as f:
        f.write(f"# MN-PAR key of the lab (decision D5)\n"
                f"{SAMPLE_SPI:#x} {LAB_KEY.hex()} hmac-md5\n")
    caps = {node: _capture(lab, ns[node], node, work)
            for node in ("mn", "par", "nar")}
    fault_args = {r: [a for n in names for a in ("--fault", n)]
                  for r, names in faults.items()}
    par, par_log = _emulator(lab, ns["par"], work, "par", [
        "--address", PAR_ADDR, "--keys", keys,
        "--neighbour", f"{AP_OF_NAR}={NAR_ADDR},{MACS['nar', 'fmip-mn']},24",
        "--neighbour",
        f"{AP_OF_PROBE}={PROBE_NAR},{MACS['mn', 'fmip-old']},24",
        *fault_args["par"]])
    nar, nar_log = _emulator(lab, ns["nar"], work, "nar", [
        "--address", NAR_ADDR, "--ncoa-pool", NCOA_POOL, *fault_args["nar"]])
    mn, mn_log = _start_mn(lab, ns["mn"], work, keys, fault_args["mn"],
                           timeout)
    probes = _start_probes(lab, ns["mn"], work, keys, timeout)
    for node, (proc, _, log) in caps.items():
        # dumpcap writes "Capturing on" before it opens the interface and
        # "File:" once the socket is bound and the file open (strace); a
        # loaded machine showed the gap: an MN capture missed every frame
        _wait_up(proc, log, "File: ", f"dumpcap in {node}")
    _wait_up(par, par_log, "listening", "the PAR emulator")
    _wait_up(nar, nar_log, "listening", "the NAR emulator")
    _wait_up(mn, mn_log, "ready", "the MN emulator")
    for target, (proc, log) in probes.items():
        _wait_up(proc, log, "ready", f"the probe of {target}")
    phase("setup")
    result.mn = _handovers(mn, mn_log)
    time.sleep(CAPTURE_SETTLE)       # the last frames reach dumpcap's file
    lab.stop(*(proc for proc, _, _ in caps.values()))
    result.captures = {node: path for node, (_, path, _) in caps.items()}
    phase("handovers")
    result.probe = _probes(probes)
    phase("probes")
    lab.stop(par, nar)
    from .report import lint_captures, handover_report
    result.lint = lint_captures(result.captures, keys)
    result.handovers = handover_report(result.captures["par"], keys)
    phase("lint")
    return result


def _start_mn(lab, ns, work, keys, fault_args, timeout):
    """The MN emulator, waiting: a predictive, then a reactive handover."""
    log = os.path.join(work, "emulate-mn.log")
    with open(log, "wb") as err:
        proc = lab.start(ns, N.python_argv(
            "emulate", "mn", "-v", "--address", PCOA, "--par", PAR_ADDR,
            "--ap", AP_OF_NAR, "--nar", NAR_ADDR, "--keys", keys,
            "--mode", "predictive", "--mode", "reactive", "--format", "json",
            "--timeout", str(timeout), "--retries", "1", "--go-on-stdin",
            *fault_args), stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=err, env=_env())
    return proc, log


def _handovers(proc, log) -> list:
    out, _ = proc.communicate(b"go\n", timeout=60)
    try:
        return json.loads(out)["handovers"]
    except (ValueError, KeyError):
        raise InputError(f"the MN emulator failed (see {log})") from None


def _start_probes(lab, ns, work, keys, timeout) -> dict:
    """probe --target par and nar from the MN's node, waiting."""
    common = ["--keys", keys, "--mn", PCOA, "--timeout", str(timeout),
              "--format", "json", "--go-on-stdin"]
    targets = {
        "par": ["--interface", "fmip-old", "--router", PAR_ADDR,
                "--peer", PROBE_NAR, "--ap", AP_OF_PROBE],
        "nar": ["--interface", "fmip-new", "--router", NAR_ADDR,
                "--peer", PROBE_PAR],
    }
    procs = {}
    for target, extra in targets.items():
        log = os.path.join(work, f"probe-{target}.log")
        with open(log, "wb") as err:
            procs[target] = (lab.start(ns, N.python_argv(
                "probe", "--target", target, *extra, *common, "--pcap",
                os.path.join(work, f"probe-{target}.pcapng")),
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                env=_env()), log)
    return procs


def _probes(procs) -> dict:
    """Both probes side by side (different links, different stand-ins)."""
    for proc, _ in procs.values():
        proc.stdin.write(b"go\n")
        proc.stdin.close()
    out = {}
    for target, (proc, log) in procs.items():
        text = proc.stdout.read()
        proc.wait(120)
        try:
            out[target] = json.loads(text)
        except ValueError:
            raise InputError(f"the probe of {target} failed (see "
                             f"{log})") from None
    return out
