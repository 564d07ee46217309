"""Command-line front end: `fmipdissect SUBCOMMAND` and `fmip-lint`.

Each subcommand lives in the module of its stage, which provides
add_arguments(parser) and run(args) -> exit status.  This module only wires
them together and turns InputError (and any unexpected crash) into one line
on standard error with exit status 2 (README, "Checking a capture").
"""

from __future__ import annotations

import argparse
import os
import sys

from . import __version__
from .errors import InputError, one_line

# subcommand -> (module, one-line help)
SUBCOMMANDS = {
    "lint": ("fmipdissect.lint.cli", "check captures against RFC 4988 (= fmip-lint)"),
    "decode": ("fmipdissect.decode.cli", "print every FMIPv4 message of a capture"),
    "gen": ("fmipdissect.gen.cli", "write a capture of a handover scenario"),
    "lua": ("fmipdissect.wireshark.plugin", "generate or install the Wireshark Lua dissector"),
    "handovers": ("fmipdissect.handovers.cli", "one record per handover: table, JSON, CSV, HTML ladder diagrams"),
    "emulate": ("fmipdissect.active.emulate", "play PAR, NAR or MN on live interfaces"),
    "probe": ("fmipdissect.active.probe", "test a PAR or NAR against RFC 4988, case by case"),
    "lab": ("fmipdissect.active.labcmd", "MN, PAR, NAR in network namespaces: handovers and probes"),
}


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's own formatter, set up by argparse at its first real use.

    Every add_argument makes a formatter only to check the metavar, and
    argparse's __init__ imports shutil (with bz2, lzma, zlib) for the
    terminal width: some 3 ms of every start.  Help and usage
    text are argparse's, the width computed as argparse computes it.
    """

    def __init__(self, *args, **kwargs):
        self._deferred = (args, kwargs)

    def __getattr__(self, name):     # an attribute __init__ would have set
        deferred = self.__dict__.pop("_deferred", None)
        if deferred is None:
            raise AttributeError(name)
        super().__init__(*deferred[0], **deferred[1])
        return getattr(self, name)


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line on stderr and status 2."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str):
        from .suggest import suggestion          # a mistake only (start-up)
        self.exit(2, f"{self.prog}: error: "
                  f"{one_line(suggestion(message, self))} (see --help)\n")


def _run(run, args, prog: str) -> int:
    _standard_streams()
    try:
        saved = signal.signal(signal.SIGTERM, _terminate)
    except ValueError:          # not the main thread (an embedding caller)
        saved = None
    try:
        return run(args)
    except InputError as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except Terminated:
        print(f"{prog}: terminated", file=sys.stderr)
        return 128 + 15
    except OSError as exc:
        if isinstance(exc, BrokenPipeError):
            sys.stderr.close()
            return 0
        # the system said no (space, permissions, a device): not a bug
        where = f": {one_line(str(exc.filename))}" if exc.filename else ""
        print(f"{prog}: error: {exc.strerror or one_line(str(exc))}{where}",
              file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: still one line, still status 2
        print(f"{prog}: internal error: {type(exc).__name__}: "
              f"{one_line(str(exc))} (please report this with the input "
              f"that caused it)", file=sys.stderr)
        return 2
    finally:
        if saved is not None:
            signal.signal(signal.SIGTERM, saved)


class Terminated(BaseException):
    """SIGTERM, raised in the main thread so that every `finally` runs: a
    temporary output file is removed, -j workers and their spool folder go
    (docs/reliability.md, "Signals")."""


def _terminate(signum, frame):
    raise Terminated()


def _standard_streams() -> None:
    """Standard output never fails on a name that is not UTF-8 (its octets
    are escaped); a closed standard output or error (`>&-`) is /dev/null
    rather than an AttributeError."""
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))
        elif hasattr(stream, "reconfigure") and stream.errors == "strict":
            stream.reconfigure(errors="backslashreplace")


def _load(modname: str):
    """A subcommand's module (the builtin __import__: importlib itself is
    a start-up cost)."""
    return __import__(modname, fromlist=["run"])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = OneLineParser(
        prog="fmipdissect",
        description="Mobile IPv4 Fast Handovers (RFC 4988) packet analysis.",
        epilog="`fmipdissect SUBCOMMAND --help` describes each subcommand.")
    parser.add_argument("--version", action="version",
                        version=f"%(prog)s {__version__}")
    # prog given: argparse would otherwise set up a formatter (and import
    # shutil) only to work out this same name (start-up)
    sub = parser.add_subparsers(dest="command", metavar="SUBCOMMAND",
                                prog=parser.prog)
    # Import only the chosen subcommand's module: `gen` pulls in Scapy,
    # which `lint` and `decode` do not need.
    chosen = next((a for a in argv if not a.startswith("-")), None)
    # `fmipdissect SUBCOMMAND ...` never shows the list of subcommands (only
    # `fmipdissect [-h]` does): then only its own parser is made, not all 8
    # (about 0.4 ms each of start-up).
    only = (chosen if argv and argv[0] == chosen and chosen in SUBCOMMANDS
            else None)
    for name, (modname, helptext) in SUBCOMMANDS.items():
        if only is not None and name != only:
            continue
        p = sub.add_parser(name, help=helptext, description=helptext)
        if name == chosen:
            module = _load(modname)
            module.add_arguments(p)
            p.set_defaults(_run=module.run)
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    return _run(args._run, args, f"fmipdissect {args.command}")


def lint_main(argv: list[str] | None = None) -> int:
    module = _load(SUBCOMMANDS["lint"][0])
    parser = OneLineParser(
        prog="fmip-lint", description=SUBCOMMANDS["lint"][1])
    module.add_arguments(parser)
    args = parser.parse_args(argv)
    return _run(module.run, args, "fmip-lint")


try:
    # the C module: `signal` adds enums, ~1 ms of every start
    import _signal as signal
except ImportError:                    # another Python implementation
    import signal
if hasattr(signal, "SIGPIPE"):
    # Behave like a Unix filter when the reader of our output goes away.
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)

