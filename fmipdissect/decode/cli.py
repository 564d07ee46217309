"""`fmipdissect decode CAPTURE`: print every FMIPv4 message of a capture.

Like `tshark -V`, but only the FMIPv4 part; the text and the JSON Lines
(`--format json`) are described in decode/output.py.
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
from ..spec.numbers import IPPROTO_UDP
from .decoder import decode_datagram
from .output import message_json, message_text, note_json, note_text


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("capture", metavar="CAPTURE",
                        help="pcap or pcapng file, plain or gzip/bzip2/xz/"
                             "zstd-compressed; - reads standard input")
    parser.add_argument("--format", choices=("text", "json"), default="text",
                        help="text (default) or json (JSON Lines, one object "
                             "per message)")
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
    ported = (item.proto == IPPROTO_UDP
              and P.MIP_UDP_PORT not in (item.sport, item.dport))
    if ported and not awaited.expects(item):
        return None
    msg = decode_datagram(item, lla_length)
    if msg is None or (ported and msg.key != "fback"):
        return None
    if msg.key == "fbu":
        awaited.fbu(item, item.time)
    return msg


def run(args: argparse.Namespace) -> int:
    problem = K.lla_length_problem(args.lla_length)    # decision D3
    if problem:
        raise InputError(f"--lla-length: {problem}")

    out = sys.stdout
    messages = 0
    as_json = args.format == "json"
    awaited = AwaitedReplies()      # decision D16: FBAcks on other ports
    with CaptureReader(args.capture, replies=awaited.ports) as reader:
        for item in reader:
            if isinstance(item, CaptureNote):
                if as_json:
                    out.write(json.dumps(note_json(item)) + "\n")
                else:
                    out.write(note_text(item))
                continue
            msg = _message(item, args.lla_length, awaited)
            if msg is None:
                continue
            messages += 1
            if as_json:
                out.write(json.dumps(message_json(item, msg)) + "\n")
            else:
                out.write(message_text(item, msg))
    if not as_json:
        out.write(f"{messages} FMIPv4 message{'s' if messages != 1 else ''}"
                  f" in {one_line(args.capture)}\n")
    out.flush()
    return 0
