"""One scenario seen from every node: the handovers of `gen --vantage`.

The MN makes N handovers from PAR's link (its old link) to NAR's (its new
link); each is predictive, reactive (RFC 4988 4.1, Figures 1 and 2) or a
baseline without a fast handover (a Mobile IPv4 registration, RFC 5944, with
PAR standing in as the MN's home agent).  Each FMIPv4 message is built once
by gen/flows.py's builders, put on the wire by its sender and seen by every
capture on its way (gen/netsim.py); a router answers a message when it has
received it, after a processing time of its own.  Between two handovers the
binding ends and the MN is back on its old link (decision D23).

This module decides when things happen (a Handover per handover: when the
MN leaves, attaches, when PAR's tunnel starts); gen/dataflow.py carries the
test flow through that timeline and gen/truth.py writes down what happened.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field, replace

from scapy.layers.inet import IP, UDP
from scapy.layers.mobileip import MobileIP, MobileIPRRP, MobileIPRRQ
from scapy.packet import Raw

from ..errors import InputError
from ..spec import protocol as P
from ..wire.checksum import mn_par_authenticator
from . import topology as T
from .flows import (EPOCH_US, Params, _mip, _wrap_identifier, fback_message,
                    fbu_message, hack, hi, ntp_ident, prrtadv, rtsolpr)
from .netsim import Network, forwarded

MODES = ("predictive", "reactive", "baseline")
LEAD_US = 100_000          # the test flow runs this long before handover 1
MOVE_US = 50_000           # handover start to the FBU (predictive) or to
                           # the MN leaving its old link (reactive, baseline)
FORWARD_US = 20            # a router forwarding a datagram
ATTACH_TO_SEND_US = 500    # MN attached to its first message on the new link
LEAVE_AFTER_FBACK_US = 1000  # predictive: FBAck received to leaving
FBACK_COPY_US = 200        # PAR's FBAck copy to NAR after the MN's (D8)
RETURN_SHARE = 0.7         # binding ends this far into the interval (D23)
# A router's time to answer a message (reported by `handovers --merge` as
# processing_ms); nar_forward: NAR passing on a reactive FBU or FBAck.
PROCESSING_US = {"par_prrtadv": 500, "par_fbu_hi": 500, "nar_hi_hack": 1000,
                 "par_hack_fback": 300, "nar_forward": 500,
                 "par_registration": 500}
RETRANSMIT_US = 100_000    # a lost FBU or HI sent again (--lose)
LOSABLE = {"fbu": "mn", "hi": "par"}   # --lose TYPE: the sender it applies to
RRQ_LIFETIME = 10          # s, the baseline's registration
MN_HA_AUTH = next(t for t, name in P.MIP_EXTENSION_NAMES.items()
                  if name == "Mobile-Home Authentication")   # RFC 5944 3.5.2


@dataclass
class Config:
    """What `gen --vantage` was asked for, in integer microseconds."""
    modes: tuple[str, ...]           # one per handover
    delays_us: dict[str, int]        # per link (topology.LINKS)
    clocks_us: dict[str, int]        # added to each node's timestamps
    gap_us: int = 50_000             # layer-2 gap
    interval_us: int = 1_000_000     # between handover starts
    loss: float = 0.0
    buffering: bool = True           # HI U flag (predictive)
    rate: float = 200.0              # test-flow packets/s per direction
    size: int = 64                   # test-flow UDP payload octets
    seed: int = 1
    lose: frozenset = frozenset()    # (message type, handover): lost once
    jitter_us: int = 0               # added to a link's delay, 0..jitter
    duplicate: float = 0.0           # share delivered twice (last hop)


@dataclass
class Handover:
    index: int                       # 1-based
    mode: str
    start: int                       # µs: its first message (D23)
    end: int                         # the next one's start
    leave: int = 0                   # MN off the old link
    attach: int = 0                  # MN on the new link
    tunnel_from: int = 0             # PAR tunnels the MN's downlink
    up_resume: int = 0               # MN sends on the new link
    returned: int = 0                # binding ended, MN on the old link
    left_new: int = 0                # MN off the new link again
    buffering: bool = False          # NAR holds what comes before attach
    nar_knows: int = 0               # NAR has the HI (or the Reply)
    drain: int = 0                   # NAR's next free slot on the new link
    messages: list = field(default_factory=list)


def base_params() -> Params:
    return Params(mn=T.PCOA, par=T.PAR_ADDR, nar=T.NAR_ADDR, ncoa=T.NCOA,
                  mn_mac=T.LINKS["mn-par"].a.mac,
                  par_mac=T.LINKS["mn-par"].b.mac,
                  nar_mac=T.LINKS["mn-nar"].b.mac, ap_mac=T.AP_MAC,
                  start_us=EPOCH_US, prefixlen=24)


def _message_layer(packet):
    """The message above IP (and UDP) of a packet."""
    layer = packet[IP].payload
    return layer.payload if isinstance(layer, UDP) else layer


class Signalling:
    """Puts one handover's messages on the wire and times its events."""

    def __init__(self, net: Network, cfg: Config, h: Handover):
        self.net, self.cfg, self.h = net, cfg, h
        self.last = b""            # the bytes of the last message sent
        self.lost: set[tuple[str, int]] = set()   # --lose done already
        base = base_params()
        k = h.index - 1
        self.p = replace(base, rtsol_id=_wrap_identifier(base.rtsol_id, k),
                         hi_id=_wrap_identifier(base.hi_id, k))

    def send(self, link: str, sender: str, t: int, packet,
             name: str | None = None, code: int | None = None) -> int:
        """packet from sender at t; its arrival time.  name and code of the
        message, unless its Scapy layer tells them.  A message --lose
        names is lost on its first link the first time (its sender's
        capture has it) and sent again, a datagram of its own, after
        RETRANSMIT_US (RFC 4988 5.1, 5.5 leave the timer open)."""
        packet[IP].id = self.net.ident(sender)
        message = _message_layer(packet)
        tag = {"type": name or type(message).__name__,
               "code": message.fields.get("code", code),
               "src": packet[IP].src, "dst": packet[IP].dst, "seen": [],
               "lost": False}
        self.h.messages.append(tag)
        self.last = bytes(packet)
        key = (tag["type"].lower(), self.h.index)
        if key in self.cfg.lose and key not in self.lost and \
                sender == LOSABLE.get(key[0]):
            self.lost.add(key)
            tag["lost"] = True
            self.net.send(link, sender, t, self.last, tag=tag)
            return self.send(link, sender, t + RETRANSMIT_US, packet, name,
                             code)
        return self.net.hop(link, sender, t, self.last, tag=tag)

    def discovery(self) -> None:
        """RtSolPr and PrRtAdv on the old link (RFC 4988 5.3, 5.4)."""
        at_par = self.send("mn-par", "mn", self.h.start, rtsolpr(self.p))
        self.send("mn-par", "par", at_par + PROCESSING_US["par_prrtadv"],
                  prrtadv(self.p))

    def exchange(self, t_fbu_at_par: int, code: int) -> int:
        """HI (from the FBU's arrival at PAR), HAck; PAR tunnels from the
        HI on (decision D23).  The time PAR sends its FBAck."""
        h = self.h
        h.tunnel_from = t_fbu_at_par + PROCESSING_US["par_fbu_hi"]
        u = {"U": int(self.cfg.buffering)} if code == \
            P.HI_CODE_PREDICTIVE else {}
        at_nar = h.nar_knows = self.send("par-nar", "par", h.tunnel_from,
                                         hi(self.p, code, **u))
        at_par = self.send("par-nar", "nar",
                           at_nar + PROCESSING_US["nar_hi_hack"], hack(self.p))
        return at_par + PROCESSING_US["par_hack_fback"]

    def predictive(self) -> None:
        """RFC 4988 Figure 1; the MN leaves when its FBAck has come."""
        h, p = self.h, self.p
        self.discovery()
        t = h.start + MOVE_US
        ident = ntp_ident(t)       # the MN's clock is the reference (D6)
        at_par = self.send("mn-par", "mn", t,
                           _mip(p.mn, p.par) / fbu_message(p, ident))
        t_fback = self.exchange(at_par, P.HI_CODE_PREDICTIVE)
        msg = fback_message(p, ident)
        at_mn = self.send("mn-par", "par", t_fback, _mip(p.par, p.mn) / msg)
        self.send("par-nar", "par", t_fback + FBACK_COPY_US,
                  _mip(p.par, p.nar) / msg.copy())
        h.leave = at_mn + LEAVE_AFTER_FBACK_US
        h.attach = h.leave + self.cfg.gap_us
        h.up_resume = h.attach
        h.buffering = self.cfg.buffering

    def reactive(self) -> None:
        """RFC 4988 Figure 2: the MN leaves, attaches, sends the FBU to NAR,
        which passes it on to PAR; the MN sends again from its FBAck on."""
        h, p = self.h, self.p
        self.discovery()
        h.leave = h.start + MOVE_US
        h.attach = h.leave + self.cfg.gap_us
        t = h.attach + ATTACH_TO_SEND_US
        ident = ntp_ident(t)
        at_nar = self.send("mn-nar", "mn", t,
                           _mip(p.mn, p.nar) / fbu_message(p, ident))
        at_par = self.send("par-nar", "nar",
                           at_nar + PROCESSING_US["nar_forward"],
                           _mip(p.nar, p.par) / fbu_message(p, ident))
        t_fback = self.exchange(at_par, P.HI_CODE_REACTIVE)
        msg = fback_message(p, ident)
        at_nar = self.send("par-nar", "par", t_fback, _mip(p.par, p.nar) / msg)
        h.up_resume = self.send("mn-nar", "nar",
                                at_nar + PROCESSING_US["nar_forward"],
                                _mip(p.nar, p.mn) / msg.copy())

    def baseline(self) -> None:
        """No fast handover: leave, attach, register from the NCoA with PAR
        as home agent (RFC 5944 3.3); PAR tunnels from its Reply on."""
        h = self.h
        # a care-of address of its own per visit (D25)
        p = replace(self.p, ncoa=T.pool_address(h.index))
        h.leave = h.start + MOVE_US
        h.attach = h.leave + self.cfg.gap_us
        t = h.attach + ATTACH_TO_SEND_US
        ident = ntp_ident(t)
        # T: reverse tunnelling (RFC 5944 3.3), the uplink goes back via PAR
        rrq = registration(p, p.ncoa, p.par, MobileIPRRQ(
            flags=0x02, lifetime=RRQ_LIFETIME, homeaddr=p.mn, haaddr=p.par,
            coaddr=p.ncoa, id=ident))
        at_nar = self.send("mn-nar", "mn", t, rrq,
                           P.REGISTRATION_NAMES[P.REGISTRATION_REQUEST])
        at_par = self.net.hop("par-nar", "nar", at_nar + FORWARD_US,
                              forwarded(self.last), tag=h.messages[-1])
        h.tunnel_from = at_par + PROCESSING_US["par_registration"]
        rrp = registration(p, p.par, p.ncoa, MobileIPRRP(
            code=0, lifetime=RRQ_LIFETIME, homeaddr=p.mn, haaddr=p.par,
            id=ident))
        at_nar = h.nar_knows = self.send("par-nar", "par", h.tunnel_from,
                                         rrp, P.REGISTRATION_NAMES[
                                             P.REGISTRATION_REPLY], 0)
        h.up_resume = self.net.hop("mn-nar", "nar", at_nar + FORWARD_US,
                                   forwarded(self.last), tag=h.messages[-1])


