"""Hand-built datagrams of one handover for the data-plane tests: a
constant-rate test flow each way between CN and MN through the shared
topology (CN - PAR - old link - MN; PAR - NAR - new link - MN), with the
times worked out here from fixed link delays, so that every expected count
can be derived by hand.

Timeline (seconds): the flows start at T0; PAR tunnels the downlink to NAR
from TUNNEL on (the FBU reached it); the MN leaves the old link at LEAVE
and attaches to NAR at ATTACH (the layer-2 gap).  NAR buffers what arrives
before ATTACH when `buffering`, else drops it.
"""

from __future__ import annotations

from fmipdissect.correlate.observed import Observation, SeenDatagram
from fmipdissect.wire import testflow

CN, MN, PAR, NAR = "198.18.3.10", "198.18.1.10", "198.18.1.1", "198.18.2.1"
TUNNEL_OUT = ("198.18.0.1", "198.18.0.2")     # PAR -> NAR
TUNNEL_BACK = ("198.18.0.2", "198.18.0.1")    # NAR -> PAR
PORT = testflow.DEFAULT_PORT
T0 = 100.0
INTERVAL = 0.005                # 200 packets/s each way
COUNT = 150                     # 0.75 s each way: inside the window
TUNNEL, LEAVE, ATTACH = 100.3002, 100.4, 100.45
CN_PAR = OLD_LINK = NAR_MN = 0.001
PAR_NAR = 0.002
UP_OFFSET = 0.0025              # the uplink sends between downlink packets


class Record:
    """The fields of a handover record the data plane reads."""

    def __init__(self, start=100.29, end=100.31, mode="predictive"):
        self.mn = self.pcoa = MN
        self.ncoa = MN
        self.par, self.nar = PAR, NAR
        self.start, self.end, self.mode = start, end, mode


def _datagram(src, dst, flow, seq, sightings):
    frames = {}
    obs = []
    for vantage, time, tunnel in sorted(sightings, key=lambda s: s[1]):
        frames[vantage] = frames.get(vantage, 0) + 1
        obs.append(Observation(vantage, frames[vantage], time, tunnel))
    return SeenDatagram(src, dst, 17, (flow * 1000 + seq) & 0xFFFF, PORT,
                        PORT, (flow, seq), 84, obs)


def down(n, buffering=True):
    """Sightings of downlink packet n: (vantage, time, tunnel)."""
    sent = T0 + n * INTERVAL
    at_par = sent + CN_PAR
    seen = [("cn", sent, None), ("par", at_par, None)]
    if at_par < TUNNEL:
        seen.append(("par", at_par, None))           # out on the old link
        if at_par + OLD_LINK < LEAVE:
            seen.append(("mn", at_par + OLD_LINK, None))
        return seen
    seen.append(("par", at_par, TUNNEL_OUT))
    at_nar = at_par + PAR_NAR
    seen.append(("nar", at_nar, TUNNEL_OUT))
    if at_nar < ATTACH and not buffering:
        return seen                                   # dropped at NAR
    out = max(at_nar, ATTACH)
    seen += [("nar", out, None), ("mn", out + NAR_MN, None)]
    return seen


def up(m):
    """Sightings of uplink packet m ([] while the MN is detached)."""
    sent = T0 + UP_OFFSET + m * INTERVAL
    if sent < LEAVE:
        at_par = sent + OLD_LINK
        return [("mn", sent, None), ("par", at_par, None),
                ("par", at_par, None), ("cn", at_par + CN_PAR, None)]
    if sent < ATTACH:
        return []
    at_nar = sent + NAR_MN
    at_par = at_nar + PAR_NAR
    return [("mn", sent, None), ("nar", at_nar, None),
            ("nar", at_nar, TUNNEL_BACK), ("par", at_par, TUNNEL_BACK),
            ("par", at_par, None), ("cn", at_par + CN_PAR, None)]


def scene(keep=("mn", "par", "nar", "cn"), buffering=True, edit=None):
    """Every datagram of both flows as the captures in `keep` saw it, in
    order of first sighting.  `edit(direction, number, sightings)` may
    change a packet's sightings (loss, duplicates, reordering)."""
    out = []
    for direction, flow, src, dst, make in (
            ("down", testflow.FLOW_DOWN, CN, MN,
             lambda n: down(n, buffering)),
            ("up", testflow.FLOW_UP, MN, CN, up)):
        for n in range(COUNT):
            seen = make(n)
            if edit:
                seen = edit(direction, n, seen)
            seen = [s for s in seen if s[0] in keep]
            if seen:
                out.append(_datagram(src, dst, flow, n, seen))
    out.sort(key=lambda d: d.observations[0].time)
    return out


def roles(keep=("mn", "par", "nar", "cn")):
    return {name: name for name in keep}
