"""The data plane of a handover: how long the MN's traffic stopped, and what
it lost (the `data` of a handover record and of the summary).

The merge stage (correlate/) hands every IPv4 datagram once, as a
SeenDatagram with all its sightings on the reference clock, in order of
first sighting: the Mobile IPv4 messages (their `datagram` set) to
`DataPlane.signalling`, whose FMIPv4 ones tell where the next handover of
an MN begins and so where a handover's window ends (without them the
windows are shorter, decision D20), every other one to `DataPlane.observe`.  When a
handover record is final (SETTLE_SECONDS of capture after its end),
`DataPlane.data(record)` reads the MN's traffic around it: every datagram
to or from its PCoA, NCoA or Home Address, per direction (down = towards
the MN, up = from it).  `forget_before(t)` drops what no window can need.

How each datagram is read (decision D20): which path it took (old: PAR's
link; new: NAR's), when it was at the point nearest the MN (the MN's own
capture, else the router that hands it over), whether and how often it
reached its destination (the MN's or the CN's capture, else the last
router with a capture).  How buffering at NAR is told from path delay
(decision D21).  RFC 4988 4.1 and 5.5: PAR tunnels the MN's traffic to NAR
from the FBU on; NAR buffers it until the MN attaches when the HI asks.
"""

from __future__ import annotations

from array import array
from bisect import bisect_left, bisect_right, insort
from socket import inet_ntoa

from ..spec import protocol as P
from ..spec.numbers import IPPROTO_UDP
from .records import percentile

DOWN, UP = "down", "up"
DIRECTIONS = (DOWN, UP)
ROLES = ("mn", "par", "nar", "cn")
# capture time after a handover's last message before its data is final:
# its window runs to the next handover of its MN, at most this long after
# its last message (the MN attaches to NAR and the buffered traffic is
# released a layer-2 gap after the FBAck; the binding lasts longer, D20)
SETTLE_SECONDS = 2.0
# the same when the caller hands over no Mobile IPv4 message, so that the
# next handover cannot be told: short enough for handovers 1 s apart (D20)
BLIND_SETTLE_SECONDS = 0.5
# traffic before the handover's first message that belongs to it: in a
# reactive handover the MN leaves the old link before it sends the FBU (D20)
LEAD_SECONDS = 0.5
# the same for a move without a fast handover (D25), whose record begins
# with its registration: the MN found it had moved from an Agent
# Advertisement, sent at most once a second (RFC 5944 2.3.2), after the
# layer-2 gap (D20)
BASELINE_LEAD_SECONDS = 2.0
# held at NAR for longer than the path's usual delay by more than this:
# NAR buffered (D21); a router forwarding in user space, or a loaded host,
# delays a datagram by a few ms now and then, a layer-2 gap by tens
BUFFER_MARGIN = 0.005
TOTAL_KEYS = ("lost", "tunnelled", "buffered")
MARKS_CAP = 5000           # strip marks kept per direction and handover


class _Fate:
    """One datagram of the MN's traffic as decision D20 reads it."""

    __slots__ = ("d", "new", "near", "arrive", "deliveries", "nar_in",
                 "tunnelled", "number", "key")

    def __init__(self, d, direction: str, at: dict, ncoa_only):
        self.d = d
        obs = d.observations
        tunnelled, nar_in, nar = False, None, at["nar"]
        for o in obs:                  # one pass: this runs per datagram
            if o.tunnel:
                tunnelled = True
            if nar_in is None and o.vantage in nar:
                nar_in = o.time
        self.tunnelled, self.nar_in = tunnelled, nar_in
        self.new = _new_path(d, direction, at, ncoa_only,
                             tunnelled or nar_in is not None)
        if direction == DOWN:
            self.near, self.deliveries = _down_delivery(obs, at, self.new)
            self.arrive = self.near
        else:
            self.near = _up_near(obs, at, self.new)
            self.arrive, self.deliveries = _up_delivery(obs, at)
        # send order: the flow's own numbering, else the first sighting
        self.number = _number(d)
        self.key = obs[0].time if self.number is None else self.number


def _joined(first, again):
    """The same datagram seen as two: one with every sighting, in time
    order (the inputs are left alone)."""
    return first.__class__(
        first.src, first.dst, first.proto, first.ident, first.sport,
        first.dport, first.seq, first.size,
        sorted(first.observations + again.observations,
               key=lambda o: o.time), first.datagram)


