"""The lab's moving mobile node: handovers in which the MN really leaves
PAR's link and attaches to NAR's (run inside the MN's namespace).

    predictive  RtSolPr/PrRtAdv and FBU/FBAck on the old link, then leave,
                the layer-2 gap, attach (RFC 4988 Figure 1)
    reactive    leave, the gap, attach, then the FBU to NAR (Figure 2)
    baseline    leave, the gap, attach, then a Mobile IPv4 registration
                with PAR as the PCoA's home agent (registration.py)

Leaving is the old link going down (the MN's interface on it: the router's
end loses carrier); attaching is the new link coming up with a default
route through NAR.  After each handover the MN stays on the new link for
--stay seconds, goes home without a loss (go_home), and stays --dwell
seconds at home, so that every handover starts alike.  Prints
one JSON object: {"handovers": [{"mode", "outcome", "start", "left",
"attached", "bound", "home", "end"} ...]} with times in seconds since the
epoch (the captures' clock), "bound" being when the MN had its FBAck or
Registration Reply.
"""

from __future__ import annotations

import argparse
import json
import select
import socket
import sys
import time

from ..lint.keys import load_keys
from ..spec import protocol as P
from . import registration as R
from .live import LiveLink
from .netlink import Routes
from .mn import PREDICTIVE, REACTIVE, MobileNode, Outcome
from ..handovers.dataplane import SETTLE_SECONDS
from .roles import udp

BASELINE = "baseline"
MODES = (PREDICTIVE, REACTIVE, BASELINE)
REGISTRATION_LIFETIME = P.LIFETIME_MAX   # s asked for in the baseline
ADVERT_WAIT = 3 * R.ADVERT_INTERVAL      # s for an Agent Advertisement
RETURN_OVERLAP = 0.2                     # s on both links when going home
# s between the old link coming back up and the deregistration that sends
# traffic there again: dumpcap resumes capturing on a link brought back up
# after a moment, and a frame before that would read as lost
RETURN_SETTLE = 0.1
# s at home before the first baseline handover after fast ones: the
# data-plane analysis reads a fast handover's traffic until this long
# after its last message (decision D20), and a baseline handover has no
# FMIPv4 message to end that window
FAST_WINDOW = SETTLE_SECONDS


