"""Every IPv4 datagram of a capture, for the merge of several captures.

`fmipdissect handovers --merge` needs more than the FMIPv4 candidates: the
same datagram must be recognised in every capture that saw it (clock
offsets, one-way delays) and the mobile node's own traffic feeds the data
plane.  SightingReader reads a capture as CaptureReader does (same file
formats, compression, link layers; capture/source.py, linklayer.py) and
yields one Sighting per IPv4 datagram of each frame:

- a tunnelled datagram (IP-in-IP, GRE, VXLAN) is the inner one; the outer
  header's addresses are kept as where it was carried (`tunnel`);
- its identity (`key`) is what a router does not change on the way
  (decision D18): source, destination, protocol, Identification, and a
  CRC-32 of the first DIGEST_OCTETS octets after the IP header (so a copy
  clipped by a smaller snap length still matches);
- an FMIPv4 candidate also carries the records.Datagram(s) the ordinary
  reader makes of that frame (the same FrameParser), so decode, the checks
  and the correlator see exactly what they see for one capture.

The capture's own notes (records.CaptureNote) come through unchanged.
"""

from __future__ import annotations

from zlib import crc32

import fmipdissect.capture.linklayer as L
from ..records import CaptureNote
from ..spec.numbers import IPPROTO_ICMP, IPPROTO_UDP
from ..wire import testflow
from ..wire.ipv4 import inet_ntoa
from .datagrams import FrameParser
from .prefilter import NO_REPLIES, carries_fmip
from .reader import CaptureReader

IPPROTO_TCP = 6
DIGEST_OCTETS = 64      # of the IP payload, in the datagram's identity (D18)
_TESTFLOW_MAGIC = testflow.MAGIC
_TESTFLOW_PORT = testflow.DEFAULT_PORT


class Sighting(tuple):
    """(time, frame, key, ttl, tunnel, sport, dport, seq, size, datagrams):
    one IPv4 datagram in one frame, a tuple for speed (one per packet).

    key: (source and destination as 8 octets, protocol, Identification,
    digest), the datagram's identity across captures (decision D18);
    tunnel: (outer src, outer dst) or None; seq: (flow, number) where the
    flow numbers its packets (the test flow, wire/testflow.py; TCP:
    ("tcp", sequence number)); datagrams: the records.Datagram list the
    ordinary reader makes of this frame (FMIPv4 candidates), else ()."""

    __slots__ = ()

    time = property(lambda s: s[0])
    frame = property(lambda s: s[1])
    key = property(lambda s: s[2])
    ttl = property(lambda s: s[3])
    tunnel = property(lambda s: s[4])
    datagrams = property(lambda s: s[9])

    @property
    def src(self) -> str:
        return inet_ntoa(self[2][0][:4])

    @property
    def dst(self) -> str:
        return inet_ntoa(self[2][0][4:])


def _seq(proto: int, buf, body: int, end: int, sport, dport):
    """(flow, number) of a datagram whose transport numbers its packets."""
    if proto == IPPROTO_UDP:
        if (dport == _TESTFLOW_PORT or sport == _TESTFLOW_PORT) and \
                buf[body + 8:body + 12] == _TESTFLOW_MAGIC:
            head = testflow.parse(bytes(buf[body + 8:body + 8
                                             + testflow.HEADER_SIZE]))
            return None if head is None else (head[0], head[1])
        return None
    if proto == IPPROTO_TCP and body + 8 <= end:
        return ("tcp", int.from_bytes(buf[body + 4:body + 8], "big"))
    return None


class SightingParser(FrameParser):
    """FrameParser's frames as Sightings (the FMIPv4 ones keep the
    Datagrams FrameParser makes of them)."""

    def parse(self, frame: int, time: float, linktype: int, data: bytes) -> list:
        row = L.LINKTYPES.get(linktype)
        if row is None:
            return []
        stop = len(data)
        ip, tunnel, _ = L.locate_tunnel(data, 0, stop, row[0])
        if ip < 0 or stop - ip < 20:
            return super().parse(frame, time, linktype, data) \
                if ip == L.TOO_DEEP else []
        vihl = data[ip]
        ihl = (vihl & 15) * 4
        if vihl >> 4 != 4 or ihl < 20 or stop - ip < ihl:
            return []
        total = data[ip + 2] << 8 | data[ip + 3]
        end = ip + total if ip + ihl <= ip + total <= stop else stop
        proto = data[ip + 9]
        body = ip + ihl
        fragment = data[ip + 6] & 0x3F or data[ip + 7]
        sport = dport = seq = None
        if not fragment and proto in (IPPROTO_UDP, IPPROTO_TCP) \
                and body + 4 <= end:
            sport = data[body] << 8 | data[body + 1]
            dport = data[body + 2] << 8 | data[body + 3]
            seq = _seq(proto, data, body, end, sport, dport)
        found = ()
        if (fragment and proto in (IPPROTO_UDP, IPPROTO_ICMP)) or \
                carries_fmip(proto, data, body, end - body,
                             self.fragments.replies or NO_REPLIES):
            found = super().parse(frame, time, linktype, data)
        key = (data[ip + 12:ip + 20], proto, data[ip + 4] << 8 | data[ip + 5],
               crc32(data[ip + 6:ip + 8] + data[body:min(end, body
                                                          + DIGEST_OCTETS)]))
        outer = None
        if tunnel >= 0:
            outer = (inet_ntoa(data[tunnel + 12:tunnel + 16]),
                     inet_ntoa(data[tunnel + 16:tunnel + 20]))
        datagrams = tuple(d for d in found if d.__class__ is not CaptureNote)
        out = [Sighting((time, frame, key, data[ip + 8], outer, sport, dport,
                         seq, total, datagrams))]
        if len(datagrams) != len(found):
            out.extend(d for d in found if d.__class__ is CaptureNote)
        return out


class SightingReader(CaptureReader):
    """Iterate a capture's Sightings and CaptureNotes in frame order
    (source, name and replies as for CaptureReader)."""

    def __init__(self, source, *, name: str | None = None,
                 replies: set | None = None):
        super().__init__(source, prefilter=False, name=name, replies=replies)
        fragments = self.parser.fragments
        self.parser = SightingParser()
        self.parser.fragments = fragments
