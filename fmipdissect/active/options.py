"""Command-line values the active tools share: addresses, link-layer
addresses, the MN-PAR key, PAR's neighbourhood, the lab's start signal."""

from __future__ import annotations

import argparse
import socket
import sys

from ..errors import InputError
from ..lint.keys import load_keys, parse_spi
from .roles import Neighbour


def add_go_argument(p) -> None:
    """--go-on-stdin (for the lab): start everything, then wait for one
    line on standard input before sending anything, so that the Python
    start-up of several tools overlaps."""
    p.add_argument("--go-on-stdin", action="store_true",
                   help=argparse.SUPPRESS)


def wait_for_go(args, link) -> None:
    """With --go-on-stdin: say "ready", wait for the line, forget what the
    link saw meanwhile."""
    if getattr(args, "go_on_stdin", False):
        print("ready", file=sys.stderr, flush=True)
        sys.stdin.readline()
        link.drain()


def parse_neighbour(text: str) -> Neighbour:
    """AP_LLA=NAR_ADDR[,NAR_LLA[,PREFIXLEN]] (emulate par --neighbour)."""
    ap, sep, rest = text.partition("=")
    parts = rest.split(",")
    try:
        if not sep or not 1 <= len(parts) <= 3:
            raise ValueError
        check_mac(ap)
        nar_lla = parts[1] if len(parts) > 1 else "00:00:00:00:00:00"
        check_mac(nar_lla)
        prefixlen = int(parts[2]) if len(parts) > 2 else 24
        if not 0 <= prefixlen <= 32:
            raise ValueError
        check_ipv4(parts[0])
    except ValueError:
        raise InputError(f"bad --neighbour {text!r}: expected "
                         f"AP_LLA=NAR_ADDR[,NAR_LLA[,PREFIXLEN]]") from None
    return Neighbour(ap.lower(), parts[0], nar_lla.lower(), prefixlen)


def check_mac(text: str) -> None:
    """ValueError unless text is a MAC address like 02:00:00:cc:00:02."""
    octets = text.split(":")
    if len(octets) != 6 or not all(len(o) == 2 for o in octets):
        raise ValueError(text)
    bytes.fromhex("".join(octets))


def check_ipv4(text: str) -> None:
    """ValueError unless text is a dotted-quad IPv4 address."""
    try:
        socket.inet_aton(text)
    except OSError:
        raise ValueError(text) from None
    if text.count(".") != 3:
        raise ValueError(text)


def ipv4_arg(text: str, option: str) -> None:
    """InputError (one line) unless the option's value is an address."""
    try:
        check_ipv4(text)
    except ValueError:
        raise InputError(f"bad {option} {text!r}: not an IPv4 address") \
            from None


def choose_key(args):
    """(all keys, the key to use): --keys FILE and --spi (default: the
    file's first key)."""
    keys = load_keys(args.keys)
    if not keys:
        raise InputError(f"{args.keys}: no key")
    if args.spi is None:
        return keys, next(iter(keys.values()))
    try:
        spi = parse_spi(args.spi)
    except ValueError:
        raise InputError(f"bad --spi {args.spi!r}") from None
    if spi not in keys:
        raise InputError(f"SPI {args.spi} is not in {args.keys}")
    return keys, keys[spi]


def check_target(router: str, interface: str, allow_any: bool) -> None:
    """InputError (one line) unless router is a unicast address that this
    host reaches on-link through interface (no gateway): the prober talks
    to the router under test and to nothing else.  allow_any lifts the
    on-link rule; multicast, broadcast, loopback, unspecified and this
    host's own addresses are refused always."""
    import ipaddress
    import json
    import shutil
    import subprocess
    addr = ipaddress.IPv4Address(router)
    if addr.is_multicast or addr.is_unspecified or addr.is_loopback \
            or addr.is_reserved or addr == ipaddress.IPv4Address(
                "255.255.255.255"):
        raise InputError(f"--router {router} is not a unicast address")
    if shutil.which("ip") is None:
        if allow_any:
            return
        raise InputError("checking that --router is on-link needs the `ip` "
                         "command (or --allow-any-target)")
    done = subprocess.run(["ip", "-j", "-4", "route", "get", router],
                          capture_output=True, text=True)
    try:
        route = json.loads(done.stdout)[0]
    except (ValueError, IndexError):
        route = {}
    kind = route.get("type", "unicast")
    if kind != "unicast":
        raise InputError(f"--router {router} is a {kind} address here, not "
                         f"a router's unicast address")
    if allow_any:
        return
    if not route or route.get("gateway") or route.get("dev") != interface:
        via = (f"via {route['gateway']} on {route.get('dev')}"
               if route.get("gateway") else
               f"on {route.get('dev')}" if route else "not at all")
        raise InputError(f"--router {router} is not on-link through "
                         f"{interface} (reached {via}); probe a router on "
                         f"a test link of its own, or pass "
                         f"--allow-any-target")
