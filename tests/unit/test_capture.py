"""Tests of the streaming capture reader (fmipdissect/capture/).

Every capture is written here, byte by byte with struct (so both byte orders,
nanosecond pcap and multi-interface pcapng are exact), or with dpkt's and
Scapy's own writers.  No mocks: the reader reads real files.
"""

from __future__ import annotations

import os
import random
import socket
import struct

import dpkt
import pytest

from fmipdissect.capture import source as capture_source
from fmipdissect.spec import protocol
from fmipdissect.capture.reader import CaptureError, CaptureReader
from fmipdissect.errors import InputError
from fmipdissect.records import CaptureNote, Datagram

PORT = protocol.MIP_UDP_PORT
ICMP41 = protocol.ICMP_TYPE_EXPERIMENTAL_MOBILITY
T0 = 1_700_000_000

# An FBU-looking UDP payload (RFC 4988 5.1: Type 20, 24 octets + auth ext.)
FBU = (struct.pack("!BBH4s4s4sQ", 20, 0, 3, socket.inet_aton("10.0.0.5"),
                   socket.inet_aton("10.0.0.1"), socket.inet_aton("10.1.0.1"), 77)
       + struct.pack("!BBHI", protocol.AUTH_EXT_TYPE, protocol.AUTH_SUBTYPE_MN_PAR,
                     20, 256) + bytes(range(16)))
# An HI-looking ICMP message (RFC 4988 5.5: type 41, subtype 8)
HI = struct.pack("!BBHBBH", ICMP41, 0, 0, 8, 0x80, 9) + bytes(8)


# --- packet builders --------------------------------------------------------

def ipv4(proto: int, body: bytes, src="10.0.0.5", dst="10.0.0.1", ident=1,
         more=False, offset=0, ttl=64, total=None, options=b"") -> bytes:
    ihl = 5 + len(options) // 4
    frag = (0x2000 if more else 0) | (offset // 8)
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0,
                         ihl * 4 + len(body) if total is None else total,
                         ident, frag, ttl, proto, 0, socket.inet_aton(src),
                         socket.inet_aton(dst)) + options
    return header + body


def udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def fbu_ip(**kw) -> bytes:
    return ipv4(17, udp(49152, PORT, FBU), **kw)


def ethernet(ip: bytes, tags=(), ethertype=0x0800, pad=True) -> bytes:
    frame = b"\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x00\x02"
    for tpid, vid in tags:
        frame += struct.pack("!HH", tpid, vid)
    frame += struct.pack("!H", ethertype) + ip
    if pad and len(frame) < 60:
        frame += b"\xee" * (60 - len(frame))       # trailer padding
    return frame


def pcap(records, endian="<", ns=False, linktype=1, snaplen=65535) -> bytes:
    """records: (time, data) or (time, data, orig_len)."""
    magic = 0xA1B23C4D if ns else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, snaplen, linktype)]
    for rec in records:
        t, data = rec[0], rec[1]
        orig = rec[2] if len(rec) > 2 else len(data)
        sec, frac = t if isinstance(t, tuple) else (int(t), round((t % 1) * 1e6))
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), orig) + data)
    return b"".join(out)


def block(endian: str, btype: int, body: bytes) -> bytes:
    body += bytes(-len(body) % 4)
    blen = 12 + len(body)
    return struct.pack(endian + "II", btype, blen) + body + struct.pack(endian + "I", blen)


def shb(endian="<") -> bytes:
    return block(endian, 0x0A0D0D0A, struct.pack(endian + "IHHq", 0x1A2B3C4D, 1, 0, -1))


def idb(endian="<", linktype=1, tsresol=None, tsoffset=None) -> bytes:
    body = struct.pack(endian + "HHI", linktype, 0, 65535)
    if tsresol is not None:
        body += struct.pack(endian + "HH", 9, 1) + bytes([tsresol]) + bytes(3)
    if tsoffset is not None:
        body += struct.pack(endian + "HHq", 14, 8, tsoffset)
    if tsresol is not None or tsoffset is not None:
        body += struct.pack(endian + "HH", 0, 0)
    return block(endian, 1, body)


def epb(endian, iface, ticks, data, orig=None) -> bytes:
    body = struct.pack(endian + "IIIII", iface, ticks >> 32, ticks & 0xFFFFFFFF,
                       len(data), len(data) if orig is None else orig) + data
    return block(endian, 6, body)


def spb(endian, data) -> bytes:
    return block(endian, 3, struct.pack(endian + "I", len(data)) + data)


