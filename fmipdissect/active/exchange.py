"""The prober's side of an exchange: send, wait, play the other router.

Against PAR the prober is the MN (--mn) and the NAR behind --ap (--peer):
it answers PAR's HI with a HAck (Code 3 and --ncoa when S is set, else
Code 0, RFC 4988 5.6).  Against NAR it is the MN and the PAR (--peer): it
answers the FBU NAR forwards with an authenticated FBAck (RFC 4988 5.2).

Replies are matched leniently, so that one wrong field fails the one case
that checks it: a reply with the request's identifier, else one whose
identifier the prober never used (a wrong identifier), never one that
answers an earlier exchange (late replies).
"""

from __future__ import annotations

import io
import random
import time
from dataclasses import dataclass, field

from ..api import check
from ..gen import flows as S
from ..gen.writers import PcapngWriter
from ..lint.report import finding_dict
from ..spec import protocol as P
from ..spec.rules import RULES_BY_ID
from .live import LINKTYPE_ETHERNET
from .roles import addr_option, udp

HI_S = 0x80
HACK_REFUSED = 128           # RFC 4988 5.6: not accepted, unspecified
HACK_NCOA_NOT_ASSIGNED = 4   # RFC 4988 5.6: accepted, NCoA not assigned


@dataclass(frozen=True)
class ProbeConfig:
    target: str              # "par" | "nar"
    router: str              # the router under test
    mn: str                  # the MN address the prober uses (its PCoA)
    peer: str                # the prober as the other router
    ap: str | None           # PAR: an AP of its neighbourhood, NAR = peer
    unknown_ap: str
    key: object              # lint.keys.Key
    keys: dict
    ncoa: str                # NCoA the stand-in NAR assigns
    other_mn: str            # a second PCoA (forwarded FBU, second HI)
    timeout: float
    sport: int               # an ephemeral UDP source port for some FBUs
    not_a_nar: str = "198.19.255.30"   # a Care-of Address that is no NAR


@dataclass
class Exchange:
    """What one exchange sent and received, in order."""
    name: str
    frames: list = field(default_factory=list)     # live.Seen, both ways
    ctx: dict = field(default_factory=dict)
    findings: list = field(default_factory=list)   # fmip-lint, dicts
    error: str | None = None

    def received(self, key: str, **where):
        """(seen, msg) of the replies of message key, in order, where each
        keyword names a Seen attribute (dst, src, dport) or a message one."""
        out = []
        for seen in self.frames:
            if seen.outgoing:
                continue
            msg = seen.message()
            if msg is None or msg.key != key:
                continue
            if all(getattr(seen, k, None) == v if hasattr(seen, k)
                   else getattr(msg, k, None) == v for k, v in where.items()):
                out.append((seen, msg))
        return out


