"""The three roles of RFC 4988 as live emulators: PAR, NAR and MN.

Conformant by default (RFC 4988 Figures 1-3, docs/active-testing.md):

PAR  answers RtSolPr with PrRtAdv from its neighbourhood (New AP LLA ->
     NAR's LLA, IP address and prefix; unknown AP: Code 2 with reason 6;
     wildcard: every tuple), verifies the MN-PAR authenticator of each FBU
     (decision D5; an FBU that fails is discarded), sends HI to the FBU's
     Care-of Address (Code 0 with S and U for an FBU from the PCoA, Code 1
     for one forwarded by NAR, RFC 4988 4, 5.5), and on the HAck sends
     FBAck to the FBU's source and, predictive, a copy to NAR (decision D8),
     granting at most the Lifetime asked for, with the NCoA the HAck
     assigned (FBAck Code 1, decision D4).
NAR  answers HI with HAck copying the Identifier (Code 3 with an NCoA from
     its pool when S is set, RFC 4988 5.6), forwards a reactive FBU from the
     Type field on to PAR (the FBU's Home Agent field, RFC 4988 4.2) and
     passes PAR's FBAck on to the MN (decision D8).
MN   runs a handover: RtSolPr for the new AP, PrRtAdv, then the FBU from
     the old link to PAR (predictive) or from the new link to NAR
     (reactive), retransmitted with a new Identification when no FBAck
     comes (RFC 4988 5.1, decision D6).

Faults (faults.py) spoil what a role sends.  Received messages are decoded
with fmipdissect's own decoder; sent ones are built with the Scapy layers
and the scenario builders of fmipdissect/gen/flows.py.
"""

from __future__ import annotations

import heapq
import random
import time
from dataclasses import dataclass

from scapy.layers.inet import IP, UDP
from scapy.packet import Raw

from ..gen import flows as S
from ..layers import LLAOption, MNPARAuth, PrefixOption
from ..spec import protocol as P
from ..spec.numbers import IPPROTO_ICMP, IPPROTO_UDP
from ..wire.checksum import CHECKSUM_BAD, mn_par_authenticator
from .faults import Injected

HACK_WAIT = 1.0           # s PAR waits for the HAck before refusing the FBU
LIFETIME_LONG = 30        # long-lifetime fault: granted by PAR
FBU_LIFETIME_LONG = P.LIFETIME_MAX + 1   # long-lifetime fault of the MN
REJECT = 128              # FBAck / HAck: not accepted, reason unspecified
HACK_NCOA_ASSIGNED = 3    # RFC 4988 5.6
HI_FLAG_U = next(f.mask for f in P.HI_FLAGS if f.name == "u")   # buffer
UNKNOWN_AP_REASON = 6     # LLA Option-Code: no prefix information (6.1)
PRRTADV_NO_INFO = 2       # RFC 4988 5.4
PRRTADV_SUBSET = 3        # RFC 4988 5.4: information for some APs asked
RATE = 100                # packets per second a router role sends at most
BURST = 50                # ... in a burst
REPLAY_MEMORY = 4096      # FBU (Home Address, Identification) pairs kept


@dataclass(frozen=True)
class Neighbour:
    """One entry of PAR's neighbourhood: new AP -> NAR (RFC 4988 5.4)."""
    ap: str
    nar: str
    nar_lla: str
    prefixlen: int = 24


def verify_auth(msg, keys: dict) -> str | None:
    """None when the MN-PAR authenticator verifies (decision D5), else why
    not."""
    for e in msg.elements:
        if e.kind == "auth" and e.code == P.AUTH_SUBTYPE_MN_PAR:
            key = keys.get(e.spi)
            if key is None:
                return f"unknown SPI {e.spi}"
            covered = msg.raw[:e.offset + P.AUTH_HEADER_LEN]
            if mn_par_authenticator(covered, key.secret,
                                    key.algorithm) != e.authenticator:
                return f"authenticator does not verify (SPI {e.spi})"
            return None
    return "no MN-PAR Authentication Extension"


def addr_option(msg, code: int) -> str | None:
    for e in msg.elements:
        if e.kind == "ipv4addr" and e.code == code:
            return e.addr
    return None


