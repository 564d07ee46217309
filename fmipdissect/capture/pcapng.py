"""The pcapng format: sections in either byte order, several interfaces
each with its own link type, if_tsresol and if_tsoffset, Enhanced / Simple
/ obsolete Packet Blocks; unknown blocks are skipped (pcapng 3.1), and so
is a whole section of a major version other than 1 (with a note).
"""

from __future__ import annotations

import functools
import struct
import time as _time
from collections.abc import Iterator

import fmipdissect.capture.linklayer as L
from ..records import Clock
from ..spec.numbers import IPPROTO_UDP
from . import accel
from .prefilter import (FAST_LINKS, UDP_PORTS, WANTED, fast_struct,
                        fragment_candidate, frame_candidate, ipv4_candidate,
                        plain_datagram)

PCAPNG_SHB = 0x0A0D0D0A        # palindromic: same in both byte orders
BOM_LE, BOM_BE = b"\x4d\x3c\x2b\x1a", b"\x1a\x2b\x3c\x4d"
PCAPNG_IDB = 1
PCAPNG_OPB = 2                 # obsolete Packet Block
PCAPNG_SPB = 3
PCAPNG_EPB = 6
PCAPNG_ISB = 5                 # Interface Statistics Block
PACKET_BLOCKS = (PCAPNG_EPB, PCAPNG_SPB, PCAPNG_OPB)
# Custom Blocks (pcapng: copyable and not): Wireshark 4.0 gives each a frame
# number of its own, so the frame numbers here count them too.
CUSTOM_BLOCKS = (0x00000BAD, 0x40000BAD)
FRAME_BLOCKS = PACKET_BLOCKS + CUSTOM_BLOCKS   # what Wireshark numbers
# if_tsoffset beyond this many seconds (about 34,000 years) would swallow
# the time stamps' fractions in a float: such an offset is not applied.
TSOFFSET_MAX = 1 << 40
IDB_OPT_TSRESOL = 9
IDB_OPT_TSOFFSET = 14
MAJOR_VERSION = 1
MAX_BLOCK = 1 << 26            # a block longer than this is garbage
_NEED_MORE, STOP = -1, -2


def header(head: bytes):
    """The byte order of a section header at the start of head, or None
    when head is not one (cut or with a bad byte-order magic: ValueError)."""
    if int.from_bytes(head[:4], "little") != PCAPNG_SHB or len(head) < 4:
        return None
    if len(head) < 12:
        raise ValueError(f"pcapng section header cut after {len(head)} octets")
    bom = head[8:12]
    if bom not in (BOM_LE, BOM_BE):
        raise ValueError("pcapng section header with a bad byte-order magic "
                         f"({' '.join(f'{b:02x}' for b in bom)})")
    return "<" if bom == BOM_LE else ">"


@functools.lru_cache(maxsize=64)
def _fast_structs(endian: str, linktype: int):
    """The hot loop's unpackers: block header, EPB fields, link type field
    and IP protocol in one; the trailing block length; the time stamp."""
    return (fast_struct(endian, "III8xI4x", FAST_LINKS[linktype]).unpack_from,
            struct.Struct(endian + "I").unpack_from,
            struct.Struct(endian + "II").unpack_from)


class Interface:
    """An Interface Description Block: link type, time stamp units."""
    __slots__ = ("linktype", "units", "shift", "offset")

    def __init__(self, linktype: int, units, shift, offset: int):
        self.linktype, self.units, self.shift, self.offset = \
            linktype, units, shift, offset

    def time(self, hi: int, lo: int) -> float:
        ticks = (hi << 32) | lo
        if self.units is not None:
            sec, frac = divmod(ticks, self.units)
            return self.offset + sec + frac / self.units
        return self.offset + ticks / (1 << self.shift)


