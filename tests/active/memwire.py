"""The prober against an emulator over an in-memory wire (no namespaces).

Everything the prober sends reaches the router role's handler, everything
the role sends comes back to the prober, as Ethernet frames parsed by the
same code as on a live link (fmipdissect.active.live.parse_fmip_frame).
Fast and deterministic: the unit tests of the cases use it; the lab tests
repeat the important ones on real interfaces.
"""

from __future__ import annotations

import time

from fmipdissect.active.exchange import ProbeConfig, Prober
from fmipdissect.active.faults import parse_faults
from fmipdissect.active.live import Seen, parse_fmip_frame
from fmipdissect.active.profile import Profile
from fmipdissect.active.verdicts import run_cases
from fmipdissect.active.roles import NAR, PAR, Neighbour
from fmipdissect.active.cases import cases_for
from fmipdissect.lint.keys import Key

KEY = Key(0x100, b"memwire-key", "hmac-md5")
PROBER_MAC, ROUTER_MAC = "02:00:00:aa:00:01", "02:00:00:bb:00:01"
PAR_ADDR, NAR_ADDR, MN = "198.18.1.1", "198.18.2.1", "198.18.1.10"
PEER_NAR, PEER_PAR = "198.18.1.3", "198.18.2.2"
AP = "02:00:00:cc:00:03"
FBU_PORT = 49434
PORTS = (434, FBU_PORT)


def _frame(src_mac: str, dst_mac: str, ip: bytes) -> bytes:
    return (bytes.fromhex(dst_mac.replace(":", ""))
            + bytes.fromhex(src_mac.replace(":", "")) + b"\x08\x00" + ip)


class _End:
    """One end of the wire: a LiveLink look-alike."""

    def __init__(self, mac: str):
        self.mac = mac
        self.inbox: list[Seen] = []
        self.other: "_End | None" = None
        self.router = None           # set on the prober's end

    def send(self, packet) -> None:
        data = bytes(packet)
        now = time.time()
        frame = _frame(self.mac, self.other.mac, data)
        parsed = parse_fmip_frame(frame, PORTS)
        if parsed is None:
            return
        self.inbox.append(Seen(now, "mem0", frame, True, *parsed))
        self.other.inbox.append(Seen(now, "mem0", frame, False, *parsed))

    def poll(self, timeout: float):
        if self.router is not None:
            self.router.step(0)      # the router acts on what reached it
            if not self.inbox:
                time.sleep(min(timeout, 0.002))
                self.router.step(0)
        out, self.inbox = self.inbox, []
        return out

    def drain(self) -> None:
        self.inbox = []


def wire():
    prober, router = _End(PROBER_MAC), _End(ROUTER_MAC)
    prober.other, router.other = router, prober
    return prober, router


def make_router(target: str, end: "_End", faults=(), cls=None):
    injected = parse_faults(list(faults), target)
    if target == "par":
        cls = cls or PAR
        return cls(end, PAR_ADDR, [Neighbour(AP, PEER_NAR, ROUTER_MAC, 24)],
                   {KEY.spi: KEY}, injected)
    cls = cls or NAR
    return cls(end, NAR_ADDR, "198.18.2.100", injected)


def probe(target: str, faults=(), cls=None, timeout: float = 0.05,
          profile=Profile()):
    """Run every case of target against an emulated router; the results
    (dicts as in probe's JSON)."""
    return probe_with(target, faults, cls, timeout, profile)[0]


def probe_with(target: str, faults=(), cls=None, timeout: float = 0.05,
               profile=Profile()):
    """(results, prober): the prober keeps each exchange in .results."""
    mine, theirs = wire()
    router = make_router(target, theirs, faults, cls)
    mine.router = router
    cfg = ProbeConfig(
        target, PAR_ADDR if target == "par" else NAR_ADDR, MN,
        PEER_NAR if target == "par" else PEER_PAR,
        AP if target == "par" else None, "02:00:00:ff:ff:fe", KEY,
        {KEY.spi: KEY}, "198.19.255.10", "198.19.255.20", timeout, FBU_PORT)
    prober = Prober(mine, cfg)
    try:
        return run_cases(prober, cases_for(target), profile), prober
    finally:
        prober.close()


def seen_of(packet, outgoing: bool = False) -> Seen:
    """A frame as the prober's link delivers it, from an IPv4 packet."""
    macs = (PROBER_MAC, ROUTER_MAC) if outgoing else (ROUTER_MAC, PROBER_MAC)
    frame = _frame(*macs, bytes(packet))
    return Seen(time.time(), "mem0", frame, outgoing,
                *parse_fmip_frame(frame, PORTS))
