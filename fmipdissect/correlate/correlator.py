"""The one matcher: requests and replies paired (decisions D9, D11), copies
recognised (D7, D8), handovers assembled (D13), state bounded.

Correlator(subscribers).observe(msg, datagram) for every decoded message in
capture order, then finish().  Subscribers receive the events of
correlate/events.py; fmip-lint's cross-packet rules and the handover
records are two of them.

Tables (keyed as the rulebook's PAIRS say, spec/constraints.py):

  nodes        MobileNode by PCoA: its FBUs, addresses and handovers;
  his          HIs by (PAR, NAR, Identifier), waiting for their HAck;
               HIs for different MNs under one key are held side by side
               and answered in order (decision D17);
  rtsolprs     RtSolPr by (MN address, Identifier), waiting for PrRtAdv;
  scopes       the newest held request of each pair's scope (decision D11);
  router_pairs pairs of routers that exchanged HI/HAck (once per pair).

Memory stays flat on captures of any size:

  * Expiry: an entry is forgotten EXPIRY_SECONDS of capture time after the
    last message that touched it; a request expiring unanswered is an
    `unanswered` event then.
  * Time going backwards (merged captures, a corrupt timestamp ahead): a
    jump back of more than EXPIRY_SECONDS sweeps at once, and an entry last
    touched more than EXPIRY_SECONDS ahead of the current time is re-dated
    to it (state.pop_expired; tests/fuzz/test_fuzz_pathological.py).
  * Caps: each table holds at most MAX_ENTRIES entries; beyond that the
    least recently active entry is dropped the same way.  Per MN at most
    FBUS_PER_MN FBUs and NARs and ADDRESSES_PER_MN addresses are kept.  The
    first drop is a `capped` event: matching may be incomplete from there.
"""

from __future__ import annotations

from collections import OrderedDict

from ..spec import constraints as K
from ..spec import protocol as P
from ..spec import rules as R
from ..plain import factory
from . import assembly as A
from .events import EVENTS, handlers
from .replies import AwaitedReplies
from .state import (FbuSeen, HiKey, HiSeen, MobileNode,
                    Observation, PairSeen, RtSolPrSeen, addr_option,
                    classify_fbu, GROUP_HEADS, pop_expired)

_FBU_PAIR = K.PAIR_OF["fbu"]
_HI_PAIR = K.PAIR_OF["hi"]
_RTSOLPR_PAIR = K.PAIR_OF["rtsolpr"]
_HI_S = next(f.mask for f in P.HI_FLAGS if f.name == "s")
_NAR_IP, _NCOA, _PCOA = P.ADDR_NAR_IP, P.ADDR_NCOA, P.ADDR_PCOA
_CLOCK_BACK = K.SWEEP_INTERVAL + K.EXPIRY_SECONDS
_AFTER_EXPIRY = f"within {K.EXPIRY_SECONDS:g} s"
_DROPPED = "before it was dropped (state cap)"
_TRUNCATED = R.TRUNCATED_MESSAGE
_PORT = P.MIP_UDP_PORT
# Observation(...) as a plain function (plain.factory): no class call
# and second frame for the Observation of most messages
_observation = factory(Observation)


def routers(a: str, b: str) -> tuple:
    """decision D9: the two routers, in either order."""
    return (a, b) if a < b else (b, a)


def key_function(parts):
    """(msg, dgram) -> a key or scope of decisions D9, D11 as one tuple.

    parts come from the rulebook (constraints.PAIRS): "src" and "dst" are
    the datagram's addresses, "routers" both in either order, other names
    the message's fields.  Compiled to one expression: a key is built for
    every ICMP message."""
    items = ", ".join(
        f"dgram.{p}" if p in ("src", "dst") else
        "routers(dgram.src, dgram.dst)" if p == "routers" else f"msg.{p}"
        for p in parts)
    return eval(f"lambda msg, dgram: ({items},)",   # noqa: S307 - rulebook
                {"routers": routers})


