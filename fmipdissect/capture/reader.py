"""Streaming reading of pcap and pcapng captures.

CaptureReader walks a capture file chunk by chunk (never the whole file in
memory, never writing to it) and yields, in frame order:

- records.Datagram for every IPv4 datagram that may carry FMIPv4: UDP with
  source or destination port protocol.MIP_UDP_PORT (RFC 4988 5.1, 5.2), or
  ICMP of type protocol.ICMP_TYPE_EXPERIMENTAL_MOBILITY (RFC 4065 3,
  RFC 4988 5.3-5.6);
- records.CaptureNote for problems of the capture itself (rules FM901
  capture-truncated, FM902 fragment-not-reassembled, FM903 packet-clipped
  of lint/rules.py).

Two paths find the datagrams.  The fast path (prefilter=True, the default)
looks at a few octets of each record at fixed offsets (link-layer type
field, IP protocol, fragment bits, UDP ports / ICMP type) straight in the
read buffer, with one precompiled struct per record, and builds objects only
for the few frames that pass.  The slow path (prefilter=False) fully parses
every frame from its link layer up; it is the obviously-correct reference
the tests hold the fast path against.  Both hand the frames they keep to the
same full parser, so the prefilter only has to be a superset of what that
parser accepts.

Supported: pcap (both byte orders, microsecond and nanosecond magic) and
pcapng (sections in either byte order, several interfaces each with its own
link type, if_tsresol and if_tsoffset, Enhanced / Simple / obsolete Packet
Blocks, unknown blocks skipped).  Link types: Ethernet with 802.1Q/802.1ad/
QinQ tags, Linux cooked v1 and v2, raw IPv4, BSD null and OpenBSD loop,
IEEE 802.11 plain and with radiotap (data frames, LLC/SNAP).  Frames of
other link types are counted and skipped (see unsupported_linktypes).
IPv4 fragments of UDP and ICMP datagrams are reassembled.
"""

from __future__ import annotations

import os
import socket
import struct
from typing import Iterator

from ..spec import protocol
from ..errors import InputError
from ..records import CaptureNote, Datagram

__all__ = ["CaptureError", "CaptureReader", "LINKTYPE_NAMES"]

RULE_TRUNCATED = "FM901"      # lint/rules.py capture-truncated
RULE_FRAGMENTS = "FM902"      # lint/rules.py fragment-not-reassembled
RULE_CLIPPED = "FM903"        # lint/rules.py packet-clipped

IPPROTO_ICMP = 1
IPPROTO_UDP = 17
_PORT = protocol.MIP_UDP_PORT
_PORT_HI, _PORT_LO = _PORT >> 8, _PORT & 0xFF
_ICMP_TYPE = protocol.ICMP_TYPE_EXPERIMENTAL_MOBILITY

# --- file formats -----------------------------------------------------------

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
PCAPNG_SHB = 0x0A0D0D0A        # palindromic: same in both byte orders
PCAPNG_BOM = 0x1A2B3C4D
PCAPNG_IDB = 1
PCAPNG_OPB = 2                 # obsolete Packet Block
PCAPNG_SPB = 3
PCAPNG_EPB = 6
IDB_OPT_TSRESOL = 9
IDB_OPT_TSOFFSET = 14

# --- link types (tcpdump.org/linktypes.html) ----------------------------------

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW_12 = 12           # DLT_RAW on most systems (12 = LOOP on OpenBSD)
LINKTYPE_RAW = 101
LINKTYPE_IEEE802_11 = 105
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IEEE802_11_RADIOTAP = 127
LINKTYPE_IPV4 = 228
LINKTYPE_LINUX_SLL2 = 276

LINKTYPE_NAMES = {
    LINKTYPE_NULL: "BSD null", LINKTYPE_ETHERNET: "Ethernet",
    LINKTYPE_RAW_12: "raw IP", LINKTYPE_RAW: "raw IP",
    LINKTYPE_IEEE802_11: "IEEE 802.11", LINKTYPE_LOOP: "OpenBSD loop",
    LINKTYPE_LINUX_SLL: "Linux cooked v1",
    LINKTYPE_IEEE802_11_RADIOTAP: "IEEE 802.11 radiotap",
    LINKTYPE_IPV4: "raw IPv4", LINKTYPE_LINUX_SLL2: "Linux cooked v2",
}

ETHERTYPE_IPV4 = b"\x08\x00"
ETHERTYPE_VLAN = (b"\x81\x00", b"\x88\xa8", b"\x91\x00")   # 802.1Q, 802.1ad, QinQ
AF_INET_BSD = 2                # AF_INET on every BSD, macOS and Linux
LLC_SNAP_IPV4 = (b"\xaa\xaa\x03\x00\x00\x00\x08\x00",     # RFC 1042
                 b"\xaa\xaa\x03\x00\x00\xf8\x08\x00")     # 802.1H bridge tunnel

