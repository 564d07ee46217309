"""Capture writers of the generator: pcap and pcapng records, streamed and
buffered, and the link-layer headers of generated frames."""

from __future__ import annotations

import struct
from typing import BinaryIO

LINKTYPES = {"ethernet": 1, "cooked": 113, "raw": 101}   # LINKTYPE_* values
SNAPLEN = 262144
ETH_IPV4 = b"\x08\x00"


class _Writer:
    """Buffered pcap / pcapng record writer; times in integer microseconds."""
    FLUSH = 1 << 20

    def __init__(self, out: BinaryIO, linktype: int):
        self.out = out
        self.linktype = linktype
        self.buffer: list[bytes] = []
        self.size = 0
        self.count = 0

    def _put(self, data: bytes) -> None:
        self.buffer.append(data)
        self.size += len(data)
        if self.size >= self.FLUSH:
            self.flush()

    def flush(self) -> None:
        self.out.write(b"".join(self.buffer))
        self.buffer.clear()
        self.size = 0


class PcapWriter(_Writer):
    def __init__(self, out, linktype):
        super().__init__(out, linktype)
        # classic pcap, microsecond timestamps, little endian
        self._put(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, SNAPLEN,
                              linktype))

    def record(self, t_us: int, data: bytes) -> None:
        sec, usec = divmod(t_us, 1_000_000)
        n = len(data)
        self._put(struct.pack("<IIII", sec, usec, n, n) + data)
        self.count += 1


class PcapngWriter(_Writer):
    def __init__(self, out, linktype):
        super().__init__(out, linktype)
        app = _pcapng_option(4, b"fmipdissect gen")   # shb_userappl
        body = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1) + app + bytes(4)
        self._put(_pcapng_block(0x0A0D0D0A, body))
        tsresol = _pcapng_option(9, b"\x06")           # if_tsresol: 10^-6
        body = struct.pack("<HHI", linktype, 0, SNAPLEN) + tsresol + bytes(4)
        self._put(_pcapng_block(1, body))

    def record(self, t_us: int, data: bytes) -> None:
        n = len(data)
        pad = -n % 4
        total = 32 + n + pad
        self._put(struct.pack("<IIIIIII", 6, total, 0, t_us >> 32,
                              t_us & 0xFFFFFFFF, n, n) + data + bytes(pad)
                  + struct.pack("<I", total))
        self.count += 1


def _pcapng_option(code: int, value: bytes) -> bytes:
    return struct.pack("<HH", code, len(value)) + value + bytes(-len(value) % 4)


def _pcapng_block(block_type: int, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack("<II", block_type, total) + body + struct.pack("<I", total)


# --- link layers ---------------------------------------------------------------

def link_header(linktype: str, src_mac: bytes, dst_mac: bytes,
                outgoing: bool = False) -> bytes:
    """The link-layer header before an IPv4 packet."""
    if linktype == "ethernet":
        return dst_mac + src_mac + ETH_IPV4
    if linktype == "cooked":
        # Linux SLL: packet type (0 to us, 4 sent by us), ARPHRD_ETHER,
        # address length, address padded to 8, protocol.
        return (struct.pack("!HHH", 4 if outgoing else 0, 1, 6) + src_mac
                + b"\x00\x00" + ETH_IPV4)
    return b""


def mac_for_ip(addr: bytes) -> bytes:
    """A locally administered MAC for a host known only by its address."""
    return b"\x02\x00" + addr