def lla_option(msg, codes) -> object | None:
    for e in msg.elements:
        if e.kind == "lla" and e.code in codes:
            return e
    return None


def udp(src: str, dst: str, dport: int = P.MIP_UDP_PORT):
    """IP/UDP for an FBU or FBAck: source port 434 (RFC 4988 5.1 leaves it
    variable), destination 434 or the FBU's source port (5.2)."""
    return IP(src=src, dst=dst) / UDP(sport=P.MIP_UDP_PORT, dport=dport)


def mac_text(octets: bytes) -> str:
    return ":".join(f"{b:02x}" for b in octets)


class Role:
    """A role's event loop: receive, act, send (with the faults)."""
    name = "role"

    def __init__(self, link, address: str, faults: Injected = Injected(),
                 log=None):
        self.link = link
        self.address = address
        self.faults = faults
        self.log = log
        self.queue: list = []       # (due, seq, packet): delayed sends
        self.seq = 0
        self.handled = 0   # requests answered or discarded (--count)
        self.rate, self.tokens = RATE, float(BURST)
        self.refilled = time.monotonic()
        self.dropped = 0   # sends over the rate limit
        self.plane = None  # forwarding.Plane of the lab's data plane, if any

    def say(self, text: str) -> None:
        if self.log is not None:
            self.log(f"{self.name}: {text}")

    def allowed(self) -> bool:
        """Token bucket: at most self.rate packets a second (bursts of
        BURST), so that a flood of requests never becomes a flood of
        replies."""
        if not self.rate:
            return True
        now = time.monotonic()
        self.tokens = min(float(BURST), self.tokens
                          + (now - self.refilled) * self.rate)
        self.refilled = now
        if self.tokens < 1:
            self.dropped += 1
            if self.dropped in (1, 100, 10000):
                self.say(f"rate limit {self.rate}/s: {self.dropped} "
                         f"packets not sent")
            return False
        self.tokens -= 1
        return True

    def send(self, packet) -> None:
        """Send now or after the delay fault; bad-checksum spoils ICMP."""
        if "no-reply" in self.faults or not self.allowed():
            return
        if "bad-checksum" in self.faults \
                and packet.haslayer(IP) and packet[IP].proto == IPPROTO_ICMP:
            packet = spoil_checksum(packet)
        data = bytes(packet)
        due = time.monotonic() + self.faults.delay_ms / 1000
        self.seq += 1
        heapq.heappush(self.queue, (due, self.seq, data))
        self.flush()

    def flush(self) -> None:
        now = time.monotonic()
        while self.queue and self.queue[0][0] <= now:
            _, _, data = heapq.heappop(self.queue)
            try:
                self.link.send(data)
            except OSError as exc:      # no route, no neighbour: go on
                dst = ".".join(str(b) for b in data[16:20])
                self.say(f"cannot send to {dst}: {exc.strerror or exc}")

    def next_due(self) -> float | None:
        return self.queue[0][0] if self.queue else None

    def handle(self, seen, msg) -> None:
        raise NotImplementedError

    def tick(self) -> None:
        """Timers (PAR: HAck wait)."""

    def step(self, timeout: float) -> None:
        due = self.next_due()
        if due is not None:
            timeout = min(timeout, max(0.0, due - time.monotonic()))
        for seen in self.link.poll(timeout):
            if seen.outgoing:
                continue
            msg = seen.message()
            # A message with a bad checksum is discarded, as RFC 4988 5.3-5.6
            # adopt RFC 4068's validity checks (decision D2's computation).
            if msg is not None and msg.checksum_verdict != CHECKSUM_BAD:
                self.handle(seen, msg)
            elif msg is None and self.plane is not None:
                self.plane.frame(seen)
        self.tick()
        if self.plane is not None:
            self.plane.tick()
        self.flush()


def spoil_checksum(packet):
    """The ICMP checksum of decision D2 with some bits flipped (the rule
    icmp-checksum-bad)."""
    data = bytearray(bytes(packet))
    ihl = (data[0] & 0x0F) * 4
    data[ihl + 2] ^= 0x0F
    data[ihl + 3] ^= 0x0F
    return IP(bytes(data))