_REQUEST = P.REGISTRATION_LAYOUTS[P.REGISTRATION_REQUEST]
_LIFETIME, _HOME = _REQUEST.field("lifetime"), _REQUEST.field("homeaddr")


def _may_begin(seen) -> tuple:
    """(MN addresses it names, a registration?) for a message a handover
    may begin with, else None: an FMIPv4 one (RFC 4988 5), or a
    Registration Request that asks for a binding (a move without a fast
    handover, decision D25), by its Home Address too; not a Reply, not a
    deregistration (Lifetime zero, RFC 5944 3.3), which brings the MN home.
    The reader hands on every Mobile IPv4 message as a candidate."""
    datagram = seen.datagram
    payload = getattr(datagram, "payload", None)
    if not payload:               # a caller's stand-in: take its word
        return (seen.src, seen.dst), False
    if datagram.proto == IPPROTO_UDP and payload[0] == P.REGISTRATION_REQUEST:
        at, home = _LIFETIME.offset, _HOME.offset
        if len(payload) < home + 4 or not int.from_bytes(
                payload[at:at + 2], "big"):
            return None
        return (seen.src, seen.dst, inet_ntoa(payload[home:home + 4])), True
    if datagram.proto == IPPROTO_UDP:
        known = P.message_for("mip", payload[0])
    else:
        known = (payload[0] == P.ICMP_TYPE_EXPERIMENTAL_MOBILITY
                 and len(payload) > P.ICMP_SUBTYPE_OFFSET
                 and P.message_for("icmp", payload[P.ICMP_SUBTYPE_OFFSET]))
    return ((seen.src, seen.dst), False) if known else None


def _number(d):
    """The packet's own number where its flow numbers packets one by one
    (the test flow, RTP), else None.  TCP's sequence numbers count octets,
    and a retransmission or a bare ACK repeats one: a TCP flow is put in
    order by first sightings and its gaps are not packets (D20)."""
    seq = d.seq
    if seq is None or seq[0] == "tcp":
        return None
    return seq[1]


def _new_path(d, direction, at, ncoa_only, via_nar: bool):
    """True: over NAR (new path: tunnelled or seen by NAR); False: over
    PAR's link (old path); None when no router's capture can tell (the
    interruption is then found as the longest pause, D20)."""
    if not (at["par"] or at["nar"]):
        return None
    return via_nar or (ncoa_only is not None and (
        d.dst if direction == DOWN else d.src) == ncoa_only)


def _passed_on(obs, names, plain_last: bool):
    """The time a router with capture `names` sent the datagram on (its
    incoming and outgoing copies are two sightings there), else None."""
    mine = [o for o in obs if o.vantage in names]
    if len(mine) < 2 or (plain_last and mine[-1].tunnel):
        return None
    return mine[-1].time


def _down_delivery(obs, at, new):
    """(time at the point nearest the MN, deliveries to the MN)."""
    if at["mn"]:
        mine = [o.time for o in obs if o.vantage in at["mn"]]
        return (mine[0] if mine else None), len(mine)
    if new and at["nar"]:
        t = _passed_on(obs, at["nar"], plain_last=True)
    elif at["par"]:
        t = _passed_on(obs, at["par"], plain_last=False)
    else:
        t = obs[0].time          # no capture on its way: seen is delivered
    return t, int(t is not None)


def _up_near(obs, at, new):
    """The time the MN sent it (its capture), else the first router's."""
    for names in (at["mn"], at["nar"] if new else at["par"]):
        if names:
            mine = [o.time for o in obs if o.vantage in names]
            return mine[0] if mine else None
    return obs[0].time


def _up_delivery(obs, at):
    """(time it reached the CN, deliveries to the CN)."""
    if at["cn"]:
        mine = [o.time for o in obs if o.vantage in at["cn"]]
        return (mine[0] if mine else None), len(mine)
    if at["par"]:
        t = _passed_on(obs, at["par"], plain_last=True)
        return t, int(t is not None)
    return obs[0].time, 1


def _reached(f, direction) -> bool:
    """Counted at the point nearest the MN: down delivered there, up sent
    by the MN (D20)."""
    return f.near is not None and (direction == UP or bool(f.deliveries))


