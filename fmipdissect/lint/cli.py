"""`fmip-lint` / `fmipdissect lint`: options, running, exit status.

Exit status (README, "Checking a capture"): 0 no finding at or above the
--fail-on severity (default error: warnings and infos allowed), 1 at least
one, 2 the command could not do its job (a file that is not a readable
capture, a bad option or key file).  --exit-zero turns 1 into 0.  A bad
capture among several is reported on standard error (one line) and in the
report (JSON summary.failed, SARIF notifications, JUnit errors), the others
are still checked; the status is then 2.

The run is: options -> LintConfig -> for each capture (in order; with -j N
in N worker processes that spool their findings to temporary files, read
back in order) the findings go to the report as they come -> exit status.
--annotate adds a second pass over the one capture (report/annotate.py).
"""

from __future__ import annotations

import argparse
import gc
import os
import sys

from .. import __version__
from ..capture import accel
from ..errors import InputError, one_line
from ..spec import protocol as P
from ..spec.rules import RULES, SEVERITIES
from .engine import (CaptureLint, LintConfig, lint_config, lint_to_spool,
                     read_spool)
from ..live import no_live_options
from .options import add_flow_arguments, per_file, resolve, use_colour
from .report import FORMATS, list_rules, make_report
from .report.common import fails, plural
from ..output import atomic_output, check_target, same_file

PROGRESS_MIN_BYTES = 16 << 20   # smaller captures finish before a bar helps


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("captures", nargs="*", metavar="CAPTURE",
                        help="pcap or pcapng files to check, plain or "
                             "gzip/bzip2/xz/zstd-compressed; - reads standard "
                             "input; a FOLDER is walked for captures, "
                             "recognised by their content (not by name)")
    parser.add_argument("--format", choices=tuple(FORMATS), default="text",
                        help="report format: text (default), json (one "
                        "document), jsonl (one record per line, as it "
                        "comes), sarif (SARIF 2.1.0), junit (JUnit XML), "
                        "github (GitHub Actions annotations)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the report to FILE (replaced at the end, "
                        "atomically) instead of standard output")
    parser.add_argument("--fail-on", choices=SEVERITIES, default="error",
                        help="lowest severity of a finding that makes the "
                        "exit status 1 (default error)")
    parser.add_argument("--exit-zero", action="store_true",
                        help="exit 0 whatever the findings (2 still means "
                        "the command could not do its job)")
    parser.add_argument("--annotate", metavar="OUT.pcapng",
                        help="also write a copy of the CAPTURE (one) as "
                        "pcapng with each finding as a packet comment on "
                        "its frame, for Wireshark")
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
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__version__} "
                                f"(record walk: {accel.describe()})")
    add_flow_arguments(parser)
    _one_line_errors(parser)


def _one_line_errors(parser: argparse.ArgumentParser) -> None:
    """A bad option is one line on standard error and status 2."""
    def error(message: str):
        from ..suggest import suggestion         # a mistake only (start-up)
        parser.exit(2, f"{parser.prog}: error: "
                    f"{one_line(suggestion(message, parser))}\n")
    parser.error = error


def build_config(args) -> LintConfig:
    keys = None
    if args.keys:
        from .keys import load_keys      # --keys only (start-up)
        keys = load_keys(args.keys)
    config = lint_config(args.select, args.ignore, keys, args.lla_length,
                         prefilter=not getattr(args, "no_prefilter", False),
                         options=("--select", "--ignore", "--lla-length"))
    # live capture: requests expire on the wall clock while the link is
    # quiet (fmipdissect/live.py sends the ticks)
    config.clock = getattr(args, "interface", None) is not None
    return config


# Fewer cyclic-GC passes while checking: the checker allocates short-lived,
# acyclic records by the million, and each default pass (every 700
# allocations) rescans the live session state; about 5% of the FMIPv4-only
# benchmark (docs/performance.md).  Reference counting still frees every
# record at once; the caller's setting is restored afterwards.
GC_THRESHOLD = (50_000, 20, 100)


def _worker(job):
    """-j: check one capture in a worker process, findings to a spool."""
    path, config, spool_path = job
    gc.set_threshold(*GC_THRESHOLD)      # a worker process of ours
    try:
        return lint_to_spool(path, config, spool_path)
    except InputError as exc:            # the capture could not be opened
        return None, str(exc)


def _prog(args) -> str:
    return "fmipdissect lint" if getattr(args, "command", None) else "fmip-lint"


