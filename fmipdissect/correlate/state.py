"""What the correlator remembers: requests waiting for replies, MNs and
their handovers (decisions D9, D13).

Every table is an OrderedDict in order of last activity: expiry and the caps
pop from its front (pop_expired), O(1) amortised per message.
"""

from __future__ import annotations

PREDICTIVE, REACTIVE, FORWARDED = "predictive", "reactive", "forwarded"


_EMPTY: dict = {}       # shared, never written: remember() replaces it


class Observation:
    """One FMIPv4 message as the correlator placed it; every event about
    the message carries it.  request: the message's own request record
    (FbuSeen, HiSeen, RtSolPrSeen) when it is a request."""

    # (in __init__'s order, with _defaults and _new_list: what
    # plain.factory builds the correlator's cheaper maker from)
    __slots__ = ("msg", "dgram", "node", "handover", "role", "request",
                 "first_of_pair")
    _defaults = {"node": None, "handover": None, "role": None,
                 "request": None, "first_of_pair": False}
    _new_list = ()

    def __init__(self, msg, dgram, node=None, handover=None, role=None,
                 request=None, first_of_pair=False):
        self.msg = msg
        self.dgram = dgram
        self.node = node
        self.handover = handover
        self.role = role                  # FBU only: decision D7
        self.request = request
        self.first_of_pair = first_of_pair   # HI/HAck: first between them


class FbuSeen:
    __slots__ = ("frame", "time", "src", "dst", "sport", "homeaddr",
                 "haaddr", "coa", "ident", "lifetime", "role", "raw", "answered",
                 "coa_reported", "handover")

    def __init__(self, dgram, msg, role, handover):
        self.frame = dgram.frame
        self.time = dgram.time
        self.src = dgram.src
        self.dst = dgram.dst
        self.sport = dgram.sport
        self.homeaddr = msg.homeaddr
        self.haaddr = msg.haaddr
        self.coa = msg.coa
        self.ident = msg.ident
        self.lifetime = msg.lifetime
        self.role = role
        self.raw = msg.raw
        self.answered = False
        self.coa_reported = False
        self.handover = handover


class HiSeen:
    __slots__ = ("frame", "time", "src", "dst", "identifier", "s", "pcoa",
                 "identity", "answered", "handover")

    def __init__(self, dgram, msg, s, pcoa, identity, handover):
        self.frame = dgram.frame
        self.time = dgram.time
        self.src = dgram.src
        self.dst = dgram.dst
        self.identifier = msg.identifier
        self.s = s
        self.pcoa = pcoa
        self.identity = identity   # what tells it from another HI (D17)
        self.answered = False
        self.handover = handover


class HiKey:
    """The HIs held under one key (PAR, NAR, Identifier): normally one; more
    when HIs for different MNs repeat an Identifier (decision D17)."""
    __slots__ = ("requests", "scope", "last")

    def __init__(self, scope, now):
        self.requests: list[HiSeen] = []
        self.scope = scope          # decision D11: the two routers
        self.last = now


class RtSolPrSeen:
    __slots__ = ("frame", "time", "src", "identifier", "answered", "last",
                 "handover", "scope")

    def __init__(self, dgram, msg, handover, scope):
        self.frame = dgram.frame
        self.time = dgram.time
        self.src = dgram.src
        self.identifier = msg.identifier
        self.answered = False
        self.last = dgram.time
        self.handover = handover
        self.scope = scope          # decision D11: the MN


class PairSeen:
    __slots__ = ("last",)

    def __init__(self, now):
        self.last = now


class MobileNode:
    """What is known of one MN, keyed by its PCoA (decision D9): its FBUs
    (newest kept), the NAR addresses PrRtAdv advertised, the NCoAs PrRtAdv,
    HAck and FBAck supplied, the NARs PAR sent HI to, and its handovers
    (decision D13): the open one and the one before it."""

    __slots__ = ("pcoa", "fbus", "nar_ips", "ncoas", "hi_peers", "last",
                 "addresses_capped", "hack_ncoa", "current", "previous")

    def __init__(self, pcoa, now):
        self.pcoa = pcoa
        self.fbus: list[FbuSeen] = []
        # (shared empty tables until the first address: correlator.py
        # replaces them)
        self.nar_ips: dict[str, int] = _EMPTY   # address -> PrRtAdv frame
        self.ncoas: dict[str, str] = _EMPTY     # address -> "the HAck of frame N"
        self.hi_peers: dict[str, None] = _EMPTY   # NARs PAR sent HI to
        self.last = now
        self.addresses_capped = False
        self.hack_ncoa = None       # (NCoA, frame) of the HAck that supplied it
        self.current = None
        self.previous = None


