"""`fmipdissect probe --target par|nar`: test a router, case by case.

The prober sends from --interface, as the MN (--mn) and as the other router
(--peer), the requests of each exchange (exchanges.py), and judges what the
router under test sends back with the cases of cases.py.  Every case gets a
verdict (verdicts.py: pass, warn, fail, inconclusive, skip, with the
reason) and the fmip-lint findings of its exchange.  Exit status 0 when no
case fails, 1 when one does, 2 when the probe could not run (no such
interface, no permission, an address that is not this host's, a --router
that is not a unicast address on-link through --interface) or could send
nothing.  docs/active-testing.md says how to aim it at a real router
safely.
"""

from __future__ import annotations

import json
import socket
import sys
from xml.sax.saxutils import escape, quoteattr

from ..errors import InputError
from ..spec.protocol import MIP_UDP_PORT
from .cases import CASES_BY_ID, cases_for
from .options import (add_go_argument, check_mac, check_target, choose_key,
                      ipv4_arg, wait_for_go)
from .exchange import ProbeConfig, Prober
from .live import LiveLink, check_local_address
from .profile import load_profile
from .verdicts import exit_status, run_cases, summary

DEFAULT_NCOA = "198.19.255.10"      # benchmarking range (RFC 2544)
DEFAULT_OTHER_MN = "198.19.255.20"
DEFAULT_UNKNOWN_AP = "02:00:00:ff:ff:fe"
DEFAULT_FBU_PORT = 49434
DEFAULT_NOT_A_NAR = "198.19.255.30"


def add_arguments(p) -> None:
    p.add_argument("--target", choices=("par", "nar"),
                   help="the role of the router under test")
    p.add_argument("--interface", "-i", metavar="IFACE",
                   help="the interface facing the router")
    p.add_argument("--router", metavar="ADDR",
                   help="the router's address")
    p.add_argument("--mn", metavar="ADDR",
                   help="the MN address (PCoA) the prober uses; an address "
                        "of this host")
    p.add_argument("--peer", metavar="ADDR",
                   help="the address the prober uses as the other router "
                        "(NAR for --target par, PAR for --target nar); an "
                        "address of this host")
    p.add_argument("--ap", metavar="LLA",
                   help="--target par: an access point whose NAR, in PAR's "
                        "configuration, is --peer")
    p.add_argument("--unknown-ap", default=DEFAULT_UNKNOWN_AP, metavar="LLA",
                   help=f"an access point PAR does not know (default "
                        f"{DEFAULT_UNKNOWN_AP})")
    p.add_argument("--keys", metavar="FILE",
                   help="MN-PAR keys (fmip-lint's --keys format)")
    p.add_argument("--spi", metavar="SPI",
                   help="the SPI to use (default: the key file's first)")
    p.add_argument("--ncoa", default=DEFAULT_NCOA, metavar="ADDR",
                   help=f"NCoA the prober, as NAR, assigns (default "
                        f"{DEFAULT_NCOA})")
    p.add_argument("--other-mn", default=DEFAULT_OTHER_MN, metavar="ADDR",
                   help=f"a second PCoA, for the forwarded FBU and the "
                        f"second HI (default {DEFAULT_OTHER_MN})")
    p.add_argument("--fbu-port", type=int, default=DEFAULT_FBU_PORT,
                   metavar="PORT",
                   help=f"the ephemeral UDP source port of some FBUs, to "
                        f"see it copied (default {DEFAULT_FBU_PORT})")
    p.add_argument("--not-a-nar", default=DEFAULT_NOT_A_NAR, metavar="ADDR",
                   help=f"a Care-of Address that is no NAR of PAR's "
                        f"(default {DEFAULT_NOT_A_NAR})")
    p.add_argument("--profile", metavar="FILE",
                   help="what the router chose where RFC 4988 lets it "
                        "(TOML; docs/active-testing.md)")
    p.add_argument("--allow-any-target", action="store_true",
                   help="let --router be off-link (reached via a gateway "
                        "or another interface)")
    p.add_argument("--timeout", type=float, default=1.0, metavar="S",
                   help="seconds to wait for each reply (default 1)")
    p.add_argument("--case", action="append", metavar="ID",
                   help="run only this case (repeatable)")
    p.add_argument("--format", choices=("text", "json", "junit"),
                   default="text")
    p.add_argument("--pcap", metavar="FILE",
                   help="record every FMIPv4 frame of the probe (pcapng)")
    p.add_argument("--list", action="store_true",
                   help="list the cases and exit")
    add_go_argument(p)


def _config(args) -> ProbeConfig:
    for name in ("router", "mn", "peer", "ncoa", "other_mn", "not_a_nar"):
        ipv4_arg(getattr(args, name), "--" + name.replace("_", "-"))
    aps = {}
    for name in ("ap", "unknown_ap"):
        value = getattr(args, name)
        if value is not None:
            try:
                check_mac(value)
            except ValueError:
                raise InputError(f"bad --{name.replace('_', '-')} {value!r}:"
                                 f" expected a MAC like 02:00:00:cc:00:03")\
                    from None
            aps[name] = value.lower()
    if args.target == "par" and args.ap is None:
        raise InputError("--target par needs --ap (an access point of PAR's "
                         "neighbourhood whose NAR is --peer)")
    if not 0 < args.timeout <= 60:
        raise InputError("--timeout must be between 0 and 60 seconds")
    if not 0 < args.fbu_port < 65536:
        raise InputError("--fbu-port must be a UDP port")
    keys, key = choose_key(args)
    return ProbeConfig(args.target, args.router, args.mn, args.peer,
                       aps.get("ap"), aps["unknown_ap"], key, keys,
                       args.ncoa, args.other_mn, args.timeout, args.fbu_port,
                       args.not_a_nar)


