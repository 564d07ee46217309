"""`fmipdissect handovers`: one record per handover (decision D13).

Exit status: 0 when every capture was read, 2 when one could not be (a
one-line error on standard error, as fmip-lint; the others are still
analysed) or an option is wrong.  Findings do not change the status: this
command describes handovers, `fmip-lint` judges them.
"""

from __future__ import annotations

import argparse
import gc
import sys

from ..errors import InputError
from ..live import add_live_arguments, no_live_options
from ..output import check_target
from ..analysis import (GC_THRESHOLD, CaptureHandovers, build_config,
                        progress_for)
from ..spec import protocol as P
from .report import REPORTS

DEFAULT_MAX_DIAGRAMS = 200


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("captures", nargs="*", metavar="CAPTURE",
                        help="pcap or pcapng files")
    parser.add_argument("--format", choices=tuple(REPORTS), default="text",
                        help="output format on standard output (default "
                        "text: an aligned table, then the summary; json: one "
                        "document; jsonl: one record per line as each "
                        "handover is over; csv)")
    parser.add_argument("--html", metavar="FILE",
                        help="also write a self-contained HTML report with "
                        "latency histograms and a ladder diagram per "
                        "handover")
    parser.add_argument("--max-diagrams", type=int, metavar="N",
                        default=DEFAULT_MAX_DIAGRAMS,
                        help="ladder diagrams drawn in the HTML report: the "
                        f"first N handovers (default {DEFAULT_MAX_DIAGRAMS})")
    parser.add_argument("--keys", metavar="FILE",
                        help="MN-PAR keys as for fmip-lint --keys: verify "
                        "authenticators, so that their findings count")
    parser.add_argument("--lla-length", type=int, metavar="N",
                        default=P.DEFAULT_LLA_LENGTH,
                        help="link-layer address length in octets (default "
                        f"{P.DEFAULT_LLA_LENGTH}, decision D3)")
    parser.add_argument("--time", choices=("utc", "local"), default="utc",
                        help="the table's dates and times in UTC (default) "
                        "or in this machine's local time zone")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress line on standard error (shown on "
                        "a terminal for large captures and standard input)")
    parser.add_argument("--merge", action="store_true",
                        help="the captures are vantage points of one network "
                        "(MN, PAR, NAR, CN...), given as [NAME=]CAPTURE: one "
                        "analysis with each datagram once, clocks aligned to "
                        "the first capture, and the data plane")
    parser.add_argument("--clock", action="append", default=[],
                        metavar="NAME=OFFSET",
                        help="with --merge: NAME's clock offset to the first "
                        "capture by hand, e.g. mn=+12.5ms (added to NAME's "
                        "time stamps; units ms, us or s)")
    add_live_arguments(parser)
    parser.set_defaults(select=None, ignore=None)


def run(args) -> int:
    if args.merge:
        if args.interface is not None:
            raise InputError("--merge reads capture files, not a live "
                             "capture (-i)")
        no_live_options(args)
        from .vantage import merged_handovers
        return merged_handovers(args)
    if args.clock:
        raise InputError("--clock is for --merge")
    if args.interface is not None:
        from ..live import live_capture
        with live_capture(args) as names:
            return _handovers(args, names)
    no_live_options(args)
    return _handovers(args, {})


def _handovers(args, names) -> int:
    """The handovers of args.captures (names: path -> the records' file)."""
    if not args.captures:
        raise InputError("no capture file given (see --help)")
    if args.max_diagrams < 0:
        raise InputError(f"--max-diagrams {args.max_diagrams}: must be 0 or "
                         f"more")
    config = build_config(args)
    out = sys.stdout
    multiple = len(args.captures) > 1
    report = (REPORTS[args.format](out, multiple, args.time)
              if args.format == "text" else REPORTS[args.format](out))
    sinks = [report]
    diagrams = 0
    if args.html:
        from .html import HtmlReport
        check_target(args.html, "HTML report", "--html", args.captures)
        sinks.append(HtmlReport(args.html, args.max_diagrams))
        diagrams = args.max_diagrams
    prog = "fmipdissect handovers"
    failed = False
    saved_gc = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        for path in args.captures:
            name = names.get(path, path)
            try:
                progress = progress_for(path, args.no_progress)
                analysis = CaptureHandovers(path, config, name, diagrams,
                                            progress)
                for s in sinks:
                    s.file_start(name)
                count = 0

                def emit(record):
                    nonlocal count
                    count += 1
                    if progress is not None:
                        progress.clear()
                    for s in sinks:
                        s.record(record)
                analysis.run(emit)
            except InputError as exc:
                failed = True
                out.flush()
                print(f"{prog}: error: {exc}", file=sys.stderr)
                for s in sinks:
                    s.file_failed(name, str(exc))
                continue
            for s in sinks:
                s.file_done(name, count)
    finally:
        gc.set_threshold(*saved_gc)
    for s in sinks:
        s.close()
    return 2 if failed else 0
