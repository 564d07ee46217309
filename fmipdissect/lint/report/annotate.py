"""`fmip-lint --annotate OUT.pcapng CAPTURE`: a copy of the capture with
every finding as a packet comment on its frame, so a stock Wireshark shows
them (display filter `frame.comment contains "FM101"`).

Two passes, neither holding the capture in memory:

1. While the capture is checked, CommentSpool keeps the finding comments
   ("FM101 error fbu-lifetime-over-limit: ... (RFC 4988 5.1)") by frame
   number.  Findings mostly come in frame order and go to a temporary file;
   the few that name an earlier frame (a fragment set given up on later)
   wait in a small table.
2. write_annotated() reads the capture again, record by record, and writes
   pcapng: a pcapng input block by block as it is, a packet block with
   comments rebuilt with them added to its options; a pcap input as one
   Section Header and Interface Description Block (link type, snap length,
   nanosecond resolution when the pcap has it) and an Enhanced Packet Block
   per record.  Frame octets, captured and original lengths and time stamps
   are copied as integers, never through floats.  The blocks are dpkt's
   (dpkt.pcapng); a pcap input's header goes through dpkt's pcapng Writer.

A finding before the first frame (frame 0: about the capture itself) is a
comment of the Section Header Block (Wireshark: Statistics, Capture File
Properties).  A Simple Packet Block cannot carry options; one with a finding becomes an
Enhanced Packet Block of interface 0 with time stamp 0 (a Simple Packet
Block has none).  The output is written to a temporary file next to OUT and
renamed over it at the end; the input is only read (compressed inputs are
decompressed as the checker reads them, through capture/source.py).
"""

from __future__ import annotations

import heapq
import io
import itertools
import struct
import sys
import tempfile

import dpkt.pcapng as ng

from ... import __version__
from ...capture.pcapng import FRAME_BLOCKS, PACKET_BLOCKS
from ...capture.pcapng import PCAPNG_EPB as BLOCK_EPB
from ...capture.pcapng import PCAPNG_SPB as BLOCK_SPB
from ...capture.source import StreamError, open_source
from .common import finding_comment

PCAP_MAGICS = {0xA1B2C3D4: 6, 0xA1B23C4D: 9}   # magic -> time stamp decimals
PCAPNG_SHB = 0x0A0D0D0A
PCAPNG_MAJOR = ng.PCAPNG_VERSION_MAJOR      # 1: other versions are skipped
BOM_LE = b"\x4d\x3c\x2b\x1a"
MAX_BLOCK = 1 << 26          # as the capture reader: longer is garbage
_RECORD = struct.Struct("<QI")              # spool: frame, comment length
_LITTLE = sys.byteorder == "little"


def _frame_of(group) -> int:
    return group[0]


class CommentSpool:
    """Finding comments by frame number, for write_annotated."""

    def __init__(self):
        self._file = tempfile.TemporaryFile()
        self._last = 0
        self._late: dict[int, list[str]] = {}

    def add(self, finding) -> None:
        text = finding_comment(finding)
        if finding.frame >= self._last:
            self._last = finding.frame
            data = text.encode("utf-8")
            self._file.write(_RECORD.pack(finding.frame, len(data)) + data)
        else:
            self._late.setdefault(finding.frame, []).append(text)

    def _spooled(self):
        """(frame, [comment, ...]) from the temporary file, in frame order."""
        f = self._file
        f.flush()
        f.seek(0)
        while head := f.read(_RECORD.size):
            frame, length = _RECORD.unpack(head)
            yield frame, [f.read(length).decode("utf-8")]

    def by_frame(self):
        """(frame, [comment, ...]) in increasing frame order, one per frame."""
        merged = heapq.merge(self._spooled(), sorted(self._late.items()),
                             key=_frame_of)
        for frame, groups in itertools.groupby(merged, key=_frame_of):
            yield frame, [c for _, texts in groups for c in texts]

    def close(self) -> None:
        self._file.close()


def _comment_options(endian: str, comments) -> bytes:
    """opt_comment options (pcapng: UTF-8, one per finding)."""
    option = ng.PcapngOptionLE if endian == "<" else ng.PcapngOption
    return b"".join(bytes(option(code=ng.PCAPNG_OPT_COMMENT, text=c))
                    for c in comments)


def _existing_options(endian: str, options: bytes) -> bytes:
    """The options of a block up to (not including) opt_endofopt; b"" when
    they are malformed (a reader would reject them anyway)."""
    pos = 0
    while pos + 4 <= len(options):
        code, length = struct.unpack_from(endian + "HH", options, pos)
        if code == ng.PCAPNG_OPT_ENDOFOPT:
            return options[:pos]
        pos += 4 + length + (-length) % 4
    return options[:pos] if pos == len(options) else b""