# Fast-path description of a link type: where a fixed-position type field
# sits, the value that means IPv4, the other values that need a closer look
# (VLAN tags, the other byte order), the link header length, and whether a
# VLAN tag there is followed directly by the next ethertype (Ethernet, cooked
# v1), which _vlan_candidate then walks in the buffer.
#   linktype: (type_offset, type_value, other_values, header_length, vlan_chain)
_FAST = {
    LINKTYPE_ETHERNET: (12, ETHERTYPE_IPV4, ETHERTYPE_VLAN, 14, True),
    LINKTYPE_LINUX_SLL: (14, ETHERTYPE_IPV4, ETHERTYPE_VLAN, 16, True),
    LINKTYPE_LINUX_SLL2: (0, ETHERTYPE_IPV4, ETHERTYPE_VLAN, 20, False),
    LINKTYPE_RAW: (0, b"", (), 0, False),
    LINKTYPE_RAW_12: (0, b"", (), 0, False),
    LINKTYPE_IPV4: (0, b"", (), 0, False),
    # the null family is in the writer's host order: accept both
    LINKTYPE_NULL: (0, b"\x02\x00\x00\x00", (b"\x00\x00\x00\x02",), 4, False),
    LINKTYPE_LOOP: (0, b"\x00\x00\x00\x02", (b"\x02\x00\x00\x00",), 4, False),
}
_VLAN_WALK = 8                 # tags the prefilter walks before giving up
# Link types without a fast path: every frame goes to the full parser.
_FULL_ONLY = (LINKTYPE_IEEE802_11, LINKTYPE_IEEE802_11_RADIOTAP)

# --- limits -----------------------------------------------------------------

CHUNK = 1 << 20                # octets read at a time
PAD = 256                      # slack after the data so fixed-offset peeks
                               # never run off the buffer (link 20 + IP 60 + 4)
SENTINEL = b"\xff" * PAD
MAX_RECORD = 1 << 26           # a record or block longer than this is garbage
FRAGMENT_TIMEOUT = 30.0        # seconds of capture time
FRAGMENT_MAX_SETS = 4096       # fragment sets kept at once
FRAGMENT_MAX_OCTETS = 32 << 20  # octets kept in fragment sets at once

_NEED_MORE, _STOP = -1, -2


class CaptureError(InputError):
    """The file is not a readable pcap/pcapng capture (one-line message)."""


def _hex4(head: bytes) -> str:
    return " ".join(f"{b:02x}" for b in head[:4])


# --- link layers: data -> offset of the IPv4 header, or -1 --------------------

def _after_ethertype(data: bytes, type_offset: int) -> int:
    """Offset of IPv4 after an ethertype at type_offset, through VLAN tags."""
    while True:
        ethertype = data[type_offset:type_offset + 2]
        if ethertype == ETHERTYPE_IPV4:
            return type_offset + 2
        if ethertype in ETHERTYPE_VLAN and len(ethertype) == 2:
            type_offset += 4      # TCI (2) then the next ethertype
            continue
        return -1


def _ieee802_11(data: bytes, start: int) -> int:
    """Offset of IPv4 in an 802.11 data frame carrying LLC/SNAP, or -1."""
    if len(data) < start + 24:
        return -1
    fc0, fc1 = data[start], data[start + 1]
    if (fc0 >> 2) & 3 != 2:           # not a data frame
        return -1
    subtype = fc0 >> 4
    if subtype & 0x4:                 # Null / CF-Ack/Poll without data
        return -1
    if fc1 & 0x40:                    # Protected Frame: encrypted payload
        return -1
    header = 24
    if fc1 & 0x03 == 0x03:            # ToDS and FromDS: 4-address frame
        header += 6
    if subtype & 0x8:                 # QoS data: QoS Control
        header += 2
        if fc1 & 0x80:                # +HTC/Order: HT Control
            header += 4
    snap = start + header
    if data[snap:snap + 8] in LLC_SNAP_IPV4:
        return snap + 8
    return -1


def _radiotap(data: bytes) -> int:
    if len(data) < 8 or data[0] != 0:
        return -1
    return _ieee802_11(data, int.from_bytes(data[2:4], "little"))


def _null(data: bytes) -> int:
    family = data[0:4]
    if family in (b"\x02\x00\x00\x00", b"\x00\x00\x00\x02"):
        return 4
    return -1


def _sll2(data: bytes) -> int:
    """Linux cooked v2: protocol type (2), reserved (2), ifindex (4), ARPHRD
    (2), packet type (1), address length (1), address (8) = 20 octets."""
    if len(data) < 20:
        return -1
    ethertype = data[0:2]
    if ethertype == ETHERTYPE_IPV4:
        return 20
    if ethertype in ETHERTYPE_VLAN:
        # the tag follows the cooked header: TCI (2), ethertype (2)
        return _after_ethertype(data, 20 + 2)
    return -1


_LINK_PARSERS = {
    LINKTYPE_ETHERNET: lambda d: _after_ethertype(d, 12),
    LINKTYPE_LINUX_SLL: lambda d: (_after_ethertype(d, 14) if len(d) >= 16 else -1),
    LINKTYPE_RAW: lambda d: 0,
    LINKTYPE_RAW_12: lambda d: 0,
    LINKTYPE_IPV4: lambda d: 0,
    LINKTYPE_LINUX_SLL2: _sll2,
    LINKTYPE_NULL: _null,
    LINKTYPE_LOOP: _null,
    LINKTYPE_IEEE802_11: lambda d: _ieee802_11(d, 0),
    LINKTYPE_IEEE802_11_RADIOTAP: _radiotap,
}