_HI_KEY = key_function(_HI_PAIR.request_key)
_HACK_KEY = key_function(_HI_PAIR.response_key)
_HI_SCOPE = key_function(_HI_PAIR.request_scope)
_HACK_SCOPE = key_function(_HI_PAIR.response_scope)
_RTSOLPR_KEY = key_function(_RTSOLPR_PAIR.request_key)
_PRRTADV_KEY = key_function(_RTSOLPR_PAIR.response_key)
_RTSOLPR_SCOPE = key_function(_RTSOLPR_PAIR.request_scope)
_PRRTADV_SCOPE = key_function(_RTSOLPR_PAIR.response_scope)
_HI_DISTINCT = _HI_PAIR.distinct_by


def _handler(message, key):
    """What handles `key` for the subscriber of the bound method message:
    its message_handlers entry for the key, else message itself."""
    own = getattr(message.__self__, "message_handlers", None) or {}
    return own.get(key, message)


def _matched_handlers(on_matched, pair) -> tuple:
    """The callables(pair, requests, obs) for a reply matched in `pair`:
    a subscriber's matched_handlers entry for the pair's request key, else
    its matched(); none from a subscriber whose matched_handlers leave the
    pair out."""
    found = []
    for f in on_matched:
        own = getattr(f.__self__, "matched_handlers", None)
        if own is None:
            found.append(f)
        elif pair.request in own:
            found.append(own[pair.request])
    return tuple(found)


