"""`fmipdissect handovers --merge [NAME=]CAPTURE... [--clock NAME=OFFSET]`.

Each capture is one vantage point of the same network; NAME defaults to
the file's stem; the first is the reference clock (decision D19).  The
analysis itself is analysis.MergedHandovers; this module reads the command
line and drives the reports.
"""

from __future__ import annotations

import gc
import os
import re
import sys

from ..analysis import GC_THRESHOLD, MergedHandovers, build_config
from ..errors import InputError
from ..output import check_target
from .report import REPORTS

_NAME = re.compile(r"[A-Za-z0-9_.-]+")
_OFFSET = re.compile(r"([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)(ms|us|s)?")
_UNITS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, None: 1e-3}


def vantage_points(words) -> tuple[list, list]:
    """(paths, names) of [NAME=]CAPTURE words; InputError for standard
    input, a name given twice or one that is not a plain word."""
    paths, names = [], []
    for word in words:
        name, path = None, word
        if "=" in word and not os.path.exists(word):
            name, path = word.split("=", 1)
            if not _NAME.fullmatch(name):
                raise InputError(f"{word}: NAME=CAPTURE with a NAME of "
                                 f"letters, digits, '.', '_' or '-'")
        if path == "-":
            raise InputError("--merge reads capture files, not standard "
                             "input (-)")
        if name is None:
            name = os.path.basename(path)
            for suffix in (".gz", ".bz2", ".xz", ".zst", ".lz4"):
                name = name.removesuffix(suffix)
            name = os.path.splitext(name)[0] or name
        if name in names:
            raise InputError(f"vantage point {name!r} given twice (name them "
                             f"NAME=CAPTURE)")
        paths.append(path)
        names.append(name)
    return paths, names


def clock_options(words, names) -> dict:
    """{name: offset in seconds} from --clock NAME=OFFSET words."""
    out = {}
    for word in words:
        name, _, value = word.partition("=")
        found = _OFFSET.fullmatch(value.strip())
        if not found:
            raise InputError(f"--clock {word}: give NAME=OFFSET, e.g. "
                             f"mn=+12.5ms (units ms, us or s)")
        if name not in names:
            raise InputError(f"--clock {word}: no vantage point {name!r} "
                             f"(there are {', '.join(names)})")
        if name == names[0]:
            raise InputError(f"--clock {word}: {name} is the reference "
                             f"clock (the first capture)")
        out[name] = float(found.group(1)) * _UNITS[found.group(2)]
    return out


def merged_handovers(args) -> int:
    """Run --merge; the exit status (2 when a capture cannot be read)."""
    if not args.captures:
        raise InputError("no capture file given (see --help)")
    paths, names = vantage_points(args.captures)
    manual = clock_options(args.clock, names)
    if args.max_diagrams < 0:
        raise InputError(f"--max-diagrams {args.max_diagrams}: must be 0 or "
                         f"more")
    config = build_config(args)
    out = sys.stdout
    report = (REPORTS[args.format](out, False, args.time, merged=True)
              if args.format == "text" else
              REPORTS[args.format](out, merged=True))
    sinks = [report]
    diagrams = 0
    if args.html:
        from .html import HtmlReport
        check_target(args.html, "HTML report", "--html", paths)
        sinks.append(HtmlReport(args.html, args.max_diagrams))
        diagrams = args.max_diagrams
    analysis = MergedHandovers(paths, names, config, manual, diagrams)
    saved_gc = gc.get_threshold()
    gc.set_threshold(*GC_THRESHOLD)
    try:
        analysis.prepare()
        for s in sinks:
            s.file_start(analysis.name)
        count = 0

        def emit(record):
            nonlocal count
            count += 1
            for s in sinks:
                s.record(record)
        analysis.run(emit)
    finally:
        gc.set_threshold(*saved_gc)
    for s in sinks:
        s.file_done(analysis.name, count)
        merged = getattr(s, "merged_summary", None)
        if merged is not None:
            merged(analysis.vantage_points(), analysis.roles,
                   analysis.summary_data())
        s.close()
    return 0
