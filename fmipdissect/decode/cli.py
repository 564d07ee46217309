"""`fmipdissect decode CAPTURE...`: print every FMIPv4 message of captures.

Like `tshark -V`, but only the FMIPv4 part; the text and the records are
described in decode/output.py.  `--format json` writes one document,
`{"records": [...], "summary": {"files", "messages", "notes"}}` (as
fmip-lint's one document), streamed record by record; `--format jsonl` one
record per line.  Each record adds "file".  --frame, --type and --mn choose
messages, --keys verifies authenticators (decode/select.py).
"""

from __future__ import annotations

import argparse
import json
import sys

from ..capture.reader import CaptureReader
from ..correlate.replies import AwaitedReplies
from ..errors import InputError, one_line
from ..records import CaptureNote
from ..spec import constraints as K
from ..spec import protocol as P
from .output import message_json, message_text, note_json, note_text
from .select import MessageFilter, authenticators


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("captures", nargs="+", metavar="CAPTURE",
                        help="pcap or pcapng files, plain or gzip/bzip2/xz/"
                             "zstd-compressed; - reads standard input; a "
                             "FOLDER is walked for captures (by content)")
    parser.add_argument("--format", choices=("text", "json", "jsonl"),
                        default="text",
                        help="text (default), json (one document: "
                        "{\"records\": [...], \"summary\": {...}}) or jsonl "
                        "(one record per line)")
    parser.add_argument("--frame", action="append", metavar="LIST",
                        help="only these frames: numbers and ranges, e.g. "
                        "3,10-12")
    parser.add_argument("--type", action="append", metavar="TYPES",
                        help="only these messages, e.g. fbu,FBAck,HI")
    parser.add_argument("--mn", metavar="ADDR",
                        help="only messages from or to ADDR or carrying it "
                        "(Home Address, Care-of Address, an option)")
    parser.add_argument("--keys", metavar="FILE",
                        help="MN-PAR keys as for fmip-lint --keys: show "
                        "whether each authenticator verifies (decision D5)")
    parser.add_argument("--lla-length", type=int,
                        default=P.DEFAULT_LLA_LENGTH, metavar="N",
                        help="link-layer address length in LLA options, "
                             f"{K.LLA_LENGTH_MIN}-{K.LLA_LENGTH_MAX} (default "
                             f"{P.DEFAULT_LLA_LENGTH}, decision D3)")


def _message(item, lla_length, awaited):
    """The FMIPv4 message of a datagram the reader kept, or None; FBUs from
    other ports than 434 make their FBAcks awaited (decision D16)."""
    awaited.expire(item.time - K.EXPIRY_SECONDS, item.time,
                   item.time + K.EXPIRY_SECONDS)
    msg = awaited.message(item, lla_length)
    if msg is not None and msg.key == "fbu":
        awaited.fbu(item, item.time)
    return msg


def run(args: argparse.Namespace) -> int:
    problem = K.lla_length_problem(args.lla_length)    # decision D3
    if problem:
        raise InputError(f"--lla-length: {problem}")
    chosen = MessageFilter(args.frame, args.type, args.mn)
    keys = None
    if args.keys:
        from ..lint.keys import load_keys
        keys = load_keys(args.keys)
    from ..walk import expand
    captures = expand(args.captures)
    out = Output(sys.stdout, args.format)
    for path in captures:
        out.messages_in_file = 0
        _decode(path, args.lla_length, chosen, keys, out)
        if args.format == "text":
            n = out.messages_in_file
            out.out.write(f"{n} FMIPv4 message{'s' if n != 1 else ''}"
                          f" in {one_line(path)}\n")
    out.close(len(captures))
    return 0


def _decode(path, lla_length, chosen, keys, out) -> None:
    """One capture's notes and messages, as chosen, to out."""
    awaited = AwaitedReplies()      # decision D16: FBAcks on other ports
    with CaptureReader(path, replies=awaited.ports) as reader:
        for item in reader:
            if isinstance(item, CaptureNote):
                if chosen.frame(item.frame):
                    out.note(path, item)
                continue
            msg = _message(item, lla_length, awaited)
            if msg is not None and chosen.message(item, msg):
                out.message(path, item, msg,
                            authenticators(msg, keys) if keys else None)


class Output:
    """Text, one JSON document (streamed), or JSON Lines."""

    def __init__(self, out, fmt: str):
        self.out, self.fmt = out, fmt
        self.counts = {"messages": 0, "notes": 0}
        self.messages_in_file = 0
        self.first = True
        if fmt == "json":
            out.write('{"records": [')

    def _record(self, record: dict) -> None:
        text = json.dumps(record)
        if self.fmt == "jsonl":
            self.out.write(text + "\n")
            return
        self.out.write(("\n" if self.first else ",\n") + text)
        self.first = False

    def note(self, path, item) -> None:
        self.counts["notes"] += 1
        if self.fmt == "text":
            self.out.write(note_text(item))
        else:
            self._record({"file": path, **note_json(item)})

    def message(self, path, item, msg, verdicts) -> None:
        self.counts["messages"] += 1
        self.messages_in_file += 1
        if self.fmt == "text":
            text = message_text(item, msg)
            for spi, verdict, algorithm in verdicts or ():
                text = text[:-1] + (f"    [Authenticator, SPI {spi}: "
                                    f"{verdict}{_with(algorithm)}]\n\n")
            self.out.write(text)
            return
        record = {"file": path, **message_json(item, msg)}
        if verdicts is not None:
            record["authenticators"] = [
                {"spi": spi, "verdict": verdict, "algorithm": algorithm}
                for spi, verdict, algorithm in verdicts]
        self._record(record)

    def close(self, files: int) -> None:
        if self.fmt == "json":
            summary = json.dumps({"files": files, **self.counts})
            self.out.write(f"{'' if self.first else chr(10)}], "
                           f'"summary": {summary}}}\n')
        self.out.flush()


def _with(algorithm) -> str:
    return f" ({algorithm})" if algorithm else ""
