"""fmip-lint's cross-packet rules, as callbacks on the correlator's events.

The correlator (fmipdissect/correlate/) pairs requests and replies, keeps
the MN's FBUs and addresses and bounds all state; this module only turns
what it reports into findings:

  orphan / mismatch    decision D11, for the three pairs
  unanswered           on the request's own frame
  matched FBAck        destination, port and Lifetime (decision D8)
  matched HAck         the NCoA an HI with S set asks for
  FBU                  role (D7), forwarded copy unchanged, Identification
                       reuse
  HI                   Code against how the FBU reached PAR
  HI / HAck            IPsec ESP recommended, once per router pair
  FBU, new addresses   Care-of Address is NAR's IP address
  capped               the state cap, once per capture

Each finding goes to out(rule, text, at, handover): `at` is what it is
reported on (the message's datagram, or the request a finding is about),
with its frame and time.
"""

from __future__ import annotations

from ..correlate import Correlator, Subscriber
from ..correlate.state import FORWARDED, REACTIVE, addr_option
from ..spec import constraints as K
from ..spec import protocol as P
from ..spec import rules as R
from ..spec.rules import say

_FBU_PAIR = K.PAIR_OF["fbu"]
_HI_PAIR = K.PAIR_OF["hi"]
_HACK_NO_NCOA_CODES = K.HACK_CODES_WITHOUT_NCOA
_HACK_NCOA = K.HACK_NCOA_WHEN_HI_S
_REFUSED = P.FBACK_CODE_REFUSED_MIN


def some_of(items, shown: int = K.SHOWN_IN_MESSAGE) -> str:
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


def _ident(value) -> str:
    return f"{value:#018x}"