def _paths(fates, direction) -> list:
    """[(time at the point nearest the MN, over the new path)], in order."""
    return sorted((f.near, f.new) for f in fates if _reached(f, direction))


def _interruption(fates, direction):
    """(last_old, first_new) at the point nearest the MN: down what was
    delivered there, up what the MN sent.  Without a router's capture the
    path of each datagram is set here: new from the longest pause on."""
    times = sorted(f.near for f in fates if _reached(f, direction))
    if fates and fates[0].new is None:
        if len(times) < 2:
            return None, None
        k = max(range(len(times) - 1), key=lambda i: times[i + 1] - times[i])
        first_new = times[k + 1]
        for f in fates:
            f.new = f.near is not None and f.near >= first_new
        return times[k], first_new
    # the longest change from the old path to the new: the window may begin
    # with what the previous handover's binding still carried, the MN may
    # be back on its old link before it ends, and there the two paths mix
    ways = _paths(fates, direction)
    changes = [(b[0] - a[0], a[0], b[0]) for a, b in zip(ways, ways[1:])
               if b[1] and not a[1]]
    if changes:
        _, last_old, first_new = max(changes)
        return last_old, first_new
    if ways and all(new for _, new in ways):
        return None, ways[0][0]
    return None, None


def _old_path_before(lead, fates, direction, first_new):
    """(last_old, first_new) when the window itself begins on the new path
    (a reactive handover's first message comes after the MN left): the
    last datagram over the old path in the lead an earlier window counts
    (D20), if any, and the window's first over the new path."""
    if first_new is None:
        own = _paths(fates, direction)
        if not own or not own[0][1]:
            return None, None
        first_new = own[0][0]
    olds = [f.near for f in lead
            if _reached(f, direction) and f.new is False
            and f.near < first_new]
    return (max(olds) if olds else None), first_new


def _buffered(fates, at) -> list:
    """Decision D21: the datagrams held at NAR beyond the path's usual
    delay."""
    held = []
    for f in fates:
        if not f.new:
            continue
        if at["nar"]:          # NAR sent it on, wherever it went then
            out = _passed_on(f.d.observations, at["nar"], plain_last=True)
            start = f.nar_in
        else:
            out, start = f.arrive, f.d.observations[0].time
        if out is not None and start is not None:
            held.append((out - start, start, out, f))
    if not held:
        return []
    usual = min(h[0] for h in held)
    late = [h for h in held if h[0] > usual + BUFFER_MARGIN]
    if not late:
        return []
    release = min(h[2] for h in late)    # NAR let the first held one go
    # what would have passed before the release but went at or after it
    return [f for _, start, out, f in held if start + usual < release <= out]


def _order_counts(fates):
    """(reordered, duplicated) at the destination, per flow: reordered
    arrived after one sent later; duplicated: extra deliveries, and a
    sequence number delivered again in another datagram."""
    reordered = duplicated = 0
    flows: dict = {}
    for f in fates:
        if f.deliveries:
            duplicated += f.deliveries - 1
            flows.setdefault(_flow(f.d), []).append(f)
    for members in flows.values():
        members.sort(key=lambda f: f.arrive)
        top, numbers = None, set()
        for f in members:
            if top is not None and f.key < top:
                reordered += 1
            top = f.key if top is None else max(top, f.key)
            if f.number is not None:
                if f.key in numbers:
                    duplicated += 1
                numbers.add(f.key)
    return reordered, duplicated


def _flow(d):
    return (d.src, d.dst, d.proto, d.sport, d.dport,
            d.seq[0] if d.seq is not None else None)


def _gaps(fates, pause=None) -> int:
    """Sequence numbers never seen anywhere, inside the numbers seen, per
    numbered flow: lost before the first capture on the way.  Numbers the
    MN used while detached (`pause`: last_old, first_new of the uplink)
    never went on the wire: not lost (D20)."""
    numbers: dict = {}
    skip: dict = {}
    for f in fates:
        if f.number is None:
            continue
        flow = _flow(f.d)
        numbers.setdefault(flow, set()).add(f.key)
        if pause and f.near is not None and f.near in pause:
            skip.setdefault(flow, []).append(f.key)
    lost = 0
    for flow, n in numbers.items():
        lost += max(n) - min(n) + 1 - len(n)
        ends = skip.get(flow, ())
        if len(ends) >= 2:
            lo, hi = min(ends), max(ends)
            lost -= hi - lo - 1 - sum(1 for k in n if lo < k < hi)
    return lost


