"""The records the checker's session keeps, and the helpers its bounded
tables share (lint/session.py; the handover tracker in
fmipdissect/handovers/tracker.py uses them too).

Every table is an OrderedDict in order of last activity: expiry and the
caps pop from its front (pop_expired), O(1) amortised per message.
"""

from __future__ import annotations

PREDICTIVE, REACTIVE, FORWARDED = "predictive", "reactive", "forwarded"
SHOWN_IN_MESSAGE = 3          # addresses a finding names before "N more"


class FbuSeen:
    __slots__ = ("frame", "src", "dst", "sport", "homeaddr", "coa", "ident",
                 "lifetime", "role", "raw", "acked", "coa_reported")

    def __init__(self, frame, dgram, msg, role):
        self.frame = frame
        self.src = dgram.src
        self.dst = dgram.dst
        self.sport = dgram.sport
        self.homeaddr = msg.homeaddr
        self.coa = msg.coa
        self.ident = msg.ident
        self.lifetime = msg.lifetime
        self.role = role
        self.raw = msg.raw
        self.acked = False
        self.coa_reported = False


class Handover:
    __slots__ = ("pcoa", "fbus", "nar_ips", "ncoas", "hi_peers", "last",
                 "addresses_capped")

    def __init__(self, pcoa, now):
        self.pcoa = pcoa
        self.fbus: list[FbuSeen] = []
        self.nar_ips: dict[str, int] = {}     # address -> PrRtAdv frame
        self.ncoas: dict[str, str] = {}       # address -> "PrRtAdv frame N"
        self.hi_peers: set[str] = set()       # NARs PAR sent HI to for it
        self.last = now
        self.addresses_capped = False         # nar_ips or ncoas refused one


class HiSeen:
    __slots__ = ("frame", "s", "pcoa", "answered", "last")

    def __init__(self, frame, s, pcoa, now):
        self.frame = frame
        self.s = s
        self.pcoa = pcoa
        self.answered = False
        self.last = now


class PairSeen:
    __slots__ = ("last",)

    def __init__(self, now):
        self.last = now


class RtSolPrSeen:
    __slots__ = ("frame", "answered", "last")

    def __init__(self, frame, now):
        self.frame = frame
        self.answered = False
        self.last = now


def classify_fbu(src, dst, msg):
    """The FBU's role from its IP header and fields (decision D7), or None."""
    if src == msg.homeaddr and dst == msg.haaddr:
        return PREDICTIVE
    if dst == msg.coa:
        return REACTIVE
    if src == msg.coa and dst == msg.haaddr:
        return FORWARDED
    return None


def is_group(addr: str) -> bool:
    """Multicast or limited broadcast: not an MN's own address."""
    return addr == "255.255.255.255" or int(addr[:addr.index(".")]) >= 224


def addr_option(msg, code):
    for e in msg.elements:
        if e.kind == "ipv4addr" and e.code == code and e.addr is not None:
            return e.addr
    return None


def some_of(items, shown: int = SHOWN_IN_MESSAGE) -> str:
    """'a, b, c and N more': a finding's list stays short (hostile input)."""
    items = list(items)
    text = ", ".join(items[:shown])
    if len(items) > shown:
        text += f" and {len(items) - shown} more"
    return text


def first_difference(a: bytes, b: bytes) -> int:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return i
    return min(len(a), len(b))




def pop_expired(table, horizon, now, future):
    """Remove and yield (key, entry) for the entries of an insertion-ordered
    table last touched before horizon.  An entry dated after future was
    touched before the clock went back: it is re-dated to now and moved to
    the end instead (see Session._expire)."""
    while table:
        key, entry = next(iter(table.items()))
        if entry.last > future:
            entry.last = now
            table.move_to_end(key)
            continue
        if entry.last >= horizon:
            return
        table.popitem(last=False)
        yield key, entry