class SessionRules(Subscriber):
    """The cross-packet rules; `at` is the datagram being checked (set by
    the engine before each message: a cap reports at it)."""

    message_keys = frozenset(("fbu", "hi", "hack"))   # the ones with rules

    def __init__(self, out):
        self.out = out
        self.at = None
        self.message_handlers = {"fbu": self._fbu, "hi": self._hi,
                                 "hack": self._hack}
        # a matched FBAck and HAck have rules; a matched PrRtAdv none
        self.matched_handlers = {"fbu": self._fback, "hi": self._hack_ncoa}

    # --- events ----------------------------------------------------------

    def message(self, obs) -> None:
        self.message_handlers[obs.msg.key](obs)

    def orphan(self, pair, obs) -> None:
        msg, dgram = obs.msg, obs.dgram
        rule = pair.orphan_rule
        self.out(rule, say(rule, **_reply_values(msg, dgram)), dgram,
                 obs.handover)

    def mismatch(self, pair, obs, request) -> None:
        msg, dgram = obs.msg, obs.dgram
        rule = pair.mismatch_rule
        values = _reply_values(msg, dgram)
        values.update(request_frame=request.frame,
                      request_ident=_request_ident(pair, request),
                      request_src=request.src,
                      request_dst=getattr(request, "dst", ""))
        self.out(rule, say(rule, **values), dgram, obs.handover)

    def unanswered(self, pair, request, when) -> None:
        rule = pair.unanswered_rule
        values = {"frame": request.frame, "src": request.src,
                  "when": when, "identifier": getattr(request, "identifier",
                                                      None)}
        if pair is _FBU_PAIR:
            values.update(homeaddr=request.homeaddr,
                          ident=_ident(request.ident))
        elif pair is _HI_PAIR:
            values["dst"] = request.dst
        self.out(rule, say(rule, **values), request, request.handover)

    def matched(self, pair, requests, obs) -> None:
        """(what matched_handlers calls, for a caller of the event)"""
        handler = self.matched_handlers.get(pair.request)
        if handler is not None:
            handler(pair, requests, obs)

    def address(self, node, kind, addr) -> None:
        self._coa_against_nar(node, node.fbus, self.at, node.current)

    def capped(self, what) -> None:
        self.out(R.SESSION_STATE_CAPPED,
                 say(R.SESSION_STATE_CAPPED, what=what), self.at, None)

    # --- rules on one message --------------------------------------------

    def _fbu(self, obs) -> None:
        msg, dgram, node, role = obs.msg, obs.dgram, obs.node, obs.role
        ho = obs.handover
        if role is None:
            self.out(R.FBU_ROLE_UNKNOWN, say(
                R.FBU_ROLE_UNKNOWN, src=dgram.src, dst=dgram.dst,
                homeaddr=msg.homeaddr, haaddr=msg.haaddr, coa=msg.coa),
                dgram, ho)
        if role == FORWARDED:
            self._forwarded(obs)
        elif role is not None:
            for f in node.fbus:
                if (f.ident == msg.ident and f.role != FORWARDED
                        and f.raw != msg.raw):
                    self.out(R.FBU_IDENTIFICATION_REUSED, say(
                        R.FBU_IDENTIFICATION_REUSED,
                        ident=_ident(msg.ident), frame=f.frame), dgram, ho)
                    break
        self._coa_against_nar(node, (obs.request,), dgram, ho)

    def _forwarded(self, obs) -> None:
        """RFC 4988 4, decision D7: NAR forwards the MN's FBU unchanged from
        Type on.  The original is the MN's FBU to this NAR: an identical one
        anywhere in the MN's FBUs, else the newest one."""
        msg, dgram = obs.msg, obs.dgram
        original = None
        for f in reversed(obs.node.fbus):
            if f.role == REACTIVE and f.dst == dgram.src:
                if f.raw == msg.raw:
                    return
                if original is None:
                    original = f
        if original is not None:
            at = first_difference(original.raw, msg.raw)
            self.out(R.FORWARDED_FBU_DIFFERS, say(
                R.FORWARDED_FBU_DIFFERS, src=dgram.src, frame=original.frame,
                offset=at), dgram, obs.handover)

    def _ipsec(self, obs, abbrev) -> None:
        """RFC 4988 7: IPsec ESP recommended, once per router pair (the
        callers test first_of_pair: most HI/HAck are not the first)."""
        dgram = obs.dgram
        rule = K.IPSEC_RECOMMENDED[obs.msg.key]
        self.out(rule, say(rule, abbrev=abbrev, src=dgram.src,
                           dst=dgram.dst), dgram, obs.handover)

    def _hack(self, obs) -> None:
        if obs.first_of_pair:
            self._ipsec(obs, "HAck")

    def _hi(self, obs) -> None:
        if obs.first_of_pair:
            self._ipsec(obs, "HI")
        msg, dgram, node = obs.msg, obs.dgram, obs.node
        if node is None or msg.code not in (P.HI_CODE_PREDICTIVE,
                                            P.HI_CODE_REACTIVE):
            return
        # RFC 4988 4, 5.5: Code 0 for an FBU from the PCoA, 1 for one from
        # NAR.  The cause is the newest FBU PAR (the HI's source) received,
        # while it is unanswered (an answered one caused an earlier HI).
        for f in reversed(node.fbus):
            if f.dst == dgram.src:
                if f.answered:       # answered: this HI is for a later FBU
                    break
                expected = (P.HI_CODE_PREDICTIVE if f.src == f.homeaddr
                            else P.HI_CODE_REACTIVE)
                if msg.code != expected:
                    sender = ("the PCoA" if expected == P.HI_CODE_PREDICTIVE
                              else "NAR")
                    self.out(R.HI_CODE_MISMATCH, say(
                        R.HI_CODE_MISMATCH, code=msg.code, frame=f.frame,
                        src=dgram.src, sender=sender, sender_addr=f.src,
                        expected=expected), dgram, obs.handover)
                break

    # --- rules on a matched reply ----------------------------------------

    def _fback(self, pair, matched, obs) -> None:
        msg, dgram, node, ho = obs.msg, obs.dgram, obs.node, obs.handover
        # decision D8: to the FBU's source, or the PAR->NAR / NAR->MN copies
        dst = dgram.dst
        for f in matched:
            if dst == f.src or dst == f.coa:
                break
        else:
            if (dst != msg.homeaddr and dst not in node.ncoas
                    and dst not in node.nar_ips and dst not in node.hi_peers):
                self.out(R.FBACK_WRONG_DESTINATION, say(
                    R.FBACK_WRONG_DESTINATION, dst=dst,
                    frame=matched[-1].frame, src=matched[-1].src), dgram, ho)
        # the newest FBU sent from the FBAck's destination, and whether one
        # of those came from its destination port (plain loops: every FBAck)
        request, port_seen, dport = None, False, dgram.dport
        for f in matched:
            if f.src == dst:
                request = f
                if f.sport == dport:
                    port_seen = True
        if request is not None and not port_seen:
            self.out(R.FBACK_WRONG_PORT, say(
                R.FBACK_WRONG_PORT, dport=dport, sport=request.sport,
                frame=request.frame), dgram, ho)
        if request is None:
            request = matched[-1]
        if msg.haaddr != request.haaddr:       # RFC 4988 5.2: the PAR
            self.out(R.FBACK_HOME_AGENT_NOT_PAR, say(
                R.FBACK_HOME_AGENT_NOT_PAR, haaddr=msg.haaddr,
                par=request.haaddr, frame=request.frame), dgram, ho)
        if msg.code >= _REFUSED:
            return   # RFC 3344 3.4: a denial's Lifetime is ignored; no NCoA
        self._fback_ncoa(node, obs)
        if msg.lifetime is not None and msg.lifetime > request.lifetime:
            self.out(R.FBACK_LIFETIME_EXCEEDS_REQUEST, say(
                R.FBACK_LIFETIME_EXCEEDS_REQUEST, lifetime=msg.lifetime,
                requested=request.lifetime, frame=request.frame), dgram, ho)

    def _fback_ncoa(self, node, obs) -> None:
        """RFC 4988 4, 5.2: the PAR includes the NCoA the HAck supplied."""
        if node.hack_ncoa is None:
            return
        msg = obs.msg
        ncoa, hack_frame = node.hack_ncoa
        fback_ncoa = addr_option(msg, P.ADDR_NCOA)
        if fback_ncoa is None:
            if msg.code != P.FBACK_CODE_NCOA_SUPPLIED:   # (the option rule)
                self.out(R.FBACK_NCOA_DROPPED, say(
                    R.FBACK_NCOA_DROPPED, code=msg.code, ncoa=ncoa,
                    hack_frame=hack_frame), obs.dgram, obs.handover)
        elif fback_ncoa != ncoa:
            self.out(R.FBACK_NCOA_DIFFERS, say(
                R.FBACK_NCOA_DIFFERS, fback_ncoa=fback_ncoa, ncoa=ncoa,
                hack_frame=hack_frame), obs.dgram, obs.handover)

    def _hack_ncoa(self, pair, requests, obs) -> None:
        """The matched HI's S flag asks NAR for an NCoA in the HAck."""
        hi, msg = requests[0], obs.msg
        if not hi.s or msg.code in _HACK_NO_NCOA_CODES:
            return
        if addr_option(msg, P.ADDR_NCOA) is None:
            rule = _HACK_NCOA.rule
            self.out(rule, say(rule, code=msg.code, request_frame=hi.frame,
                               label=_HACK_NCOA.label), obs.dgram,
                     obs.handover)

    # --- Care-of Address against NAR's addresses -------------------------

    def _coa_against_nar(self, node, fbus, at, ho) -> None:
        """RFC 4988 5.1, 7: the CoA field is NAR's IP, not an NCoA."""
        for f in fbus:
            if f.coa_reported or f.role == FORWARDED:
                continue
            where = node.ncoas.get(f.coa)
            if where is not None:
                f.coa_reported = True
                self.out(R.FBU_COA_NOT_NAR, say(
                    R.FBU_COA_NOT_NAR, frame=f.frame, coa=f.coa, reason=(
                        f"the NCoA supplied by {where}, not NAR's IP "
                        f"address")), at, ho)
            elif (node.nar_ips and f.coa not in node.nar_ips
                  and not node.addresses_capped):
                f.coa_reported = True
                self.out(R.FBU_COA_NOT_NAR, say(
                    R.FBU_COA_NOT_NAR, frame=f.frame, coa=f.coa, reason=(
                        f"not the NAR IP address PrRtAdv advertised "
                        f"({some_of(node.nar_ips)})")), at, ho)


def _reply_values(msg, dgram) -> dict:
    """What the pair rules' words name of a reply."""
    values = {"src": dgram.src, "dst": dgram.dst, "code": msg.code,
              "identifier": msg.identifier, "homeaddr": msg.homeaddr}
    if msg.ident is not None:
        values["ident"] = _ident(msg.ident)
    return values


def _request_ident(pair, request):
    return _ident(request.ident) if pair is _FBU_PAIR else request.identifier


class Session:
    """The correlator with these rules, fed one message at a time (the fuzz
    harness, the stage benchmark, tests): observe() and finish() return the
    [(rule, text)] they revealed; `frames` the frame each was reported on."""

    def __init__(self):
        self._found: list = []
        self.frames: list = []
        self.rules = SessionRules(self._out)
        self.correlator = Correlator((self.rules,))

    def _out(self, rule, text, at, handover) -> None:
        self._found.append((rule, text))
        self.frames.append(at.frame)

    def observe(self, msg, dgram) -> list:
        self._found = []
        self.rules.at = dgram
        self.correlator.observe(msg, dgram)
        return self._found

    def finish(self) -> list:
        self._found = []
        self.correlator.finish()
        return self._found