def write(tmp_path, name: str, content: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(content)
    return str(path)


def read(path, prefilter=True):
    with CaptureReader(path, prefilter=prefilter) as reader:
        out = list(reader)
    return out, reader


def datagrams(items):
    return [x for x in items if isinstance(x, Datagram)]


def notes(items, rule=None):
    return [x for x in items if isinstance(x, CaptureNote)
            and (rule is None or x.rule == rule)]


def both(path):
    """Read with and without the prefilter; they must agree."""
    fast, reader = read(path, True)
    slow, slow_reader = read(path, False)
    assert fast == slow
    assert reader.frames == slow_reader.frames
    return fast, reader


# --- pcap formats -----------------------------------------------------------

@pytest.mark.parametrize("endian", ["<", ">"])
@pytest.mark.parametrize("ns", [False, True])
def test_pcap_byte_orders_and_resolutions(tmp_path, endian, ns):
    frac = 123456789 if ns else 123456
    records = [((T0, frac), ethernet(fbu_ip())),
               ((T0 + 1, 0), ethernet(ipv4(6, bytes(20)))),            # TCP
               ((T0 + 2, 5), ethernet(ipv4(1, HI, src="10.0.0.1", dst="10.1.0.1")))]
    path = write(tmp_path, "x.pcap", pcap(records, endian, ns))
    items, reader = both(path)
    assert reader.frames == 3 and reader.format == "pcap"
    d1, d3 = datagrams(items)
    assert d1.frame == 1 and d3.frame == 3
    assert d1.time == pytest.approx(T0 + frac / (1e9 if ns else 1e6), abs=1e-7)
    assert (d1.src, d1.dst, d1.proto, d1.ttl, d1.sport, d1.dport) == \
        ("10.0.0.5", "10.0.0.1", 17, 64, 49152, PORT)
    assert d1.payload == FBU and not d1.clipped and d1.fragments == ()
    assert d3.proto == 1 and d3.sport is None and d3.payload == HI
    assert d3.time == pytest.approx(T0 + 2 + 5 / (1e9 if ns else 1e6), abs=1e-7)
    assert reader.bytes_read == reader.size == os.path.getsize(path)


def test_ns_time_exact_digits(tmp_path):
    path = write(tmp_path, "ns.pcap", pcap([((T0, 999_999_999), ethernet(fbu_ip()))], ns=True))
    (d,), _ = read(path)
    # a float holds an epoch time to about 0.24 us: nanoseconds are rounded,
    # but the fraction is read as nanoseconds, not microseconds
    assert d.time - T0 == pytest.approx(0.999999999, abs=1e-6)


def test_source_port_434_and_other_ports(tmp_path):
    frames = [ethernet(ipv4(17, udp(PORT, 50000, FBU))),      # FBAck side
              ethernet(ipv4(17, udp(53, 50000, FBU))),        # DNS: not ours
              ethernet(ipv4(1, b"\x08\x00" + bytes(6))),      # echo request
              ethernet(ipv4(17, udp(1000, PORT + 256, FBU)))]  # 0x02b2: no
    items, _ = both(write(tmp_path, "p.pcap", pcap([(T0, f) for f in frames])))
    assert [(d.frame, d.sport, d.dport) for d in datagrams(items)] == [(1, PORT, 50000)]


def test_dpkt_and_scapy_writers(tmp_path):
    from scapy.all import Ether, ICMP, IP, UDP, Raw, wrpcap, wrpcapng
    frame = ethernet(fbu_ip())
    p1 = tmp_path / "dpkt.pcap"
    with open(p1, "wb") as f:
        writer = dpkt.pcap.Writer(f, nano=True)
        writer.writepkt(frame, ts=T0 + 0.5)
    p2 = tmp_path / "dpkt.pcapng"
    with open(p2, "wb") as f:
        dpkt.pcapng.Writer(f).writepkt(frame, ts=T0 + 0.25)
    pkts = [Ether() / IP(src="10.0.0.1", dst="10.1.0.1") / UDP(sport=434, dport=434) / Raw(FBU),
            Ether() / IP() / ICMP(type=41) / Raw(HI[4:])]
    for p in pkts:
        p.time = T0 + 3
    p3, p4 = str(tmp_path / "scapy.pcap"), str(tmp_path / "scapy.pcapng")
    wrpcap(p3, pkts)
    wrpcapng(p4, pkts)
    assert [d.time for d in datagrams(both(str(p1))[0])] == [pytest.approx(T0 + 0.5)]
    assert [d.time for d in datagrams(both(str(p2))[0])] == [pytest.approx(T0 + 0.25)]
    for path in (p3, p4):
        items, reader = both(path)
        d1, d2 = datagrams(items)
        assert d1.payload == FBU and d1.sport == d1.dport == 434
        assert d2.payload[0] == ICMP41 and d2.proto == 1
        assert d1.time == pytest.approx(T0 + 3)


# --- pcapng -----------------------------------------------------------------

@pytest.mark.parametrize("endian", ["<", ">"])
def test_pcapng_two_interfaces_resolutions_spb_unknown_blocks(tmp_path, endian):
    e = endian
    ticks_ns = T0 * 10**9 + 123_456_789
    ticks_pow2 = (T0 << 10) + 512           # 2^-10 resolution: .5 s
    content = (shb(e) + idb(e, 1) + idb(e, 101, tsresol=9)
               + idb(e, 113, tsresol=0x80 | 10, tsoffset=100)
               + block(e, 0xBAD, b"custom block: a frame number")
               + epb(e, 0, T0 * 10**6 + 250_000, ethernet(fbu_ip()))
               + block(e, 5, bytes(12))                      # interface stats
               + epb(e, 1, ticks_ns, ipv4(1, HI))
               + epb(e, 2, ticks_pow2, cooked_v1(fbu_ip()))
               + epb(e, 1, ticks_ns, ipv4(6, bytes(20)))     # TCP: skipped
               + spb(e, ethernet(fbu_ip(ident=9))))
    path = write(tmp_path, "two.pcapng", content)
    items, reader = both(path)
    # the custom block takes frame 1, as in Wireshark
    assert reader.format == "pcapng" and reader.frames == 6
    assert reader.linktypes == {1, 101, 113} and not reader.unsupported_linktypes
    d1, d2, d3, d5 = datagrams(items)
    assert [d.frame for d in (d1, d2, d3, d5)] == [2, 3, 4, 6]
    assert d1.time == pytest.approx(T0 + 0.25)
    assert d2.time == pytest.approx(T0 + 0.123456789, abs=1e-6) and d2.payload == HI
    assert d3.time == pytest.approx(100 + T0 + 0.5)
    assert d5.payload == FBU
    assert not notes(items)


def test_pcapng_second_section_other_byte_order(tmp_path):
    content = (shb("<") + idb("<", 1) + epb("<", 0, T0 * 10**6, ethernet(fbu_ip()))
               + shb(">") + idb(">", 101) + epb(">", 0, (T0 + 1) * 10**6, fbu_ip()))
    items, reader = both(write(tmp_path, "s.pcapng", content))
    assert [(d.frame, d.time) for d in datagrams(items)] == [(1, T0), (2, T0 + 1)]
    assert not notes(items)


def test_pcapng_undefined_interface_is_a_note(tmp_path):
    content = shb() + idb() + epb("<", 0, 0, ethernet(fbu_ip())) + epb("<", 3, 0, b"x" * 60)
    items, reader = both(write(tmp_path, "u.pcapng", content))
    assert len(datagrams(items)) == 1
    (note,) = notes(items)
    assert note.rule == "FM901" and "undefined interface 3" in note.message


# --- link types -------------------------------------------------------------

def cooked_v1(ip: bytes, proto=0x0800) -> bytes:
    return struct.pack("!HHH8sH", 0, 1, 6, b"\x02" * 6 + b"\0\0", proto) + ip


def cooked_v2(ip: bytes, proto=0x0800) -> bytes:
    return struct.pack("!HHIHBB8s", proto, 0, 3, 1, 0, 6, b"\x02" * 6 + b"\0\0") + ip


def dot11(ip: bytes, qos=True, four=False, protected=False, ftype=2, order=False) -> bytes:
    subtype = 8 if qos else 0
    fc0 = (subtype << 4) | (ftype << 2)
    fc1 = (0x03 if four else 0x01) | (0x40 if protected else 0) | (0x80 if order else 0)
    header = struct.pack("!BBH6s6s6sH", fc0, fc1, 0, b"\x01" * 6, b"\x02" * 6,
                         b"\x03" * 6, 0)
    if four:
        header += b"\x04" * 6
    if qos:
        header += b"\x00\x00"
        if order:
            header += bytes(4)
    return header + b"\xaa\xaa\x03\x00\x00\x00\x08\x00" + ip


def radiotap(frame: bytes) -> bytes:
    # version 0, pad, length 12, present = flags + rate, flags, rate, 2 pad
    return struct.pack("<BBHIBBH", 0, 0, 12, 0x6, 0, 2, 0) + frame


LINK_CASES = {
    "ethernet": (1, lambda ip: ethernet(ip)),
    "vlan": (1, lambda ip: ethernet(ip, tags=[(0x8100, 10)])),
    "qinq-88a8": (1, lambda ip: ethernet(ip, tags=[(0x88A8, 100), (0x8100, 10)])),
    "qinq-9100": (1, lambda ip: ethernet(ip, tags=[(0x9100, 100), (0x8100, 10)])),
    "cooked-v1": (113, cooked_v1),
    "cooked-v1-vlan": (113, lambda ip: cooked_v1(struct.pack("!HH", 7, 0x0800) + ip, 0x8100)),
    "cooked-v2": (276, cooked_v2),
    "raw-101": (101, lambda ip: ip),
    "raw-228": (228, lambda ip: ip),
    "raw-12": (12, lambda ip: ip),
    "null-le": (0, lambda ip: struct.pack("<I", 2) + ip),
    "null-be": (0, lambda ip: struct.pack(">I", 2) + ip),
    "loop": (108, lambda ip: struct.pack(">I", 2) + ip),
    "radiotap-qos": (127, lambda ip: radiotap(dot11(ip))),
    "radiotap-4addr": (127, lambda ip: radiotap(dot11(ip, four=True))),
    "radiotap-qos-htc": (127, lambda ip: radiotap(dot11(ip, order=True))),
    "802.11-plain": (105, lambda ip: dot11(ip, qos=False)),
}


@pytest.mark.parametrize("case", sorted(LINK_CASES))
@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_link_types(tmp_path, case, fmt):
    linktype, wrap = LINK_CASES[case]
    frames = [wrap(fbu_ip()), wrap(ipv4(6, bytes(40))), wrap(ipv4(1, HI)),
              wrap(ipv4(17, udp(53, 5353, bytes(30))))]
    if fmt == "pcap":
        content = pcap([(T0 + i, f) for i, f in enumerate(frames)], linktype=linktype)
    else:
        content = shb() + idb("<", linktype) + b"".join(
            epb("<", 0, (T0 + i) * 10**6, f) for i, f in enumerate(frames))
    items, reader = both(write(tmp_path, f"{case}.{fmt}", content))
    assert reader.frames == 4
    got = [(d.frame, d.proto, d.payload) for d in datagrams(items)]
    assert got == [(1, 17, FBU), (3, 1, HI)]
    assert not notes(items)


@pytest.mark.parametrize("frame", [
    radiotap(dot11(fbu_ip(), protected=True)),       # encrypted payload
    radiotap(dot11(fbu_ip(), ftype=0)),              # management frame
    radiotap(dot11(fbu_ip())[:-len(fbu_ip())][:-2] + b"\x86\xdd" + fbu_ip()),  # not IPv4
])
def test_radiotap_frames_not_carrying_ipv4(tmp_path, frame):
    items, reader = both(write(tmp_path, "w.pcap", pcap([(T0, frame)], linktype=127)))
    assert items == [] and reader.frames == 1


def test_other_ethertypes_and_families_skipped(tmp_path):
    frames = [ethernet(fbu_ip(), ethertype=0x86DD), ethernet(fbu_ip(), ethertype=0x0806),
              ethernet(fbu_ip(), tags=[(0x8100, 3)], ethertype=0x86DD)]
    items, reader = both(write(tmp_path, "o.pcap", pcap([(T0, f) for f in frames])))
    assert items == [] and reader.frames == 3
    nulls = [struct.pack("<I", 24) + fbu_ip(), struct.pack("<I", 2) + fbu_ip()]
    items, _ = both(write(tmp_path, "n.pcap", pcap([(T0, f) for f in nulls], linktype=0)))
    assert [d.frame for d in datagrams(items)] == [2]


def test_unsupported_link_type_counted(tmp_path):
    path = write(tmp_path, "tr.pcap", pcap([(T0, fbu_ip())] * 3, linktype=6))
    items, reader = both(path)
    assert items == [] and reader.frames == 3
    assert reader.unsupported_linktypes == {6}
    content = shb() + idb("<", 1) + idb("<", 147) + epb("<", 1, 0, fbu_ip()) \
        + epb("<", 0, 0, ethernet(fbu_ip()))
    items, reader = both(write(tmp_path, "u.pcapng", content))
    assert [d.frame for d in datagrams(items)] == [2] and reader.frames == 2
    assert reader.unsupported_linktypes == {147}


# --- lengths: trailer padding, snaplen, IP options -------------------------

def test_ethernet_trailer_padding_cut(tmp_path):
    short = b"\x14\x00\x00\x03"                 # 4-octet payload: frame padded to 60
    frame = ethernet(ipv4(17, udp(1024, PORT, short)))
    assert len(frame) == 60 and frame.endswith(b"\xee")
    fcs = ethernet(ipv4(1, HI)) + b"\xde\xad\xbe\xef"     # FCS after the frame
    items, _ = both(write(tmp_path, "pad.pcap", pcap([(T0, frame), (T0, fcs)])))
    d1, d2 = datagrams(items)
    assert d1.payload == short and not d1.clipped
    assert d2.payload == HI and not d2.clipped


def test_ip_options_shift_the_udp_header(tmp_path):
    ip = ipv4(17, udp(7, PORT, FBU), options=b"\x94\x04\x00\x00" + b"\x01" * 4)
    items, _ = both(write(tmp_path, "opt.pcap", pcap([(T0, ethernet(ip))])))
    (d,) = datagrams(items)
    assert d.payload == FBU and d.dport == PORT


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_snaplen_clipped_message(tmp_path, fmt):
    frame = ethernet(fbu_ip())
    cut = frame[:14 + 20 + 8 + 10]
    if fmt == "pcap":
        content = pcap([(T0, cut, len(frame))], snaplen=len(cut))
    else:
        content = shb() + idb() + epb("<", 0, T0 * 10**6, cut, len(frame))
    items, _ = both(write(tmp_path, "clip." + fmt, content))
    (d,) = datagrams(items)
    assert d.clipped and d.payload == FBU[:10]
    (note,) = notes(items)
    assert note.rule == "FM903" and note.frame == 1 and note.time == T0
    assert "38 of 76 IP octets" in note.message


def test_clipped_before_udp_header_is_not_a_datagram(tmp_path):
    frame = ethernet(fbu_ip())
    items, reader = both(write(tmp_path, "c.pcap", pcap([(T0, frame[:38], len(frame))])))
    assert items == [] and reader.frames == 1


# --- fragments --------------------------------------------------------------

def fragments(ip_payload: bytes, sizes, proto=17, ident=0x4242, **kw):
    """Split an IP payload into fragments of the given sizes (multiples of 8)."""
    out, offset = [], 0
    for i, size in enumerate(sizes):
        part = ip_payload[offset:offset + size]
        last = i == len(sizes) - 1
        out.append(ipv4(proto, part if not last else ip_payload[offset:],
                        ident=ident, more=not last, offset=offset, **kw))
        offset += size
    return out


@pytest.mark.parametrize("order", [(0, 1), (1, 0)])
def test_two_fragments_reassembled(tmp_path, order):
    parts = fragments(udp(49152, PORT, FBU), [16, 0])
    recs = [(T0 + i, ethernet(parts[j])) for i, j in enumerate(order)]
    recs.insert(1, (T0, ethernet(ipv4(6, bytes(20)))))
    items, _ = both(write(tmp_path, "f2.pcap", pcap(recs)))
    (d,) = datagrams(items)
    assert d.payload == FBU and d.frame == 3 and d.fragments == (1, 3)
    assert d.time == T0 + 1 and d.sport == 49152 and d.dport == PORT
    assert not notes(items)


def test_three_fragments_out_of_order_icmp(tmp_path):
    message = HI + bytes(40)
    parts = fragments(message, [16, 24, 0], proto=1, ident=7)
    recs = [(T0, ethernet(parts[2])), (T0, ethernet(parts[0])), (T0, ethernet(parts[1]))]
    items, _ = both(write(tmp_path, "f3.pcap", pcap(recs)))
    (d,) = datagrams(items)
    assert d.payload == message and d.proto == 1 and d.fragments == (1, 2, 3)


def test_fragments_of_other_traffic_pass_silently(tmp_path):
    parts = fragments(udp(53, 53, bytes(64)), [24, 0], ident=3)
    lone = fragments(udp(53, 53, bytes(64)), [24, 0], ident=4)[0]
    recs = [(T0, ethernet(p)) for p in parts + [lone]]
    items, _ = both(write(tmp_path, "dns.pcap", pcap(recs)))
    assert items == []


def test_incomplete_fragment_sets(tmp_path):
    first_only = fragments(udp(49152, PORT, FBU), [16, 0], ident=1)[0]
    last_only = fragments(udp(49152, PORT, FBU), [16, 0], ident=2)[1]
    recs = [(T0, ethernet(first_only)), (T0 + 1, ethernet(last_only))]
    items, _ = both(write(tmp_path, "inc.pcap", pcap(recs)))
    n1, n2 = notes(items, "FM902")
    assert n1.frame == 1 and "id 0x0001" in n1.message and "UDP port 434" in n1.message
    assert n2.frame == 2 and "first fragment never seen" in n2.message
    assert len(items) == 2


def test_fragment_set_expires_after_30_seconds(tmp_path):
    parts = fragments(udp(49152, PORT, FBU), [16, 0], ident=5)
    other = fragments(ipv4(1, HI)[20:], [8, 0], proto=1, ident=6)
    recs = [(T0, ethernet(parts[0])), (T0 + 31, ethernet(other[0])),
            (T0 + 31, ethernet(other[1])), (T0 + 32, ethernet(parts[1]))]
    items, _ = both(write(tmp_path, "exp.pcap", pcap(recs)))
    kinds = [(type(x).__name__, x.frame) for x in items]
    # the first set expired when frame 2 arrived; frame 4 is then a lone last
    # fragment that never completes
    assert kinds == [("CaptureNote", 1), ("Datagram", 3), ("CaptureNote", 4)]
    assert "expired" in items[0].message
    assert "never seen" in items[2].message


# --- truncated and corrupt captures ------------------------------------------

def _frames_for_cut():
    return [ethernet(fbu_ip(ident=i)) for i in range(4)]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_truncated_at_every_cut_point(tmp_path, fmt):
    frames = _frames_for_cut()
    if fmt == "pcap":
        whole = pcap([(T0 + i, f) for i, f in enumerate(frames)])
        first = 24                         # shortest file that opens
        starts = [24 + i * (16 + len(frames[0])) for i in range(4)]
        boundaries = set(starts)
    else:
        head = shb() + idb()
        blocks = [epb("<", 0, (T0 + i) * 10**6, f) for i, f in enumerate(frames)]
        whole = head + b"".join(blocks)
        first = 12
        starts = [len(head) + sum(len(b) for b in blocks[:i]) for i in range(4)]
        boundaries = {len(shb())} | set(starts)
    path = tmp_path / ("cut." + fmt)
    for cut in range(first, len(whole)):
        path.write_bytes(whole[:cut])
        items, reader = both(str(path))
        complete = sum(1 for s in starts[1:] + [len(whole)] if s <= cut)
        assert [d.frame for d in datagrams(items)] == list(range(1, complete + 1))
        assert reader.frames == complete
        cut_notes = notes(items, "FM901")
        if cut in boundaries:
            assert cut_notes == []
            continue
        (note,) = cut_notes
        assert items[-1] is note
        if cut > starts[0]:
            start = max(s for s in starts if s <= cut)
            if fmt == "pcap" or cut - start >= 4:
                assert f"capture ends inside frame {complete + 1} (" in note.message
            else:                           # the block type itself is cut
                assert f"inside a block after frame {complete} (" in note.message


def test_truncated_message_names_the_part(tmp_path):
    frame = ethernet(fbu_ip())
    whole = pcap([(T0, frame)] * 2)
    path = write(tmp_path, "t.pcap", whole[:24 + 16 + len(frame) + 10])
    (note,) = notes(read(path)[0])
    assert note.message == "capture ends inside frame 2 (record header cut after 10 octets)"
    path = write(tmp_path, "t2.pcap", whole[:24 + 16 + len(frame) + 16 + 5])
    (note,) = notes(read(path)[0])
    assert note.message == "capture ends inside frame 2 (record data cut after 5 octets)"


@pytest.mark.parametrize("garbage", [b"\xff" * 40, os.urandom(300), b"\x00" * 16 + b"A" * 50])
def test_garbage_after_valid_header(tmp_path, garbage):
    good = pcap([(T0, ethernet(fbu_ip()))])
    items, _ = both(write(tmp_path, "g.pcap", good + garbage))
    assert datagrams(items)[0].frame == 1
    assert notes(items, "FM901")
    good = shb() + idb() + epb("<", 0, 0, ethernet(fbu_ip()))
    items, _ = both(write(tmp_path, "g.pcapng", good + garbage))
    assert datagrams(items)[0].frame == 1
    assert [n.rule for n in notes(items)] == ["FM901"]


def test_pcapng_inconsistent_block_length(tmp_path):
    bad = bytearray(epb("<", 0, 0, ethernet(fbu_ip())))
    bad[-4:] = struct.pack("<I", len(bad) + 4)         # trailing length differs
    content = shb() + idb() + epb("<", 0, 0, ethernet(fbu_ip())) + bytes(bad) \
        + epb("<", 0, 0, ethernet(fbu_ip()))
    items, _ = both(write(tmp_path, "bl.pcapng", content))
    assert [d.frame for d in datagrams(items)] == [1]
    (note,) = notes(items)
    assert note.rule == "FM901" and "inconsistent lengths" in note.message


def test_truncation_after_pending_fragment(tmp_path):
    part = fragments(udp(49152, PORT, FBU), [16, 0])[0]
    whole = pcap([(T0, ethernet(part)), (T0, ethernet(fbu_ip()))])
    items, _ = both(write(tmp_path, "tf.pcap", whole[:-5]))
    assert [n.rule for n in notes(items)] == ["FM902", "FM901"]


# --- bad inputs -------------------------------------------------------------

def _bad(tmp_path, name, content):
    path = write(tmp_path, name, content)
    before = (os.stat(path).st_mtime_ns, open(path, "rb").read())
    with pytest.raises(CaptureError) as info:
        CaptureReader(path)
    assert (os.stat(path).st_mtime_ns, open(path, "rb").read()) == before
    message = str(info.value)
    assert "\n" not in message and message.startswith(path + ": ")
    return message


def test_bad_inputs(tmp_path):
    assert issubclass(CaptureError, InputError)
    assert _bad(tmp_path, "empty.pcap", b"").endswith("empty file, not a capture")
    assert _bad(tmp_path, "x.pcap", b"<!DOCTYPE html>").endswith(
        "not a pcap or pcapng file (starts with 3c 21 44 4f)")
    assert "gzip" in _bad(tmp_path, "z.pcap.gz", b"\x1f\x8b\x08\x00" + bytes(30))
    assert "pcap file header cut after 10 octets" in _bad(
        tmp_path, "h.pcap", pcap([])[:10])
    assert "byte-order magic" in _bad(tmp_path, "b.pcapng", shb()[:8] + b"abcd" + bytes(20))
    assert _bad(tmp_path, "1.pcap", b"\xd4").endswith("(starts with d4)")
    with pytest.raises(CaptureError, match="no such file"):
        CaptureReader(str(tmp_path / "missing.pcap"))
    with pytest.raises(CaptureError, match="is a directory"):
        CaptureReader(str(tmp_path))


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files without permission")
def test_permission_denied(tmp_path):
    path = write(tmp_path, "locked.pcap", pcap([]))
    os.chmod(path, 0)
    with pytest.raises(CaptureError, match="permission denied"):
        CaptureReader(path)


def test_input_never_written(tmp_path):
    content = pcap([(T0, ethernet(fbu_ip()))])[:-3]
    path = write(tmp_path, "ro.pcap", content)
    os.chmod(path, 0o444)
    before = os.stat(path).st_mtime_ns
    items, _ = both(path)
    assert open(path, "rb").read() == content and os.stat(path).st_mtime_ns == before


# --- chunk boundaries, big records, prefilter equivalence --------------------

def random_frame(rng: random.Random, ident: int) -> list[bytes]:
    """A random frame (or the fragments of one) of a mixed capture."""
    kind = rng.random()
    src = f"10.{rng.randrange(4)}.0.{rng.randrange(1, 9)}"
    if kind < 0.25:
        ip = ipv4(6, bytes(rng.randrange(20, 1400)), src=src)
    elif kind < 0.45:
        ip = ipv4(17, udp(rng.choice((53, 434, 1434, 0x01B2 << 8 & 0xFFFF)),
                          rng.choice((434, 5353, 0xB201)), bytes(rng.randrange(0, 300))),
                  src=src)
    elif kind < 0.6:
        ip = ipv4(1, bytes([rng.choice((41, 8, 0, 41))]) + bytes(rng.randrange(3, 80)),
                  src=src)
    elif kind < 0.75:
        body = udp(rng.choice((434, 53)), 434, bytes(rng.randrange(8, 200)))
        sizes = [8 * rng.randrange(1, 4) for _ in range(rng.randrange(1, 3))] + [0]
        parts = fragments(body, sizes, ident=ident, src=src)
        rng.shuffle(parts)
        if rng.random() < 0.2:
            parts.pop()
        return [wrap_random(rng, p) for p in parts]
    elif kind < 0.85:
        ip = fbu_ip(src=src)
        full = wrap_random(rng, ip)
        return [full[:rng.randrange(1, len(full))]]      # snaplen-clipped
    else:
        ip = ipv4(rng.choice((17, 1, 6, 50)), bytes(rng.randrange(0, 100)), src=src,
                  total=rng.choice((0, 10, 20, 2000)))     # odd total lengths
    return [wrap_random(rng, ip)]


def wrap_random(rng, ip):
    return rng.choice((
        lambda: ethernet(ip),
        lambda: ethernet(ip, tags=[(0x8100, 5)]),
        lambda: ethernet(ip, tags=[(0x88A8, 1), (0x8100, 5)]),
        lambda: ethernet(ip, ethertype=0x86DD),
    ))()


@pytest.mark.parametrize("seed", range(4))
def test_prefilter_matches_full_parse_on_mixed_capture(tmp_path, seed, monkeypatch):
    monkeypatch.setattr(capture_source, "CHUNK", 4096)     # many chunk boundaries
    rng = random.Random(seed)
    frames = []
    for i in range(400):
        frames.extend(random_frame(rng, i))
    frames.append(ethernet(fbu_ip(), pad=False) + bytes(9000))   # > CHUNK
    recs = [((T0 + i // 50, i), f, len(f) + rng.choice((0, 0, 5)))
            for i, f in enumerate(frames)]
    p1 = write(tmp_path, "mix.pcap", pcap(recs))
    items, reader = both(p1)
    assert reader.frames == len(frames)
    found = datagrams(items)
    assert len(found) > 30 and any(d.fragments for d in found) \
        and any(d.clipped for d in found)

    def key(x):
        return (x.frame, x.rule) if isinstance(x, CaptureNote) else (x.frame, x.payload)

    # pcapng: one struct per block when all interfaces share a link type,
    # a lookup per interface otherwise; Ethernet frames on interfaces 0 and 2
    for second in (1, 101):
        ng = shb() + idb("<", 1) + idb("<", second) + idb("<", 1) + b"".join(
            epb("<", rng.choice((0, 2)), (T0 + i // 50) * 10**6 + i, f)
            for i, (_, f, _) in enumerate(recs))
        items_ng, reader_ng = both(write(tmp_path, f"mix{second}.pcapng", ng))
        assert reader_ng.frames == len(frames)
        assert [key(x) for x in items_ng] == [key(x) for x in items]

    # independent check: dpkt (it strips VLAN tags itself) finds the same
    # unfragmented UDP port-434 datagrams
    expected = []
    with open(p1, "rb") as f:
        for n, (_, buf) in enumerate(dpkt.pcap.Reader(f), 1):
            try:
                ip = dpkt.ethernet.Ethernet(buf).data
            except dpkt.NeedData:       # a clipped frame dpkt cannot parse
                continue
            if isinstance(ip, dpkt.ip.IP) and ip.p == 17 and ip.len >= 28 \
                    and not ip.mf and not ip.offset and isinstance(ip.data, dpkt.udp.UDP) \
                    and PORT in (ip.data.sport, ip.data.dport):
                expected.append(n)
    ours = [d.frame for d in found if d.proto == 17 and not d.fragments]
    assert expected and set(expected) <= set(ours)


def test_record_larger_than_chunk(tmp_path):
    big = ethernet(ipv4(17, udp(1, PORT, bytes(65000))))
    recs = [(T0, big)] * 3 + [(T0, ethernet(fbu_ip()))]
    items, reader = both(write(tmp_path, "big.pcap", pcap(recs)))
    assert [len(d.payload) for d in datagrams(items)] == [65000] * 3 + [len(FBU)]


def test_reads_from_a_pipe(tmp_path):
    import threading
    fifo = str(tmp_path / "fifo")
    os.mkfifo(fifo)
    content = pcap([(T0 + i, ethernet(fbu_ip(ident=i))) for i in range(3000)])

    def feed():
        with open(fifo, "wb") as f:
            f.write(content)
    writer = threading.Thread(target=feed)
    writer.start()
    items, reader = read(fifo)
    writer.join()
    assert [d.frame for d in items] == list(range(1, 3001))
    assert reader.bytes_read == len(content)


def test_truncation_note_time(tmp_path):
    whole = pcap([(T0, ethernet(fbu_ip())), (T0 + 7, ethernet(ipv4(6, bytes(20))))])
    items, _ = both(write(tmp_path, "tt.pcap", whole[:-3]))
    assert items[-1].rule == "FM901" and items[-1].time == T0 + 7
    items, _ = both(write(tmp_path, "tt2.pcap", whole[:-len(whole) + 24 + 16 + 90 + 4]))
    assert items[-1].rule == "FM901" and items[-1].time == T0    # last time known


# --- fuzz: any bytes after a valid header -> notes, never an exception --------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

_FUZZ_HEADS = {
    "pcap": pcap([(T0, ethernet(fbu_ip()))]),
    "pcap-be-raw": pcap([(T0, fbu_ip())], endian=">", linktype=101),
    "pcap-radiotap": pcap([(T0, radiotap(dot11(fbu_ip())))], linktype=127),
    "pcapng": shb() + idb() + idb("<", 101) + epb("<", 0, 0, ethernet(fbu_ip())),
}


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(head=st.sampled_from(sorted(_FUZZ_HEADS)), tail=st.binary(max_size=400),
       mutate=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)),
                       max_size=4))
def test_fuzzed_captures_never_raise(tmp_path, head, tail, mutate):
    content = bytearray(_FUZZ_HEADS[head] + tail)
    for where, value in mutate:       # flip octets after the file header
        if len(content) > 24:
            content[24 + where % (len(content) - 24)] = value
    path = tmp_path / "fuzz.cap"
    path.write_bytes(bytes(content))
    items, reader = both(str(path))
    assert all(isinstance(x, (Datagram, CaptureNote)) for x in items)
    # reading ends once; notes that skip a frame or a section do not end it
    ends = [n for n in notes(items, "FM901") if "skipped" not in n.message]
    assert len(ends) <= 1


def test_deep_vlan_stack(tmp_path):
    """More tags than the prefilter walks: the full parser decides."""
    deep = ethernet(fbu_ip(), tags=[(0x88A8, 1)] + [(0x8100, i) for i in range(9)])
    other = ethernet(ipv4(6, bytes(20)), tags=[(0x8100, i) for i in range(12)])
    items, _ = both(write(tmp_path, "deep.pcap", pcap([(T0, deep), (T0, other)])))
    assert [(d.frame, d.payload) for d in datagrams(items)] == [(1, FBU)]
