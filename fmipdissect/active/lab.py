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
import subprocess
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


@dataclass
class LabRun:
    captures: dict = field(default_factory=dict)
    mn: list = field(default_factory=list)        # MN outcomes (dicts)
    probe: dict = field(default_factory=dict)     # target -> probe JSON
    lint: dict = field(default_factory=dict)      # node -> summary counts
    handovers: tuple = (None, "")    # (JSON, text) of PAR's capture
    seconds: float = 0.0
    phases: dict = field(default_factory=dict)    # phase -> seconds
    # with --traffic (labtraffic.py)
    moves: list = field(default_factory=list)     # the moving MN's times
    flow: dict = field(default_factory=dict)      # the test flow's counters
    data: dict = field(default_factory=dict)      # labflow.analyse
    merged: dict | None = None                    # handovers --merge JSON


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
                         stdout=err, stderr=err, env=N.child_env())
    return proc, log


def wait_up(proc, log, text, what):
    if not N.wait_for_text(log, text, proc, START_TIMEOUT):
        with open(log, encoding="utf-8", errors="replace") as f:
            tail = f.read().strip().splitlines()[-1:] or ["no output"]
        raise InputError(f"{what} did not start: {tail[0]}")


def write_keys(work: str) -> str:
    keys = os.path.join(work, "keys.txt")
    with open(keys, "w", encoding="ascii") as f:
        f.write(f"# MN-PAR key of the lab (decision D5)\n"
                f"{SAMPLE_SPI:#x} {LAB_KEY.hex()} hmac-md5\n")
    return keys


def start_captures(lab, ns, work, nodes) -> dict:
    return {node: _capture(lab, ns[node], node, work) for node in nodes}


def wait_captures(caps) -> None:
    for node, (proc, _, log) in caps.items():
        # dumpcap writes "Capturing on" before it opens the interface and
        # "File:" once the socket is bound and the file open (strace); a
        # loaded machine showed the gap: an MN capture missed every frame
        wait_up(proc, log, "File: ", f"dumpcap in {node}")


def stop_captures(lab, caps) -> dict:
    time.sleep(CAPTURE_SETTLE)       # the last frames reach dumpcap's file
    lab.stop(*(proc for proc, _, _ in caps.values()))
    return {node: path for node, (_, path, _) in caps.items()}


def router_variables(keys: str, tunnels: bool) -> dict:
    """What each router's node is (the emulators' options, and the FMIP_*
    variables of a user's process in its place)."""
    from .labnodes import NAR_LINK_ADDR, PAR_LINK_ADDR
    par = {"iface": "fmip-mn,fmip-nar" + (",fmip-cn" if tunnels else ""),
           "address": PAR_ADDR, "keys": keys,
           "peers": f"{AP_OF_NAR}={NAR_ADDR},{MACS['nar', 'fmip-mn']},24 "
                    f"{AP_OF_PROBE}={PROBE_NAR},{MACS['mn', 'fmip-old']},24",
           "tunnel": f"{NAR_ADDR}={NAR_LINK_ADDR}", "mn_link": "fmip-mn"}
    nar = {"iface": "fmip-mn,fmip-par", "address": NAR_ADDR, "keys": keys,
           "peers": PAR_ADDR, "ncoa_pool": NCOA_POOL, "mn_link": "fmip-mn",
           "tunnel": f"{PAR_ADDR}={PAR_LINK_ADDR}"}
    return {"par": par, "nar": nar}


