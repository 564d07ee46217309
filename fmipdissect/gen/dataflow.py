"""The test flow of `gen --vantage` through the handovers' timeline.

Two constant-rate streams of wire/testflow.py packets between the CN and
the MN's PCoA, one per direction.  Downlink: CN -> PAR -> the MN's old link;
while PAR holds a binding for the MN, PAR -> IP-in-IP tunnel -> NAR -> the
MN's new link, NAR holding (with the HI's U flag) what comes before the MN
is there and releasing it in order when it attaches (RFC 4988 4.1, 5.5).
Uplink: MN -> PAR -> CN from the old link; from the new link MN -> NAR ->
tunnel -> PAR -> CN.  The MN sends only where it has a way out; a packet it
cannot send still uses up its sequence number, as in the lab (D23).

Each packet's Fate says what happened to it; gen/truth.py sums them up.
"""

from __future__ import annotations

import bisect
import random

from ..wire import testflow
from . import topology as T
from .flows import EPOCH_US
from .netsim import Network, forwarded, udp_datagram
from .vantage import FORWARD_US, Config, Handover

RELEASE_SPACING_US = 20    # NAR's buffered packets, one after another
DUPLICATE_US = 1           # a duplicate's copy after the first (--duplicate)
_PCOA, _CN = (bytes(map(int, a.split("."))) for a in (T.PCOA, T.CN_ADDR))


class Fate:
    """One test-flow packet: who saw it, whether and how it arrived."""
    __slots__ = ("flow", "seq", "sent", "window", "seen", "delivered",
                 "route", "tunnelled", "buffered", "unsent", "duplicated")

    def __init__(self, flow: int, seq: int, sent: int, window: int):
        self.flow, self.seq, self.sent, self.window = flow, seq, sent, window
        self.seen: list[str] = []        # nodes whose capture saw it
        self.delivered: int | None = None   # time at the destination
        self.route = "old"               # "old" or "new": the MN's link
        self.tunnelled = False
        self.buffered = False
        self.unsent = False              # the MN had no way out (D23)
        self.duplicated = False          # delivered twice (--duplicate)