class PcapngBlocks:
    """Reads the blocks of one pcapng file for a CaptureReader."""

    def __init__(self, reader, endian: str):
        self.r = reader
        self.endian = endian
        self.interfaces: list[Interface] = []
        self.section_linktypes: set[int] = set()
        self.section_ok = False         # inside a section we read
        self.skipping = False           # inside a section we skip
        self.undefined: set[int] = set()   # interface ids already noted
        self.need = 12

    def __iter__(self) -> Iterator:
        r = self.r
        buffer = r.buffer
        pos = 0
        avail = buffer.refill(0)
        while True:
            status = yield from self._scan(buffer.buf, pos, avail)
            if status == STOP:
                return
            pos, more = status
            if not more and pos + 12 <= avail:
                continue                # new section or interface
            if buffer.eof:
                yield from r.end(self._cut(buffer.buf, pos, avail - pos))
                return
            avail = buffer.refill(pos, self.need)
            pos = 0

    def _cut(self, buf, pos: int, rest: int):
        if not rest:
            return None
        btype = (struct.unpack_from(self.endian + "I", buf, pos)[0]
                 if rest >= 4 else None)
        frames = self.r.frames
        if btype in PACKET_BLOCKS:
            where = f"frame {frames + 1}"
        elif btype is None:
            where = f"a block after frame {frames}"
        else:
            where = f"a block of type 0x{btype:x} after frame {frames}"
        part = "block header" if rest < 12 else "block data"
        return (f"capture ends inside {where} ({part} cut after {rest} "
                f"octets)", None)

    def _scan(self, buf, pos: int, avail: int):
        """Blocks from pos: EPBs of a section whose interfaces share one
        fast-path link type in the hot loop, every other block in
        _block.  Returns STOP or (pos, whether more octets are needed);
        returns early when a section or interface changes the locals."""
        fast = (self.r.prefilter and len(self.section_linktypes) == 1
                and self.interfaces[0].linktype in FAST_LINKS)
        count = len(self.interfaces)
        endian = self.endian
        r = self.r
        block_type = struct.Struct(endian + "I").unpack_from
        while True:
            if fast and pos + 4 <= avail and block_type(buf, pos)[0] == PCAPNG_EPB:
                pos = yield from self._fast(buf, pos, avail)
            if pos + 12 > avail:
                self.need = 12
                return pos, True
            status = self._block(buf, pos, avail)
            if r.pending:
                yield from r.pending
                r.pending.clear()
            if status == STOP:
                return STOP
            if status == _NEED_MORE:
                return pos, True
            pos = status
            if self.endian != endian or len(self.interfaces) != count:
                return pos, False

    def _fast(self, buf, pos: int, avail: int):
        """The hot loop: block header, EPB interface and captured length,
        the link type field and the IP protocol in one struct (perf:
        docs/performance.md).  Stops at the first block of another kind."""
        r, endian = self.r, self.endian
        linktype = self.interfaces[0].linktype
        row = FAST_LINKS[linktype]
        _, type_value, others, link_header = row
        peek, length_at, stamp = _fast_structs(endian, linktype)
        ip_at = 28 + link_header
        wanted, candidate, walk = WANTED, ipv4_candidate, frame_candidate
        fragment, udp_proto = fragment_candidate, IPPROTO_UDP
        port, vxlan = UDP_PORTS          # UDP ports kept, inline (prefilter)
        p_hi, p_lo, v_hi, v_lo = port >> 8, port & 0xFF, vxlan >> 8, vxlan & 0xFF
        parser, interfaces = r.parser, self.interfaces
        fragments, layer = parser.fragments, L.LINKTYPES[linktype][0]
        replies = fragments.replies       # decision D16 (awaited ports)
        encap = (layer + "/ip/udp", layer + "/ip/icmp")
        count = len(interfaces)
        frames = r.frames
        skip = accel.SKIP
        if skip is not None:
            shape = accel.layout(row, pcapng=True, big_endian=endian == ">",
                                 interfaces=count, fragments=fragments)
        while True:
            if skip is not None:     # C steps over what the code below would
                pos, skipped = skip(buf, pos, avail, shape)
                frames += skipped
            btype, blen, iface, caplen, ltype, proto = peek(buf, pos)
            nxt = pos + blen
            if not (btype == 6 and nxt <= avail and caplen + 32 <= blen
                    and iface < count and length_at(buf, nxt - 4)[0] == blen):
                break                   # any other block, or a closer look
            frames += 1
            if ltype == type_value:
                if proto == udp_proto:
                    ip = pos + ip_at
                    if buf[ip + 6] & 0x3F or buf[ip + 7]:
                        if not fragment(buf, ip, pos + 28 + caplen, udp_proto,
                                        fragments):
                            pos = nxt
                            continue
                    else:
                        udp = ip + ((buf[ip] & 15) << 2)
                        high = buf[udp + 2]
                        if not ((buf[udp] == p_hi and buf[udp + 1] == p_lo)
                                or (high == p_hi and buf[udp + 3] == p_lo)
                                or (high == v_hi and buf[udp + 3] == v_lo)
                                or (replies and high << 8 | buf[udp + 3]
                                    in replies)):    # decision D16
                            pos = nxt
                            continue
                elif not wanted[proto] or not candidate(
                        buf, pos + ip_at, pos + 28 + caplen, fragments):
                    pos = nxt
                    continue
                time = interfaces[iface].time(*stamp(buf, pos + 12))
                datagram = plain_datagram(frames, time, buf, pos + ip_at,
                                          pos + 28 + caplen, proto, encap,
                                          replies)
                if datagram is not None:
                    r.frames = frames
                    parser.last_time = time
                    yield datagram
                    pos = nxt
                    continue
            elif ltype not in others or not walk(
                    buf, pos + 28, pos + 28 + caplen, layer, fragments):
                pos = nxt
                continue
            r.frames = frames
            yield from self._epb(frames, buf, pos, iface, caplen, True)
            pos = nxt
        r.frames = frames
        return pos

    # -- one block ---------------------------------------------------------

    def _block(self, buf, pos: int, avail: int) -> int:
        """Handle the block at pos; return the next position, _NEED_MORE
        (with need set) or STOP.  Output goes to the reader's pending."""
        r = self.r
        btype = struct.unpack_from(self.endian + "I", buf, pos)[0]
        endian = self.endian
        if btype == PCAPNG_SHB:
            bom = bytes(buf[pos + 8:pos + 12])
            if bom not in (BOM_LE, BOM_BE):
                return r.corrupt(f"pcapng section header after frame "
                                 f"{r.frames} has a bad byte-order magic")
            endian = "<" if bom == BOM_LE else ">"
        blen = struct.unpack_from(endian + "I", buf, pos + 4)[0]
        if blen < 12 or blen % 4 or blen > MAX_BLOCK:
            return r.corrupt(f"capture is corrupt after frame {r.frames}: "
                             f"pcapng block of type 0x{btype:x} has an "
                             f"impossible length {blen}")
        nxt = pos + blen
        if nxt > avail:
            self.need = blen
            return _NEED_MORE
        if struct.unpack_from(endian + "I", buf, nxt - 4)[0] != blen:
            return r.corrupt(f"capture is corrupt after frame {r.frames}: "
                             f"pcapng block of type 0x{btype:x} has "
                             f"inconsistent lengths")
        if btype == PCAPNG_SHB:
            return self._section(buf, pos, blen, endian)
        if self.skipping:
            return nxt                  # inside a section of another version
        if not self.section_ok:
            return r.corrupt("capture is corrupt: pcapng file does not start "
                             "with a section header")
        if btype == PCAPNG_IDB:
            if blen < 20:
                return r.corrupt(f"capture is corrupt after frame {r.frames}: "
                                 f"pcapng interface block too short")
            self._interface(buf, pos, nxt)
            return nxt
        if btype in PACKET_BLOCKS:
            return self._packet(buf, pos, btype, blen)
        if btype in CUSTOM_BLOCKS:
            self.r.frames += 1          # a frame number, as Wireshark counts
        elif btype == PCAPNG_ISB and self.r.clock:
            # live input: statistics mark time passing (live.py sends one
            # when the link is quiet): a wall-clock tick
            self.r.pending.append(Clock(_time.time()))
        return nxt      # unknown block types are skipped (pcapng 3.1)

    def _section(self, buf, pos: int, blen: int, endian: str) -> int:
        r = self.r
        if blen < 28:
            return r.corrupt(f"capture is corrupt after frame {r.frames}: "
                             f"pcapng section header too short")
        self.endian = endian
        self.interfaces = []
        self.section_linktypes = set()
        self.undefined = set()
        major, minor = struct.unpack_from(endian + "HH", buf, pos + 12)
        self.skipping = major != MAJOR_VERSION
        self.section_ok = not self.skipping
        if self.skipping:
            r.note(f"pcapng section of version {major}.{minor} after frame "
                   f"{r.frames} skipped (only version {MAJOR_VERSION} is "
                   f"defined); reading resumes at the next section")
        return pos + blen

    def _interface(self, buf, pos: int, nxt: int) -> None:
        """Interface Description Block: link type, if_tsresol, if_tsoffset."""
        endian = self.endian
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
                if abs(offset) > TSOFFSET_MAX:
                    self.r.note(f"interface {len(self.interfaces)} has "
                                f"if_tsoffset {offset} s, beyond any "
                                f"plausible time: not applied, so that time "
                                f"stamps keep their fractions")
                    offset = 0
            opt += 4 + ((length + 3) & ~3)
        self.undefined.discard(len(self.interfaces))   # defined from here
        self.interfaces.append(Interface(linktype, units, shift, offset))
        self.section_linktypes.add(linktype)
        r = self.r
        r.linktypes.add(linktype)
        if linktype not in L.LINKTYPES:
            r.unsupported_linktypes.add(linktype)

    def _packet(self, buf, pos: int, btype: int, blen: int) -> int:
        r = self.r
        endian = self.endian
        frame = r.frames + 1
        if btype == PCAPNG_SPB:
            if blen < 16:
                return r.corrupt(f"capture is corrupt at frame {frame}: "
                                 f"simple packet block too short")
            iface = 0
            orig = struct.unpack_from(endian + "I", buf, pos + 8)[0]
            caplen = min(orig, blen - 16)
        else:
            if blen < 32:
                return r.corrupt(f"capture is corrupt at frame {frame}: "
                                 f"packet block too short")
            if btype == PCAPNG_EPB:
                iface, caplen = struct.unpack_from(endian + "I8xI", buf, pos + 8)
            else:
                iface = struct.unpack_from(endian + "H", buf, pos + 8)[0]
                caplen = struct.unpack_from(endian + "I", buf, pos + 20)[0]
            if caplen > blen - 32:
                return r.corrupt(f"capture is corrupt at frame {frame}: "
                                 f"captured length {caplen} exceeds its block")
        r.frames = frame
        if iface >= len(self.interfaces):
            if iface not in self.undefined:
                self.undefined.add(iface)
                r.note(f"frame {frame} refers to undefined interface {iface}: "
                       f"skipped, as is every later frame of it until an "
                       f"interface block defines it")
            return pos + blen
        interface = self.interfaces[iface]
        if interface.linktype not in L.LINKTYPES:
            return pos + blen
        if btype == PCAPNG_EPB:
            r.pending.extend(self._epb(frame, buf, pos, iface, caplen))
            return pos + blen
        if btype == PCAPNG_SPB:
            time, start = 0.0, 12     # a Simple Packet Block has no time stamp
        else:
            time = interface.time(*struct.unpack_from(endian + "II", buf, pos + 12))
            start = 28
        if r.prefilter and not frame_candidate(
                buf, pos + start, pos + start + caplen,
                L.LINKTYPES[interface.linktype][0], r.parser.fragments):
            return pos + blen
        data = bytes(buf[pos + start:pos + start + caplen])
        r.pending.extend(r.parser.parse(frame, time, interface.linktype, data))
        return pos + blen

    def _epb(self, frame: int, buf, pos: int, iface: int, caplen: int,
             checked: bool = False) -> list:
        """An Enhanced Packet Block's frame (checked: the prefilter has
        kept it already)."""
        interface = self.interfaces[iface]
        hi, lo = struct.unpack_from(self.endian + "II", buf, pos + 12)
        start = pos + 28
        r = self.r
        if r.prefilter and not checked and not frame_candidate(
                buf, start, start + caplen, L.LINKTYPES[interface.linktype][0],
                r.parser.fragments):
            return []
        data = bytes(buf[start:start + caplen])
        return r.parser.parse(frame, interface.time(hi, lo),
                              interface.linktype, data)