@dataclass
class _PendingFBU:
    src: str
    sport: int
    homeaddr: str
    coa: str
    ident: int
    lifetime: int
    predictive: bool
    spi: int
    deadline: float


class PAR(Role):
    name = "par"

    def __init__(self, link, address, neighbours, keys, faults=Injected(),
                 log=None):
        super().__init__(link, address, faults, log)
        self.neighbours = list(neighbours)
        self.keys = keys
        self.mn_macs: dict[str, str] = {}
        self.pending: dict[tuple[str, int], _PendingFBU] = {}
        self.seen_fbus: set[tuple[str, int]] = set()    # replay protection
        self.hi_id = random.randint(1, 0xF000)

    def params(self, **kw) -> S.Params:
        return S.Params(par=self.address, **kw)

    def handle(self, seen, msg):
        if seen.proto == IPPROTO_UDP and seen.dport != P.MIP_UDP_PORT and \
                msg.key == "fbu":
            return
        if msg.key in ("rtsolpr", "fbu") and seen.src not in self.mn_macs \
                and len(self.mn_macs) < 4096:
            self.mn_macs[seen.src] = seen.src_mac
        if seen.dst != self.address:
            return
        if msg.key == "rtsolpr":
            self.rtsolpr(seen, msg)
        elif msg.key == "fbu":
            self.fbu(seen, msg)
        elif msg.key == "hack":
            self.hack(seen, msg)

    # RtSolPr -> PrRtAdv (RFC 4988 5.3, 5.4) ------------------------------
    def rtsolpr(self, seen, msg):
        self.handled += 1
        ident = msg.identifier or 0
        if "wrong-identifier" in self.faults:
            ident = (ident + 1) & 0xFFFF
        asked = [e for e in msg.elements if e.kind == "lla"
                 and e.code in (P.LLA_WILDCARD, P.LLA_NEW_AP)]
        if not asked:
            self.say(f"RtSolPr from {seen.src} without New AP LLA: ignored")
            return
        if any(e.code == P.LLA_WILDCARD for e in asked):
            parts = [self._tuple(n) for n in self.neighbours]
            unknown = []
        else:   # RFC 4988 5.3: more than one AP may be asked for
            known = {n.ap: n for n in self.neighbours}
            aps = [mac_text(e.lla or bytes(6)) for e in asked]
            parts = [self._tuple(known[ap]) for ap in aps if ap in known]
            unknown = [LLAOption(code=UNKNOWN_AP_REASON, lla=ap)
                       for ap in aps if ap not in known]
        code = 0 if not unknown else PRRTADV_SUBSET if parts \
            else PRRTADV_NO_INFO
        options = None
        for part in parts + unknown:
            options = part if options is None else options / part
        p = self.params(mn=seen.src)
        pkt = S.prrtadv(p, code=code, options=options, identifier=ident)
        self.say(f"PrRtAdv Code {code} to {seen.src} (Identifier {ident})")
        self.send(pkt)

    def _tuple(self, n: Neighbour):
        p = self.params(nar=n.nar, nar_mac=n.nar_lla, ap_mac=n.ap,
                        prefixlen=n.prefixlen)
        if "missing-option" in self.faults:   # NAR's IP address left out
            return (S.new_ap_lla(p) / LLAOption(code=P.LLA_NAR, lla=p.nar_mac)
                    / PrefixOption(prefixlen=p.prefixlen))
        return S.router_tuple(p)

    # FBU -> HI (RFC 4988 4, 5.1, 5.5) --------------------------------------
    def fbu(self, seen, msg):
        if msg.homeaddr is None or msg.ident is None:
            return
        predictive = seen.src == msg.homeaddr
        if not predictive and seen.src != msg.coa:
            self.say(f"FBU from {seen.src} neither from its PCoA nor from "
                     f"NAR {msg.coa} (decision D7): discarded")
            self.handled += 1
            return
        why = verify_auth(msg, self.keys)
        if why is None and (msg.homeaddr, msg.ident) in self.seen_fbus:
            why = "Identification replayed (RFC 3344 replay protection)"
        if why is not None:
            self.say(f"FBU from {seen.src}: {why}: discarded")
            self.handled += 1
            return
        if len(self.seen_fbus) >= REPLAY_MEMORY:
            self.seen_fbus.clear()
        self.seen_fbus.add((msg.homeaddr, msg.ident))
        spi = next(e.spi for e in msg.elements if e.kind == "auth")
        pending = _PendingFBU(seen.src, seen.sport, msg.homeaddr, msg.coa,
                              msg.ident, min(msg.lifetime, P.LIFETIME_MAX),
                              predictive, spi, time.monotonic() + HACK_WAIT)
        if "reject" in self.faults:
            self.say(f"FBU of {msg.homeaddr}: refused (fault reject)")
            self.fback(pending, REJECT)
            return
        if msg.coa not in {n.nar for n in self.neighbours}:
            # RFC 4988 7: the PCoA is bound to a NAR's address, never to
            # another one (redirection)
            self.say(f"FBU of {msg.homeaddr}: {msg.coa} is no NAR of the "
                     f"neighbourhood: refused")
            self.fback(pending, REJECT)
            return
        self.hi_id = self.hi_id % 0xFFFF + 1
        self.pending[(msg.coa, self.hi_id)] = pending
        code = P.HI_CODE_PREDICTIVE if predictive else P.HI_CODE_REACTIVE
        p = self.params(mn=msg.homeaddr, nar=msg.coa, hi_id=self.hi_id,
                        mn_mac=self.mn_macs.get(msg.homeaddr,
                                                "00:00:00:00:00:00"))
        options = None
        if "missing-option" in self.faults:    # the PCoA option left out
            options = LLAOption(code=P.LLA_MN, lla=p.mn_mac)
        # S asks NAR for an NCoA (Code 0 only; MUST be 0 with Code 1).
        pkt = S.hi(p, code, options=options, S=int(predictive))
        self.say(f"HI Code {code} to {msg.coa} (Identifier {self.hi_id}) for "
                 f"{msg.homeaddr}")
        self.send(pkt)
        if self.plane is not None:
            self.plane.prepare(msg.coa)

    # HAck -> FBAck (RFC 4988 5.2, 5.6, decision D8) ---------------------
    def hack(self, seen, msg):
        pending = self.pending.pop((seen.src, msg.identifier), None)
        if pending is None:
            self.say(f"HAck from {seen.src} (Identifier {msg.identifier}) "
                     f"answers no HI: ignored")
            return
        code = msg.code if msg.code is not None else REJECT
        if code >= REJECT:
            self.fback(pending, code)
            return
        if self.plane is not None:
            # forwarding from the accepted HAck on (RFC 4988 4.1); the
            # FBAck still takes the MN's old link (forwarding.ParPlane)
            self.plane.bind(pending.homeaddr, pending.coa, pending.lifetime)
        self.fback(pending, 0, addr_option(msg, P.ADDR_NCOA))

    def tick(self):
        now = time.monotonic()
        for key in [k for k, v in self.pending.items() if v.deadline < now]:
            pending = self.pending.pop(key)
            self.say(f"no HAck from {pending.coa}: FBU of "
                     f"{pending.homeaddr} refused")
            self.fback(pending, REJECT)

    def fback(self, f: _PendingFBU, code: int, ncoa: str | None = None):
        """The FBAck that ends the handling of one FBU."""
        self.handled += 1
        ident = f.ident ^ 1 if "wrong-identifier" in self.faults else f.ident
        lifetime = 0 if code >= REJECT else f.lifetime
        if "long-lifetime" in self.faults and code < REJECT:
            lifetime = LIFETIME_LONG
        if ncoa and code < REJECT:
            code = P.FBACK_CODE_NCOA_SUPPLIED
        key = self.keys[f.spi]
        p = self.params(mn=f.homeaddr, nar=f.coa, ncoa=ncoa or "0.0.0.0",
                        key=key.secret, spi=f.spi, algorithm=key.algorithm)
        auth = None
        if "bad-auth" in self.faults:
            auth = MNPARAuth(key=key.secret + b"!", algorithm=key.algorithm,
                             spi=f.spi)
        msg = S.fback_message(p, ident, code=code, lifetime=lifetime,
                              ncoa=bool(ncoa) and code < REJECT
                              and "missing-option" not in self.faults,
                              auth=auth)
        if "no-auth" in self.faults:
            msg = without_auth(msg)
        self.say(f"FBAck Code {code} to {f.src} for {f.homeaddr}")
        self.send(udp(self.address, f.src, dport=f.sport) / msg)
        if f.predictive and code < REJECT:    # the copy for NAR (Figure 1)
            self.send(udp(self.address, f.coa) / msg.copy())


