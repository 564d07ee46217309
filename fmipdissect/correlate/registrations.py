"""Decision D25: moves without a fast handover, from Mobile IPv4 registrations.

An MN that moves without FMIPv4 attaches to the new link and registers its
new care-of address with its home agent: a Registration Request (RFC 5944
3.3) answered by a Registration Reply (3.4), UDP port 434; in the scenes
of `gen --vantage` and the lab, PAR stands in as the home agent of the
PCoA.  In merge mode (`handovers --merge`) such a registration is a
handover of mode "baseline" when it moves the MN:

- the MN's care-of address is known per Home Address: its home address
  itself until it registers (it is at home), the care-of address of its
  last accepted registration, or where its last FMIPv4 handover took it
  (its NCoA, else NAR's address: the FBU binds the PCoA there, RFC 4988
  4.1);
- a Request whose Care-of Address differs from that one is a move; a
  Request with the same one renews the binding; a deregistration (Lifetime
  zero, RFC 5944 3.3, or the home address as Care-of Address) brings the MN
  home and is no move;
- a Request while an FMIPv4 handover of the same PCoA is under way (from
  its first message to its FBAck) is that handover's registration with
  its home agent (RFC 4988 4.1 takes the registration off the critical
  path, it does not remove it), and so is a Request from the NCoA of an
  FMIPv4 handover within the fast binding's longest Lifetime (10 s, RFC
  4988 5.1) of its last message, whatever its Home Address (with a
  co-located care-of address the FBU's Home Address is the PCoA, not the
  MN's home address, RFC 4988 5.1); an FMIPv4 handover that opens while a
  move awaits its Reply takes it over: none makes a record of its own.

The Reply with the Request's Identification (RFC 5944 3.4) decides the
move; one that never comes leaves it incomplete after the checker's expiry
time (D13).  Registrations hands out Move objects; the handover builder
(handovers/merged.py) turns them into records.
"""

from __future__ import annotations

from collections import OrderedDict
from itertools import count

from ..spec import constraints as K
from ..spec import protocol as P
from ..spec.numbers import IPPROTO_UDP
from ..wire.ipv4 import inet_ntoa

REQUEST, REPLY = P.REGISTRATION_REQUEST, P.REGISTRATION_REPLY
_LAYOUTS = {kind: (spec, max(f.offset + f.size for f in spec.fields))
            for kind, spec in P.REGISTRATION_LAYOUTS.items()}


def registration(dgram) -> dict | None:
    """The fields of a Registration Request or Reply on port 434 (by the
    layouts of P.REGISTRATION_LAYOUTS: type, flags or code, lifetime,
    homeaddr, haaddr, coa (Request), ident), None for any other datagram."""
    if dgram.proto != IPPROTO_UDP or P.MIP_UDP_PORT not in (dgram.sport,
                                                              dgram.dport):
        return None
    payload = dgram.payload
    layout = _LAYOUTS.get(payload[0]) if payload else None
    if layout is None or len(payload) < layout[1]:
        return None
    out = {}
    for field in layout[0].fields:
        octets = payload[field.offset:field.offset + field.size]
        out[field.name] = (inet_ntoa(octets) if field.kind == "ipv4"
                           else int.from_bytes(octets, "big"))
    return out


def _remember(table: OrderedDict, key, value) -> None:
    table[key] = value
    table.move_to_end(key)
    if len(table) > K.MAX_ENTRIES:
        table.popitem(last=False)


class Move:
    """One registration that moved an MN: its Request(s) and Reply, as the
    merged stream's SeenDatagrams."""

    __slots__ = ("seq", "frame", "home", "coa", "agent", "sender",
                 "requests", "reply", "code", "start", "over", "dropped")

    def __init__(self, seq, seen, fields):
        self.seq = seq
        self.frame = seen.datagram.frame      # the merged stream's number
        self.home, self.coa = fields["homeaddr"], fields["coa"]
        self.agent = fields["haaddr"]
        self.sender = seen.src                # the Request's IP source
        self.requests = [seen]
        self.reply = self.code = None
        self.start = seen.first.time
        self.over = self.dropped = False

    @property
    def foreign_agent(self) -> bool:
        """The care-of address is a foreign agent's (NAR's: the MN sent the
        Request from another address), not co-located (the MN's own, sent
        from it; RFC 5944 1.6)."""
        return self.sender != self.coa


