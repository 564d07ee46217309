"""Decision D16: replies awaited on ports other than 434.

RFC 4988 5.2 gives the FBAck a variable source port and copies its
destination port from the FBU's source port.  An FBU sent from a port other
than 434 therefore awaits its FBAck from the address it was sent to, at the
address and port it came from.  AwaitedReplies keeps those (bounded and
expiring like every table of the correlator) and the set of their ports,
which the capture reader's prefilter reads to keep such datagrams
(capture/prefilter.py carries_fmip).
"""

from __future__ import annotations

from collections import OrderedDict

from ..decode.decoder import decode_icmp, decode_mip
from ..spec import constraints as K
from ..spec import protocol as P
from ..spec.numbers import IPPROTO_ICMP, IPPROTO_UDP
from .state import PairSeen, pop_expired

_PORT = P.MIP_UDP_PORT


class AwaitedReplies:
    def __init__(self, ports: set | None = None):
        self.ports: set[int] = ports if ports is not None else set()
        self.awaited: OrderedDict[tuple, PairSeen] = OrderedDict()

    def fbu(self, dgram, now) -> None:
        """An FBU was seen: await its reply when it came from another port."""
        if dgram.sport == _PORT or dgram.sport is None:
            return
        key = (dgram.dst, dgram.src, dgram.sport)
        seen = self.awaited.get(key)
        if seen is None:
            self.awaited[key] = PairSeen(now)
            self.ports.add(dgram.sport)
            if len(self.awaited) > K.MAX_ENTRIES:
                self.awaited.popitem(last=False)
                self._ports()
        else:
            seen.last = now
            self.awaited.move_to_end(key)

    def message(self, dgram, lla_length):
        """The decoded message of a datagram the capture reader kept; None
        when it travels on other ports than 434 and is not an awaited FBAck
        (left alone, not reported), or does not decode as FMIPv4."""
        # (decode_datagram's dispatch, inline: this runs for every message)
        proto = dgram.proto
        if proto == IPPROTO_ICMP:
            return decode_icmp(dgram.payload, lla_length)
        if proto != IPPROTO_UDP:
            return None
        if _PORT == dgram.sport or _PORT == dgram.dport:
            return decode_mip(dgram.payload, lla_length)
        if not self.expects(dgram):
            return None
        msg = decode_mip(dgram.payload, lla_length)
        return msg if msg is not None and msg.key == "fback" else None

    def expects(self, dgram) -> bool:
        """Whether a UDP datagram on other ports than 434 is an awaited
        reply (from the FBU's destination to its source address and port)."""
        return (dgram.src, dgram.dst, dgram.dport) in self.awaited

    def expire(self, horizon, now, future) -> None:
        if pop_expired(self.awaited, horizon, now, future):
            self._ports()

    def _ports(self) -> None:
        """The shared set of ports, again from what is awaited."""
        self.ports.clear()
        self.ports.update(key[2] for key in self.awaited)
