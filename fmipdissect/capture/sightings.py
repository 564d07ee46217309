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

With `addresses`, a sieve steps over the plain datagrams neither from nor
to them (D18): in C (_sieve.c) straight in the read buffer of a pcap file,
else the same test in Python (uninteresting()); the usual datagram of a
pcap file is read in place (SightingParser.plain), the others by the full
parser.  The capture's own notes (records.CaptureNote) come through
unchanged.
"""

from __future__ import annotations

from zlib import crc32

import fmipdissect.capture.linklayer as L
from ..records import CaptureNote
from ..spec.numbers import IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP
from ..wire import testflow
from ..wire.ipv4 import inet_ntoa
from ..spec import protocol
from . import accel
from .datagrams import FrameParser
from .prefilter import FAST_LINKS, NO_REPLIES, carries_fmip, plain_datagram
from .reader import CaptureReader

SIEVE = None
if not accel.PURE:
    try:
        from ._sieve import sieve as SIEVE
    except ImportError:            # not built: the pure-Python test below
        SIEVE = None

DIGEST_OCTETS = 64      # of the IP payload, in the datagram's identity (D18)
_TESTFLOW_MAGIC = testflow.MAGIC
_TESTFLOW_PORT = testflow.DEFAULT_PORT
_MIP_PORT = protocol.MIP_UDP_PORT
_ICMP_TYPE = protocol.ICMP_TYPE_EXPERIMENTAL_MOBILITY
_TUNNELS = frozenset(L.TUNNEL_PROTOCOLS)


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
    seq = property(lambda s: s[7])
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


def _sighting(frame, time, buf, ip: int, ihl: int, end: int, total: int,
              proto: int, fragment, outer, datagrams) -> Sighting:
    """The Sighting of the datagram whose IPv4 header is at buf[ip] (its
    octets end at end), from either path of the reader."""
    body = ip + ihl
    sport = dport = seq = None
    if not fragment and (proto == IPPROTO_UDP or proto == IPPROTO_TCP) \
            and body + 4 <= end:
        sport = buf[body] << 8 | buf[body + 1]
        dport = buf[body + 2] << 8 | buf[body + 3]
        seq = _seq(proto, buf, body, end, sport, dport)
    key = (bytes(buf[ip + 12:ip + 20]), proto, buf[ip + 4] << 8 | buf[ip + 5],
           crc32(buf[body:min(end, body + DIGEST_OCTETS)],
                 crc32(buf[ip + 6:ip + 8])))
    return Sighting((time, frame, key, buf[ip + 8], outer, sport, dport, seq,
                     total, datagrams))


class SightingParser(FrameParser):
    """FrameParser's frames as Sightings (the FMIPv4 ones keep the
    Datagrams FrameParser makes of them).  addresses and sample: the
    sieve's (SightingReader), for the frames no C sieve saw (pcapng)."""

    addresses = None
    sample = 1

    def parse(self, frame: int, time: float, linktype: int, data: bytes) -> list:
        row = L.LINKTYPES.get(linktype)
        if row is None:
            return []
        fast = FAST_LINKS.get(linktype)
        if self.addresses is not None and fast is not None and \
                uninteresting(data, 0, len(data), fast, self.addresses,
                              self.sample):
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
        fragment = data[ip + 6] & 0x3F or data[ip + 7]
        found = ()
        if (fragment and proto in (IPPROTO_UDP, IPPROTO_ICMP)) or \
                carries_fmip(proto, data, ip + ihl, end - ip - ihl,
                             self.fragments.replies or NO_REPLIES):
            found = super().parse(frame, time, linktype, data)
        outer = None
        if tunnel >= 0:
            outer = (inet_ntoa(data[tunnel + 12:tunnel + 16]),
                     inet_ntoa(data[tunnel + 16:tunnel + 20]))
        datagrams = tuple(d for d in found if d.__class__ is not CaptureNote)
        out = [_sighting(frame, time, data, ip, ihl, end, total, proto,
                         fragment, outer, datagrams)]
        if len(datagrams) != len(found):
            out.extend(d for d in found if d.__class__ is CaptureNote)
        return out

    def plain(self, frame: int, time: float, buf, ip: int, stop: int,
              encap) -> Sighting | None:
        """The Sighting parse() gives for the usual datagram, straight from
        the read buffer: IPv4 without options at buf[ip], not a fragment,
        not a tunnel, complete in buf[:stop]; None when parse() must
        decide.  An FMIPv4 candidate's Datagram comes from plain_datagram,
        as the ordinary reader's fast path makes it."""
        if buf[ip] != 0x45 or buf[ip + 6] & 0x3F or buf[ip + 7]:
            return None
        proto = buf[ip + 9]
        total = buf[ip + 2] << 8 | buf[ip + 3]
        end = ip + total
        if proto in _TUNNELS or total < 24 or end > stop:
            return None
        replies = self.fragments.replies or NO_REPLIES
        datagrams = ()
        if proto == IPPROTO_UDP:
            if (buf[ip + 22] << 8 | buf[ip + 23]) == L.VXLAN_PORT:
                return None
        if carries_fmip(proto, buf, ip + 20, total - 20, replies):
            found = plain_datagram(frame, time, buf, ip, stop, proto, encap,
                                   replies)
            if found is None:
                return None
            self.last_time = time
            datagrams = (found,)
        return _sighting(frame, time, buf, ip, 20, end, total, proto, 0,
                         None, datagrams)