def _marks(fates, buffered) -> list:
    """[(time, kind)] for the HTML report's strip, at the point nearest the
    MN: "delivered", "buffered" or "lost" (at its last sighting when it
    never got there)."""
    held = {id(f) for f in buffered}
    out = []
    for f in fates:
        if not f.deliveries:
            out.append((f.near if f.near is not None
                        else f.d.observations[-1].time, "lost"))
        elif f.near is not None:
            out.append((f.near, "buffered" if id(f) in held
                        else "delivered"))
    out.sort()
    return out[:MARKS_CAP]


class PlaneData(dict):
    """The contract's `data` object (a plain dict to JSON) and, not written
    anywhere, `marks`: {direction: [(time, kind)]} for the HTML strip."""

    __slots__ = ("marks",)


def _ms(t0, t1):
    return None if t0 is None or t1 is None else round(
        (t1 - t0) * 1000.0, 3)


def _time(t):
    return None if t is None else round(t, 6)


class DataPlane:
    """The MN's traffic per handover, from the datagrams of one capture or
    of several merged ones (roles: vantage name -> "mn" | "par" | "nar" |
    "cn" | None)."""

    SETTLE_SECONDS = SETTLE_SECONDS

    def __init__(self, roles: dict, addresses=None):
        """addresses: when the caller knows every MN address (PCoA, NCoA,
        Home Address) beforehand, only datagrams to or from one of them
        are kept (memory: the background traffic is never held)."""
        self.roles = dict(roles)
        self.keep = None if addresses is None else frozenset(addresses)
        self.at = {role: frozenset(n for n, r in self.roles.items()
                                   if r == role) for role in ROLES}
        self._times: list[float] = []    # first sighting, ascending
        self._seen: list = []            # SeenDatagram, same order
        self._until: dict = {}           # MN -> (start, end of window)
        self._signalling: dict = {}      # address -> [first sightings of
                                         # FMIPv4 messages from or to it]
        self._told = False               # any Mobile IPv4 message seen
        self._values = {k: array("d") for k in DIRECTIONS}
        self._totals = {k: dict.fromkeys(TOTAL_KEYS, 0) for k in DIRECTIONS}

    def signalling(self, seen) -> None:
        """A Mobile IPv4 message of the merged stream (seen.datagram set),
        in order with observe(): not traffic, but one a handover may begin
        with tells where the next handover of its MN begins (D20)."""
        self._told = True
        begins = _may_begin(seen)
        if begins is not None:
            addresses, registration = begins
            entry = (seen.observations[0].time, registration)
            for address in addresses:
                insort(self._signalling.setdefault(address, []), entry)

    def observe(self, seen) -> None:
        """Every datagram that is not a Mobile IPv4 message, in order of
        first sighting (one that is goes to signalling())."""
        if seen.datagram is not None:
            self.signalling(seen)
            return
        keep = self.keep
        if keep is not None and seen.src not in keep and seen.dst not in keep:
            return
        self._times.append(seen.observations[0].time)
        self._seen.append(seen)

    def forget_before(self, t: float) -> None:
        i = bisect_left(self._times, t)
        if i:
            del self._times[:i]
            del self._seen[:i]
        for address, entries in list(self._signalling.items()):
            del entries[:bisect_left(entries, (t,))]
            if not entries:
                del self._signalling[address]

    def _next_start(self, addresses, end: float):
        """Where this handover's window ends (D20): at the first message to
        or from the MN after `end` that a handover may begin with; before a
        registration by what the move it registers took, but not before
        `end` plus BLIND_SETTLE_SECONDS."""
        found = []
        for address in addresses:
            entries = self._signalling.get(address, ())
            i = bisect_right(entries, (end, True))
            if i < len(entries):
                t, registration = entries[i]
                if registration:
                    t = max(t - BASELINE_LEAD_SECONDS,
                            min(t, end + BLIND_SETTLE_SECONDS))
                found.append(t)
        return min(found) if found else None

    def data(self, record) -> dict | None:
        """The `data` of one handover record, None when no traffic of its
        MN was seen in its window (D20)."""
        addresses = {a for a in (record.mn, record.pcoa, record.ncoa,
                                 getattr(record, "home_address", None)) if a}
        lo = record.start - (BASELINE_LEAD_SECONDS
                             if record.mode == "baseline" else LEAD_SECONDS)
        hi = record.end + (SETTLE_SECONDS if self._told
                           else BLIND_SETTLE_SECONDS)
        following = self._next_start(addresses, record.end)
        if following is not None and following < hi:
            hi = following
        # an earlier handover of the same MN keeps what its window held;
        # the lead still shows where the old path ended (the interruption)
        lead = lo
        before, until = self._until.get(record.mn, (None, lo))
        if before is not None and before < record.start:
            lo = max(lo, until)
        self._until[record.mn] = (record.start, hi)
        ways = self._ways(addresses, lo, hi)
        if not (ways[DOWN] or ways[UP]):
            return None
        context = self._ways(addresses, lead, lo) if lead < lo else None
        ncoa = record.ncoa if record.ncoa != record.pcoa else None
        out = PlaneData()
        out.marks = {}
        for k in DIRECTIONS:
            out[k], out.marks[k] = self._direction(
                k, ways[k], ncoa, context[k] if context else ())
        out["flows"] = len({_flow(d) for k in DIRECTIONS for d in ways[k]})
        self._add(out)
        return out

    def _ways(self, addresses, lo: float, hi: float) -> dict:
        """The MN's datagrams first seen in [lo, hi), per direction."""
        ways = {DOWN: {}, UP: {}}
        for d in self._seen[bisect_left(self._times, lo):
                            bisect_left(self._times, hi)]:
            way = ways[DOWN] if d.dst in addresses else \
                ways[UP] if d.src in addresses else None
            if way is not None:
                # one datagram handed on twice (a copy the destination got
                # again) is one datagram with both sightings
                key = (d.src, d.dst, d.proto, d.ident, d.seq)
                way[key] = _joined(way[key], d) if key in way else d
        return {k: list(v.values()) for k, v in ways.items()}

    def _direction(self, direction, datagrams, ncoa, context=()) -> tuple:
        """(the contract's DIR, the strip's marks); `context`: the lead of
        the window that an earlier one counts, read for the interruption
        only (D20)."""
        at = self.at
        fates = [_Fate(d, direction, at, ncoa) for d in datagrams]
        last_old, first_new = _interruption(fates, direction)
        if last_old is None and context:
            last_old, first_new = _old_path_before(
                [_Fate(d, direction, at, ncoa) for d in context], fates,
                direction, first_new)
        lost_last_seen: dict = {}
        for f in fates:
            if not f.deliveries:
                where = f.d.observations[-1].vantage
                lost_last_seen[where] = lost_last_seen.get(where, 0) + 1
        lost = sum(lost_last_seen.values())
        if not at["cn" if direction == DOWN else "mn"]:
            # no capture at the source (D20)
            lost += _gaps(fates, (last_old, first_new) if direction == UP
                          else None)
        reordered, duplicated = _order_counts(fates)
        buffered = _buffered(fates, at) if direction == DOWN else []
        return {
            "packets": len(fates),
            "interruption_ms": _ms(last_old, first_new),
            "last_old": _time(last_old), "first_new": _time(first_new),
            "lost": lost,
            "tunnelled": sum(1 for f in fates if f.tunnelled),
            "buffered": len(buffered),
            "reordered": reordered, "duplicated": duplicated,
            "lost_last_seen": dict(sorted(lost_last_seen.items())),
        }, _marks(fates, buffered)

    def _add(self, data: dict) -> None:
        for k in DIRECTIONS:
            value = data[k]["interruption_ms"]
            if value is not None:
                self._values[k].append(value)
            for key in TOTAL_KEYS:
                self._totals[k][key] += data[k][key]

    def summary(self) -> dict:
        """The summary's `data`: per direction the interruptions of every
        handover given out by data(), and the totals."""
        out = {}
        for k in DIRECTIONS:
            ordered = sorted(self._values[k])
            out[k] = {"interruption_ms": {
                "count": len(ordered),
                "min": ordered[0] if ordered else None,
                "p50": percentile(ordered, 50),
                "p95": percentile(ordered, 95),
                "max": ordered[-1] if ordered else None},
                **self._totals[k]}
        return out