def _vlan_candidate(buf, at: int) -> bool:
    """Prefilter for a frame whose type field at buf[at] is a VLAN tag:
    False when the frame surely carries no FMIPv4 candidate, True when the
    full parser must look (a superset of what _frame accepts)."""
    for _ in range(_VLAN_WALK):
        at += 4                       # TCI (2), then the next type field
        ethertype = buf[at:at + 2]
        if ethertype == ETHERTYPE_IPV4:
            break
        if ethertype not in ETHERTYPE_VLAN:
            return False
    else:
        return True                   # deeper than the walk: let _frame decide
    ip = at + 2
    proto = buf[ip + 9]
    if proto == IPPROTO_UDP:
        if buf[ip + 6] & 0x3F or buf[ip + 7]:
            return True               # fragment
        udp = ip + ((buf[ip] & 15) << 2)
        return ((buf[udp] == _PORT_HI and buf[udp + 1] == _PORT_LO)
                or (buf[udp + 2] == _PORT_HI and buf[udp + 3] == _PORT_LO))
    if proto == IPPROTO_ICMP:
        return bool(buf[ip + 6] & 0x3F or buf[ip + 7]
                    or buf[ip + ((buf[ip] & 15) << 2)] == _ICMP_TYPE)
    return False


def _plain_datagram(frame: int, time: float, buf, ip: int, stop: int,
                    proto: int) -> Datagram | None:
    """The Datagram the full parser (_frame) gives for the usual candidate,
    built straight from the read buffer: an unfragmented IPv4 packet without
    IP options whose Total Length fits in the captured octets buf[ip:stop].
    None whenever _frame must decide (IP options, fragments, a clipped or
    TSO packet, a body too short or not FMIPv4): the prefilter path then
    hands the frame to _frame, so both paths give the same records.  Spares
    the candidate the frame copy and the link-layer walk (perf: the
    FMIPv4-only benchmark, docs/performance.md)."""
    vihl, total, fragment, ttl, src, dst, sport, dport = _ip_head(buf, ip)
    if vihl != 0x45 or fragment & 0x3FFF:       # options; MF or an offset
        return None
    end = ip + total
    if end > stop:
        return None                   # clipped by the snap length, or garbage
    if proto == IPPROTO_UDP:
        if total < 28:
            return None
        if sport != _PORT and dport != _PORT:
            return None
        return Datagram(frame, time, _inet_ntoa(src), _inet_ntoa(dst), proto,
                        ttl, sport, dport, bytes(buf[ip + 28:end]), False, ())
    if total < 21 or sport >> 8 != _ICMP_TYPE:  # sport's place: ICMP Type
        return None
    return Datagram(frame, time, _inet_ntoa(src), _inet_ntoa(dst), proto,
                    ttl, None, None, bytes(buf[ip + 20:end]), False, ())


# IPv4 header without options and the first 4 octets after it (UDP ports /
# ICMP Type and Code): version+IHL, Total Length, flags+fragment offset,
# TTL, source, destination.  Always inside the buffer: PAD follows the data.
_ip_head = struct.Struct(">BxH2xHBx2x4s4sHH").unpack_from
_inet_ntoa = socket.inet_ntoa


def _fast_struct(endian: str, lead: str, link: tuple) -> struct.Struct:
    """Struct reading `lead` fields, then the link type field and the IP
    protocol octet at the link header length + 9."""
    type_offset, type_value, _, header, _ = link
    n = len(type_value)
    return struct.Struct(f"{endian}{lead}{type_offset}x{n}s"
                         f"{header - type_offset - n + 9}xB")


# --- the reader ---------------------------------------------------------------

class _FragmentSet:
    __slots__ = ("first_time", "time", "frames", "pieces", "total", "first",
                 "octets", "clipped")

    def __init__(self, time: float):
        self.first_time = time
        self.time = time
        self.frames: list[int] = []
        self.pieces: list[tuple[int, bytes]] = []
        self.total: int | None = None     # payload length, once MF=0 is seen
        self.first: bytes | None = None   # start of the offset-0 fragment
        self.octets = 0
        self.clipped = False