class _Run:
    """One fmip-lint run: the captures through the report, in order."""

    def __init__(self, args, config: LintConfig, report, spool=None):
        self.args = args
        self.config = config
        # per-file-ignores and address-ignores (lint/options.py)
        self.config_for = per_file(config, args.settings)
        self.baseline = None         # lint/baseline.py, or None
        self.names = {}              # path -> the findings' file (live)
        self.report = report
        self.spool = spool           # CommentSpool of --annotate, or None
        self.done = []               # FileStats of each capture read
        self.failed = False
        self.interrupted = False     # SIGINT: the report has what came

    def finding(self, f) -> None:
        if self.baseline is not None and not self.baseline.keep(f):
            return
        self.report.finding(f)
        if self.spool is not None:
            self.spool.add(f)

    def file_done(self, stats) -> None:
        if self.baseline is not None:
            self.baseline.adjust(stats)
        self.report.file_done(stats)
        self.done.append(stats)
        if stats.messages == 0:
            self._stderr(f"note: {stats.file}: no FMIPv4 message in "
                         f"{plural(stats.packets, 'packet')}; may be the "
                         f"wrong capture "
                         f"(FMIPv4 is UDP port {P.MIP_UDP_PORT} and ICMP type "
                         f"{P.ICMP_TYPE_EXPERIMENTAL_MOBILITY})")

    def file_failed(self, name: str, message: str) -> None:
        self.failed = True
        self.report.file_failed(name, message)
        self._stderr(f"error: {message}")

    def _stderr(self, text: str) -> None:
        sys.stdout.flush()
        print(f"{_prog(self.args)}: {one_line(text)}", file=sys.stderr)

    def serial(self) -> None:
        show_progress = not self.args.no_progress and sys.stderr.isatty()
        for path in self.args.captures:
            progress = None
            if show_progress:
                try:
                    if (path == "-" or  # standard input: so far
                            os.path.getsize(path) >= PROGRESS_MIN_BYTES):
                        from .report.progress import Progress
                        progress = Progress(path)
                except OSError:
                    pass
            run = CaptureLint(path, self.config_for(path),
                              self.names.get(path), progress=progress)
            try:
                for f in run:
                    if progress is not None:
                        progress.clear()
                    self.finding(f)
            except InputError as exc:
                self.file_failed(path, str(exc))
                continue
            except KeyboardInterrupt:
                # Ctrl-C on live input: what was found so far, a summary,
                # the report closed, then exit status 130
                self.interrupted = True
                self.file_done(run.stats)
                return
            self.file_done(run.stats)

    def parallel(self, jobs: int) -> None:
        """Workers spool each file's findings to a temporary file; the
        parent reads them back in argument order, one finding at a time, so
        neither holds a file's findings (imap keeps the order).  However
        the parent ends, the workers end with it (children.py) and the
        spool folder goes: SIGPIPE is ignored meanwhile, so a reader that
        goes away (`| head -1`) is a BrokenPipeError that unwinds through
        the `with` blocks instead of killing the parent at once."""
        import shutil
        from ..children import ignored_sigpipe, private_folder
        paths = self.args.captures
        with ignored_sigpipe():
            tmp = private_folder("fmip-lint-")
            try:
                self._spooled(jobs, paths, tmp)
            finally:
                shutil.rmtree(tmp, ignore_errors=True)

    def _spooled(self, jobs: int, paths, tmp: str) -> None:
        """The captures through the workers, findings read back in order."""
        from ..children import worker_pool      # -j only (start-up)
        work = [(path, self.config_for(path),
                 os.path.join(tmp, f"{i}.spool"))
                for i, path in enumerate(paths)]
        with worker_pool(min(jobs, len(work))) as pool:
            for (path, _, spool), (stats, error) in zip(
                    work, pool.imap(_worker, work)):
                if stats is not None:
                    for f in read_spool(spool):
                        self.finding(f)
                    os.unlink(spool)
                if error is not None:
                    self.file_failed(path, error)
                else:
                    self.file_done(stats)

    def status(self) -> int:
        if self.failed:
            return 2
        if self.args.exit_zero or self.args.write_baseline:
            return 0
        fail_on = self.args.fail_on
        if any(n and fails(sev, fail_on)
               for s in self.done for sev, n in s.counts.items()):
            return 1
        return 0