class Handover:
    """One handover as decision D13 assembles it.  `data` belongs to a
    subscriber (the handover records keep their own per-handover state
    there).  Most fields start at their class default (no __slots__: a
    handover is made per RtSolPr, PrRtAdv, FBU or HI that begins one, and
    setting thirty fields each time costs more than the checks around
    it)."""

    par = nar = ncoa = None
    fbu_mode = hi_mode = None
    network = False
    messages = 0
    # FBU Identifications, RtSolPr Identifiers, (PAR, NAR, Identifier) of
    # HIs: small ordered sets, the shared empty one until remember()
    idents = rtsolprs = his = _EMPTY
    rt_first = hi_first = fbu_first = None
    lat_rt = lat_hi = lat_fbu = None
    code_prrtadv = code_hi = code_hack = None
    fback = None              # Code of the FBAck that decided it
    fbu_coa = None            # Care-of Address of its first FBU
    resumed = False           # FBU again from the new link
    over = False
    notes = None              # [str]: why a latency is missing
    data = None

    def __init__(self, pcoa, seq, frame, now):
        self.pcoa = pcoa
        self.seq = seq
        self.first_frame = self.last_frame = frame
        self.start = self.end = now

    @property
    def decided(self) -> bool:
        return self.fback is not None

    @property
    def mode(self) -> str:
        """decision D13: unknown without an FBU; predictive when the first
        FBU is seen reaching PAR from the PCoA; else the HI's Code says
        (NAR's capture sees only the FBU sent again from the new link),
        and without an HI the first FBU's role (D7)."""
        if self.fbu_first is None:
            return "unknown"
        if self.fbu_mode == "predictive":
            return "predictive"
        return self.hi_mode or self.fbu_mode or "unknown"

    def note(self, text: str) -> None:
        if self.notes is None:
            self.notes = []
        if len(self.notes) < KEYS_PER_HANDOVER:
            self.notes.append(text)


KEYS_PER_HANDOVER = 8   # Identifications, Identifiers, HI keys, notes kept


def remember(table: dict, key) -> dict:
    """table with key added, capped at KEYS_PER_HANDOVER (oldest dropped
    first); assign the result back (the first key creates the dict)."""
    if key not in table:
        if table is _EMPTY:
            return {key: None}
        table[key] = None
        if len(table) > KEYS_PER_HANDOVER:
            del table[next(iter(table))]
    return table


def classify_fbu(src, dst, msg):
    """The FBU's role from its IP header and fields (decision D7), or None."""
    if src == msg.homeaddr and dst == msg.haaddr:
        return PREDICTIVE
    if dst == msg.coa:
        return REACTIVE
    if src == msg.coa and dst == msg.haaddr:
        return FORWARDED
    return None


# addr[:4] in GROUP_HEADS: a group address, not an MN's own one: first
# octets 224 to 255, multicast (224/4), reserved (240/4) and the limited
# broadcast 255.255.255.255 (addresses as inet_ntoa writes them)
GROUP_HEADS = frozenset(f"{octet}." for octet in range(224, 256))


def addr_option(msg, code):
    for e in msg.elements:
        if e.kind == "ipv4addr" and e.code == code and e.addr is not None:
            return e.addr
    return None


_NONE_DUE: tuple = ()


def pop_expired(table, horizon, now, future):
    """Remove the entries of an insertion-ordered table last touched before
    horizon and return them as [(key, entry)] (oldest first; an empty
    tuple, the usual answer, when none is due).  An entry dated after
    future was touched before the clock went back: it is re-dated to now
    and moved to the end instead, so that it expires EXPIRY_SECONDS from
    here and does not hold back the expiry of the entries after it.
    A sweep comes every SWEEP_INTERVAL: a list rather than a generator, and
    one look at the oldest entry when nothing is due (the usual case)."""
    gone = _NONE_DUE
    while table:
        key = next(iter(table))
        entry = table[key]
        last = entry.last
        if last > future:
            entry.last = now
            table.move_to_end(key)
            continue
        if last >= horizon:
            break
        del table[key]
        if gone is _NONE_DUE:
            gone = []
        gone.append((key, entry))
    return gone