class CaptureReader:
    """Iterate a capture's FMIPv4 candidate datagrams and capture notes."""

    def __init__(self, path: str, *, prefilter: bool = True):
        self.path = path
        self.prefilter = prefilter
        self.frames = 0
        self.bytes_read = 0
        self.size = 0
        self.format = ""
        self.linktypes: set[int] = set()
        self.unsupported_linktypes: set[int] = set()
        self._file = None
        self._iter = None
        self._fragments: dict[tuple, _FragmentSet] = {}
        self._fragment_octets = 0
        self._pending: list = []
        self._last_time = 0.0          # time of the last frame parsed
        try:
            if os.path.isdir(path):
                raise CaptureError(f"{path}: is a directory, not a capture file")
            self._file = open(path, "rb", buffering=0)
            self.size = os.fstat(self._file.fileno()).st_size
            head = b""
            while len(head) < 24:      # a pipe may deliver it in pieces
                more = self._file.read(24 - len(head))
                if not more:
                    break
                head += more
        except CaptureError:
            raise
        except FileNotFoundError:
            raise CaptureError(f"{path}: no such file") from None
        except PermissionError:
            raise CaptureError(f"{path}: permission denied") from None
        except OSError as exc:
            self.close()
            raise CaptureError(f"{path}: cannot read: {exc.strerror or exc}") from None
        try:
            self._detect(head)
            self._head = head[self._start:]   # no seek: pipes work too
        except CaptureError:
            self.close()
            raise

    # -- opening ---------------------------------------------------------

    def _detect(self, head: bytes) -> None:
        path = self.path
        if not head:
            raise CaptureError(f"{path}: empty file, not a capture")
        magic_le = int.from_bytes(head[:4], "little")
        magic_be = int.from_bytes(head[:4], "big")
        if len(head) >= 4 and (magic_le in (PCAP_MAGIC_US, PCAP_MAGIC_NS)
                               or magic_be in (PCAP_MAGIC_US, PCAP_MAGIC_NS)):
            self.format = "pcap"
            self._endian = "<" if magic_le in (PCAP_MAGIC_US, PCAP_MAGIC_NS) else ">"
            magic = magic_le if self._endian == "<" else magic_be
            self._ts_div = 1e9 if magic == PCAP_MAGIC_NS else 1e6
            if len(head) < 24:
                raise CaptureError(f"{path}: pcap file header cut after "
                                   f"{len(head)} octets (24 expected)")
            network = struct.unpack(self._endian + "20xI", head)[0]
            # upper bits carry FCS information (pcap-savefile "LinkType and
            # additional information")
            self._linktype = network & 0x03FFFFFF
            self.linktypes.add(self._linktype)
            self._start = 24
            return
        if magic_le == PCAPNG_SHB:
            if len(head) < 12:
                raise CaptureError(f"{path}: pcapng section header cut after "
                                   f"{len(head)} octets")
            bom = head[8:12]
            if bom not in (b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"):
                raise CaptureError(f"{path}: pcapng section header with a bad "
                                   f"byte-order magic ({_hex4(bom)})")
            self.format = "pcapng"
            self._endian = "<" if bom == b"\x4d\x3c\x2b\x1a" else ">"
            self._start = 0
            return
        hint = ""
        if head[:2] == b"\x1f\x8b":
            hint = "; gzip-compressed? decompress it first"
        raise CaptureError(f"{path}: not a pcap or pcapng file (starts with "
                           f"{_hex4(head)}{hint})")

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[Datagram | CaptureNote]:
        if self._iter is None:
            if self.format == "pcap":
                self._iter = self._read_pcap()
            else:
                self._iter = self._read_pcapng()
        return self._iter

    # -- buffer ----------------------------------------------------------

    def _init_buffer(self) -> None:
        self._buf = bytearray(CHUNK + PAD)
        self._avail = 0
        self._eof = False
        head = self._head
        self._buf[:len(head)] = head
        self._avail = len(head)
        self.bytes_read = self._start + len(head)

    def _refill(self, pos: int, need: int = 0) -> int:
        """Keep buf[pos:avail], read more after it; return the new avail.
        need: octets the next record needs from pos (the buffer grows)."""
        buf = self._buf
        rest = self._avail - pos
        if rest:
            buf[0:rest] = buf[pos:self._avail]
        size = max(CHUNK, need)
        if len(buf) < size + PAD:
            buf.extend(bytes(size + PAD - len(buf)))
        elif len(buf) > CHUNK + PAD and size == CHUNK and rest < CHUNK:
            del buf[CHUNK + PAD:]       # shrink after an outsized record
        avail = rest
        with memoryview(buf) as view:
            while avail < size and not self._eof:
                with view[avail:size] as free:
                    n = self._file.readinto(free)
                if not n:
                    self._eof = True
                    break
                avail += n
                self.bytes_read += n
        self._avail = avail
        # sentinel: a record or block header read past the data gives an
        # impossible length, so the hot loops need no separate bounds test
        buf[avail:avail + PAD] = SENTINEL
        return avail

    # -- pcap ------------------------------------------------------------

    def _read_pcap(self) -> Iterator:
        if self._file is None:
            return
        self._init_buffer()
        endian = self._endian
        linktype = self._linktype
        link = _FAST.get(linktype)
        record = struct.Struct(endian + "IIII")
        full = not self.prefilter or linktype in _FULL_ONLY
        if linktype not in _LINK_PARSERS:
            self.unsupported_linktypes.add(linktype)
            full = False
            link = None
        if full or link is None:
            peek = struct.Struct(endian + "8xI")
        else:
            peek = _fast_struct(endian, "8xI4x", link)
            type_offset, type_value, others, header, chain = link
            tag_at = 16 + type_offset
        peek_from = peek.unpack_from
        parse = self._pcap_frame
        plain = _plain_datagram
        stamp = struct.Struct(endian + "II").unpack_from
        ts_div = self._ts_div
        frames = self.frames
        pos = 0
        avail = self._refill(0)
        while True:
            buf = self._buf
            if full:
                while pos + 16 <= avail:
                    incl = peek_from(buf, pos)[0]
                    nxt = pos + 16 + incl
                    if nxt > avail:
                        break
                    frames += 1
                    self.frames = frames
                    yield from parse(frames, buf, pos, record, linktype)
                    pos = nxt
            elif link is None:       # unsupported link type: count only
                while pos + 16 <= avail:
                    nxt = pos + 16 + peek_from(buf, pos)[0]
                    if nxt > avail:
                        break
                    frames += 1
                    pos = nxt
            else:
                while True:        # the sentinel ends the loop at the data's end
                    incl, ltype, proto = peek_from(buf, pos)
                    nxt = pos + 16 + incl
                    if nxt > avail:
                        break
                    frames += 1
                    if ltype == type_value:
                        if proto == 17:
                            ip = pos + 16 + header
                            if buf[ip + 6] & 0x3F or buf[ip + 7]:
                                pass                    # fragment
                            else:
                                udp = ip + ((buf[ip] & 15) << 2)
                                if not ((buf[udp] == _PORT_HI and buf[udp + 1] == _PORT_LO)
                                        or (buf[udp + 2] == _PORT_HI
                                            and buf[udp + 3] == _PORT_LO)):
                                    pos = nxt
                                    continue
                        elif proto == 1:
                            ip = pos + 16 + header
                            if not (buf[ip + 6] & 0x3F or buf[ip + 7]
                                    or buf[ip + ((buf[ip] & 15) << 2)] == _ICMP_TYPE):
                                pos = nxt
                                continue
                        else:
                            pos = nxt
                            continue
                    elif ltype not in others or (
                            chain and not _vlan_candidate(buf, pos + tag_at)):
                        pos = nxt
                        continue
                    self.frames = frames
                    if ltype == type_value:
                        sec, frac = stamp(buf, pos)
                        time = sec + frac / ts_div
                        datagram = plain(frames, time, buf, pos + 16 + header,
                                         nxt, proto)
                        if datagram is not None:
                            self._last_time = time
                            yield datagram
                            pos = nxt
                            continue
                    yield from parse(frames, buf, pos, record, linktype)
                    pos = nxt
            self.frames = frames
            # the record at pos is not complete in the buffer
            incl = peek_from(buf, pos)[0] if pos + 16 <= avail else 0
            if incl > MAX_RECORD:
                yield from self._flush_fragments()
                yield self._note(RULE_TRUNCATED,
                                 f"capture is corrupt at frame {frames + 1}: "
                                 f"record header gives a captured length of "
                                 f"{incl} octets; reading stopped")
                return
            if self._eof:
                yield from self._flush_fragments()
                rest = avail - pos
                if rest:
                    part = ("record header" if rest < 16 else "record data")
                    cut = rest if rest < 16 else rest - 16
                    time = None
                    if rest >= 8:      # the cut record's own time stamp
                        sec, frac = struct.unpack_from(endian + "II", buf, pos)
                        time = sec + frac / self._ts_div
                    yield self._note(RULE_TRUNCATED,
                                     f"capture ends inside frame {frames + 1} "
                                     f"({part} cut after {cut} octets)", time=time)
                return
            avail = self._refill(pos, 16 + incl)
            pos = 0

    def _pcap_frame(self, frame: int, buf, pos: int, record, linktype: int):
        sec, frac, incl, orig = record.unpack_from(buf, pos)
        time = sec + frac / self._ts_div
        data = bytes(buf[pos + 16:pos + 16 + incl])
        return self._frame(frame, time, linktype, data)

    # -- pcapng ----------------------------------------------------------

    def _read_pcapng(self) -> Iterator:
        if self._file is None:
            return
        self._init_buffer()
        self._interfaces: list[tuple] = []
        self._section_ok = False
        pos = 0
        avail = self._refill(0)
        frames = self.frames
        prefilter = self.prefilter
        parse = self._epb_frame
        plain = _plain_datagram
        iface_time = self._iface_time
        while True:
            buf = self._buf
            endian = self._endian
            block = struct.Struct(endian + "III8xI").unpack_from   # type, len, iface, caplen
            stamp = struct.Struct(endian + "II").unpack_from    # EPB time stamp
            length_at = struct.Struct(endian + "I").unpack_from
            interfaces = self._interfaces
            count = len(interfaces)
            # one struct for block header, EPB interface and captured length
            # and the link type field and IP protocol of the packet, when all
            # interfaces of the section share a fast-path link type
            linktypes = {i[0] for i in interfaces}
            uni = None
            if prefilter and len(linktypes) == 1 and interfaces[0][0] in _FAST:
                link = _FAST[interfaces[0][0]]
                uni = _fast_struct(endian, "III8xI4x", link).unpack_from
                type_offset, type_value, others, header, chain = link
                header += 28
                tag_at = 28 + type_offset
            status = _NEED_MORE
            self._need_len = 12
            while True:
                if uni is not None:
                    btype, blen, iface, caplen, ltype, proto = uni(buf, pos)
                    nxt = pos + blen
                    if (btype == 6 and nxt <= avail and caplen + 32 <= blen
                            and iface < count
                            and length_at(buf, nxt - 4)[0] == blen):
                        frames += 1
                        if ltype == type_value:
                            if proto == 17:
                                ip = pos + header
                                if buf[ip + 6] & 0x3F or buf[ip + 7]:
                                    pass                    # fragment
                                else:
                                    udp = ip + ((buf[ip] & 15) << 2)
                                    if not ((buf[udp] == _PORT_HI
                                             and buf[udp + 1] == _PORT_LO)
                                            or (buf[udp + 2] == _PORT_HI
                                                and buf[udp + 3] == _PORT_LO)):
                                        pos = nxt
                                        continue
                            elif proto == 1:
                                ip = pos + header
                                if not (buf[ip + 6] & 0x3F or buf[ip + 7]
                                        or buf[ip + ((buf[ip] & 15) << 2)]
                                        == _ICMP_TYPE):
                                    pos = nxt
                                    continue
                            else:
                                pos = nxt
                                continue
                        elif ltype not in others or (
                                chain and not _vlan_candidate(buf, pos + tag_at)):
                            pos = nxt
                            continue
                        self.frames = frames
                        if ltype == type_value:
                            hi, lo = stamp(buf, pos + 12)
                            time = iface_time(interfaces[iface], hi, lo)
                            datagram = plain(frames, time, buf, pos + header,
                                             pos + 28 + caplen, proto)
                            if datagram is not None:
                                self._last_time = time
                                yield datagram
                                pos = nxt
                                continue
                        yield from parse(frames, buf, pos)
                        pos = nxt
                        continue
                else:
                    btype, blen, iface, caplen = block(buf, pos)
                    nxt = pos + blen
                    if (btype == 6 and nxt <= avail and caplen + 32 <= blen
                            and iface < count
                            and length_at(buf, nxt - 4)[0] == blen):
                        frames += 1
                        fast = interfaces[iface][3]
                        if fast is not None and prefilter:
                            peek, type_value, others, header, chain, tag_at = fast
                            ltype, proto = peek(buf, pos + 28)
                            if ltype == type_value:
                                if proto == 17:
                                    ip = pos + 28 + header
                                    if buf[ip + 6] & 0x3F or buf[ip + 7]:
                                        pass                    # fragment
                                    else:
                                        udp = ip + ((buf[ip] & 15) << 2)
                                        if not ((buf[udp] == _PORT_HI
                                                 and buf[udp + 1] == _PORT_LO)
                                                or (buf[udp + 2] == _PORT_HI
                                                    and buf[udp + 3] == _PORT_LO)):
                                            pos = nxt
                                            continue
                                elif proto == 1:
                                    ip = pos + 28 + header
                                    if not (buf[ip + 6] & 0x3F or buf[ip + 7]
                                            or buf[ip + ((buf[ip] & 15) << 2)]
                                            == _ICMP_TYPE):
                                        pos = nxt
                                        continue
                                else:
                                    pos = nxt
                                    continue
                            elif ltype not in others or (
                                    chain and not _vlan_candidate(buf, pos + tag_at)):
                                pos = nxt
                                continue
                            if ltype == type_value:
                                hi, lo = stamp(buf, pos + 12)
                                time = iface_time(interfaces[iface], hi, lo)
                                datagram = plain(frames, time, buf,
                                                 pos + 28 + header,
                                                 pos + 28 + caplen, proto)
                                if datagram is not None:
                                    self.frames = frames
                                    self._last_time = time
                                    yield datagram
                                    pos = nxt
                                    continue
                        self.frames = frames
                        yield from parse(frames, buf, pos)
                        pos = nxt
                        continue
                if pos + 12 > avail:
                    break
                # any other block, or an EPB that needs a closer look
                self.frames = frames
                status = self._pcapng_block(buf, pos, avail)
                frames = self.frames
                if self._pending:
                    yield from self._pending
                    self._pending.clear()
                if status < 0:
                    break
                pos = status
                if self._endian != endian or self._interfaces is not interfaces \
                        or len(interfaces) != count:
                    break      # new section or interface: rebuild the locals
            self.frames = frames
            if status == _STOP:
                return
            if status >= 0 and pos + 12 <= avail:
                continue
            # the block at pos is not complete in the buffer
            if self._eof:
                yield from self._flush_fragments()
                rest = avail - pos
                if rest:
                    yield self._note(RULE_TRUNCATED, self._pcapng_cut(pos, rest))
                return
            avail = self._refill(pos, self._need_len if status == _NEED_MORE else 12)
            pos = 0

    _need_len = 0

    def _pcapng_cut(self, pos: int, rest: int) -> str:
        buf = self._buf
        btype = (struct.unpack_from(self._endian + "I", buf, pos)[0]
                 if rest >= 4 else None)
        if btype in (PCAPNG_EPB, PCAPNG_SPB, PCAPNG_OPB):
            where = f"frame {self.frames + 1}"
        elif btype is None:
            where = f"a block after frame {self.frames}"
        else:
            where = f"a block of type 0x{btype:x} after frame {self.frames}"
        part = "block header" if rest < 12 else "block data"
        return f"capture ends inside {where} ({part} cut after {rest} octets)"

    def _pcapng_block(self, buf, pos: int, avail: int) -> int:
        """Handle the block at pos; return the next position, _NEED_MORE
        (with _need_len set) or _STOP.  Output goes to _pending."""
        btype = struct.unpack_from(self._endian + "I", buf, pos)[0]
        if btype == PCAPNG_SHB:
            bom = bytes(buf[pos + 8:pos + 12])
            if bom == b"\x4d\x3c\x2b\x1a":
                endian = "<"
            elif bom == b"\x1a\x2b\x3c\x4d":
                endian = ">"
            else:
                return self._corrupt(f"pcapng section header after frame "
                                     f"{self.frames} has a bad byte-order magic")
        else:
            endian = self._endian
        blen = struct.unpack_from(endian + "I", buf, pos + 4)[0]
        if blen < 12 or blen % 4 or blen > MAX_RECORD:
            return self._corrupt(f"capture is corrupt after frame {self.frames}: "
                                 f"pcapng block of type 0x{btype:x} has an "
                                 f"impossible length {blen}")
        nxt = pos + blen
        if nxt > avail:
            self._need_len = blen
            return _NEED_MORE
        if struct.unpack_from(endian + "I", buf, nxt - 4)[0] != blen:
            return self._corrupt(f"capture is corrupt after frame {self.frames}: "
                                 f"pcapng block of type 0x{btype:x} has "
                                 f"inconsistent lengths")
        if btype == PCAPNG_SHB:
            if blen < 28:
                return self._corrupt(f"capture is corrupt after frame {self.frames}: "
                                     f"pcapng section header too short")
            self._endian = endian
            self._interfaces = []
            self._section_ok = True
            return nxt
        if not self._section_ok:
            return self._corrupt("capture is corrupt: pcapng file does not start "
                                 "with a section header")
        if btype == PCAPNG_IDB:
            if blen < 20:
                return self._corrupt(f"capture is corrupt after frame {self.frames}: "
                                     f"pcapng interface block too short")
            self._interfaces.append(self._interface(buf, pos, nxt))
            return nxt
        if btype in (PCAPNG_EPB, PCAPNG_SPB, PCAPNG_OPB):
            frame = self.frames + 1
            if btype == PCAPNG_SPB:
                header = 12      # type, length, original length, then data
                iface = 0
                if blen < 16:
                    return self._corrupt(f"capture is corrupt at frame {frame}: "
                                         f"simple packet block too short")
                orig = struct.unpack_from(endian + "I", buf, pos + 8)[0]
                caplen = min(orig, blen - 16)
            else:
                header = 28
                if blen < 32:
                    return self._corrupt(f"capture is corrupt at frame {frame}: "
                                         f"packet block too short")
                if btype == PCAPNG_EPB:
                    iface, caplen = struct.unpack_from(endian + "I8xI", buf, pos + 8)
                else:
                    iface = struct.unpack_from(endian + "H", buf, pos + 8)[0]
                    caplen = struct.unpack_from(endian + "I", buf, pos + 20)[0]
                if caplen > blen - 32:
                    return self._corrupt(f"capture is corrupt at frame {frame}: "
                                         f"captured length {caplen} exceeds its "
                                         f"block")
            if iface >= len(self._interfaces):
                return self._corrupt(f"capture is corrupt at frame {frame}: "
                                     f"packet refers to undefined interface "
                                     f"{iface}")
            self.frames = frame
            linktype = self._interfaces[iface][0]
            if linktype not in _LINK_PARSERS:
                return nxt
            if btype == PCAPNG_SPB:
                time = 0.0     # a Simple Packet Block has no time stamp
                data = bytes(buf[pos + 12:pos + 12 + caplen])
                self._pending.extend(self._frame(frame, time, linktype, data))
            elif btype == PCAPNG_EPB:
                self._pending.extend(self._epb_frame(frame, buf, pos))
            else:
                hi, lo = struct.unpack_from(endian + "II", buf, pos + 12)
                time = self._iface_time(self._interfaces[iface], hi, lo)
                data = bytes(buf[pos + header:pos + header + caplen])
                self._pending.extend(self._frame(frame, time, linktype, data))
            return nxt
        return nxt      # unknown block types are skipped (pcapng 3.1)

    def _corrupt(self, message: str) -> int:
        self._pending.extend(self._flush_fragments())
        self._pending.append(self._note(RULE_TRUNCATED, message + "; reading stopped"))
        return _STOP

    def _interface(self, buf, pos: int, nxt: int) -> tuple:
        """(linktype, units per second or None, power-of-two shift, offset,
        fast-path tuple or None) for an Interface Description Block."""
        endian = self._endian
        linktype = struct.unpack_from(endian + "H", buf, pos + 8)[0]
        units, shift, offset = 10 ** 6, None, 0
        opt = pos + 16
        end = nxt - 4
        while opt + 4 <= end:
            code, length = struct.unpack_from(endian + "HH", buf, opt)
            if code == 0:
                break
            value = bytes(buf[opt + 4:opt + 4 + length])
            if code == IDB_OPT_TSRESOL and length >= 1:
                if value[0] & 0x80:
                    shift, units = value[0] & 0x7F, None
                else:
                    units, shift = 10 ** value[0], None
            elif code == IDB_OPT_TSOFFSET and length >= 8:
                offset = struct.unpack(endian + "q", value[:8])[0]
            opt += 4 + ((length + 3) & ~3)
        self.linktypes.add(linktype)
        if linktype not in _LINK_PARSERS:
            self.unsupported_linktypes.add(linktype)
        link = _FAST.get(linktype)
        fast = None
        if link is not None:
            fast = (_fast_struct("<", "", link).unpack_from, link[1], link[2],
                    link[3], link[4], 28 + link[0])
        return (linktype, (units, shift, offset), None, fast)

    @staticmethod
    def _iface_time(interface: tuple, hi: int, lo: int) -> float:
        units, shift, offset = interface[1]
        ticks = (hi << 32) | lo
        if units is not None:
            sec, frac = divmod(ticks, units)
            return offset + sec + frac / units
        return offset + ticks / (1 << shift)

    def _epb_frame(self, frame: int, buf, pos: int):
        iface, hi, lo, caplen = struct.unpack_from(self._endian + "IIII", buf, pos + 8)
        interface = self._interfaces[iface]
        time = self._iface_time(interface, hi, lo)
        data = bytes(buf[pos + 28:pos + 28 + caplen])
        return self._frame(frame, time, interface[0], data)

    # -- frames, IPv4, fragments -------------------------------------------

    def _note(self, rule: str, message: str, frame: int | None = None,
              time: float | None = None) -> CaptureNote:
        return CaptureNote(self.frames if frame is None else frame,
                           self._last_time if time is None else time, rule, message)

    def _frame(self, frame: int, time: float, linktype: int, data: bytes) -> list:
        """The full parser: link layer, IPv4, fragments, UDP/ICMP."""
        parser = _LINK_PARSERS.get(linktype)
        if parser is None:
            return []
        ip = parser(data)
        if ip < 0:
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
        clipped = have < total
        end = ip + min(total, have)    # cuts link-layer trailer padding
        flags = data[ip + 6]
        fragment_offset = ((flags & 0x1F) << 8 | data[ip + 7]) * 8
        more = flags & 0x20
        if more or fragment_offset:
            return self._fragment(frame, time, data, ip, ihl, total, end,
                                  proto, bool(more), fragment_offset)
        src = socket.inet_ntoa(data[ip + 12:ip + 16])
        dst = socket.inet_ntoa(data[ip + 16:ip + 20])
        datagram = self._datagram(frame, time, src, dst, proto, data[ip + 8],
                                  data[ip + ihl:end], clipped, ())
        if datagram is None:
            return []
        # the time notes fall back on: only set where both paths parse
        self._last_time = time
        if clipped:
            return [datagram, CaptureNote(
                frame, time, RULE_CLIPPED,
                f"frame {frame}: {_what(datagram)} {src} -> {dst} clipped by the "
                f"snap length: {have} of {total} IP octets captured")]
        return [datagram]

    @staticmethod
    def _datagram(frame, time, src, dst, proto, ttl, body: bytes, clipped,
                  fragments) -> Datagram | None:
        if proto == IPPROTO_UDP:
            if len(body) < 8:
                return None
            sport = body[0] << 8 | body[1]
            dport = body[2] << 8 | body[3]
            if sport != _PORT and dport != _PORT:
                return None
            return Datagram(frame, time, src, dst, proto, ttl, sport, dport,
                            bytes(body[8:]), clipped, fragments)
        if not body or body[0] != _ICMP_TYPE:
            return None
        return Datagram(frame, time, src, dst, proto, ttl, None, None,
                        bytes(body), clipped, fragments)

    def _fragment(self, frame, time, data, ip, ihl, total, end, proto, more,
                  offset) -> list:
        out: list = []
        self._last_time = time
        sets = self._fragments
        # expire in capture time; only here and at the end, so that the fast
        # and the slow path see the same points in time
        limit = time - FRAGMENT_TIMEOUT
        while sets:
            key = next(iter(sets))
            old = sets[key]
            if (old.first_time >= limit and len(sets) < FRAGMENT_MAX_SETS
                    and self._fragment_octets <= FRAGMENT_MAX_OCTETS):
                break
            del sets[key]
            self._fragment_octets -= old.octets
            reason = ("expired after 30 s" if old.first_time < limit
                      else "fragment table full")
            note = self._incomplete(key, old, reason)
            if note is not None:
                out.append(note)
        key = (data[ip + 12:ip + 16], data[ip + 16:ip + 20], proto,
               data[ip + 4:ip + 6])
        entry = sets.get(key)
        if entry is None:
            entry = sets[key] = _FragmentSet(time)
        entry.frames.append(frame)
        entry.time = time
        piece = bytes(data[ip + ihl:end])
        length = total - ihl
        if len(piece) < length:
            entry.clipped = True
        entry.pieces.append((offset, piece))
        entry.octets += len(piece)
        self._fragment_octets += len(piece)
        if offset == 0:
            entry.first = piece[:8]      # UDP header / ICMP type
        if not more:
            entry.total = offset + length
        if entry.total is None or entry.clipped:
            return out
        # complete when the pieces cover 0 .. total without a hole
        reach = 0
        for start, part in sorted(entry.pieces, key=lambda p: p[0]):
            if start > reach:
                return out
            reach = max(reach, start + len(part))
        if reach < entry.total:
            return out
        del sets[key]
        self._fragment_octets -= entry.octets
        body = bytearray(entry.total)
        for start, part in entry.pieces:          # later copies win
            body[start:start + len(part)] = part[:max(0, entry.total - start)]
        src = socket.inet_ntoa(key[0])
        dst = socket.inet_ntoa(key[1])
        datagram = self._datagram(frame, time, src, dst, proto, data[ip + 8],
                                  bytes(body), False, tuple(entry.frames))
        if datagram is not None:
            out.append(datagram)
        return out

    def _incomplete(self, key, entry: _FragmentSet, reason: str) -> CaptureNote | None:
        proto = key[2]
        first = entry.first
        if first is not None:
            if proto == IPPROTO_UDP:
                if len(first) < 8:
                    could = True
                else:
                    could = (first[0] << 8 | first[1]) == _PORT or \
                        (first[2] << 8 | first[3]) == _PORT
            else:
                could = bool(first) and first[0] == _ICMP_TYPE
            if not could:
                return None
            what = "UDP port 434" if proto == IPPROTO_UDP else "ICMP type 41"
            seen = f"first fragment shows {what}"
        else:
            seen = "first fragment never seen, may be FMIPv4"
        frames = ", ".join(str(f) for f in entry.frames)
        clipped = "; a fragment was clipped by the snap length" if entry.clipped else ""
        name = "UDP" if proto == IPPROTO_UDP else "ICMP"
        return CaptureNote(
            entry.frames[-1], entry.time, RULE_FRAGMENTS,
            f"fragmented {name} datagram {socket.inet_ntoa(key[0])} -> "
            f"{socket.inet_ntoa(key[1])} id 0x{int.from_bytes(key[3], 'big'):04x} "
            f"(frames {frames}) not reassembled: {reason} ({seen}{clipped})")

    def _flush_fragments(self) -> list:
        out = []
        for key, entry in self._fragments.items():
            note = self._incomplete(key, entry, "capture ends before its last "
                                    "fragment")
            if note is not None:
                out.append(note)
        self._fragments.clear()
        self._fragment_octets = 0
        return out


def _what(datagram: Datagram) -> str:
    return "UDP" if datagram.proto == IPPROTO_UDP else "ICMP"
