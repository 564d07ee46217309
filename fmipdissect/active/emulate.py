"""`fmipdissect emulate par|nar|mn`: one RFC 4988 role on real interfaces.

Run it inside a network namespace of a lab (`fmipdissect lab` does) or on a
test network of your own; it sends only what its role sends (roles.py,
mn.py) and answers only messages addressed to --address.  PAR and NAR run
until stopped (Ctrl-C, SIGTERM), for --duration seconds or until they have
acted on --count requests; the MN runs its handovers (--mode, repeatable)
and exits 0 when every one completed, 1 otherwise.
"""

from __future__ import annotations

import json
import signal
import socket
import sys
import time

from ..errors import InputError
from ..lint.keys import load_keys
from .faults import fault_help, parse_faults
from .live import LiveLink, check_local_address
from .options import (add_go_argument, choose_key, ipv4_arg,
                      parse_neighbour, wait_for_go)
from .roles import BURST, RATE

ROLES = ("par", "nar", "mn")


def add_arguments(p) -> None:
    p.add_argument("role", nargs="?", choices=ROLES,
                   help="the role to play")
    p.add_argument("--address", metavar="ADDR",
                   help="this node's IPv4 address (for the MN: its PCoA); "
                        "must be an address of this host")
    p.add_argument("--interface", "-i", action="append", metavar="IFACE",
                   help="listen on IFACE (repeatable; default: only frames "
                        "from or to --address, on any interface but lo)")
    p.add_argument("--rate", type=int, default=RATE, metavar="N",
                   help=f"PAR/NAR: send at most N packets a second, in "
                        f"bursts of at most {BURST} (default {RATE}; 0: no "
                        f"limit)")
    p.add_argument("--keys", metavar="FILE",
                   help="MN-PAR keys, fmip-lint's --keys format (PAR, MN)")
    p.add_argument("--fault", action="append", metavar="NAME", default=[],
                   help="misbehave (repeatable); --fault help lists them")
    p.add_argument("--count", type=int, metavar="N",
                   help="PAR/NAR: stop after acting on N requests; MN: run "
                        "the --mode sequence N times")
    p.add_argument("--duration", type=float, metavar="S",
                   help="stop after S seconds")
    p.add_argument("--pcap", metavar="FILE",
                   help="record the FMIPv4 frames sent and received (pcapng)")
    p.add_argument("--verbose", "-v", action="store_true",
                   help="one line per message acted on, on stderr")
    g = p.add_argument_group("PAR and NAR forwarding (the lab's data plane)")
    g.add_argument("--tunnel", action="append", default=[],
                   metavar="ROUTER=REMOTE",
                   help="forward through an IP-in-IP tunnel to REMOTE for "
                        "handovers with the router ROUTER (PAR: a NAR; "
                        "NAR: a PAR); repeatable; needs root")
    g.add_argument("--mn-link", metavar="IFACE",
                   help="with --tunnel: the MN's link (PAR: where its own "
                        "messages to the MN go; NAR: its carrier is the "
                        "MN's attachment)")
    g = p.add_argument_group("PAR")
    g.add_argument("--neighbour", "--neighbor", action="append", default=[],
                   metavar="AP=NAR[,NAR_LLA[,PREFIXLEN]]",
                   help="a new access point's link-layer address and the "
                        "NAR behind it (repeatable)")
    g = p.add_argument_group("NAR")
    g.add_argument("--ncoa-pool", metavar="ADDR",
                   help="first NCoA to assign when an HI has S set")
    g = p.add_argument_group("MN")
    g.add_argument("--par", metavar="ADDR", help="PAR's address")
    g.add_argument("--ap", metavar="LLA",
                   help="the new access point's link-layer address")
    g.add_argument("--nar", metavar="ADDR",
                   help="NAR's address when PrRtAdv gives none")
    g.add_argument("--spi", metavar="SPI",
                   help="SPI of the MN-PAR key (default: the key file's "
                        "first)")
    g.add_argument("--mode", action="append", choices=("predictive",
                                                       "reactive"),
                   help="handover mode (repeatable, run in order; default "
                        "predictive)")
    g.add_argument("--timeout", type=float, default=1.0, metavar="S",
                   help="seconds to wait for each reply (default 1)")
    g.add_argument("--retries", type=int, default=2, metavar="N",
                   help="FBU retransmissions, each with a new "
                        "Identification (default 2)")
    g.add_argument("--format", choices=("text", "json"), default="text",
                   help="MN: how to print the handover outcomes")
    add_go_argument(p)


