"""`fmipdissect probe --target par|nar`: test a router, case by case.

The prober sends from --interface, as the MN (--mn) and as the other router
(--peer), the requests of each exchange (exchanges.py), and judges what the
router under test sends back with the cases of cases.py.  Every case gets a
verdict (pass, fail, skip with the reason) and the fmip-lint findings of its
exchange.  Exit status 0 when no case fails, 1 when one does, 2 when the
probe could not run (no such interface, no permission, an address that is
not this host's).  docs/active-testing.md says how to aim it at a real
router safely.
"""

from __future__ import annotations

import json
import sys
from xml.sax.saxutils import quoteattr

from ..errors import InputError
from ..spec.protocol import MIP_UDP_PORT
from .cases import CASES_BY_ID, Skip, cases_for
from .options import (add_go_argument, check_mac, choose_key, ipv4_arg,
                      wait_for_go)
from .exchanges import EXCHANGES
from .exchange import Exchange, ProbeConfig, Prober
from .live import LiveLink, check_local_address

DEFAULT_NCOA = "198.19.255.10"      # benchmarking range (RFC 2544)
DEFAULT_OTHER_MN = "198.19.255.20"
DEFAULT_UNKNOWN_AP = "02:00:00:ff:ff:fe"
DEFAULT_FBU_PORT = 49434


def add_arguments(p) -> None:
    p.add_argument("--target", choices=("par", "nar"), required=True,
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
                   help=f"UDP source port of one FBU, to see it copied "
                        f"(default {DEFAULT_FBU_PORT})")
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
    for name in ("router", "mn", "peer", "ncoa", "other_mn"):
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
                       args.ncoa, args.other_mn, args.timeout, args.fbu_port)


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


def run_cases(prober: Prober, cases) -> list[dict]:
    """Run the exchanges the cases need, in order, then judge each case."""
    needed = {c.exchange for c in cases}
    prober.results = {}
    for name, exchange in EXCHANGES[prober.cfg.target]:
        if name in needed:
            try:
                prober.results[name] = exchange(prober)
            except OSError as exc:      # e.g. no route to the router
                prober.results[name] = Exchange(name, error=str(exc))
    out = []
    for case in cases:
        x = prober.results[case.exchange]
        if x.error:
            verdict, reason = "skip", f"could not send: {x.error}"
        else:
            try:
                reason = case.judge(prober, x)
                verdict = "fail" if reason else "pass"
            except Skip as why:
                verdict, reason = "skip", str(why)
        out.append({"id": case.id, "section": case.section,
                    "title": case.title, "verdict": verdict,
                    "reason": reason, "findings": x.findings})
    return out


def summary(results: list[dict]) -> dict:
    counts = {"pass": 0, "fail": 0, "skip": 0}
    for r in results:
        counts[r["verdict"]] += 1
    return counts


def run(args) -> int:
    if args.list:
        for c in cases_for(args.target):
            print(f"{c.id:<11} {c.section:<4} {c.title}")
        return 0
    missing = [f"--{n}" for n in ("interface", "router", "mn", "peer",
                                  "keys") if getattr(args, n) is None]
    if missing:
        raise InputError(f"probe needs {', '.join(missing)}")
    cfg = _config(args)
    cases = selected(args)
    check_local_address(cfg.mn)
    check_local_address(cfg.peer)
    with LiveLink([args.interface], args.pcap, ports=(
            MIP_UDP_PORT, args.fbu_port)) as link:
        prober = Prober(link, cfg)
        wait_for_go(args, link)
        try:
            results = run_cases(prober, cases)
        finally:
            prober.close()
    report = {"target": args.target, "router": args.router,
              "cases": results, "summary": summary(results)}
    write(report, args.format, sys.stdout)
    return 1 if report["summary"]["fail"] else 0


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
        line = (f"  {r['verdict'].upper():<4}  {r['id']:<11} "
                f"{r['section']:<4} {r['title']}")
        if r["reason"]:
            line += f": {r['reason']}"
        lines.append(line)
        if r["verdict"] != "fail":
            continue
        for f in r["findings"]:       # what fmip-lint says about it
            if f["severity"] != "info":
                lines.append(f"        exchange frame {f['frame']}: "
                             f"{f['rule']} {f['severity']} {f['name']}: "
                             f"{f['message']}")
    s = report["summary"]
    lines.append(f"{s['pass']} pass, {s['fail']} fail, {s['skip']} skip")
    return "\n".join(lines) + "\n"


def junit(report: dict) -> str:
    s = report["summary"]
    name = f"fmipdissect probe {report['target']} {report['router']}"
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           f'<testsuite name={quoteattr(name)} tests="{len(report["cases"])}"'
           f' failures="{s["fail"]}" skipped="{s["skip"]}" errors="0">']
    for r in report["cases"]:
        classname = quoteattr("probe." + report["target"])
        out.append(f'  <testcase classname={classname}'
                   f' name={quoteattr(r["id"] + " " + r["title"])}>')
        if r["verdict"] == "fail":
            out.append(f'    <failure message={quoteattr(r["reason"])}>'
                       f'RFC 4988 {r["section"]}</failure>')
        elif r["verdict"] == "skip":
            out.append(f'    <skipped message={quoteattr(r["reason"])}/>')
        out.append("  </testcase>")
    out.append("</testsuite>")
    return "\n".join(out) + "\n"