def start_routers(lab, ns, work, keys, faults, args, tunnels=False):
    """PAR and NAR: the emulators (forwarding with tunnels) or the user's
    --par-cmd / --nar-cmd; started side by side, then awaited."""
    v = router_variables(keys, tunnels)
    fault_args = {r: [a for n in names for a in ("--fault", n)]
                  for r, names in faults.items()}
    forward = {"par": ["--tunnel", v["par"]["tunnel"], "--mn-link",
                       v["par"]["mn_link"]] if tunnels else [],
               "nar": ["--tunnel", v["nar"]["tunnel"], "--mn-link",
                       v["nar"]["mn_link"]] if tunnels else []}
    emulator_args = {
        "par": ["--address", PAR_ADDR, "--keys", keys, *[
            a for n in v["par"]["peers"].split() for a in ("--neighbour", n)]],
        "nar": ["--address", NAR_ADDR, "--ncoa-pool", NCOA_POOL]}
    procs = {}
    for role in ("par", "nar"):
        cmd = getattr(args, f"{role}_cmd", None)
        if cmd:
            from .labnodes import start_user
            procs[role] = start_user(lab, ns[role], work, role, cmd, v[role])
        else:
            procs[role] = _emulator(lab, ns[role], work, role, [
                *emulator_args[role], *forward[role], *fault_args[role]])
    for role, (proc, log) in procs.items():
        if not getattr(args, f"{role}_cmd", None):
            wait_up(proc, log, "listening", f"the {role.upper()} emulator")
    return procs


def mn_variables(keys: str) -> dict:
    return {"iface": "fmip-old,fmip-new", "address": PCOA, "keys": keys,
            "peers": f"{PAR_ADDR} {NAR_ADDR}", "par": PAR_ADDR,
            "nar": NAR_ADDR, "ap": AP_OF_NAR, "old_link": "fmip-old",
            "new_link": "fmip-new"}


def run_signalling(lab, work, faults, args) -> LabRun:
    result = LabRun()
    clock = [time.monotonic()]

    def phase(name):
        now = time.monotonic()
        result.phases[name] = round(now - clock[0], 2)
        clock[0] = now

    timeout = args.timeout
    ns = build(lab)
    keys = write_keys(work)
    caps = start_captures(lab, ns, work, ("mn", "par", "nar"))
    routers = start_routers(lab, ns, work, keys, faults, args)
    if args.mn_cmd:
        mn = mn_log = None
    else:
        mn, mn_log = _start_mn(
            lab, ns["mn"], work, keys,
            [a for n in faults["mn"] for a in ("--fault", n)], timeout)
    probes = start_probes(lab, ns["mn"], work, keys, timeout)
    wait_captures(caps)
    if mn is not None:
        wait_up(mn, mn_log, "ready", "the MN emulator")
    for target, (proc, log) in probes.items():
        wait_up(proc, log, "ready", f"the probe of {target}")
    phase("setup")
    result.mn = _handovers(mn, mn_log) if mn is not None else \
        run_user_mn(lab, ns["mn"], work, keys, args.mn_cmd)
    result.captures = stop_captures(lab, caps)
    phase("handovers")
    result.probe = run_probes(probes)
    phase("probes")
    lab.stop(*(proc for proc, _ in routers.values()))
    from .report import lint_captures, handover_report
    result.lint = lint_captures(result.captures, keys)
    result.handovers = handover_report(result.captures["par"], keys)
    phase("lint")
    return result


def run_user_mn(lab, ns, work, keys, cmd) -> list:
    """--mn-cmd: the user's MN runs to its end (60 s at most); what it
    prints as {"handovers": [...]} on standard output is kept."""
    from .labnodes import start_user
    proc, log = start_user(lab, ns, work, "mn", cmd, mn_variables(keys),
                           stdout=subprocess.PIPE)
    try:
        out, _ = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        lab.stop(proc)
        out = b""
    try:
        return list(json.loads(out)["handovers"])
    except (ValueError, KeyError, TypeError):
        return []


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
            stderr=err, env=N.child_env())
    return proc, log


def _handovers(proc, log) -> list:
    out, _ = proc.communicate(b"go\n", timeout=60)
    try:
        return json.loads(out)["handovers"]
    except (ValueError, KeyError):
        raise InputError(f"the MN emulator failed (see {log})") from None


def start_probes(lab, ns, work, keys, timeout) -> dict:
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
                env=N.child_env()), log)
    return procs


def run_probes(procs) -> dict:
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
