"""`fmipdissect lab --traffic RATE`: the lab with a correspondent node, a
test flow each way, real forwarding and a mobile node that moves.

Steps: the namespaces (lab.build, labnodes.build_traffic), captures at MN,
PAR, NAR and CN, PAR and NAR emulators forwarding through the tunnel
(forwarding.py) or the user's --par-cmd/--nar-cmd, the moving MN
(mover.py) or --mn-cmd, the test flow (traffic.py) from before the first
handover until after the last, then the probes of PAR and NAR as in the
lab without traffic, and the analysis of the four captures.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time

from ..errors import InputError
from ..handovers.dataplane import LEAD_SECONDS, SETTLE_SECONDS
from . import lab as L
from . import netns as N
from .labnodes import CN_ADDR, build_traffic, netem, static_neighbours
from .mover import MODES
from .traffic import parse_rate

# s the MN stays on NAR's link after a handover, and then at home before
# the next (mover.py): its return home, which is no handover, falls
# between the data plane's windows (decision D20: a handover's traffic is
# read until SETTLE_SECONDS after its last message, and from LEAD_SECONDS
# before its first), so what it costs counts for no handover
STAY = SETTLE_SECONDS + 0.3
DWELL = LEAD_SECONDS + 0.3
FLOW_SETTLE = 0.3    # s of flow before the first and after the last move
FLOW_DRAIN = 0.2     # s between the senders' and the receivers' stop


def add_traffic_arguments(p) -> None:
    g = p.add_argument_group("traffic (a CN, a test flow, an MN that moves)")
    g.add_argument("--traffic", metavar="RATE",
                   help="run a constant-rate UDP test flow each way between "
                        "a correspondent node and the MN, e.g. 200/s")
    g.add_argument("--size", type=int, default=64, metavar="OCTETS",
                   help="UDP payload of the test flow (20-1400, default 64)")
    g.add_argument("--mode", choices=(*MODES, "all"), default="all",
                   help="handovers to run (default all: predictive, "
                        "reactive, baseline)")
    g.add_argument("--handovers", type=int, default=1, metavar="N",
                   help="handovers per mode (default 1)")
    g.add_argument("--l2-gap", type=float, default=50.0, metavar="MS",
                   help="time the MN is on no link (default 50)")
    g.add_argument("--link-delay", type=float, default=0.0, metavar="MS",
                   help="tc netem delay on the MN's links")
    g.add_argument("--loss", type=float, default=0.0, metavar="PCT",
                   help="tc netem loss on the MN's links")


def check_traffic_arguments(args) -> None:
    traffic_only = [name for name, default in (
        ("mode", "all"), ("handovers", 1), ("l2_gap", 50.0),
        ("link_delay", 0.0), ("loss", 0.0), ("size", 64))
        if getattr(args, name) != default]
    if not args.traffic:
        if traffic_only:
            raise InputError(f"--{traffic_only[0].replace('_', '-')} needs "
                             f"--traffic RATE")
        return
    try:
        args.rate = parse_rate(args.traffic)
    except ValueError as exc:
        raise InputError(f"--traffic: {exc}") from None
    if not 20 <= args.size <= 1400:
        raise InputError("--size must be between 20 and 1400 octets")
    if not 1 <= args.handovers <= 100:
        raise InputError("--handovers must be between 1 and 100")
    if not 0 <= args.l2_gap <= 5000:
        raise InputError("--l2-gap must be between 0 and 5000 ms")
    if not 0 <= args.link_delay <= 1000 or not 0 <= args.loss <= 100:
        raise InputError("--link-delay must be 0-1000 ms, --loss 0-100 %")


def modes(args) -> list[str]:
    return list(MODES) if args.mode == "all" else [args.mode]


def run_traffic(lab, work, faults, args) -> L.LabRun:
    result = L.LabRun()
    clock = [time.monotonic()]

    def phase(name):
        now = time.monotonic()
        result.phases[name] = round(now - clock[0], 2)
        clock[0] = now

    ns = L.build(lab)
    build_traffic(lab, ns, L.PCOA, L.PAR_ADDR)
    static_neighbours(lab, ns, [
        ("par", "fmip-mn", L.PCOA, L.MACS["mn", "fmip-old"]),
        ("nar", "fmip-mn", L.PCOA, L.MACS["mn", "fmip-new"]),
        ("mn", "fmip-old", L.PAR_ADDR, L.MACS["par", "fmip-mn"]),
        ("mn", "fmip-new", L.NAR_ADDR, L.MACS["nar", "fmip-mn"])])
    netem(lab, ns, args.link_delay, args.loss)
    keys = L.write_keys(work)
    caps = L.start_captures(lab, ns, work, ("mn", "par", "nar", "cn"))
    routers = L.start_routers(lab, ns, work, keys, faults, args,
                              tunnels=True)
    mover = _start_mover(lab, ns["mn"], work, keys, args)
    probes = L.start_probes(lab, ns["mn"], work, keys, args.timeout)
    L.wait_captures(caps)
    for target, (proc, log) in probes.items():
        L.wait_up(proc, log, "ready", f"the probe of {target}")
    if mover is not None:
        L.wait_up(mover[0], mover[1], "ready", "the moving MN")
    flows = _start_flows(lab, ns, work, args)
    phase("setup")
    time.sleep(FLOW_SETTLE)
    moves = _moves(lab, ns, work, keys, args, mover)
    if mover is None:
        result.mn = moves
    else:
        result.moves = moves
    time.sleep(FLOW_SETTLE)
    result.flow = _stop_flows(lab, flows)
    result.captures = L.stop_captures(lab, caps)
    phase("handovers")
    lab.ip("-n", ns["mn"], "link", "set", "fmip-new", "up")
    result.probe = L.run_probes(probes)
    phase("probes")
    lab.stop(*(proc for proc, _ in routers.values()))
    _analyse(result, keys, modes(args))
    phase("analysis")
    return result


def _start_mover(lab, ns, work, keys, args):
    if args.mn_cmd:
        return None
    log = os.path.join(work, "mover.log")
    argv = N.module_argv("fmipdissect.active.mover", "--pcoa", L.PCOA, "--par", L.PAR_ADDR,
                         "--nar", L.NAR_ADDR, "--ap", L.AP_OF_NAR,
                         "--keys", keys, "--old", "fmip-old", "--new",
                         "fmip-new", "--par-lla", L.MACS["par", "fmip-mn"],
                         "--nar-lla", L.MACS["nar", "fmip-mn"], "--handovers", str(args.handovers),
                         "--l2-gap", str(args.l2_gap), "--dwell", str(DWELL),
                         "--stay", str(STAY),
                         "--timeout", str(max(args.timeout, 1.0)),
                         *[a for m in modes(args) for a in ("--mode", m)])
    with open(log, "wb") as err:
        proc = lab.start(ns, argv, stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=err, env=N.child_env())
    return proc, log


def _moves(lab, ns, work, keys, args, mover) -> list:
    if mover is None:      # the user's MN: its own report, no timeline
        return L.run_user_mn(lab, ns["mn"], work, keys, args.mn_cmd)
    proc, log = mover
    out, _ = proc.communicate(b"go\n", timeout=60 + 5 * args.handovers)
    try:
        return json.loads(out)["handovers"]
    except (ValueError, KeyError):
        raise InputError(f"the moving MN failed (see {log})") from None


def _start_flows(lab, ns, work, args) -> dict:
    ends = {"cn": ("down", CN_ADDR, L.PCOA), "mn": ("up", L.PCOA, CN_ADDR)}
    procs = {}
    for node, (flow, bind, peer) in ends.items():
        log = os.path.join(work, f"flow-{node}.log")
        argv = N.module_argv("fmipdissect.active.traffic", "--flow", flow,
                             "--bind", bind, "--peer", peer, "--rate",
                             str(args.rate), "--size", str(args.size),
                             "--go-on-stdin")
        with open(log, "wb") as err:
            procs[node] = (lab.start(ns[node], argv, stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, stderr=err,
                                     env=N.child_env()), log)
    for node, (proc, log) in procs.items():
        L.wait_up(proc, log, "ready", f"the test flow in {node}")
    for proc, _ in procs.values():
        proc.stdin.write(b"go\n")
        proc.stdin.close()
    return procs


def _stop_flows(lab, procs) -> dict:
    """Each end's counters: {"down": {"sent", "unsent", "received"}, "up":
    ...}, sent by one end, received by the other."""
    for proc, _ in procs.values():     # senders first, then receivers
        proc.send_signal(signal.SIGUSR1)
    time.sleep(FLOW_DRAIN)
    lab.stop(*(proc for proc, _ in procs.values()))
    got = {}
    for node, (proc, log) in procs.items():
        try:
            got[node] = json.loads(proc.stdout.read())
        except ValueError:
            raise InputError(f"the test flow in {node} failed (see "
                             f"{log})") from None
    return {"down": {"sent": got["cn"]["sent"],
                     "unsent": got["cn"]["unsent"],
                     "received": got["mn"]["received"]},
            "up": {"sent": got["mn"]["sent"], "unsent": got["mn"]["unsent"],
                   "received": got["cn"]["received"]}}


def _analyse(result, keys, mode_list) -> None:
    from .labflow import analyse
    from .report import lint_captures
    result.lint = lint_captures(result.captures, keys)
    result.merged = merged_handovers(result.captures, keys)
    result.data = analyse(result.captures, result.moves, mode_list,
                          result.merged)


def merged_handovers(captures: dict, keys: str):
    """`fmipdissect handovers --merge` over the four captures (JSON), or
    None while this fmipdissect has no --merge."""
    argv = N.python_argv("handovers", "--merge",
                         *[f"{n}={captures[n]}" for n in
                           ("mn", "par", "nar", "cn")],
                         "--keys", keys, "--format", "json")
    done = subprocess.run(argv, capture_output=True, env=N.child_env())
    if done.returncode:
        return None
    try:
        return json.loads(done.stdout)
    except ValueError:
        return None