def selected(args):
    cases = cases_for(args.target)
    if args.case:
        unknown = [c for c in args.case if c not in CASES_BY_ID]
        if unknown:
            raise InputError(f"no such case: {', '.join(unknown)} (see "
                             f"--list)")
        cases = [c for c in cases if c.id in args.case]
        if not cases:
            raise InputError(f"none of the cases is a {args.target} case")
    return cases


def run(args) -> int:
    if args.list:                 # without --target: both targets' cases
        for target in [args.target] if args.target else ["par", "nar"]:
            for c in cases_for(target):
                print(f"{c.id:<11} {c.section:<4} {c.level:<6} {c.title}")
        return 0
    if args.target is None:
        raise InputError("probe needs --target par|nar")
    missing = [f"--{n}" for n in ("interface", "router", "mn", "peer",
                                  "keys") if getattr(args, n) is None]
    if missing:
        raise InputError(f"probe needs {', '.join(missing)}")
    cfg = _config(args)
    cases = selected(args)
    profile = load_profile(args.profile)
    try:
        socket.if_nametoindex(args.interface)
    except OSError:
        raise InputError(f"no such interface: {args.interface}") from None
    check_local_address(cfg.mn)
    check_local_address(cfg.peer)
    check_target(cfg.router, args.interface, args.allow_any_target)
    # the FBAck may come from any port (RFC 4988 5.2): the link keeps UDP
    # to or from the ports the prober's FBUs use (decision D16)
    with LiveLink([args.interface], args.pcap, ports=(
            MIP_UDP_PORT, args.fbu_port), bind_to=args.interface) as link:
        prober = Prober(link, cfg)
        wait_for_go(args, link)
        try:
            results = run_cases(prober, cases, profile)
        finally:
            prober.close()
    report = {"target": args.target, "router": args.router,
              "cases": results, "summary": summary(results)}
    write(report, args.format, sys.stdout)
    status = exit_status(results, prober)
    if status == 2:
        print("fmipdissect probe: nothing could be sent to "
              f"{args.router}: every case is inconclusive", file=sys.stderr)
    return status


def write(report: dict, fmt: str, out) -> None:
    if fmt == "json":
        json.dump(report, out, indent=2)
        out.write("\n")
    elif fmt == "junit":
        out.write(junit(report))
    else:
        out.write(text(report))


def text(report: dict) -> str:
    lines = [f"Probe of {report['target'].upper()} {report['router']}:"]
    for r in report["cases"]:
        line = (f"  {r['verdict'].upper():<5} {r['id']:<11} "
                f"{r['section']:<4} {r['level']:<6} {r['title']}")
        if r["reason"]:
            line += f": {r['reason']}"
        lines.append(line)
        if r["verdict"] == "fail":     # what fmip-lint says about it
            lines += [f"        {_finding_line(f)}" for f in r["findings"]
                      if f["severity"] != "info"]
        elif r["verdict"] == "warn":
            lines += [f"        {w}" for w in r["warnings"]]
    s = report["summary"]
    lines.append(", ".join(f"{n} {v}" for v, n in s.items()))
    return "\n".join(lines) + "\n"


def _finding_line(f: dict) -> str:
    return (f"exchange frame {f['frame']}: {f['rule']} {f['severity']} "
            f"{f['name']}: {f['message']}")


def junit(report: dict) -> str:
    """fail as <failure>, inconclusive as <error>, skip as <skipped>,
    warnings in <system-out>."""
    s = report["summary"]
    name = f"fmipdissect probe {report['target']} {report['router']}"
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuite name={quoteattr(name)} tests="{len(report["cases"])}"'
           f' failures="{s["fail"]}" skipped="{s["skip"]}"'
           f' errors="{s["inconclusive"]}">']
    classname = quoteattr("probe." + report["target"])
    for r in report["cases"]:
        out.append(f'  <testcase classname={classname}'
                   f' name={quoteattr(r["id"] + " " + r["title"])}>')
        where = f'RFC 4988 {r["section"]} ({r["level"]})'
        reason = quoteattr(r["reason"] or "")
        if r["verdict"] == "fail":
            out.append(f'    <failure message={reason}>{where}</failure>')
        elif r["verdict"] == "inconclusive":
            out.append(f'    <error message={reason}>{where}</error>')
        elif r["verdict"] == "skip":
            out.append(f'    <skipped message={reason}/>')
        if r["warnings"] or r["verdict"] == "warn":
            text = "\n".join([r["reason"] or ""] + r["warnings"]).strip()
            out.append(f"    <system-out>{escape(text)}</system-out>")
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out) + "\n"