def registration(p: Params, src: str, dst: str, message):
    """A Mobile IPv4 Registration Request or Reply (RFC 5944 3.3, 3.4)
    with its Mobile-Home Authentication Extension (3.5.2), HMAC-MD5 with
    the MN's key over the message and the extension's Type, Length and
    SPI (3.5.1)."""
    kind = 1 if isinstance(message, MobileIPRRQ) else 3
    body = bytes(MobileIP(type=kind) / message)
    head = struct.pack("!BBI", MN_HA_AUTH, 4 + 16, p.spi)
    auth = mn_par_authenticator(body + head, p.key, "hmac-md5")
    return (IP(src=src, dst=dst)
            / UDP(sport=P.MIP_UDP_PORT, dport=P.MIP_UDP_PORT)
            / Raw(body + head + auth))


def plan(cfg: Config) -> list[Handover]:
    """The handovers' windows: handover k starts LEAD_US + (k-1) intervals
    after the capture's start and ends where the next starts."""
    n = len(cfg.modes)
    starts = [EPOCH_US + LEAD_US + k * cfg.interval_us for k in range(n + 1)]
    return [Handover(k + 1, mode, starts[k], starts[k + 1])
            for k, mode in enumerate(cfg.modes)]


def run_signalling(net: Network, cfg: Config) -> list[Handover]:
    """Every handover's messages on the wire, its events timed."""
    handovers = plan(cfg)
    settle = (cfg.delays_us["par-nar"] + cfg.delays_us["mn-nar"]
              + 2 * FORWARD_US + 1000)
    for h in handovers:
        getattr(Signalling(net, cfg, h), h.mode)()
        h.drain = h.attach
        h.returned = h.start + int(cfg.interval_us * RETURN_SHARE)
        h.left_new = h.returned + settle
        if max(h.up_resume, h.attach) + 10_000 > h.returned:
            raise InputError(
                f"handover {h.index} ({h.mode}) does not complete within "
                f"its interval: raise --interval or lower --l2-gap and the "
                f"link delays")
    return handovers
