"""The lab's nodes: the correspondent node and the routers' forwarding
(`lab --traffic`), tc netem on the MN's links, and a user's own process in
a node's namespace (`--par-cmd`, `--nar-cmd`, `--mn-cmd`).

    fmip<tag>-cn  fmip-par ---- fmip-cn  fmip<tag>-par
    198.18.3.10                 198.18.3.1

NAR reaches the CN through PAR; the tunnel between PAR (198.18.0.1) and
NAR (198.18.0.2) runs on their shared link (forwarding.py).
"""

from __future__ import annotations

import os
import subprocess

from ..errors import InputError
from . import netns as N

CN_ADDR, PAR_CN_ADDR = "198.18.3.10", "198.18.3.1"
PAR_LINK_ADDR, NAR_LINK_ADDR = "198.18.0.1", "198.18.0.2"
CN_MACS = {("cn", "fmip-par"): "02:00:00:dd:00:01",
           ("par", "fmip-cn"): "02:00:00:bb:02:01"}
# the MN's two links, both ends: what --link-delay and --loss apply to
MN_LINKS = (("mn", "fmip-old"), ("mn", "fmip-new"), ("par", "fmip-mn"),
            ("nar", "fmip-mn"))
USER_START = 3.0     # s the lab waits for a user's process to say anything


def sysctl(ns: str, *settings: str) -> None:
    subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw", *settings],
                   capture_output=True)


def build_traffic(lab: N.Namespaces, ns: dict, pcoa: str, par: str) -> None:
    """CN and its link to PAR, forwarding in PAR and NAR, the PCoA on the
    MN's loopback (it stays the MN's address on either link)."""
    ns["cn"] = lab.add("cn")
    lab.link(ns["cn"], "fmip-par", CN_MACS["cn", "fmip-par"], ns["par"],
             "fmip-cn", CN_MACS["par", "fmip-cn"])
    lab.address(ns["cn"], "fmip-par", f"{CN_ADDR}/24")
    lab.address(ns["par"], "fmip-cn", f"{PAR_CN_ADDR}/24")
    lab.route(ns["cn"], "default", "via", PAR_CN_ADDR)
    lab.route(ns["nar"], "198.18.3.0/24", "via", PAR_LINK_ADDR)
    lab.address(ns["mn"], "lo", f"{pcoa}/32")
    lab.route(ns["mn"], "default", "via", par)
    for node in ("par", "nar", "mn", "cn"):
        # decision D22: packets of the MN come in on links the reverse path
        # does not name (tunnel, new link): no reverse-path filter
        sysctl(ns[node], "net.ipv4.conf.all.rp_filter=0",
               "net.ipv4.conf.default.rp_filter=0")
    for node in ("par", "nar"):
        sysctl(ns[node], "net.ipv4.ip_forward=1")


def static_neighbours(lab: N.Namespaces, ns: dict, entries) -> None:
    """(node, iface, address, lla): permanent neighbour entries on the MN's
    links (decision D22): a router sends what it has for the MN to the
    MN's link-layer address whether the MN is there or not (no ARP queue
    holds it until the MN is back), as an access router does with the
    MN's LLA from the HI (RFC 4988 5.5)."""
    for node, iface, addr, lla in entries:
        lab.ip("-n", ns[node], "neigh", "replace", addr, "lladdr", lla,
               "dev", iface, "nud", "permanent")


def netem(lab: N.Namespaces, ns: dict, delay_ms: float, loss_pct: float):
    """tc netem on both ends of the MN's links; InputError when this
    kernel has no netem."""
    if not delay_ms and not loss_pct:
        return
    spec = []
    if delay_ms:
        spec += ["delay", f"{delay_ms}ms"]
    if loss_pct:
        spec += ["loss", f"{loss_pct}%"]
    for node, iface in MN_LINKS:
        done = subprocess.run(["ip", "netns", "exec", ns[node], "tc", "qdisc",
                               "add", "dev", iface, "root", "netem", *spec],
                              capture_output=True, text=True)
        if done.returncode:
            raise InputError(f"--link-delay/--loss need tc netem, which "
                             f"failed here: {done.stderr.strip()}")


def user_env(role: str, variables: dict) -> dict:
    """The environment of a user's process: FMIP_ROLE and the node's
    FMIP_* variables (docs/active-testing.md)."""
    env = N.child_env()
    env["FMIP_ROLE"] = role
    env.update({f"FMIP_{k.upper()}": str(v) for k, v in variables.items()})
    return env


def start_user(lab, ns: str, work: str, role: str, cmd: str,
               variables: dict, **kw):
    """The user's command (sh -c) in the node's namespace in place of the
    emulator; its output goes to user-ROLE.log.  Waits until it has
    written something, or USER_START seconds, and fails if it ended."""
    log = os.path.join(work, f"user-{role}.log")
    with open(log, "wb") as out:
        kw.setdefault("stdout", out)
        kw.setdefault("stdin", subprocess.DEVNULL)
        proc = lab.start(ns, ["sh", "-c", cmd], stderr=out,
                         env=user_env(role, variables), **kw)
    N.wait_for_text(log, "\n", proc, USER_START)
    if proc.poll() is not None and proc.returncode:
        raise InputError(f"--{role}-cmd ended with status {proc.returncode} "
                         f"(its output: {log})")
    return proc, log
