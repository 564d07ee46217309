"""The mobile node role: one predictive or reactive handover at a time.

RFC 4988 Figure 1 (predictive): RtSolPr for the new AP, PrRtAdv with the
NAR, FBU from the PCoA to PAR, FBAck from PAR.  Figure 2 (reactive): the same
discovery, then the FBU from the new link to NAR, which forwards it, and the
FBAck from NAR.  The Identification is an NTP timestamp (decision D6); an
FBU without an FBAck is sent again with a new Identification (RFC 4988 5.1:
a retransmission is a new request).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field

from scapy.layers.inet import IP

from ..gen import flows as S
from ..layers import MNPARAuth, RtSolPr
from ..spec import protocol as P
from .faults import Injected
from .roles import FBU_LIFETIME_LONG, REJECT, Role, addr_option, udp, \
    without_auth

PREDICTIVE, REACTIVE = "predictive", "reactive"
MODES = (PREDICTIVE, REACTIVE)


@dataclass
class Outcome:
    """What one handover came to, as the MN saw it."""
    mode: str
    outcome: str = "incomplete"      # completed | rejected | incomplete
    nar: str | None = None
    fback_code: int | None = None
    ncoa: str | None = None
    fbus: int = 0                    # FBUs sent (retransmissions included)
    latency_ms: float | None = None  # first FBU to FBAck
    notes: list = field(default_factory=list)

    def line(self) -> str:
        text = f"{self.mode} handover: {self.outcome}"
        if self.fback_code is not None:
            text += f", FBAck Code {self.fback_code}"
        if self.ncoa:
            text += f", NCoA {self.ncoa}"
        if self.latency_ms is not None:
            text += f", FBU to FBAck {self.latency_ms:.1f} ms"
        if self.fbus > 1:
            text += f", {self.fbus} FBUs"
        return text + "".join(f"; {n}" for n in self.notes)


class MobileNode(Role):
    name = "mn"

    def __init__(self, link, pcoa: str, par: str, ap: str, key,
                 faults: Injected = Injected(), nar: str | None = None,
                 timeout: float = 1.0, retries: int = 2, log=None):
        super().__init__(link, pcoa, faults, log)
        self.par, self.ap, self.key, self.nar = par, ap, key, nar
        self.timeout, self.retries = timeout, retries

    def wait(self, match, timeout: float):
        """The first received message for which match(seen, msg) holds,
        within timeout after the request really left (delay fault)."""
        end = time.monotonic() + timeout + self.faults.delay_ms / 1000
        while (left := end - time.monotonic()) > 0:
            for seen in self.link.poll(min(left, 0.05)):
                if seen.outgoing:
                    continue
                msg = seen.message()
                if msg is not None and match(seen, msg):
                    return seen, msg
            self.flush()
        return None, None

    def discover(self, out: Outcome) -> str | None:
        """RtSolPr -> PrRtAdv: NAR's address for the new AP (RFC 4988 5.3,
        5.4)."""
        ident = random.randint(1, 0xFFFF)
        p = S.Params(mn=self.address, par=self.par, ap_mac=self.ap)
        if "missing-option" in self.faults:
            pkt = IP(src=self.address, dst=self.par) / RtSolPr(
                identifier=ident)
        else:
            pkt = S.rtsolpr(p, identifier=ident)
        self.send(pkt)
        _, msg = self.wait(lambda s, m: m.key == "prrtadv"
                           and s.dst == self.address, self.timeout)
        nar = addr_option(msg, P.ADDR_NAR_IP) if msg is not None else None
        if nar is None:
            out.notes.append("no NAR from PrRtAdv" + (
                f", using {self.nar}" if self.nar else ""))
            return self.nar
        return nar

    def fbu(self, nar: str, mode: str):
        """The FBU as this MN sends it, with its Identification."""
        ident = S.ntp_ident(int(time.time() * 1_000_000))
        p = S.Params(mn=self.address, par=self.par, nar=nar,
                     key=self.key.secret, spi=self.key.spi,
                     algorithm=self.key.algorithm)
        lifetime = (FBU_LIFETIME_LONG if "long-lifetime" in self.faults
                    else P.LIFETIME_MAX)
        auth = None
        if "bad-auth" in self.faults:
            auth = MNPARAuth(key=self.key.secret + b"!", spi=self.key.spi,
                             algorithm=self.key.algorithm)
        msg = S.fbu_message(p, ident, lifetime=lifetime, auth=auth)
        if "no-auth" in self.faults:
            msg = without_auth(msg)
        # D7: predictive FBU to PAR from the PCoA, reactive to NAR.
        dst = self.par if mode == PREDICTIVE else nar
        return ident, udp(self.address, dst) / msg

    def handover(self, mode: str) -> Outcome:
        out = Outcome(mode)
        nar = self.discover(out)
        if nar is None:
            return out
        return self.fast_binding(out, nar)

    def fast_binding(self, out: Outcome, nar: str) -> Outcome:
        """FBU, retransmitted with a new Identification, until an FBAck
        (RFC 4988 5.1); the lab's moving MN calls it on the new link after
        discovering NAR on the old one (reactive, Figure 2)."""
        mode = out.mode
        out.nar = nar
        start = None
        for _ in range(1 + self.retries):
            ident, pkt = self.fbu(nar, mode)
            start = start or time.monotonic()
            out.fbus += 1
            self.send(pkt)
            seen, msg = self.wait(
                lambda s, m: m.key == "fback" and s.dst == self.address
                and m.homeaddr == self.address and m.ident == ident,
                self.timeout)
            if msg is not None:
                out.latency_ms = (time.monotonic() - start) * 1000
                out.fback_code = msg.code
                out.outcome = ("rejected" if (msg.code or 0) >= REJECT
                               else "completed")
                out.ncoa = addr_option(msg, P.ADDR_NCOA)
                return out
        return out