class Mover:
    def __init__(self, args, link, key):
        self.a, self.link, self.key = args, link, key
        self.mn = MobileNode(link, args.pcoa, args.par, args.ap, key,
                             nar=args.nar, timeout=args.timeout, retries=1)
        self.ident = int(time.time()) << 32
        self.net = Routes()
        self.icmp = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                  socket.IPPROTO_ICMP)

    def home(self) -> None:
        """On PAR's link, NAR's link down."""
        self.net.link(self.a.new, False)
        self.net.link(self.a.old, True)
        self.net.neighbour(self.a.old, self.a.par, self.a.par_lla)
        self.net.replace("default", self.a.old, self.a.par)

    def go_home(self) -> None:
        """Back to PAR's link without losing a packet (make before break):
        the old link up, the deregistration (RFC 5944 3.6.1.1), what was in
        the tunnel still arriving on the new link for RETURN_OVERLAP, then
        the new link down.  The return is not a handover the lab measures;
        a lossless one keeps its packets out of the next handover's count."""
        self.net.link(self.a.old, True)
        self.net.neighbour(self.a.old, self.a.par, self.a.par_lla)
        self.net.replace("default", self.a.old, self.a.par)
        time.sleep(RETURN_SETTLE)
        self.register(self.a.pcoa, 0)
        time.sleep(RETURN_OVERLAP)
        self.net.link(self.a.new, False)

    def leave(self) -> None:
        self.net.link(self.a.old, False)

    def attach(self) -> None:
        self.net.link(self.a.new, True)
        self.net.neighbour(self.a.new, self.a.nar, self.a.nar_lla)
        self.net.replace("default", self.a.new, self.a.nar)

    def movement_detected(self) -> str | None:
        """The care-of address of the first Agent Advertisement heard on
        the new link (RFC 5944 2.4.2: the MN learns it moved from the new
        foreign agent's advertisement; it does not solicit, decision
        D22), None after ADVERT_WAIT seconds."""
        from .forwarding import drain
        drain(self.icmp)
        end = time.monotonic() + ADVERT_WAIT
        while (left := end - time.monotonic()) > 0:
            ready, _, _ = select.select([self.icmp], [], [], left)
            if ready:
                packet = self.icmp.recv(65535)
                coa = R.advertised_coa(packet[(packet[0] & 0x0F) * 4:])
                if coa is not None:
                    return coa
        return None

    def register(self, coa: str, lifetime: int):
        """Registration Request to PAR (its home agent), the Reply's Code
        or None (RFC 5944 3.3, 3.4)."""
        self.ident += 1
        body = R.request(self.a.pcoa, self.a.par, coa, lifetime, self.ident,
                         self.key)
        from scapy.packet import Raw
        self.mn.send(udp(self.a.pcoa, self.a.par) / Raw(body))
        end = time.monotonic() + self.a.timeout
        while (left := end - time.monotonic()) > 0:
            for seen in self.link.poll(min(left, 0.05)):
                got = None if seen.outgoing else R.parse(seen.payload)
                if got is not None and got.kind == R.REPLY \
                        and got.ident == self.ident:
                    return got.code
        return None

    def handover(self, mode: str) -> dict:
        t = {"mode": mode, "start": time.time()}
        outcome = "completed"
        if mode == PREDICTIVE:
            got = self.mn.handover(PREDICTIVE)
            t["bound"] = time.time()
            outcome = got.outcome
        elif mode == REACTIVE:     # NAR learnt on the old link (Figure 2)
            reactive = Outcome(REACTIVE)
            nar = self.mn.discover(reactive)
        self.leave()
        t["left"] = time.time()
        time.sleep(self.a.l2_gap / 1000)
        self.attach()
        t["attached"] = time.time()
        if mode == REACTIVE:
            outcome = (self.mn.fast_binding(reactive, nar).outcome
                       if nar else "incomplete")
            t["bound"] = time.time()
        elif mode == BASELINE:
            coa = self.movement_detected()
            t["detected"] = time.time()
            code = self.register(coa, REGISTRATION_LIFETIME) if coa else None
            outcome = "completed" if code == R.ACCEPTED else "incomplete"
            t["bound"] = time.time()
        time.sleep(self.a.stay)
        t["home"] = time.time()
        self.go_home()
        time.sleep(self.a.dwell)
        t["end"] = time.time()
        t["outcome"] = outcome
        return t


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="fmipdissect.active.mover")
    for name in ("pcoa", "par", "nar", "ap", "keys", "old", "new", "par-lla",
                 "nar-lla"):
        p.add_argument(f"--{name}", required=True)
    p.add_argument("--mode", action="append", choices=MODES, required=True)
    p.add_argument("--handovers", type=int, default=1)
    p.add_argument("--l2-gap", type=float, default=50.0)
    p.add_argument("--dwell", type=float, default=0.4)
    p.add_argument("--stay", type=float, default=0.4)
    p.add_argument("--timeout", type=float, default=1.0)
    args = p.parse_args(argv)
    key = next(iter(load_keys(args.keys).values()))
    with LiveLink(None, address=args.pcoa) as link:
        mover = Mover(args, link, key)
        print("ready", file=sys.stderr, flush=True)
        sys.stdin.readline()
        mover.home()
        link.drain()
        time.sleep(args.dwell)
        done = []
        for mode in args.mode:
            if mode == BASELINE and done:
                time.sleep(max(0.0, FAST_WINDOW - args.dwell))
            done += [mover.handover(mode) for _ in range(args.handovers)]
    json.dump({"handovers": done}, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