def _packet_block(endian: str, btype: int, header: bytes, data: bytes,
                  options: bytes) -> bytes:
    """An EPB or OPB from its 20 fixed octets after type and length (interface
    ... original length), its packet data and its options."""
    if options:
        options += b"\0\0\0\0"          # opt_endofopt
    pad = b"\0" * (-len(data) % 4)
    total = 12 + len(header) + len(data) + len(pad) + len(options)
    return (struct.pack(endian + "II", btype, total) + header + data + pad
            + options + struct.pack(endian + "I", total))


def _annotated_block(endian: str, btype: int, block: bytes, comments,
                     snaplen: int) -> bytes:
    """The packet block `block` (type btype, complete) with comments added."""
    body = block[8:-4]
    if btype == BLOCK_SPB:
        origlen = struct.unpack_from(endian + "I", body)[0]
        caplen = min(origlen, len(body) - 4)
        if snaplen:
            caplen = min(caplen, snaplen)
        header = struct.pack(endian + "IIIII", 0, 0, 0, caplen, origlen)
        return _packet_block(endian, BLOCK_EPB, header, body[4:4 + caplen],
                             _comment_options(endian, comments))
    caplen = struct.unpack_from(endian + "I", body, 12)[0]
    if 20 + caplen > len(body):
        return block                     # damaged: copied as it is
    options = body[20 + caplen + (-caplen) % 4:]
    return _packet_block(endian, btype, body[:20], body[20:20 + caplen],
                         _existing_options(endian, options)
                         + _comment_options(endian, comments))


def _annotated_section(endian: str, block: bytes, comments) -> bytes:
    """A Section Header Block with comments added (findings of frame 0,
    about the capture itself); its section length becomes -1 (unknown), as
    the section grows."""
    options = (_existing_options(endian, block[24:-4])
               + _comment_options(endian, comments) + b"\0\0\0\0")
    total = 28 + len(options)
    return (struct.pack(endian + "II", PCAPNG_SHB, total) + block[8:16]
            + struct.pack(endian + "q", -1) + options
            + struct.pack(endian + "I", total))


class _Comments:
    """Walks CommentSpool.by_frame() alongside the frames of the capture."""

    def __init__(self, groups):
        self._groups = iter(groups)
        self._next = next(self._groups, None)

    def take(self, frame: int):
        """The comments of `frame`, or None."""
        while self._next is not None and self._next[0] < frame:
            self._next = next(self._groups, None)   # a frame beyond reach
        if self._next is not None and self._next[0] == frame:
            comments = self._next[1]
            self._next = next(self._groups, None)
            return comments
        return None


def _copy_pcapng(src, out, comments: _Comments) -> int:
    """Copy pcapng blocks, adding comments; returns the frames copied.

    Frames are numbered as the capture reader numbers them: a section of a
    major version other than 1 is skipped by the reader (with a note), so
    its blocks are left out here too, and copying stops where the reader
    stops (a block whose two length fields differ, a cut block)."""
    frame = 0
    endian = "<"
    skipping = False
    snaplen0 = 0                 # interface 0's snap length (for SPBs)
    first_idb = True
    while True:
        head = src.read(12)
        if len(head) < 12:
            return frame
        btype = struct.unpack_from("<I", head)[0]
        if btype == PCAPNG_SHB:
            endian = "<" if head[8:12] == BOM_LE else ">"
            first_idb = True
        btype, length = struct.unpack_from(endian + "II", head)
        if length < 12 or length % 4 or length > MAX_BLOCK:
            return frame         # garbage: the checker reported the cut
        rest = src.read(length - 12)
        if (len(rest) < length - 12
                or struct.unpack_from(endian + "I", rest, len(rest) - 4)[0]
                != length):
            return frame         # cut short or corrupt (FM901)
        block = head + rest
        if btype == PCAPNG_SHB:
            skipping = (length < 28 or struct.unpack_from(
                endian + "H", block, 12)[0] != PCAPNG_MAJOR)
        if skipping:
            continue
        if btype == PCAPNG_SHB and frame == 0:
            found = comments.take(0)     # about the capture, before frame 1
            if found:
                block = _annotated_section(endian, block, found)
        if btype == ng.PCAPNG_BT_IDB and first_idb and length >= 20:
            snaplen0 = struct.unpack_from(endian + "I", block, 12)[0]
            first_idb = False
        if btype in FRAME_BLOCKS:       # numbered as Wireshark numbers them
            frame += 1
            found = comments.take(frame) if btype in PACKET_BLOCKS else None
            if found:
                block = _annotated_block(endian, btype, block, found, snaplen0)
        out.write(block)


