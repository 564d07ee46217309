"""`fmipdissect lab`, the command: its options, and one run of the lab
(active/lab.py builds the MN, PAR and NAR namespaces and runs the signalling
lab; active/labtraffic.py the lab with a test flow and a moving MN)."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time

from ..errors import InputError
from . import lab as L
from . import netns as N
from .labtraffic import (add_traffic_arguments, check_traffic_arguments,
                         run_traffic)


def add_arguments(p) -> None:
    p.add_argument("--fault", action="append", default=[],
                   metavar="ROLE:NAME",
                   help="inject a fault into the emulator of ROLE (par, nar "
                        "or mn); repeatable; `--fault help` lists them")
    p.add_argument("--out", metavar="DIR",
                   help="keep the captures (mn, par, nar and with --traffic "
                        "cn .pcapng), the probes' exchanges, the logs and "
                        "the key file in DIR")
    p.add_argument("--format", choices=("text", "json"), default="text")
    p.add_argument("--timeout", type=float, default=L.PROBE_TIMEOUT,
                   metavar="S",
                   help=f"seconds the MN and the probes wait for each reply "
                        f"(default {L.PROBE_TIMEOUT}; the emulators answer "
                        f"within milliseconds, raise it on a slow machine)")
    for role in ("par", "nar", "mn"):
        p.add_argument(f"--{role}-cmd", metavar="CMD",
                       help=f"run CMD (sh -c) in the {role.upper()}'s "
                            f"namespace instead of the emulator; FMIP_* "
                            f"environment variables describe the node")
    add_traffic_arguments(p)



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
    check_traffic_arguments(args)
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
            if args.traffic:
                result = run_traffic(lab, work, faults, args)
            else:
                result = L.run_signalling(lab, work, faults, args)
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
