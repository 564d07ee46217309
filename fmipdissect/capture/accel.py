"""The optional C accelerator of the fast path.

capture/_skip.c steps over, in C, the records the hot loops of pcap.py and
pcapng.py would step over after a glance (see its header); the Python loop
still handles every record it stops at, so the findings are the same with
or without it (tests/unit/test_accel.py, and CI runs the suite both ways).

It is built by setup.py when a C compiler is present.  Without it, or with
the environment variable FMIPDISSECT_PURE=1, SKIP is None and the readers
run their pure-Python loops, which stay the reference.
"""

from __future__ import annotations

import functools
import os
import struct

from .prefilter import UDP_PORTS, WANTED, ICMP_TYPE

PURE_ENV = "FMIPDISSECT_PURE"
PURE = os.environ.get(PURE_ENV, "") not in ("", "0")   # the pure path asked for

SKIP = TAKE = None
if not PURE:
    try:
        from ._skip import skip as SKIP
    except ImportError:            # not built: no compiler at install time
        SKIP = None
if SKIP is not None:
    try:
        from ._skip import take as TAKE
    except ImportError:            # an older build: skip only
        TAKE = None


def _skip_only(buf, pos: int, avail: int, shape, frames: int, make):
    """take() of an accelerator built before it had one: skip alone."""
    pos, skipped = SKIP(buf, pos, avail, shape)
    return pos, frames + skipped, None


def take():
    """_skip.take, which also builds the usual candidate of a pcap record
    (prefilter.plain_datagram) in C, or None: only with SKIP (a test that
    sets SKIP to None runs the pure walk throughout)."""
    if SKIP is None:
        return None
    return TAKE if TAKE is not None else _skip_only

_WANTED = bytes(WANTED)


def describe() -> str:
    """One phrase for --version: which record walk runs."""
    if SKIP is not None:
        return "C record scan"
    if PURE:
        return f"pure Python ({PURE_ENV} is set)"
    return "pure Python (the C accelerator is not built)"


@functools.lru_cache(maxsize=16)
def _others_table(others: frozenset, size: int) -> bytes | None:
    """The `others` set of a FAST_LINKS row as a flag table indexed by the
    type field's value, or None (four-octet fields: the Python loop looks)."""
    if size > 2:
        return None
    table = bytearray(1 << (8 * size))
    # one unpack for all values: an int.from_bytes per value would be most
    # of a tiny run's reading time (start-up)
    for value in struct.unpack(f">{len(others)}{'BH'[size - 1]}",
                               b"".join(others)):
        table[value] = 1
    return bytes(table)


def layout(row: tuple, *, pcapng: bool, big_endian: bool, interfaces: int,
           fragments) -> tuple:
    """skip()'s description of a record layout: a FAST_LINKS row, the file
    format and byte order, the number of interfaces (pcapng) and the
    Reassembler whose rejected sets it consults and extends."""
    type_offset, type_value, others, link_header = row
    port, vxlan = UDP_PORTS
    return (pcapng, big_endian, interfaces, type_offset, type_value,
            link_header, _others_table(others, len(type_value)), port, vxlan,
            ICMP_TYPE, _WANTED, fragments.rejected, fragments.reject,
            fragments.replies)
