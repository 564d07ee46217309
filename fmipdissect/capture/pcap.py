"""The pcap format (libpcap savefile): both byte orders, microsecond and
nanosecond magic.  A 24-octet file header, then records of a 16-octet
header (seconds, fraction, captured length, original length) and the frame.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import fmipdissect.capture.linklayer as L
from ..records import Datagram
from ..spec.numbers import IPPROTO_UDP
from . import accel
from .prefilter import (FAST_LINKS, UDP_PORTS, WANTED, fast_struct,
                        fragment_candidate, frame_candidate, ipv4_candidate,
                        plain_datagram)

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
MAGICS = (PCAP_MAGIC_US, PCAP_MAGIC_NS)
MAX_RECORD = 1 << 26           # a record longer than this is garbage


def header(head: bytes):
    """(byte order, time stamp units per second, link type) from the file
    header, or None when head is not one (too short: ValueError)."""
    le, be = int.from_bytes(head[:4], "little"), int.from_bytes(head[:4], "big")
    if len(head) < 4 or (le not in MAGICS and be not in MAGICS):
        return None
    if len(head) < 24:
        raise ValueError(f"pcap file header cut after {len(head)} octets "
                         f"(24 expected)")
    endian = "<" if le in MAGICS else ">"
    magic = le if endian == "<" else be
    network = struct.unpack(endian + "20xI", head[:24])[0]
    # upper bits carry FCS information (pcap-savefile "LinkType and
    # additional information")
    return endian, (1e9 if magic == PCAP_MAGIC_NS else 1e6), network & 0x03FFFFFF


class PcapRecords:
    """Reads the records of one pcap file for a CaptureReader."""

    def __init__(self, reader, endian: str, ts_div: float, linktype: int):
        self.r = reader
        self.endian, self.ts_div, self.linktype = endian, ts_div, linktype
        self.record = struct.Struct(endian + "IIII")
        self.stamp = struct.Struct(endian + "II").unpack_from
        self.length = struct.Struct(endian + "8xI").unpack_from
        reader.linktypes.add(linktype)
        row = L.LINKTYPES.get(linktype)
        if row is None:
            reader.unsupported_linktypes.add(linktype)
            self.scan = self._count
        elif not reader.prefilter:
            self.scan = self._full
        elif linktype in FAST_LINKS:
            self.scan = self._fast
        else:
            self.scan = self._walk
        self.layer = row[0] if row else ""

    def __iter__(self) -> Iterator:
        r = self.r
        buffer = r.buffer
        pos = 0
        avail = buffer.refill(0)
        while True:
            pos = yield from self.scan(buffer.buf, pos, avail)
            # the record at pos is not complete in the buffer
            incl = self.length(buffer.buf, pos)[0] if pos + 16 <= avail else 0
            if incl > MAX_RECORD:
                yield from r.stop(f"capture is corrupt at frame {r.frames + 1}: "
                                  f"record header gives a captured length of "
                                  f"{incl} octets")
                return
            if buffer.eof:
                yield from r.end(self._cut(buffer.buf, pos, avail - pos))
                return
            avail = buffer.refill(pos, 16 + incl)
            pos = 0

    def _cut(self, buf, pos: int, rest: int):
        """(message, time) for a record cut by the end of the file."""
        if not rest:
            return None
        frame = self.r.frames + 1
        part = "record header" if rest < 16 else "record data"
        cut = rest if rest < 16 else rest - 16
        time = None
        if rest >= 8:                  # the cut record's own time stamp
            sec, frac = self.stamp(buf, pos)
            time = sec + frac / self.ts_div
        return (f"capture ends inside frame {frame} ({part} cut after "
                f"{cut} octets)", time)

    def _parse(self, frame: int, buf, pos: int) -> list:
        sec, frac, incl, _ = self.record.unpack_from(buf, pos)
        data = bytes(buf[pos + 16:pos + 16 + incl])
        return self.r.parser.parse(frame, sec + frac / self.ts_div,
                                   self.linktype, data)

    # -- scans: run through the complete records in buf, return where the
    #    first incomplete one starts ---------------------------------------

    def _count(self, buf, pos: int, avail: int):
        """Unsupported link type: frames are counted, nothing else."""
        length, frames = self.length, 0
        while pos + 16 <= avail:
            nxt = pos + 16 + length(buf, pos)[0]
            if nxt > avail:
                break
            frames += 1
            pos = nxt
        self.r.frames += frames
        return pos
        yield                          # a generator, like the other scans

    def _full(self, buf, pos: int, avail: int):
        """The reference path: every frame through the full parser."""
        length, r = self.length, self.r
        while pos + 16 <= avail:
            nxt = pos + 16 + length(buf, pos)[0]
            if nxt > avail:
                break
            r.frames += 1
            yield from self._parse(r.frames, buf, pos)
            pos = nxt
        return pos

    def _walk(self, buf, pos: int, avail: int):
        """Prefilter for link types without a fixed type field (802.11,
        PPP, ...): the layers are walked in the buffer."""
        length, r, layer = self.length, self.r, self.layer
        fragments = r.parser.fragments
        while pos + 16 <= avail:
            nxt = pos + 16 + length(buf, pos)[0]
            if nxt > avail:
                break
            r.frames += 1
            if frame_candidate(buf, pos + 16, nxt, layer, fragments):
                yield from self._parse(r.frames, buf, pos)
            pos = nxt
        return pos

    def _fast(self, buf, pos: int, avail: int):
        """The fast path: link type field and IP protocol at fixed offsets
        in one struct; the few frames that pass are parsed (perf:
        docs/performance.md)."""
        r = self.r
        row = FAST_LINKS[self.linktype]
        _, type_value, others, link_header = row
        peek = fast_struct(self.endian, "8xI4x", row).unpack_from
        ip_at = 16 + link_header
        wanted, candidate, walk = WANTED, ipv4_candidate, frame_candidate
        fragment, udp_proto = fragment_candidate, IPPROTO_UDP
        port, vxlan = UDP_PORTS          # UDP ports kept, inline (prefilter)
        p_hi, p_lo, v_hi, v_lo = port >> 8, port & 0xFF, vxlan >> 8, vxlan & 0xFF
        fragments, layer = r.parser.fragments, self.layer
        replies = fragments.replies       # decision D16 (awaited ports)
        encap = (L.LINKTYPES[self.linktype][0] + "/ip/udp",
                 L.LINKTYPES[self.linktype][0] + "/ip/icmp")
        stamp, ts_div, parser = self.stamp, self.ts_div, r.parser
        frames = r.frames
        take = accel.take()
        if take is not None:
            shape = accel.layout(row, pcapng=False, big_endian=self.endian == ">",
                                 interfaces=0, fragments=fragments)
            make = (Datagram, ts_div) + encap
        while True:            # the sentinel ends the loop at the data's end
            if take is not None:
                # C steps over what the code below would, and builds the
                # usual candidate as plain_datagram would (accel.py)
                pos, frames, datagram = take(buf, pos, avail, shape, frames,
                                             make)
                if datagram is not None:
                    r.frames = frames
                    parser.last_time = datagram.time
                    yield datagram
                    continue
            incl, ltype, proto = peek(buf, pos)
            nxt = pos + 16 + incl
            if nxt > avail:
                break
            frames += 1
            if ltype == type_value:
                if proto == udp_proto:
                    ip = pos + ip_at
                    if buf[ip + 6] & 0x3F or buf[ip + 7]:
                        if not fragment(buf, ip, nxt, udp_proto, fragments):
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
                elif not wanted[proto] or not candidate(buf, pos + ip_at,
                                                        nxt, fragments):
                    pos = nxt
                    continue
                sec, frac = stamp(buf, pos)
                time = sec + frac / ts_div
                datagram = plain_datagram(frames, time, buf, pos + ip_at, nxt,
                                          proto, encap,
                                          replies)
                if datagram is not None:
                    r.frames = frames
                    parser.last_time = time
                    yield datagram
                    pos = nxt
                    continue
            elif ltype not in others or not walk(buf, pos + 16, nxt, layer,
                                                 fragments):
                pos = nxt
                continue
            r.frames = frames
            yield from self._parse(frames, buf, pos)
            pos = nxt
        r.frames = frames
        return pos