class Registrations:
    """Feed it every FMIPv4-path SeenDatagram (seen()) and the FMIPv4
    handovers' opening and closing; opened(move) and closed(move) are
    called as moves begin and end (closed with move.dropped when an FMIPv4
    handover took it over)."""

    def __init__(self, opened, closed):
        self.opened, self.closed = opened, closed
        # (the tables keep the K.MAX_ENTRIES last used, as the correlator's)
        self.coa: OrderedDict = OrderedDict()  # home address -> its CoA
        self.fmip: dict = {}          # PCoA -> open FMIPv4 handovers
        self.moves: dict = {}         # home address -> Move awaiting a Reply
        self.landing: OrderedDict = OrderedDict()  # an FMIPv4 NCoA -> until
        self.asked: OrderedDict = OrderedDict()  # (home, ident) -> (coa, Move)
        self._seq = count(-1, -1)     # (the correlator's are positive)

    def seen(self, seen) -> None:
        fields = registration(seen.datagram)
        if self.moves:
            now = seen.first.time
            for move in [m for m in self.moves.values()
                         if now - m.start > K.EXPIRY_SECONDS]:
                self._close(move)          # no Reply: incomplete
        if fields is None:
            return
        if fields["type"] == REQUEST:
            self._request(seen, fields)
        else:
            self._reply(seen, fields)

    def _request(self, seen, fields) -> None:
        home, coa = fields["homeaddr"], fields["coa"]
        pending = self.moves.get(home)
        home_again = fields["lifetime"] == 0 or coa == home
        if pending is not None and pending.coa == coa and not home_again:
            pending.requests.append(seen)     # sent again
            self._ask(home, fields["ident"], coa, pending)
            return
        if pending is not None:
            self._close(pending)              # a new Request: no Reply
        move = None
        if not home_again and coa != self.coa.get(home, home) and \
                not self.fmip.get(home) and not self._landed(coa, seen):
            move = self.moves[home] = Move(next(self._seq), seen, fields)
            self.opened(move)
        self._ask(home, fields["ident"], None if home_again else coa, move)

    def _landed(self, coa, seen) -> bool:
        """The care-of address is where an FMIPv4 handover took its MN,
        within that fast binding's longest Lifetime."""
        now = seen.first.time
        for address in [a for a, until in self.landing.items()
                        if until < now]:
            del self.landing[address]
        return coa in self.landing

    def _ask(self, home, ident, coa, move) -> None:
        _remember(self.asked, (home, ident), (coa, move))

    def _reply(self, seen, fields) -> None:
        home = fields["homeaddr"]
        entry = self.asked.pop((home, fields["ident"]), None)
        if entry is None:
            return
        coa, move = entry
        if fields["code"] in P.REGISTRATION_ACCEPTED:
            _remember(self.coa, home, coa if coa is not None else home)
        if move is not None and self.moves.get(home) is move:
            move.reply, move.code = seen, fields["code"]
            self._close(move)

    def _close(self, move, dropped: bool = False) -> None:
        del self.moves[move.home]
        move.over, move.dropped = True, dropped
        self.closed(move)

    # --- the FMIPv4 handovers of the same MN --------------------------------

    def fmip_opened(self, pcoa) -> None:
        if pcoa is None:
            return
        self.fmip[pcoa] = self.fmip.get(pcoa, 0) + 1
        move = self.moves.get(pcoa)
        if move is not None:
            self._close(move, dropped=True)

    def fmip_ncoa(self, ncoa, time) -> None:
        """An FMIPv4 handover names the NCoA it takes its MN to; its last
        message so far is at `time`."""
        _remember(self.landing, ncoa, time + P.LIFETIME_MAX)

    def fmip_closed(self, pcoa, there) -> None:
        """The FMIPv4 handover of pcoa is decided (its FBAck) or over; it
        took the MN to `there`: its NCoA, else NAR's address (None: not
        known)."""
        if pcoa is None:
            return
        left = self.fmip.get(pcoa, 1) - 1
        if left:
            self.fmip[pcoa] = left
        else:
            self.fmip.pop(pcoa, None)
        if there is not None and there != pcoa:
            _remember(self.coa, pcoa, there)

    def finish(self) -> None:
        """At the end of the captures: moves without a Reply are over."""
        for move in list(self.moves.values()):
            self._close(move)
