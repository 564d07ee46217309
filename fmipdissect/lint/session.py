"""Cross-packet rules: matching requests and replies, FBU roles.

Matching keys and the rules for unmatched messages come from the rulebook
(spec/constraints.py, PAIRS; decisions D9 and D11): a reply whose
identifier matches no request while a request of its pair's scope (same
Home Address; same two routers; same MN) is held is an identifier mismatch
(an error naming that request's frame and identifier); with none held it
is an observation.

The session holds only what matching needs (decision D9):

  handovers   keyed by the MN's PCoA (FBU Home Address = HI's PCoA option):
              the FBUs seen (at most FBUS_PER_HANDOVER, newest kept), the
              NAR addresses PrRtAdv advertised and the NCoAs PrRtAdv, HAck
              and FBAck supplied;
  his         HI by (PAR, NAR, Identifier), waiting for its HAck;
  rtsolprs    RtSolPr by (MN address, Identifier), waiting for PrRtAdv;
  hi_scopes, rtsolpr_scopes  the newest held HI of each router pair and
              RtSolPr of each MN, for decision D11;
  router_pairs  pairs already reported (IPsec ESP missing, once per pair
              while they keep exchanging HI/HAck; forgotten after the expiry).

Memory stays flat on captures of any size:

  * Expiry: an entry is forgotten EXPIRY_SECONDS (60 s) of capture time
    after the last message that touched it.  Handover signalling is over
    within a few FBU Lifetimes (at most 10 s each, RFC 4988 5.1); entries
    are not dropped at the first FBAck because the FBAck copies PAR->NAR and
    NAR->MN (decision D8) and the FBU re-sent from the new link (RFC 4988 4,
    Figure 1) still need them.  A request expiring unanswered is reported
    then (the pair's unanswered rule) at the frame whose time revealed it.
  * Time going backwards (merged captures, a corrupt timestamp ahead): a
    jump back of more than EXPIRY_SECONDS sweeps at once, and an entry last
    touched more than EXPIRY_SECONDS ahead of the current time is re-dated
    to it, so it expires EXPIRY_SECONDS later and does not hold back the
    expiry of the others (tests/test_fuzz_pathological.py).
  * Hard cap: each table holds at most MAX_ENTRIES entries, checked on every
    path that inserts; beyond that the least recently active entry is
    dropped the same way (its unanswered request reported "before it was
    dropped").  The scope tables hold only keys of held HIs and RtSolPrs,
    so they are no larger.  Per handover, at most FBUS_PER_HANDOVER FBUs
    and NARs and ADDRESSES_PER_HANDOVER NAR addresses and NCoAs are kept,
    and a finding names at most SHOWN_IN_MESSAGE addresses ("a, b, c and N
    more").  The first time a cap drops or refuses state, one info
    (R.SESSION_STATE_CAPPED) says so: matching may be incomplete from there
    on (hostile captures, bench/stress_session.py).

Each table is an OrderedDict in order of last activity, so expiry and the
cap pop from its front: O(1) amortised per message.  At the end of the
capture finish() reports the requests still unanswered.
"""

from __future__ import annotations

from collections import OrderedDict

from ..spec import constraints as K
from ..spec import protocol as P
from ..spec import rules as R
from ..spec.rules import say
# Records and table helpers live in state.py; the names the handover
# tracker and the tests use are importable from here too.
from .state import (FORWARDED, PREDICTIVE, REACTIVE, SHOWN_IN_MESSAGE,
                    FbuSeen, Handover, HiSeen, PairSeen, RtSolPrSeen,
                    addr_option as _addr_option, classify_fbu,
                    first_difference as _first_difference,
                    is_group, pop_expired, some_of as _some)

EXPIRY_SECONDS = 60.0
MAX_ENTRIES = 65536
FBUS_PER_HANDOVER = 8
ADDRESSES_PER_HANDOVER = 16   # NAR addresses, NCoAs kept per handover
SWEEP_INTERVAL = 1.0          # capture seconds between expiry sweeps
_CLOCK_BACK = SWEEP_INTERVAL + EXPIRY_SECONDS   # a jump back that re-dates


