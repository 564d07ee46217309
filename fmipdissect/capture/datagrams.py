"""The full parser: one frame -> the FMIPv4 candidate datagrams in it.

Link layer and encapsulations (linklayer.locate), the IPv4 header, fragment
reassembly (fragments.Reassembler), then the candidate test
(prefilter.carries_fmip).  The reference path (prefilter off) runs it on
every frame; the fast path on the frames its prefilter keeps.
"""

from __future__ import annotations


from ..wire.ipv4 import inet_ntoa
from ..records import CaptureNote, Datagram
from ..spec.rules import RULES_BY_NAME, say
import fmipdissect.capture.linklayer as L
from .fragments import Reassembler
from ..spec.numbers import IPPROTO_ICMP, IPPROTO_UDP
from .prefilter import carries_fmip, fragment_key

RULE_CLIPPED = RULES_BY_NAME["packet-clipped"].id
RULE_TOO_DEEP = RULES_BY_NAME["tunnel-too-deep"].id
PROTO_NAMES = {IPPROTO_UDP: "udp", IPPROTO_ICMP: "icmp"}


def encapsulation(layers, proto: int) -> str:
    """The path a datagram came through, e.g. "eth/ip/gre/ip/udp"."""
    return "/".join(layers) + "/" + PROTO_NAMES[proto]


class FrameParser:
    """Parses frames of one capture; keeps its fragment table."""

    def __init__(self):
        self.fragments = Reassembler()
        self.last_time = 0.0           # time of the last frame parsed
                                       # (where both paths parse)

    def parse(self, frame: int, time: float, linktype: int, data: bytes) -> list:
        row = L.LINKTYPES.get(linktype)
        if row is None:
            return []
        ip, layers = L.locate(data, 0, len(data), row[0])
        if ip < 0:
            if ip == L.TOO_DEEP:
                return [CaptureNote(frame, time, RULE_TOO_DEEP, say(
                    RULE_TOO_DEEP, frame=frame, what=(
                        f"tunnels nested deeper than {L.MAX_LAYERS} headers "
                        f"or {L.MAX_MPLS_LABELS} MPLS labels")))]
            return []
        have = len(data) - ip          # captured octets from the IP header on
        if have < 20:
            return []
        vihl = data[ip]
        ihl = (vihl & 15) * 4
        if vihl >> 4 != 4 or ihl < 20 or have < ihl:
            return []
        proto = data[ip + 9]
        if proto != IPPROTO_UDP and proto != IPPROTO_ICMP:
            return []
        total = int.from_bytes(data[ip + 2:ip + 4], "big")
        if total == 0:                 # TSO / GSO capture: length not filled in
            total = have
        if total < ihl:
            return []
        end = ip + min(total, have)    # cuts link-layer trailer padding
        flags = data[ip + 6]
        offset = ((flags & 0x1F) << 8 | data[ip + 7]) * 8
        if flags & 0x20 or offset:
            return self._fragment(frame, time, data, ip, ihl, total, end,
                                  offset, bool(flags & 0x20), layers)
        src = inet_ntoa(data[ip + 12:ip + 16])
        dst = inet_ntoa(data[ip + 16:ip + 20])
        clipped = have < total
        datagram = make_datagram(frame, time, src, dst, proto, data[ip + 8],
                                 data[ip + ihl:end], clipped, (),
                                 encapsulation(layers, proto),
                                 self.fragments.replies)
        if datagram is None:
            return []
        self.last_time = time
        if clipped:
            return [datagram, CaptureNote(frame, time, RULE_CLIPPED, say(
                RULE_CLIPPED, frame=frame, proto=PROTO_NAMES[proto].upper(),
                src=src, dst=dst, have=have, total=total))]
        return [datagram]

    def _fragment(self, frame, time, data, ip, ihl, total, end, offset,
                  more, layers) -> list:
        key = fragment_key(data, ip)
        piece = bytes(data[ip + ihl:end])
        out, done = self.fragments.add(frame, time, key, offset, piece,
                                       total - ihl, more)
        if done is None:
            if key in self.fragments.sets:     # kept, not rejected
                self.last_time = time
            return out
        self.last_time = time
        proto = key[1]
        datagram = make_datagram(
            frame, time, inet_ntoa(key[2][:4]),
            inet_ntoa(key[2][4:]), proto, data[ip + 8], done.body(),
            False, tuple(done.frames), encapsulation(layers, proto),
            self.fragments.replies)
        if datagram is not None:
            out.append(datagram)
        return out


def make_datagram(frame, time, src, dst, proto, ttl, body: bytes, clipped,
                  fragments, encap, replies) -> Datagram | None:
    if not carries_fmip(proto, body, 0, len(body), replies):
        return None
    if proto == IPPROTO_UDP:
        return Datagram(frame, time, src, dst, proto, ttl,
                        body[0] << 8 | body[1], body[2] << 8 | body[3],
                        bytes(body[8:]), clipped, fragments, encap)
    return Datagram(frame, time, src, dst, proto, ttl, None, None,
                    bytes(body), clipped, fragments, encap)