def _copy_pcap(src, out, head: bytes, comments: _Comments) -> int:
    """Write a pcap capture as pcapng with comments; returns the frames."""
    magic = struct.unpack_from("<I", head)[0]
    endian = "<" if magic in PCAP_MAGICS else ">"
    magic = struct.unpack_from(endian + "I", head)[0]
    decimals = PCAP_MAGICS[magic]
    snaplen, network = struct.unpack_from(endian + "II", head, 16)
    out_endian = "<" if _LITTLE else ">"
    le = out_endian == "<"
    option = ng.PcapngOptionLE if le else ng.PcapngOption
    opts = [option(code=ng.PCAPNG_OPT_IF_TSRESOL, data=bytes([decimals]))]
    if network & 0x04000000:     # pcap "FCS present": length in 16-bit words
        opts.append(option(code=ng.PCAPNG_OPT_IF_FCSLEN,
                           data=bytes([((network >> 28) & 0xF) * 16])))
    opts.append(option(code=ng.PCAPNG_OPT_ENDOFOPT))
    idb = (ng.InterfaceDescriptionBlockLE if le else ng.InterfaceDescriptionBlock)(
        linktype=network & 0xFFFF, snaplen=snaplen, opts=opts)
    shb_opts = [option(code=ng.PCAPNG_OPT_COMMENT, text=c)
                for c in comments.take(0) or ()]      # about the capture
    shb = (ng.SectionHeaderBlockLE if le else ng.SectionHeaderBlock)(opts=[
        *shb_opts, option(code=ng.PCAPNG_OPT_SHB_USERAPPL,
                          text=f"fmip-lint {__version__} --annotate"),
        option(code=ng.PCAPNG_OPT_ENDOFOPT)])
    ng.Writer(out, shb=shb, idb=idb)      # writes the two header blocks
    record = struct.Struct(endian + "IIII")
    scale = 10 ** decimals
    frame = 0
    while True:
        rec = src.read(16)
        if len(rec) < 16:
            return frame
        sec, frac, caplen, origlen = record.unpack(rec)
        if caplen > MAX_BLOCK:
            return frame
        data = src.read(caplen)
        if len(data) < caplen:
            return frame
        frame += 1
        stamp = sec * scale + frac
        found = comments.take(frame)
        out.write(_packet_block(
            out_endian, BLOCK_EPB,
            struct.pack(out_endian + "IIIII", 0, stamp >> 32,
                        stamp & 0xFFFFFFFF, caplen, origlen),
            data, _comment_options(out_endian, found) if found else b""))


def write_annotated(src, out, spool: CommentSpool) -> int:
    """Copy the capture read from binary stream `src` (pcap or pcapng, at its
    start) to binary stream `out` as pcapng with the spool's comments.
    Returns the number of frames written."""
    comments = _Comments(spool.by_frame())
    head = src.read(24)
    if len(head) >= 4 and struct.unpack_from("<I", head)[0] == PCAPNG_SHB:
        return _copy_pcapng(_Prefixed(head, src), out, comments)
    if len(head) == 24 and (struct.unpack_from("<I", head)[0] in PCAP_MAGICS
                            or struct.unpack_from(">I", head)[0] in PCAP_MAGICS):
        return _copy_pcap(src, out, head, comments)
    return 0                     # the checker has said what is wrong


def annotate_capture(capture, out, spool: CommentSpool) -> int:
    """Second pass of --annotate: read `capture` again (a path; plain or
    compressed, through the capture reader's own opening) and write it to
    the binary stream `out` with the spool's comments.  A stream that turns
    out cut or corrupt ends the copy where the checker's reading ended."""
    source = open_source(capture)
    try:
        head = source.open()
        stream = io.BufferedReader(_SourceIO(source), buffer_size=1 << 20)
        return write_annotated(_Prefixed(head, stream), out, spool)
    finally:
        source.close()


class _SourceIO(io.RawIOBase):
    """A capture Source (capture/source.py) as a raw stream for buffering."""

    def __init__(self, source):
        self._source = source

    def readable(self) -> bool:
        return True

    def readinto(self, view) -> int:
        try:
            return self._source.readinto(view)
        except StreamError:
            return 0             # cut or corrupt: the checker said so


class _Prefixed:
    """A binary stream with `head` put back in front (no seek: pipes too)."""

    def __init__(self, head: bytes, src):
        self._head = head
        self._src = src

    def read(self, n: int) -> bytes:
        if self._head:
            data, self._head = self._head[:n], self._head[n:]
            if len(data) < n:
                data += self._src.read(n - len(data))
            return data
        return self._src.read(n)