# HAck codes exempt from the NCoA requirement (the rulebook says why).
_HACK_NO_NCOA_CODES = K.HACK_CODES_WITHOUT_NCOA
_HI_S = next(f.mask for f in P.HI_FLAGS if f.name == "s")
_NAR_IP, _NCOA = P.ADDR_NAR_IP, P.ADDR_NCOA


def _key_function(parts):
    """(msg, dgram) -> the matching key of decision D9, as one tuple.

    parts come from the rulebook (constraints.PAIRS): "src" and "dst" are
    the datagram's addresses, other names the message's fields.  Compiled to
    one expression: the session builds a key for every ICMP message."""
    items = ", ".join(f"dgram.{p}" if p in ("src", "dst") else f"msg.{p}"
                      for p in parts)
    return eval(f"lambda msg, dgram: ({items},)")   # noqa: S307 - from constraints


_FBU_PAIR = K.PAIR_OF["fbu"]
_HI_PAIR = K.PAIR_OF["hi"]
_RTSOLPR_PAIR = K.PAIR_OF["rtsolpr"]
_HI_KEY = _key_function(_HI_PAIR.request_key)
_HACK_KEY = _key_function(_HI_PAIR.response_key)
_RTSOLPR_KEY = _key_function(_RTSOLPR_PAIR.request_key)
_PRRTADV_KEY = _key_function(_RTSOLPR_PAIR.response_key)