class Correlator:
    """Cross-packet state of one capture; observe() each message in order."""

    def __init__(self, subscribers=(), reply_ports: set | None = None):
        # decision D16: FBUs from other ports than 434 await their FBAck
        # there; reply_ports is the set the capture reader's prefilter reads
        self.awaited = AwaitedReplies(reply_ports)
        self.nodes: OrderedDict[str, MobileNode] = OrderedDict()
        self.his: OrderedDict[tuple, HiKey] = OrderedDict()
        self.rtsolprs: OrderedDict[tuple, RtSolPrSeen] = OrderedDict()
        self.hi_scopes: dict[tuple, tuple] = {}
        self.rtsolpr_scopes: dict[str, tuple] = {}
        self.router_pairs: OrderedDict[tuple, PairSeen] = OrderedDict()
        self.cap_reported = False
        self._next_sweep = None
        subs = tuple(subscribers)
        on = {e: handlers(subs, e) for e in EVENTS}
        # message handlers by message key (a subscriber may name the keys
        # it wants in message_keys, and a handler per key in
        # message_handlers)
        self._on_message = {
            m.key: tuple(_handler(f, m.key) for f in on["message"]
                         if m.key in (getattr(f.__self__, "message_keys", None)
                                      or (m.key,)))
            for m in P.MESSAGES}
        # (one tuple per key, read straight by each message's method: no
        # dispatch on the key per message)
        (self._on_fbu, self._on_fback, self._on_rtsolpr, self._on_prrtadv,
         self._on_hi, self._on_hack) = (
            self._on_message[k] for k in ("fbu", "fback", "rtsolpr",
                                          "prrtadv", "hi", "hack"))
        # (matched, per pair: a subscriber's handler for it, or none)
        self._on_fbu_matched, self._on_hi_matched, self._on_rtsolpr_matched = (
            _matched_handlers(on["matched"], pair)
            for pair in (_FBU_PAIR, _HI_PAIR, _RTSOLPR_PAIR))
        self._on_mismatch = on["mismatch"]
        self._on_orphan = on["orphan"]
        self._on_unanswered = on["unanswered"]
        self._on_address = on["address"]
        self._on_capped = on["capped"]
        # handovers are assembled for the subscribers that listen for them
        self.assembler = (A.Assembler(on["handover_opened"],
                                      on["handover_closed"])
                          if on["handover_opened"] or on["handover_closed"]
                          else None)
        self._handlers = {"fbu": self._fbu, "fback": self._fback,
                          "rtsolpr": self._rtsolpr, "prrtadv": self._prrtadv,
                          "hi": self._hi, "hack": self._hack}

    # --- entry points --------------------------------------------------

    def tick(self, now) -> None:
        """Time is now (capture time; the wall clock on live input): expire
        what is due (a sweep every SWEEP_INTERVAL)."""
        if self._next_sweep is None:
            self._next_sweep = now + K.SWEEP_INTERVAL
        elif now >= self._next_sweep or now < self._next_sweep - _CLOCK_BACK:
            # second test: the clock went back (a corrupt timestamp ahead,
            # then normal ones); without it no sweep would come until
            # capture time caught up again
            self._next_sweep = now + K.SWEEP_INTERVAL
            self._expire(now)

    def observe(self, msg, dgram):
        """Place one message; the Handover it belongs to, or None (none
        assembled: no subscriber listens for handovers; or its fixed header
        is cut: nothing reliable to match on).  Its Observation goes to
        the subscribers' events, made only when one listens."""
        now = dgram.time
        due = self._next_sweep
        if due is None or now >= due or now < due - _CLOCK_BACK:
            self.tick(now)          # (tick's test, inline: every message)
        if msg.problems and msg.problems[0].rule == _TRUNCATED:
            return None
        ho = self._handlers[msg.key](msg, dgram, now)
        if ho is not None:
            ho.messages += 1
            ho.last_frame = dgram.frame
            ho.end = now
        return ho

    def finish(self) -> None:
        """The capture ended: requests still open are unanswered, every
        handover is over."""
        at_end = R.AT_CAPTURE_END
        for key, entry in self.his.items():
            self._hi_gone(key, entry, at_end)
        for key, rt in self.rtsolprs.items():
            self._rtsolpr_gone(key, rt, at_end)
        for node in self.nodes.values():
            self._node_gone(node, at_end)
        for table in (self.nodes, self.his, self.rtsolprs, self.hi_scopes,
                      self.rtsolpr_scopes, self.router_pairs):
            table.clear()

    # --- bookkeeping ---------------------------------------------------

    def _expire(self, now) -> None:
        horizon = now - K.EXPIRY_SECONDS
        future = now + K.EXPIRY_SECONDS
        # requests first: their handovers are still open for the findings
        for key, entry in pop_expired(self.his, horizon, now, future):
            self._hi_gone(key, entry, _AFTER_EXPIRY)
        for key, rt in pop_expired(self.rtsolprs, horizon, now, future):
            self._rtsolpr_gone(key, rt, _AFTER_EXPIRY)
        for _, node in pop_expired(self.nodes, horizon, now, future):
            self._node_gone(node, _AFTER_EXPIRY)
        pop_expired(self.router_pairs, horizon, now, future)
        self.awaited.expire(horizon, now, future)

    def _capped(self, what) -> None:
        if not self.cap_reported:
            self.cap_reported = True
            for f in self._on_capped:
                f(what)

    def _unanswered(self, pair, request, when) -> None:
        for f in self._on_unanswered:
            f(pair, request, when)

    def _node_gone(self, node, when) -> None:
        """A node leaves (expiry, cap, end): its FBUs not acknowledged are
        unanswered (an Identification acknowledged once answers every copy:
        the FBU re-sent from the new link, RFC 4988 4), its handovers over."""
        fbus = node.fbus
        for f in fbus:
            if not f.answered:
                break
        else:
            fbus = ()     # all acknowledged (the usual end): none unanswered
        reported = {f.ident for f in fbus if f.answered} if fbus else None
        for f in fbus:
            if f.ident not in reported:
                reported.add(f.ident)
                self._unanswered(_FBU_PAIR, f, when)
        if self.assembler is not None:
            self.assembler.close_node(node)

    def _hi_gone(self, key, entry, when) -> None:
        if self.hi_scopes.get(entry.scope) == key:
            del self.hi_scopes[entry.scope]
        for hi in entry.requests:
            if not hi.answered:
                self._unanswered(_HI_PAIR, hi, when)

    def _rtsolpr_gone(self, key, rt, when) -> None:
        if self.rtsolpr_scopes.get(rt.scope) == key:
            del self.rtsolpr_scopes[rt.scope]
        if not rt.answered:
            self._unanswered(_RTSOLPR_PAIR, rt, when)

    def _node(self, pcoa, now) -> MobileNode:
        node = self.nodes.get(pcoa)
        if node is None:
            node = self.nodes[pcoa] = MobileNode(pcoa, now)
            if len(self.nodes) > K.MAX_ENTRIES:
                _, old = self.nodes.popitem(last=False)
                self._node_gone(old, _DROPPED)
                self._capped(f"{K.MAX_ENTRIES} MNs")
        else:
            self.nodes.move_to_end(pcoa)
            node.last = now
        return node

    def _add_address(self, node, kind, addr, frame, source="") -> None:
        """Remember an address of the MN (up to ADDRESSES_PER_MN) and tell
        the subscribers when it is new: a NAR IP with the frame of its
        PrRtAdv, an NCoA with the message that supplied it (its text made
        only then: the same address comes again and again)."""
        table = node.nar_ips if kind == "nar_ip" else node.ncoas
        if addr in table:
            return
        if len(table) >= K.ADDRESSES_PER_MN:
            node.addresses_capped = True
            self._capped(f"{K.ADDRESSES_PER_MN} addresses of the MN "
                         f"{node.pcoa}")
            return
        if not table:                  # the shared empty one: a new table
            table = {}
            if kind == "nar_ip":
                node.nar_ips = table
            else:
                node.ncoas = table
        table[addr] = (frame if kind == "nar_ip"
                       else f"the {source} of frame {frame}")
        for f in self._on_address:
            f(node, kind, addr)

    def _first_of_pair(self, src, dst, now) -> bool:
        """Whether HI/HAck between these two routers is the first seen
        within the expiry time (RFC 4988 7: reported once per pair)."""
        pair = (src, dst) if src < dst else (dst, src)      # routers()
        seen = self.router_pairs.get(pair)
        if seen is not None:
            seen.last = now
            self.router_pairs.move_to_end(pair)
            return False
        self.router_pairs[pair] = PairSeen(now)
        if len(self.router_pairs) > K.MAX_ENTRIES:
            self.router_pairs.popitem(last=False)
            self._capped(f"{K.MAX_ENTRIES} router pairs")
        return True

    def _unmatched(self, pair, obs, held) -> None:
        """decision D11: a reply whose key matches no held request, `held`
        the newest request of its scope (or None): while that one is
        outstanding (not answered), a mismatch naming it; else an orphan."""
        if held is None or held.answered:
            for f in self._on_orphan:
                f(pair, obs)
        else:
            for f in self._on_mismatch:
                f(pair, obs, held)

    # --- messages ------------------------------------------------------

    def _rtsolpr(self, msg, dgram, now):
        node = ho = None
        if self.assembler is not None:
            node = self._node(dgram.src, now)
            ho = self.assembler.rtsolpr(node, msg, dgram)
        key = _RTSOLPR_KEY(msg, dgram)
        rt = self.rtsolprs.get(key)
        if rt is None:
            rt = self.rtsolprs[key] = RtSolPrSeen(dgram, msg, ho,
                                                  _RTSOLPR_SCOPE(msg, dgram))
        else:                           # sent again: one request
            self.rtsolprs.move_to_end(key)
            rt.last = now
        self.rtsolpr_scopes[rt.scope] = key
        if len(self.rtsolprs) > K.MAX_ENTRIES:
            old_key, old = self.rtsolprs.popitem(last=False)
            self._rtsolpr_gone(old_key, old, _DROPPED)
            self._capped(f"{K.MAX_ENTRIES} RtSolPrs")
        if self._on_rtsolpr:
            obs = _observation(msg, dgram, node, ho, None, rt)
            for f in self._on_rtsolpr:
                f(obs)
        return ho

    def _prrtadv(self, msg, dgram, now):
        solicited = msg.code in P.PRRTADV_SOLICITED     # Code 0, 2, 3
        if solicited:
            key = _PRRTADV_KEY(msg, dgram)
            rt = self.rtsolprs.get(key)
        nar_ips = []
        ncoa = None
        for e in msg.elements:
            if e.kind == "ipv4addr" and e.addr is not None:
                if e.code == _NAR_IP:
                    nar_ips.append(e.addr)
                elif e.code == _NCOA and ncoa is None:
                    ncoa = e.addr
        node = ho = None
        if dgram.dst[:4] not in GROUP_HEADS:     # not to a group address
            if self.assembler is not None:
                node = self._node(dgram.dst, now)
                ho = self.assembler.prrtadv(node, msg, dgram, solicited,
                                            nar_ips, ncoa)
            elif nar_ips or ncoa is not None:
                node = self._node(dgram.dst, now)
        obs = None          # (made when an event has a listener)
        if self._on_prrtadv:
            obs = _observation(msg, dgram, node, ho)
            for f in self._on_prrtadv:
                f(obs)
        if solicited:
            if rt is None:
                held = self.rtsolpr_scopes.get(_PRRTADV_SCOPE(msg, dgram))
                self._unmatched(_RTSOLPR_PAIR,
                                obs or _observation(msg, dgram, node, ho),
                                self.rtsolprs.get(held) if held else None)
            else:
                rt.answered = True
                rt.last = now
                self.rtsolprs.move_to_end(key)
                if self._on_rtsolpr_matched:
                    obs = obs or _observation(msg, dgram, node, ho)
                    for f in self._on_rtsolpr_matched:
                        f(_RTSOLPR_PAIR, (rt,), obs)
        if node is not None:
            for addr in nar_ips:
                self._add_address(node, "nar_ip", addr, dgram.frame)
            if ncoa is not None:
                self._add_address(node, "ncoa", ncoa, dgram.frame,
                                  "PrRtAdv")
        return ho

    def _fbu(self, msg, dgram, now):
        role = classify_fbu(dgram.src, dgram.dst, msg)
        if dgram.sport != _PORT:        # (AwaitedReplies.fbu's first test)
            self.awaited.fbu(dgram, now)
        node = self._node(msg.homeaddr, now)
        ho = (self.assembler.fbu(node, msg, dgram, role)
              if self.assembler is not None else None)
        seen = FbuSeen(dgram, msg, role, ho)
        obs = _observation(msg, dgram, node, ho, role, seen)
        for f in self._on_fbu:
            f(obs)
        fbus = node.fbus
        fbus.append(seen)
        if len(fbus) > K.FBUS_PER_MN:
            del fbus[0]           # the newest are what matching needs
        return ho

    def _fback(self, msg, dgram, now):
        node = self.nodes.get(msg.homeaddr)
        if node is not None:
            self.nodes.move_to_end(msg.homeaddr)
            node.last = now
        ncoa = addr_option(msg, _NCOA)
        ho = (self.assembler.fback(node, msg, dgram, ncoa)
              if node is not None and self.assembler is not None else None)
        obs = _observation(msg, dgram, node, ho)
        for f in self._on_fback:
            f(obs)
        if node is None or not node.fbus:
            self._unmatched(_FBU_PAIR, obs, None)
            return ho
        ident, matched = msg.ident, []
        for f in node.fbus:
            if f.ident == ident:
                matched.append(f)
        if not matched:
            self._unmatched(_FBU_PAIR, obs, node.fbus[-1])   # the newest
        else:
            for f in matched:
                f.answered = True
            for f in self._on_fbu_matched:
                f(_FBU_PAIR, matched, obs)
        if ncoa is not None:
            self._add_address(node, "ncoa", ncoa, dgram.frame, "FBAck")
        return ho

    def _hi(self, msg, dgram, now):
        first = self._first_of_pair(dgram.src, dgram.dst, now)
        pcoa = addr_option(msg, _PCOA)      # the MN (decision D9)
        node = ho = None
        if pcoa is not None:
            node = self._node(pcoa, now)
            if self.assembler is not None:
                ho = self.assembler.hi(node, msg, dgram)
            if dgram.dst not in node.hi_peers:    # NAR, for FBAck copies (D8)
                if len(node.hi_peers) < K.FBUS_PER_MN:
                    if node.hi_peers:
                        node.hi_peers[dgram.dst] = None
                    else:          # the shared empty one: a new table
                        node.hi_peers = {dgram.dst: None}
                else:
                    self._capped(f"{K.FBUS_PER_MN} NARs of the MN {pcoa}")
        hi = self._hold_hi(msg, dgram, now, pcoa, ho)
        obs = _observation(msg, dgram, node, ho, None, hi, first)
        for f in self._on_hi:
            f(obs)
        return ho

    def _hold_hi(self, msg, dgram, now, pcoa, ho) -> HiSeen:
        """Hold the HI under its key: the same HI again (its PCoA) is one
        request; an HI for another MN with the same Identifier is held
        beside it (decision D17)."""
        key = _HI_KEY(msg, dgram)
        entry = self.his.get(key)
        if entry is None:
            entry = self.his[key] = HiKey(_HI_SCOPE(msg, dgram), now)
        else:
            self.his.move_to_end(key)
            entry.last = now
        identity = (pcoa if _HI_DISTINCT == _PCOA      # (the usual rulebook)
                    else addr_option(msg, _HI_DISTINCT))
        for hi in entry.requests:
            if hi.identity == identity:
                break
        else:
            hi = HiSeen(dgram, msg, bool(msg.flags & _HI_S), pcoa, identity,
                        ho)
            entry.requests.append(hi)
            if len(entry.requests) > K.REQUESTS_PER_KEY:
                old = entry.requests.pop(0)
                if not old.answered:
                    self._unanswered(_HI_PAIR, old, _DROPPED)
                self._capped(f"{K.REQUESTS_PER_KEY} HIs with Identifier "
                             f"{msg.identifier} from {dgram.src} to "
                             f"{dgram.dst}")
        self.hi_scopes[entry.scope] = key
        if len(self.his) > K.MAX_ENTRIES:
            old_key, old_entry = self.his.popitem(last=False)
            self._hi_gone(old_key, old_entry, _DROPPED)
            self._capped(f"{K.MAX_ENTRIES} HIs")
        return hi

    def _hack(self, msg, dgram, now):
        first = self._first_of_pair(dgram.src, dgram.dst, now)
        key = _HACK_KEY(msg, dgram)
        entry = self.his.get(key)
        hi = None
        if entry is not None:
            # the oldest HI not yet answered; all answered: the newest
            for hi in entry.requests:
                if not hi.answered:
                    break
            else:
                hi = entry.requests[-1]
            entry.last = now
            self.his.move_to_end(key)
        ho = hi.handover if hi is not None else None
        node = None
        ncoa = addr_option(msg, _NCOA)
        if ho is not None and not ho.over:
            node = self.nodes.get(ho.pcoa)
            if node is not None:
                node.last = now
                self.nodes.move_to_end(ho.pcoa)
            self.assembler.hack(ho, msg, dgram, key, ncoa)
        else:
            ho = None
        obs = _observation(msg, dgram, node, ho, None, None, first)
        for f in self._on_hack:
            f(obs)
        if hi is None:
            held = self.hi_scopes.get(_HACK_SCOPE(msg, dgram))
            self._unmatched(_HI_PAIR, obs, None if held is None
                            else self.his[held].requests[-1])
            return ho
        hi.answered = True
        for f in self._on_hi_matched:
            f(_HI_PAIR, (hi,), obs)
        if hi.pcoa is not None:
            # RFC 4988 4: what the MN's next FBAck carries on (the NCoA of
            # the latest HAck for the MN, or none)
            node = self._node(hi.pcoa, now)
            node.hack_ncoa = (ncoa, dgram.frame) if ncoa is not None else None
            if ncoa is not None:
                self._add_address(node, "ncoa", ncoa, dgram.frame, "HAck")
        return ho