def _need(args, *names) -> None:
    for name in names:
        if getattr(args, name.replace("-", "_")) is None:
            raise InputError(f"emulate {args.role} needs --{name}")


class _Stop:
    """SIGTERM and SIGINT end the loop cleanly (the pcap is closed)."""

    def __init__(self):
        self.stopped = False
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._set)

    def _set(self, *_):
        self.stopped = True


def run(args) -> int:
    if "help" in args.fault:
        from .cases import catching
        sys.stdout.write(fault_help(catching()))
        return 0
    if args.role is None:
        raise InputError("which role? par, nar or mn")
    faults = parse_faults(args.fault, args.role)
    _need(args, "address")
    peers = _tunnel_peers(args)
    log = (lambda text: print(text, file=sys.stderr, flush=True)) \
        if args.verbose else None
    if args.role == "par":
        _need(args, "keys")
        neighbours = [parse_neighbour(t) for t in args.neighbour]
        keys = load_keys(args.keys)
    elif args.role == "nar":
        _need(args, "ncoa-pool")
        ipv4_arg(args.ncoa_pool, "--ncoa-pool")
    else:
        _need(args, "keys", "par", "ap")
        keys, key = choose_key(args)
    check_local_address(args.address)
    if args.rate < 0:
        raise InputError("--rate must be 0 (no limit) or more")
    stop = _Stop()
    # without --interface: only this node's own traffic, and port 434 of
    # --address only, whatever else the host runs
    with LiveLink(args.interface, args.pcap,
                  address=None if args.interface else args.address) as link:
        print(f"fmipdissect emulate {args.role}: {args.address}, listening "
              f"on {', '.join(link.interfaces)}", file=sys.stderr, flush=True)
        if args.role == "mn":
            return _run_mn(args, link, key, faults, log, stop)
        from .roles import NAR, PAR
        if args.role == "par":
            role = PAR(link, args.address, neighbours, keys, faults, log)
        else:
            role = NAR(link, args.address, args.ncoa_pool, faults, log)
        role.rate = args.rate
        role.plane = _plane(args, peers, keys if args.role == "par"
                            else None, link, log)
        end = time.monotonic() + args.duration if args.duration else None
        while not stop.stopped:
            if end is not None and time.monotonic() >= end:
                break
            if args.count is not None and role.handled >= args.count \
                    and not role.queue:
                break
            role.step(0.2)
        link.poll(0.05)     # record the frames we sent last (--pcap)
        if role.plane is not None:
            role.plane.close()
    return 0


def _run_mn(args, link, key, faults, log, stop) -> int:
    from .mn import MobileNode
    mn = MobileNode(link, args.address, args.par, args.ap.lower(), key,
                    faults, nar=args.nar, timeout=args.timeout,
                    retries=args.retries, log=log)
    wait_for_go(args, link)
    outcomes = []
    modes = (args.mode or ["predictive"]) * (args.count or 1)
    end = time.monotonic() + args.duration if args.duration else None
    for mode in modes:
        if stop.stopped or (end is not None and time.monotonic() >= end):
            break
        outcome = mn.handover(mode)
        outcomes.append(outcome)
        if args.format == "text":
            print(outcome.line(), flush=True)
    if args.format == "json":
        json.dump({"handovers": [o.__dict__ for o in outcomes]}, sys.stdout,
                  indent=2)
        print()
    done = len(outcomes) == len(modes)
    return 0 if done and all(o.outcome == "completed" for o in outcomes) \
        else 1



def _tunnel_peers(args) -> dict:
    """--tunnel ROUTER=REMOTE as {ROUTER: REMOTE}; with --mn-link, an
    interface of this host (checked before any socket is opened)."""
    peers = {}
    for text in args.tunnel:
        router, sep, remote = text.partition("=")
        if not sep:
            raise InputError(f"bad --tunnel {text!r}: expected ROUTER=REMOTE")
        ipv4_arg(router, "--tunnel")
        ipv4_arg(remote, "--tunnel")
        peers[router] = remote
    if peers:
        if args.role == "mn":
            raise InputError("--tunnel is for PAR and NAR")
        _need(args, "mn-link")
        try:
            socket.if_nametoindex(args.mn_link)
        except OSError:
            raise InputError(f"no such interface: {args.mn_link}") from None
    return peers


def _plane(args, peers, keys, link, log):
    """The forwarding plane of --tunnel (forwarding.py), or None."""
    if not peers:
        return None
    from . import forwarding as F
    if args.role == "par":
        return F.ParPlane(peers, args.address, keys, args.mn_link, link.tx,
                          log).start()
    return F.NarPlane(peers, args.address, args.mn_link, log).start()