class Session:
    """Cross-packet state of one capture; observe() each message in order."""

    def __init__(self):
        self.handovers: OrderedDict[str, Handover] = OrderedDict()
        self.his: OrderedDict[tuple, HiSeen] = OrderedDict()
        self.rtsolprs: OrderedDict[tuple, RtSolPrSeen] = OrderedDict()
        # decision D11: the newest HI key of each router pair (PAR, NAR)
        # and RtSolPr key of each MN, while that entry is held.
        self.hi_scopes: dict[tuple, tuple] = {}
        self.rtsolpr_scopes: dict[tuple, tuple] = {}
        self.router_pairs: OrderedDict[tuple, PairSeen] = OrderedDict()
        self.cap_reported = False     # SESSION_STATE_CAPPED: once a capture
        self._next_sweep = None
        self._handlers = {"fbu": self._fbu, "fback": self._fback,
                          "rtsolpr": self._rtsolpr, "prrtadv": self._prrtadv,
                          "hi": self._hi, "hack": self._hack}

    # --- entry points --------------------------------------------------

    def observe(self, msg, dgram):
        """[(rule_id, text), ...] revealed by this message (at its frame).

        A list, not a generator, for speed (see checks.check_message)."""
        out = []
        now = dgram.time
        if self._next_sweep is None:
            self._next_sweep = now + SWEEP_INTERVAL
        elif now >= self._next_sweep or now < self._next_sweep - _CLOCK_BACK:
            # Second test: the clock went back (a corrupt timestamp ahead,
            # then normal ones); without it no sweep would come until
            # capture time caught up again (found by tests/test_fuzz_*).
            self._next_sweep = now + SWEEP_INTERVAL
            self._expire(now - EXPIRY_SECONDS, out)
        if msg.problems and msg.problems[0].rule == R.TRUNCATED_MESSAGE:
            return out   # fixed header cut: nothing reliable to match on
        self._handlers[msg.key](msg, dgram, now, out)
        return out

    def finish(self):
        """[(rule_id, text), ...] for requests unanswered at the end."""
        out = []
        for ho in self.handovers.values():
            self._unacked(ho, R.AT_CAPTURE_END, out)
        for key, hi in self.his.items():
            if not hi.answered:
                out.append((_HI_PAIR.unanswered_rule,
                            self._hi_text(key, hi, R.AT_CAPTURE_END)))
        for key, rt in self.rtsolprs.items():
            if not rt.answered:
                out.append((_RTSOLPR_PAIR.unanswered_rule,
                            self._rt_text(key, rt, R.AT_CAPTURE_END)))
        self.handovers.clear()
        self.his.clear()
        self.rtsolprs.clear()
        self.hi_scopes.clear()
        self.rtsolpr_scopes.clear()
        return out

    # --- bookkeeping ---------------------------------------------------

    def _expire(self, horizon, out):
        after = f"within {EXPIRY_SECONDS:g} s"
        # An entry last touched more than EXPIRY_SECONDS after now was
        # touched before the clock went back: re-dated to now (moved to the
        # end) so that it expires EXPIRY_SECONDS from here, and so does not
        # hold back the expiry of the entries after it.
        now = horizon + EXPIRY_SECONDS
        future = now + EXPIRY_SECONDS
        for _, ho in pop_expired(self.handovers, horizon, now, future):
            self._unacked(ho, after, out)
        for key, hi in pop_expired(self.his, horizon, now, future):
            self._dropped_hi(key, hi, after, out)
        for key, rt in pop_expired(self.rtsolprs, horizon, now, future):
            self._dropped_rtsolpr(key, rt, after, out)
        for _ in pop_expired(self.router_pairs, horizon, now, future):
            pass

    def _capped(self, what, out):
        """The first state a cap drops or refuses: one info per capture."""
        if not self.cap_reported:
            self.cap_reported = True
            out.append((R.SESSION_STATE_CAPPED, (
                f"state cap reached ({what}): older state is dropped from "
                f"here on, so matching may be incomplete")))

    def _cap_handovers(self, out):
        if len(self.handovers) > MAX_ENTRIES:
            _, ho = self.handovers.popitem(last=False)
            self._unacked(ho, "before it was dropped (state cap)", out)
            self._capped(f"{MAX_ENTRIES} handovers", out)

    def _cap_his(self, out):
        if len(self.his) > MAX_ENTRIES:
            key, hi = self.his.popitem(last=False)
            self._dropped_hi(key, hi, "before it was dropped (state cap)", out)
            self._capped(f"{MAX_ENTRIES} HIs", out)

    def _cap_rtsolprs(self, out):
        if len(self.rtsolprs) > MAX_ENTRIES:
            key, rt = self.rtsolprs.popitem(last=False)
            self._dropped_rtsolpr(key, rt, "before it was dropped (state cap)",
                                  out)
            self._capped(f"{MAX_ENTRIES} RtSolPrs", out)

    def _add_address(self, ho, table, addr, value, out):
        """Remember an address of the handover, up to ADDRESSES_PER_HANDOVER;
        True when it was new and kept."""
        if addr in table:
            return False
        if len(table) >= ADDRESSES_PER_HANDOVER:
            ho.addresses_capped = True
            self._capped(f"{ADDRESSES_PER_HANDOVER} addresses of the "
                         f"handover of {ho.pcoa}", out)
            return False
        table[addr] = value
        return True

    def _dropped_hi(self, key, hi, when, out):
        """An HI entry leaves the table (expiry or cap)."""
        if self.hi_scopes.get(key[:-1]) == key:
            del self.hi_scopes[key[:-1]]
        if not hi.answered:
            out.append((_HI_PAIR.unanswered_rule, self._hi_text(key, hi, when)))

    def _dropped_rtsolpr(self, key, rt, when, out):
        """An RtSolPr entry leaves the table (expiry or cap)."""
        if self.rtsolpr_scopes.get(key[:-1]) == key:
            del self.rtsolpr_scopes[key[:-1]]
        if not rt.answered:
            out.append((_RTSOLPR_PAIR.unanswered_rule,
                        self._rt_text(key, rt, when)))

    def _handover(self, pcoa, now, out, create=True):
        ho = self.handovers.get(pcoa)
        if ho is None:
            if not create:
                return None
            ho = self.handovers[pcoa] = Handover(pcoa, now)
            self._cap_handovers(out)
        else:
            self.handovers.move_to_end(pcoa)
            ho.last = now
        return ho

    @staticmethod
    def _unacked(ho, when, out):
        # An FBU re-sent with an acknowledged Identification (RFC 4988 4,
        # Figure 1: again from the new link) is answered already.
        reported = {f.ident for f in ho.fbus if f.acked}
        for f in ho.fbus:
            if f.ident not in reported:
                reported.add(f.ident)
                rule = _FBU_PAIR.unanswered_rule
                out.append((rule, say(rule, frame=f.frame, homeaddr=f.homeaddr,
                                      ident=f"{f.ident:#018x}", when=when)))

    @staticmethod
    def _hi_text(key, hi, when):
        return say(_HI_PAIR.unanswered_rule, frame=hi.frame, src=key[0],
                   dst=key[1], identifier=key[2], when=when)

    @staticmethod
    def _rt_text(key, rt, when):
        return say(_RTSOLPR_PAIR.unanswered_rule, frame=rt.frame, src=key[0],
                   identifier=key[1], when=when)

    def _router_pair(self, src, dst, abbrev, now, out):
        pair = (src, dst) if src < dst else (dst, src)
        seen = self.router_pairs.get(pair)
        if seen is not None:
            seen.last = now
            self.router_pairs.move_to_end(pair)
            return
        self.router_pairs[pair] = PairSeen(now)
        rule = K.IPSEC_RECOMMENDED[abbrev.lower()]
        out.append((rule, say(rule, abbrev=abbrev, src=src, dst=dst)))
        if len(self.router_pairs) > MAX_ENTRIES:
            self.router_pairs.popitem(last=False)
            self._capped(f"{MAX_ENTRIES} router pairs", out)

    @staticmethod
    def _coa_against_nar(ho, fbus, out):
        """RFC 4988 5.1, 7: the CoA field is NAR's IP, not an NCoA."""
        for f in fbus:
            if f.coa_reported or f.role == FORWARDED:
                continue
            where = ho.ncoas.get(f.coa)
            if where is not None:
                f.coa_reported = True
                out.append((R.FBU_COA_NOT_NAR, (f"FBU of frame {f.frame} has Care-of Address "
                                f"{f.coa}, the NCoA supplied by {where}, not "
                                f"NAR's IP address")))
            elif (ho.nar_ips and f.coa not in ho.nar_ips
                  and not ho.addresses_capped):
                f.coa_reported = True
                known = _some(ho.nar_ips)
                out.append((R.FBU_COA_NOT_NAR, (f"FBU of frame {f.frame} has Care-of Address "
                                f"{f.coa}, not the NAR IP address PrRtAdv "
                                f"advertised ({known})")))

    # --- messages ------------------------------------------------------

    def _fbu(self, msg, dgram, now, out):
        role = classify_fbu(dgram.src, dgram.dst, msg)
        if role is None:
            out.append((R.FBU_ROLE_UNKNOWN, (f"FBU from {dgram.src} to {dgram.dst} is neither "
                            f"predictive (from Home Address {msg.homeaddr} to "
                            f"Home Agent {msg.haaddr}), reactive (to Care-of "
                            f"Address {msg.coa}) nor forwarded (from {msg.coa}"
                            f" to {msg.haaddr}) (decision D7)")))
        ho = self._handover(msg.homeaddr, now, out)
        seen = FbuSeen(dgram.frame, dgram, msg, role)
        if role == FORWARDED:
            # RFC 4988 4: NAR forwards the MN's FBU unchanged from Type on.
            # The original is the MN's FBU to this NAR: an identical one
            # anywhere in the handover, else the newest one.
            original = None
            for f in reversed(ho.fbus):
                if f.role == REACTIVE and f.dst == dgram.src:
                    if f.raw == msg.raw:
                        original = None
                        break
                    if original is None:
                        original = f
            if original is not None:
                at = _first_difference(original.raw, msg.raw)
                out.append((R.FORWARDED_FBU_DIFFERS, (f"FBU forwarded by {dgram.src} differs from "
                                f"the MN's FBU of frame {original.frame} "
                                f"from offset {at} on")))
        elif role is not None:
            for f in ho.fbus:
                if (f.ident == msg.ident and f.role != FORWARDED
                        and f.raw != msg.raw):
                    out.append((R.FBU_IDENTIFICATION_REUSED, (f"Identification {msg.ident:#018x} was "
                                    f"already used by the different FBU of "
                                    f"frame {f.frame}")))
                    break
        fbus = ho.fbus
        fbus.append(seen)
        if len(fbus) > FBUS_PER_HANDOVER:
            del fbus[0]           # the newest are what matching needs
        self._coa_against_nar(ho, (seen,), out)

    def _fback(self, msg, dgram, now, out):
        ho = self._handover(msg.homeaddr, now, out, create=False)
        if ho is None or not ho.fbus:
            out.append((_FBU_PAIR.orphan_rule, say(
                _FBU_PAIR.orphan_rule, homeaddr=msg.homeaddr,
                ident=f"{msg.ident:#018x}")))
            return
        ident = msg.ident
        matched = []          # plain loops here: cheaper than comprehensions
        for f in ho.fbus:     # for the one or two FBUs of a handover (perf)
            if f.ident == ident:
                matched.append(f)
        if not matched:
            latest = ho.fbus[-1]
            out.append((_FBU_PAIR.mismatch_rule, say(
                _FBU_PAIR.mismatch_rule, ident=f"{ident:#018x}",
                request_ident=f"{latest.ident:#018x}",
                request_frame=latest.frame)))
        else:
            for f in matched:
                f.acked = True
            # decision D8: to the FBU's source, or the PAR->NAR / NAR->MN copies.
            dst = dgram.dst
            for f in matched:
                if dst == f.src or dst == f.coa:
                    break
            else:
                f = None
            if (f is None and dst != msg.homeaddr and dst not in ho.ncoas
                    and dst not in ho.nar_ips and dst not in ho.hi_peers):
                out.append((R.FBACK_WRONG_DESTINATION, (f"FBAck sent to {dst}, not to the source of "
                                f"the FBU of frame {matched[-1].frame} "
                                f"({matched[-1].src}), NAR or the MN")))
            senders = []
            for f in matched:
                if f.src == dst:
                    senders.append(f)
            if senders:
                dport = dgram.dport
                for f in senders:
                    if f.sport == dport:
                        break
                else:
                    out.append((R.FBACK_WRONG_PORT, (f"FBAck sent to port {dport}, not to "
                                          f"source port {senders[-1].sport} of "
                                          f"the FBU of frame "
                                          f"{senders[-1].frame}")))
            request = senders[-1] if senders else matched[-1]
            if msg.lifetime is not None and msg.lifetime > request.lifetime:
                out.append((R.FBACK_LIFETIME_EXCEEDS_REQUEST, (f"FBAck grants Lifetime {msg.lifetime} s, more "
                                f"than the {request.lifetime} s the FBU of "
                                f"frame {request.frame} asked for")))
        ncoa = _addr_option(msg, P.ADDR_NCOA)
        if ncoa is not None and self._add_address(
                ho, ho.ncoas, ncoa, f"the FBAck of frame {dgram.frame}", out):
            self._coa_against_nar(ho, ho.fbus, out)

    def _rtsolpr(self, msg, dgram, now, out):
        key = _RTSOLPR_KEY(msg, dgram)
        rt = self.rtsolprs.get(key)
        if rt is None:
            self.rtsolprs[key] = RtSolPrSeen(dgram.frame, now)
        else:
            self.rtsolprs.move_to_end(key)
            rt.last = now
        self.rtsolpr_scopes[key[:-1]] = key
        self._cap_rtsolprs(out)     # after the scope: a drop clears its own

    def _prrtadv(self, msg, dgram, now, out):
        dst = dgram.dst
        if msg.code not in P.PRRTADV_UNSOLICITED:
            key = _PRRTADV_KEY(msg, dgram)
            rt = self.rtsolprs.get(key)
            if rt is None:
                self._unmatched(_RTSOLPR_PAIR, self.rtsolpr_scopes,
                                self.rtsolprs, key, out, code=msg.code,
                                dst=dgram.dst, identifier=msg.identifier)
            else:
                rt.answered = True
                rt.last = now
                self.rtsolprs.move_to_end(key)
        if is_group(dst):
            return
        nar_ips = []
        ncoa = None
        for e in msg.elements:      # one loop for both (= _addr_option's NCoA)
            if e.kind == "ipv4addr" and e.addr is not None:
                if e.code == _NAR_IP:
                    nar_ips.append(e.addr)
                elif e.code == _NCOA and ncoa is None:
                    ncoa = e.addr
        if not nar_ips and ncoa is None:
            return
        ho = self._handover(dst, now, out)
        for addr in nar_ips:
            self._add_address(ho, ho.nar_ips, addr, dgram.frame, out)
        if ncoa is not None and self._add_address(
                ho, ho.ncoas, ncoa, f"the PrRtAdv of frame {dgram.frame}",
                out):
            self._coa_against_nar(ho, ho.fbus, out)

    def _hi(self, msg, dgram, now, out):
        self._router_pair(dgram.src, dgram.dst, "HI", now, out)
        pcoa = _addr_option(msg, P.ADDR_PCOA)
        key = _HI_KEY(msg, dgram)
        hi = self.his.get(key)
        if hi is None:
            self.his[key] = HiSeen(dgram.frame, bool(msg.flags & _HI_S), pcoa,
                                   now)
        else:
            self.his.move_to_end(key)
            hi.last = now
        self.hi_scopes[key[:-1]] = key
        self._cap_his(out)          # after the scope: a drop clears its own
        if pcoa is None:
            return
        ho = self._handover(pcoa, now, out, create=False)
        if ho is None:
            return
        if dgram.dst not in ho.hi_peers:  # NAR, for FBAck copies (decision D8)
            if len(ho.hi_peers) < FBUS_PER_HANDOVER:
                ho.hi_peers.add(dgram.dst)
            else:
                self._capped(f"{FBUS_PER_HANDOVER} NARs of the handover of "
                             f"{ho.pcoa}", out)
        if msg.code not in (P.HI_CODE_PREDICTIVE, P.HI_CODE_REACTIVE):
            return
        # RFC 4988 4, 5.5: Code 0 for an FBU from the PCoA, 1 for one from
        # NAR.  The cause is the newest FBU PAR (the HI's source) received.
        for f in reversed(ho.fbus):
            if f.dst == dgram.src:
                expected = (P.HI_CODE_PREDICTIVE if f.src == f.homeaddr
                            else P.HI_CODE_REACTIVE)
                if msg.code != expected:
                    sender = ("the PCoA" if expected == P.HI_CODE_PREDICTIVE
                              else "NAR")
                    out.append((R.HI_CODE_MISMATCH, (f"HI Code {msg.code}, but the FBU of frame "
                                    f"{f.frame} reached {dgram.src} from "
                                    f"{sender} {f.src}, which calls for Code "
                                    f"{expected}")))
                break

    def _hack(self, msg, dgram, now, out):
        self._router_pair(dgram.src, dgram.dst, "HAck", now, out)
        key = _HACK_KEY(msg, dgram)
        hi = self.his.get(key)
        if hi is None:
            self._unmatched(_HI_PAIR, self.hi_scopes, self.his, key, out,
                            src=dgram.src, dst=dgram.dst,
                            identifier=msg.identifier)
            return
        hi.answered = True
        hi.last = now
        self.his.move_to_end(key)
        ncoa = _addr_option(msg, P.ADDR_NCOA)
        req = K.HACK_NCOA_WHEN_HI_S
        if hi.s and ncoa is None and msg.code not in _HACK_NO_NCOA_CODES:
            out.append((req.rule, say(req.rule, code=msg.code,
                                      request_frame=hi.frame, label=req.label)))
        if ncoa is not None and hi.pcoa is not None:
            ho = self._handover(hi.pcoa, now, out)
            if self._add_address(ho, ho.ncoas, ncoa,
                                 f"the HAck of frame {dgram.frame}", out):
                self._coa_against_nar(ho, ho.fbus, out)

    @staticmethod
    def _unmatched(pair, scopes, table, key, out, **values):
        """Decision D11: a reply whose key matches no held request.  With a
        request of the pair's scope held (its key without the identifier),
        an identifier mismatch naming that request; else an orphan."""
        held = scopes.get(key[:-1])
        request = table.get(held) if held is not None else None
        if request is None:
            out.append((pair.orphan_rule, say(pair.orphan_rule, **values)))
        else:
            out.append((pair.mismatch_rule, say(
                pair.mismatch_rule, request_ident=held[-1],
                request_frame=request.frame, **values)))