def without_auth(msg):
    """The message with its MN-PAR Authentication Extension cut off."""
    layer = msg
    while layer.payload and not isinstance(layer.payload, MNPARAuth):
        layer = layer.payload
    layer.remove_payload()
    return msg


class NAR(Role):
    name = "nar"

    def __init__(self, link, address, ncoa_first: str, faults=Injected(),
                 log=None):
        super().__init__(link, address, faults, log)
        self.next_ncoa = S.ip_int(ncoa_first)
        self.ncoas: dict[str, str] = {}          # PCoA -> NCoA
        self.forwarded: dict[tuple[str, int], tuple[str, int]] = {}

    def handle(self, seen, msg):
        if seen.dst != self.address:
            return
        if msg.key == "hi":
            self.hi(seen, msg)
        elif msg.key == "fbu" and seen.src == msg.homeaddr:
            self.forward_fbu(seen, msg)
        elif msg.key == "fback":
            self.pass_fback(seen, msg)

    def assign(self, pcoa: str) -> str:
        if pcoa not in self.ncoas:
            self.ncoas[pcoa] = S.ip_str(self.next_ncoa)
            self.next_ncoa += 1
        return self.ncoas[pcoa]

    def hi(self, seen, msg):
        """HAck copying the Identifier; an NCoA when S is set (5.6)."""
        self.handled += 1
        ident = msg.identifier or 0
        if "wrong-identifier" in self.faults:
            ident = (ident + 1) & 0xFFFF
        pcoa = addr_option(msg, P.ADDR_PCOA)
        s_flag = bool((msg.flags or 0) & 0x80)
        code, ncoa = 0, None
        if "reject" in self.faults:
            code = REJECT
        elif s_flag and pcoa:
            code, ncoa = HACK_NCOA_ASSIGNED, self.assign(pcoa)
        if self.plane is not None and pcoa and code < REJECT:
            # the tunnel, and with U the buffer, before the HAck (4.1, 5.5)
            self.plane.handover(pcoa, seen.src,
                               bool((msg.flags or 0) & HI_FLAG_U))
        p = S.Params(nar=self.address, par=seen.src, ncoa=ncoa or "0.0.0.0")
        pkt = S.hack(p, code=code, identifier=ident,
                     ncoa=ncoa is not None
                     and "missing-option" not in self.faults)
        self.say(f"HAck Code {code} to {seen.src} (Identifier {ident})"
                 + (f" NCoA {ncoa}" if ncoa else ""))
        self.send(pkt)

    def forward_fbu(self, seen, msg):
        """Reactive FBU: forwarded unchanged from the Type field on to PAR
        (RFC 4988 4.2, decision D7), from NAR's own address and port."""
        if msg.haaddr is None or msg.coa != self.address:
            return
        if len(self.forwarded) > 4096:
            self.forwarded.clear()
        self.forwarded[(msg.homeaddr, msg.ident)] = (seen.src, seen.sport)
        self.say(f"FBU of {msg.homeaddr} forwarded to PAR {msg.haaddr}")
        self.send(udp(self.address, msg.haaddr) / Raw(seen.payload))

    def pass_fback(self, seen, msg):
        """PAR's FBAck for a forwarded FBU goes on to the MN (decision D8);
        the predictive copy ends here."""
        mn = self.forwarded.pop((msg.homeaddr, msg.ident), None)
        if mn is None:
            return
        self.handled += 1
        self.say(f"FBAck Code {msg.code} passed on to {mn[0]}")
        self.send(udp(self.address, mn[0], dport=mn[1])
                  / Raw(seen.payload))
