"""`fmip-lint` / `fmipdissect lint`: options, running, exit status.

Exit status (README, "Checking a capture"): 0 no error-severity finding (warnings
and infos allowed), 1 at least one error, 2 the command could not do its
job (a file that is not a readable capture, a bad option or key file).
A bad capture among several is reported on standard error (one line) and
the others are still checked; the status is then 2.
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

from ..spec import protocol as P
from ..errors import InputError
from .engine import CaptureLint, LintConfig, lint_file
from .keys import load_keys
from .report import JsonReport, Progress, TextReport, list_rules
from ..spec.rules import RULES, RULES_BY_NAME

PROGRESS_MIN_BYTES = 16 << 20   # smaller captures finish before a bar helps
MAX_LLA_LENGTH = 255 * P.OPTION_UNIT - 3   # largest LLA an option can hold


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("captures", nargs="*", metavar="CAPTURE",
                        help="pcap or pcapng files to check, plain or "
                             "gzip/bzip2/xz/zstd-compressed; - reads standard "
                             "input")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="output format (default text)")
    parser.add_argument("--select", action="append", metavar="RULES",
                        help="check only these rules: comma-separated ids, "
                        "slugs or id prefixes (FM4); may be repeated")
    parser.add_argument("--ignore", action="append", metavar="RULES",
                        help="do not report these rules (ids, slugs, "
                        "prefixes)")
    parser.add_argument("--list-rules", action="store_true",
                        help="print the rule registry and exit")
    parser.add_argument("--statistics", action="store_true",
                        help="also print the number of findings per rule")
    parser.add_argument("--keys", metavar="FILE",
                        help="MN-PAR keys, lines 'SPI HEXKEY [hmac-md5|"
                        "hmac-sha1|hmac-sha256]': verify authenticators "
                        "(decision D5)")
    parser.add_argument("--lla-length", type=int, metavar="N",
                        default=P.DEFAULT_LLA_LENGTH,
                        help="link-layer address length in octets (default "
                        f"{P.DEFAULT_LLA_LENGTH}, decision D3)")
    parser.add_argument("-j", "--jobs", type=int, default=1, metavar="N",
                        help="check N capture files in parallel processes")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar on standard error")
    parser.add_argument("--no-prefilter", action="store_true",
                        help="parse every frame in full instead of "
                        "prefiltering (slow; same findings: for checking "
                        "the fast path, docs/performance.md)")
    _one_line_errors(parser)


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    """A bad option is one line on standard error and status 2."""
    def error(message: str):
        parser.exit(2, f"{parser.prog}: error: {message}\n")
    parser.error = error


def resolve_rules(selectors, what: str) -> set[str]:
    """Rule ids named by ids, slugs or id prefixes ("FM4"); InputError else."""
    chosen: set[str] = set()
    for group in selectors:
        for word in group.split(","):
            word = word.strip()
            if not word:
                continue
            if word in RULES_BY_NAME:
                chosen.add(RULES_BY_NAME[word].id)
                continue
            upper = word.upper()
            matched = {r.id for r in RULES if r.id.startswith(upper)}
            if not matched:
                raise InputError(f"{what}: no rule id, slug or prefix {word!r}"
                                 f" (see --list-rules)")
            chosen |= matched
    return chosen


def build_config(args) -> LintConfig:
    enabled = (resolve_rules(args.select, "--select") if args.select
               else {r.id for r in RULES})
    if args.ignore:
        enabled -= resolve_rules(args.ignore, "--ignore")
    if not 1 <= args.lla_length <= MAX_LLA_LENGTH:
        raise InputError(f"--lla-length {args.lla_length}: must be 1 to "
                         f"{MAX_LLA_LENGTH} octets")
    keys = load_keys(args.keys) if args.keys else None
    return LintConfig(frozenset(enabled), keys, args.lla_length,
                      prefilter=not getattr(args, "no_prefilter", False))


# Fewer cyclic-GC passes while checking: the checker allocates short-lived,
# acyclic records by the million, and each default pass (every 700
# allocations) rescans the live session state; about 5% of the FMIPv4-only
# benchmark (docs/performance.md).  Reference counting still frees every
# record at once; the caller's setting is restored afterwards.
GC_THRESHOLD = (50_000, 20, 100)


def _worker(job):
    path, config = job
    gc.set_threshold(*GC_THRESHOLD)      # a worker process of ours
    try:
        findings, stats = lint_file(path, config)
    except InputError as exc:
        return None, None, str(exc)
    return findings, stats, None


def _prog(args) -> str:
    return "fmipdissect lint" if getattr(args, "command", None) else "fmip-lint"


def run(args) -> int:
    out = sys.stdout
    if args.list_rules:
        chosen = build_config(args).enabled if (args.select or args.ignore) \
            else None
        list_rules(out, args.format, [r for r in RULES
                                      if chosen is None or r.id in chosen])
        return 0
    if not args.captures:
        raise InputError("no capture file given (see --help)")
    if args.jobs < 1:
        raise InputError(f"-j {args.jobs}: must be at least 1")
    config = build_config(args)
    if args.format == "json":
        report = JsonReport(out, args.statistics)
    else:
        colour = out.isatty() and not os.environ.get("NO_COLOR")
        report = TextReport(out, colour, args.statistics)
    status = 0
    done = []
    failed = False

    def fail(message):
        nonlocal failed
        failed = True
        out.flush()
        print(f"{_prog(args)}: error: {message}", file=sys.stderr)

    saved_gc = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        # worker processes cannot read our standard input: "-" runs here
        if args.jobs > 1 and len(args.captures) > 1 and "-" not in args.captures:
            from concurrent.futures import ProcessPoolExecutor
            jobs = [(path, config) for path in args.captures]
            with ProcessPoolExecutor(min(args.jobs, len(jobs))) as pool:
                # map() keeps the argument order: a deterministic report.
                for findings, stats, error in pool.map(_worker, jobs):
                    if error is not None:
                        fail(error)
                        continue
                    for f in findings:
                        report.finding(f)
                    report.file_done(stats)
                    done.append(stats)
        else:
            show_progress = not args.no_progress and sys.stderr.isatty()
            for path in args.captures:
                progress = None
                if show_progress:
                    try:
                        if os.path.getsize(path) >= PROGRESS_MIN_BYTES:
                            progress = Progress(path)
                    except OSError:
                        pass
                run_ = CaptureLint(path, config, progress=progress)
                try:
                    for f in run_:
                        if progress is not None:
                            progress.clear()
                        report.finding(f)
                except InputError as exc:
                    fail(str(exc))
                    continue
                report.file_done(run_.stats)
                done.append(run_.stats)
    finally:
        gc.set_threshold(*saved_gc)
    if done or not failed:
        report.close(done)
    if failed:
        return 2
    if any(s.counts["error"] for s in done):
        status = 1
    return status