class TrafficRun:
    """The test flow's two streams, run window by window (run()): where
    the MN is at each moment, and each packet's way (down(), up())."""

    def __init__(self, net: Network, cfg: Config, handovers: list[Handover]):
        self.net, self.cfg, self.handovers = net, cfg, handovers
        self.starts = [h.start for h in handovers]
        self.downs = self.ups = 0        # packets of each stream so far
        self.rnd_duplicate = random.Random(f"duplicate:{cfg.seed}")

    # --- where the MN is ---------------------------------------------------
    def _window(self, t: int) -> Handover:
        return self.handovers[max(0, bisect.bisect_right(self.starts, t) - 1)]

    def binding(self, t: int) -> Handover | None:
        """The handover whose binding at PAR tunnels the MN's traffic at t."""
        h = self._window(t)
        return h if h.tunnel_from <= t < h.returned else None

    def on_old(self, t: int) -> bool:
        h = self._window(t)
        return t < h.leave or t >= h.returned

    def on_new(self, t: int) -> bool:
        h = self._window(t)
        return h.attach <= t < h.left_new

    def up_route(self, t: int) -> str | None:
        """The MN's link for a packet it sends at t, None when it has none."""
        h = self._window(t)
        if t < h.leave or t >= h.returned:
            return "old"
        return "new" if h.up_resume <= t else None

    # --- the two streams ---------------------------------------------------
    def run(self, t_to: int) -> list[Fate]:
        """The packets of both streams sent before t_to and not yet sent,
        the streams starting at the capture's start (EPOCH_US)."""
        fates = []
        if self.cfg.rate <= 0:
            return fates
        step = 1_000_000 / self.cfg.rate
        while (t := EPOCH_US + round(self.downs * step)) < t_to:
            fates.append(self.down(t, self.downs))
            self.downs += 1
        while (t := EPOCH_US + round((self.ups + 0.5) * step)) < t_to:
            fates.append(self.up(t, self.ups))
            self.ups += 1
        return fates

    def _payload(self, flow: int, seq: int, t: int, node: str) -> bytes:
        sent_ns = (t + self.cfg.clocks_us.get(node, 0)) * 1000
        return testflow.build(flow, seq, sent_ns, self.cfg.size)

    def _hop(self, fate: Fate, link: str, sender: str, t: int, ip: bytes,
             arrived=None) -> int | None:
        """One lossy hop; arrived(t) says whether the receiver is there."""
        at = self.net.send(link, sender, t, ip, lossy=True)
        if not fate.seen:
            fate.seen.append(sender)
        if at is None or (arrived is not None and not arrived(at)):
            return None
        self.net.receive(link, sender, at, ip)
        fate.seen.append(T.LINKS[link].peer(sender).node)
        return at

    def _deliver(self, fate: Fate, link: str, sender: str, t: int,
                 ip: bytes, arrived=None) -> int | None:
        """The last hop, into the destination; with --duplicate the link
        may hand it over twice, the copy DUPLICATE_US later (D23)."""
        at = self._hop(fate, link, sender, t, ip, arrived)
        if at is not None and self.cfg.duplicate and \
                self.rnd_duplicate.random() < self.cfg.duplicate:
            self.net.receive(link, sender, at + DUPLICATE_US, ip)
            fate.duplicated = True
        return at

    def down(self, t: int, seq: int) -> Fate:
        net = self.net
        fate = Fate(testflow.FLOW_DOWN, seq, t, self._window(t).index)
        ip = udp_datagram(_CN, _PCOA, net.ident("cn"), testflow.DEFAULT_PORT,
                          self._payload(testflow.FLOW_DOWN, seq, t, "cn"))
        at = self._hop(fate, "par-cn", "cn", t, ip)
        if at is None:
            return fate
        t, ip = at + FORWARD_US, forwarded(ip)
        h = self.binding(t)
        if h is None:
            fate.delivered = self._deliver(fate, "mn-par", "par", t, ip,
                                           self.on_old)
            return fate
        fate.tunnelled = True
        outer = net.encapsulate("par", T.PAR_TUNNEL, T.NAR_TUNNEL, ip)
        at = self._hop(fate, "par-nar", "par", t, outer)
        if at is None:
            return fate
        t, ip = at + FORWARD_US, forwarded(ip)
        if at < h.nar_knows:
            return fate                   # NAR has no HI for the MN yet
        if at < h.attach:
            if not h.buffering:
                return fate               # NAR has nowhere to send it
            fate.buffered = True
        send = max(t, h.drain)
        if fate.buffered or send > t:
            h.drain = send + RELEASE_SPACING_US
        fate.route = "new"
        fate.delivered = self._deliver(fate, "mn-nar", "nar", send, ip,
                                   self.on_new)
        return fate

    def up(self, t: int, seq: int) -> Fate:
        """An uplink packet; one the MN cannot send uses up its sequence
        number all the same, as the lab's sender does (decision D23)."""
        route = self.up_route(t)
        net = self.net
        fate = Fate(testflow.FLOW_UP, seq, t, self._window(t).index)
        if route is None:
            fate.unsent = True
            return fate
        fate.route = route
        ip = udp_datagram(_PCOA, _CN, net.ident("mn"), testflow.DEFAULT_PORT,
                          self._payload(testflow.FLOW_UP, seq, t, "mn"))
        if route == "old":
            at = self._hop(fate, "mn-par", "mn", t, ip)
        else:
            at = self._hop(fate, "mn-nar", "mn", t, ip)
            if at is None:
                return fate
            fate.tunnelled = True
            outer = net.encapsulate("nar", T.NAR_TUNNEL, T.PAR_TUNNEL,
                                    forwarded(ip))
            ip = forwarded(ip)
            at = self._hop(fate, "par-nar", "nar", at + FORWARD_US, outer)
        if at is None:
            return fate
        fate.delivered = self._deliver(fate, "par-cn", "par",
                                       at + FORWARD_US,
                                   forwarded(ip))
        return fate