class Prober:
    def __init__(self, link, cfg: ProbeConfig, log=None):
        self.link = link
        self.cfg = cfg
        self.log = log
        self.used_identifiers: set[int] = set()
        self.used_idents: set[int] = set()
        self.results: dict[str, Exchange] = {}
        self.current: Exchange | None = None
        self.last_sent = None        # the last FBU (for the replay)

    # building ----------------------------------------------------------
    def params(self, **kw) -> S.Params:
        c = self.cfg
        par, nar = (c.router, c.peer) if c.target == "par" else \
            (c.peer, c.router)
        base = dict(mn=c.mn, par=par, nar=nar, ncoa=c.ncoa,
                    mn_mac=self.link.mac, ap_mac=c.ap or "00:00:00:00:00:00",
                    key=c.key.secret, spi=c.key.spi, algorithm=c.key.algorithm)
        base.update(kw)
        return S.Params(**base)

    def identifier(self) -> int:
        """A fresh 16-bit Identifier, never next to a used one (so that one
        off, the wrong-identifier mistake, is never one of ours)."""
        while True:
            ident = random.randint(2, 0xFFFD)
            if not {ident - 1, ident, ident + 1} & self.used_identifiers:
                self.used_identifiers.add(ident)
                return ident

    def ident(self) -> int:
        """A fresh FBU Identification, the NTP time (decision D6)."""
        ident = S.ntp_ident(int(time.time() * 1_000_000))
        while {ident, ident ^ 1} & self.used_idents:
            ident += 2
        self.used_idents.add(ident)
        return ident

    # running -----------------------------------------------------------
    def begin(self, name: str) -> Exchange:
        self.link.poll(0)            # late frames of earlier exchanges
        self.current = Exchange(name)
        # identifiers of earlier exchanges: a reply carrying one is late
        self.current.ctx["earlier"] = (frozenset(self.used_identifiers),
                                       frozenset(self.used_idents))
        return self.current

    @staticmethod
    def now() -> float:
        """The clock of Seen.time."""
        return time.time()

    def send(self, x: Exchange, packet) -> None:
        self.link.send(packet)

    def wait(self, x: Exchange, done=None,
             timeout: float | None = None) -> None:
        """Collect frames until done(x) or the timeout; meanwhile play the
        other router, and give what the prober answered a full timeout of
        its own (the FBAck is due a timeout after the prober's HAck)."""
        timeout = timeout or self.cfg.timeout
        end = time.monotonic() + timeout
        while True:                   # poll at least once after each answer
            left = max(0.0, end - time.monotonic())
            for seen in self.link.poll(min(left, 0.05)):
                x.frames.append(seen)
                if not seen.outgoing and self._respond(seen):
                    end = time.monotonic() + timeout
                    left = timeout
            if done is not None and done(x):
                # the frames we sent last are in once the poll returns
                for seen in self.link.poll(0.005):
                    x.frames.append(seen)
                return
            if left <= 0 or time.monotonic() >= end:
                return

    def _respond(self, seen) -> bool:
        """Play the other router; True when it answered."""
        msg = seen.message()
        if msg is None or seen.dst != self.cfg.peer:
            return False
        if self.cfg.target == "par" and msg.key == "hi":
            mode = self.current.ctx.get("hack") if self.current else None
            if mode == "silent":
                return False
            self.link.send(self._hack_for(seen, msg, mode))
        elif self.cfg.target == "nar" and msg.key == "fbu" \
                and seen.src == msg.coa:
            self.link.send(self._fback_for(seen, msg))
        else:
            return False
        return True

    def _hack_for(self, seen, msg, mode=None):
        """The stand-in NAR's HAck (RFC 4988 5.6): Code 3 with --ncoa when
        S is set, else Code 0; mode "reject": Code 128; "no-ncoa": Code 4
        (accepted, NCoA not assigned) without an NCoA."""
        s_set = bool((msg.flags or 0) & HI_S)
        p = self.params(nar=self.cfg.peer, par=seen.src)
        code = 3 if s_set else 0
        if mode == "reject":
            code, s_set = HACK_REFUSED, False
        elif mode == "no-ncoa":
            code, s_set = HACK_NCOA_NOT_ASSIGNED, False
        return S.hack(p, code=code, identifier=msg.identifier, ncoa=s_set)

    def _fback_for(self, seen, msg):
        """The stand-in PAR's FBAck for a forwarded FBU (RFC 4988 5.2)."""
        p = self.params(mn=msg.homeaddr, par=self.cfg.peer)
        lifetime = min(msg.lifetime or 0, P.LIFETIME_MAX)
        body = S.fback_message(p, msg.ident, code=0, lifetime=lifetime)
        return udp(self.cfg.peer, seen.src, dport=seen.sport) / body

    def end(self, x: Exchange) -> Exchange:
        x.findings = self.lint(x)
        return x

    def lint(self, x: Exchange) -> list[dict]:
        """fmip-lint's findings of the exchange, except what the checker
        says about the prober's own packets (some are broken on purpose)."""
        if not x.frames:
            return []
        buf = io.BytesIO()
        w = PcapngWriter(buf, LINKTYPE_ETHERNET)
        frames = [seen for seen in x.frames if not _late(x, seen)]
        for seen in frames:
            w.record(int(seen.time * 1_000_000), seen.frame)
        w.flush()
        findings = check(buf.getvalue(), keys=self.cfg.keys, name=x.name)
        out = []
        for f in findings:
            own = frames[f.frame - 1].outgoing \
                if 0 < f.frame <= len(frames) else False
            if own and RULES_BY_ID[f.rule].scope == "message":
                continue
            d = finding_dict(f)              # "file": the exchange's name
            d["router"] = not own            # verdicts.py counts these
            out.append(d)
        return out

    def close(self) -> None:
        """Nothing to release (the link belongs to the caller)."""


def _late(x: Exchange, seen) -> bool:
    """A reply to a request of an earlier exchange (a slow router's): not
    this exchange's to lint."""
    earlier = x.ctx.get("earlier")
    msg = None if seen.outgoing or earlier is None else seen.message()
    if msg is None:
        return False
    if msg.key in ("prrtadv", "hack"):
        return msg.identifier in earlier[0]
    if msg.key == "fback":
        return msg.ident in earlier[1]
    return False


def reply(x: Exchange, key: str, ident_field: str, ident: int, used: set,
          **where):
    """The reply to a request of this exchange: the one with its identifier,
    else one with an identifier the prober never used (D9, D11)."""
    candidates = x.received(key, **where)
    for seen, msg in candidates:
        if getattr(msg, ident_field) == ident:
            return seen, msg
    for seen, msg in reversed(candidates):     # the newest
        if getattr(msg, ident_field) not in used:
            return seen, msg
    return None, None


__all__ = ["Exchange", "ProbeConfig", "Prober", "reply", "addr_option"]