def _check_paths(args) -> None:
    """Options that name files: one line and status 2 before any work (the
    output rule of fmipdissect/output.py)."""
    if not args.captures:
        raise InputError("no capture file given (see --help)")
    if args.jobs < 1:
        raise InputError(f"-j {args.jobs}: must be at least 1")
    outputs = [("-o", args.output)] if args.output not in (None, "-") else []
    if args.annotate is not None:
        if len(args.captures) != 1 or not _regular(args.captures[0]):
            raise InputError("--annotate takes exactly one CAPTURE, a "
                             "regular file (it is read twice: not standard "
                             "input or a pipe)")
        if args.annotate == "-":
            raise InputError("--annotate -: give a file name for the "
                             "annotated capture")
        outputs.append(("--annotate", args.annotate))
    for option, out in outputs:
        check_target(out, "output", option, args.captures)
    if len(outputs) == 2 and same_file(outputs[0][1], outputs[1][1]):
        raise InputError(f"-o and --annotate name the same file "
                         f"{args.output}")


# formats whose lines stand alone: printed as they come on live input (the
# document formats, json, sarif and junit, are complete only at the end)
LIVE_FORMATS = ("text", "github", "jsonl")


def _live_input(captures) -> bool:
    """Standard input, a FIFO or a terminal among the captures."""
    import stat
    for path in captures:
        try:
            mode = os.stat(0 if path == "-" else path).st_mode
        except (OSError, ValueError):
            continue
        if stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode):
            return True
    return False


def _regular(path: str) -> bool:
    """A regular file (a pipe, /dev/stdin or <(...) cannot be read twice)."""
    import stat
    try:
        return path != "-" and stat.S_ISREG(os.stat(path).st_mode)
    except (OSError, ValueError):
        return True         # missing: the reader says so, in one line


def run(args) -> int:
    out = sys.stdout
    resolve(args)             # the configuration file (lint/config.py)
    if args.show_settings:
        from .options import show_settings
        show_settings(args, out)
        return 0
    if args.list_rules:
        chosen = build_config(args).enabled \
            if (args.select is not None or args.ignore is not None) else None
        list_rules(out, args.format, [r for r in RULES
                                      if chosen is None or r.id in chosen])
        return 0
    if args.interface is not None:
        from ..live import live_capture
        with live_capture(args) as names:
            return _lint(args, names)
    no_live_options(args)
    from ..walk import expand
    args.captures = expand(args.captures, args.exclude or ())
    return _lint(args, {})


def _lint(args, names) -> int:
    """Check args.captures (names: path -> the findings' file name)."""
    _check_paths(args)
    config = build_config(args)
    baseline = None
    if args.baseline or args.write_baseline:
        from .baseline import Baseline       # read now: errors before work
        baseline = Baseline(args.baseline, args.write_baseline)
    spool = None
    if args.annotate is not None:
        # dpkt (the pcapng writer) only when annotating: start-up stays light
        from .report.annotate import CommentSpool
        spool = CommentSpool()
    saved_gc = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        with atomic_output(args.output or "-", what="report") as out:
            colour = args.format == "text" and use_colour(args.color, out)
            report = make_report(args.format, out, colour=colour,
                                 statistics=args.statistics,
                                 fail_on=args.fail_on)
            if args.format in LIVE_FORMATS and _live_input(args.captures):
                out.reconfigure(line_buffering=True)   # each finding now
            lint = _Run(args, config, report, spool)
            lint.names, lint.baseline = names, baseline
            # worker processes cannot read our standard input: "-" runs here
            if (args.jobs > 1 and len(args.captures) > 1
                    and "-" not in args.captures):
                lint.parallel(args.jobs)
            else:
                lint.serial()
            report.close(lint.done)
        if args.write_baseline and not lint.failed and not lint.interrupted:
            _wrote_baseline(args, lint.baseline.save())
        if lint.interrupted:
            print(f"{_prog(args)}: interrupted", file=sys.stderr)
            return 130
        if spool is not None and lint.done:
            _annotate(args.captures[0], args.annotate, spool)
    finally:
        gc.set_threshold(*saved_gc)
        if spool is not None:
            spool.close()
    return lint.status()


def _wrote_baseline(args, count: int) -> None:
    print(f"{_prog(args)}: {plural(count, 'finding')} recorded in "
          f"{one_line(args.write_baseline)}", file=sys.stderr)


def _annotate(capture: str, target: str, spool) -> None:
    """Second pass of --annotate: the capture again, with the comments."""
    from .report.annotate import annotate_capture
    with atomic_output(target, binary=True, what="annotated capture") as out:
        annotate_capture(capture, out, spool)