_M32 = 0xFFFFFFFF


def sample_hash(addrs8: bytes, proto: int, ident: int) -> int:
    """A hash of what a router leaves alone (source, destination,
    Identification, protocol): the same in every capture, so a sample by
    it keeps a datagram in all of them or in none (_sieve.c has it too)."""
    h = int.from_bytes(addrs8[:4], "big") * 2654435761 & _M32
    h = (h ^ int.from_bytes(addrs8[4:], "big")) * 2246822519 & _M32
    h = (h ^ (ident << 8 | proto)) * 3266489917 & _M32
    return h ^ h >> 15


def uninteresting(buf, f: int, incl: int, row, addresses,
                  sample: int = 1) -> bool:
    """The sieve (decision D18): True for a frame at buf[f:f + incl] that
    is surely an IPv4 datagram at the link type's fixed offset (row: a
    FAST_LINKS row), not a fragment, a tunnel or an FMIPv4 candidate, from
    and to addresses outside `addresses` (ints).  _sieve.c is the same
    test in C; anything else goes to the full parser."""
    type_offset, type_value, _, link_header = row
    if incl < link_header + 24 or \
            buf[f + type_offset:f + type_offset + len(type_value)] != type_value:
        return False
    ip = f + link_header
    ihl = (buf[ip] & 15) * 4
    if buf[ip] >> 4 != 4 or ihl < 20 or link_header + ihl + 4 > incl:
        return False
    if buf[ip + 6] & 0x3F or buf[ip + 7]:
        return False
    proto = buf[ip + 9]
    if proto in _TUNNELS:
        return False
    if sample > 1 and sample_hash(bytes(buf[ip + 12:ip + 20]), proto,
                                  buf[ip + 4] << 8 | buf[ip + 5]) % sample:
        return True
    body = ip + ihl
    if proto == IPPROTO_UDP:
        dport = buf[body + 2] << 8 | buf[body + 3]
        if (buf[body] << 8 | buf[body + 1]) == _MIP_PORT or \
                dport in (_MIP_PORT, L.VXLAN_PORT):
            return False
    elif proto == IPPROTO_ICMP and buf[body] == _ICMP_TYPE:
        return False
    if not addresses:
        return True
    number = int.from_bytes
    return (number(buf[ip + 12:ip + 16], "big") not in addresses
            and number(buf[ip + 16:ip + 20], "big") not in addresses)


class SightingReader(CaptureReader):
    """Iterate a capture's Sightings and CaptureNotes in frame order
    (source, name and replies as for CaptureReader).  addresses: a set of
    IPv4 addresses (ints; not to change while reading) whose traffic is
    wanted: the sieve steps over the other plain datagrams of a pcap file
    (they are counted, not yielded); None: every datagram.  sample (may be
    changed while reading): keep only datagrams whose sample_hash is a
    multiple of it (the sieve's; other frames are the caller's to test)."""

    def __init__(self, source, *, name: str | None = None,
                 replies: set | None = None, addresses: set | None = None):
        super().__init__(source, prefilter=False, name=name, replies=replies)
        fragments = self.parser.fragments
        self.parser = SightingParser()
        self.parser.fragments = fragments
        self.addresses = self.parser.addresses = addresses
        records = self._records
        if addresses is not None and self.format == "pcap" and \
                records.linktype in FAST_LINKS:
            records.scan = self._sieved

    @property
    def sample(self) -> int:
        return self.parser.sample

    @sample.setter
    def sample(self, value: int) -> None:
        self.parser.sample = value

    def _sieved(self, buf, pos: int, avail: int):
        """PcapRecords' scan with the sieve in front, and the usual
        datagram read in place (SightingParser.plain)."""
        records, parser = self._records, self.parser
        row = FAST_LINKS[records.linktype]
        length, stamp, ts_div = records.length, records.stamp, records.ts_div
        addresses = self.addresses
        table = b"".join(a.to_bytes(4, "big") for a in sorted(addresses))
        big = records.endian == ">"
        type_offset, type_value, _, link_header = row
        type_at, type_end = 16 + type_offset, 16 + type_offset + len(type_value)
        layer = L.LINKTYPES[records.linktype][0]
        encap = (layer + "/ip/udp", layer + "/ip/icmp")
        while True:
            if SIEVE is not None:
                pos, skipped = SIEVE(buf, pos, avail, big, type_offset,
                                     type_value, link_header, table,
                                     self.sample)
                self.frames += skipped
            if pos + 16 > avail:
                return pos
            incl = length(buf, pos)[0]
            nxt = pos + 16 + incl
            if nxt > avail:
                return pos
            self.frames += 1
            if SIEVE is None and uninteresting(buf, pos + 16, incl, row,
                                               addresses, self.sample):
                pos = nxt
                continue
            if incl >= link_header + 24 and \
                    buf[pos + type_at:pos + type_end] == type_value:
                sec, frac = stamp(buf, pos)
                found = parser.plain(self.frames, sec + frac / ts_div, buf,
                                     pos + 16 + link_header, nxt, encap)
                if found is not None:
                    yield found
                    pos = nxt
                    continue
            yield from records._parse(self.frames, buf, pos)
            pos = nxt
