"""The candidate test: which datagrams may carry FMIPv4, and the fast path's
use of it straight in the read buffer.

carries_fmip() is the one test of a datagram's first octets: UDP with
source or destination port protocol.MIP_UDP_PORT (RFC 4988 5.1, 5.2), or
ICMP of type protocol.ICMP_TYPE_EXPERIMENTAL_MOBILITY (RFC 4065 3, RFC 4988
5.3-5.6).  The full parser (datagrams.py) and the fragment table
(fragments.py) ask it too, so the prefilter keeps a superset of what they
accept by construction.

The fast path reads a frame's link-layer type field and IPv4 protocol octet
at fixed offsets (FAST_LINKS, one row per link type) and settles most
frames there; ipv4_candidate() and frame_candidate() decide the rest.
"""

from __future__ import annotations

import struct

from ..wire.ipv4 import inet_ntoa
from ..records import Datagram
from ..spec import protocol
from ..spec.numbers import IPPROTO_ICMP, IPPROTO_UDP
import fmipdissect.capture.linklayer as L

PORT = protocol.MIP_UDP_PORT
ICMP_TYPE = protocol.ICMP_TYPE_EXPERIMENTAL_MOBILITY

# The hot loops of pcap.py and pcapng.py test the ports of an unfragmented
# UDP datagram inline, octet by octet (a call per UDP frame costs a quarter
# of the fast path, measured with callgrind): it is kept when either port is
# PORT (carries_fmip) or its destination port VXLAN's (a tunnel).  Every
# other datagram comes to ipv4_candidate.
UDP_PORTS = (PORT, L.VXLAN_PORT)

# IPv4 protocols worth a closer look, indexed by the protocol octet (a
# tuple: CPython indexes tuples fastest)
WANTED = tuple(p in (IPPROTO_UDP, IPPROTO_ICMP, *L.TUNNEL_PROTOCOLS)
               for p in range(256))

# The key of a fragment set (RFC 791 3.2: source, destination, protocol,
# identification): (identification, protocol, source + destination).
fragment_key = struct.Struct(">4xH3xB2x8s").unpack_from
# version+IHL, total length, identification, flags+offset, protocol, addresses
_fragment_head = struct.Struct(">BxHHHxB2x8s").unpack_from


NO_REPLIES: frozenset = frozenset()


def carries_fmip(proto: int, buf, at: int, n: int,
                 replies=NO_REPLIES) -> bool | None:
    """Whether the UDP or ICMP datagram whose body starts at buf[at] (n
    octets of it at hand) may be FMIPv4; None when n is too short to tell.
    replies: the destination ports of the replies awaited from ports other
    than PORT (decision D16: an FBAck to an MN's ephemeral port)."""
    if proto == IPPROTO_UDP:
        if n < 8:
            return None
        dport = buf[at + 2] << 8 | buf[at + 3]
        return ((buf[at] << 8 | buf[at + 1]) == PORT or dport == PORT
                or (dport in replies if replies else False))
    if proto == IPPROTO_ICMP:
        if n < 1:
            return None
        return buf[at] == ICMP_TYPE
    return False


# --- the fast path's link types ---------------------------------------------

def _types(values, size: int, order: str = "big") -> frozenset:
    return frozenset(v.to_bytes(size, order) for v in values)


_ETHER_OTHERS = (_types(set(L.ETHERTYPES) - {L.ETHERTYPE_IPV4}, 2)
                 | _types(range(L.ETHERTYPE_MAX_LENGTH + 1), 2))   # 802.3
_NULL_OTHERS = (_types(L.NULL_FAMILIES, 4, "little")
                | _types(L.NULL_FAMILIES, 4, "big"))

# linktype: (offset of a type field, its value for IPv4 right after the link
# header, the other values that may lead to IPv4 (tags, tunnels, the other
# byte order, IPv4 with options), link header length)
FAST_LINKS = {
    L.LINKTYPE_ETHERNET: (12, b"\x08\x00", _ETHER_OTHERS, 14),
    L.LINKTYPE_LINUX_SLL: (14, b"\x08\x00", _ETHER_OTHERS, 16),
    L.LINKTYPE_LINUX_SLL2: (0, b"\x08\x00", _ETHER_OTHERS, 20),
    L.LINKTYPE_NULL: (0, b"\x02\x00\x00\x00", _NULL_OTHERS, 4),
    L.LINKTYPE_LOOP: (0, b"\x00\x00\x00\x02", _NULL_OTHERS, 4),
}
# raw IP: the version and header length octet; 0x45 is IPv4 without options
_RAW = (0, b"\x45", _types(set(range(0x40, 0x50)) - {0x45}, 1)
        | _types(range(0x60, 0x70), 1), 0)
for _linktype in (L.LINKTYPE_RAW, L.LINKTYPE_RAW_12, L.LINKTYPE_IPV4,
                  L.LINKTYPE_IPV6):
    FAST_LINKS[_linktype] = _RAW


def fast_struct(endian: str, lead: str, row: tuple) -> struct.Struct:
    """Struct reading `lead` fields, then the link type field of `row` and
    the IP protocol octet at the link header length + 9."""
    type_offset, type_value, _, header = row
    n = len(type_value)
    return struct.Struct(f"{endian}{lead}{type_offset}x{n}s"
                         f"{header - type_offset - n + 9}xB")


# --- candidates -----------------------------------------------------------------

def ipv4_candidate(buf, ip: int, stop: int, fragments) -> bool:
    """False when the IPv4 datagram at buf[ip:stop] surely holds no FMIPv4
    candidate; True when the full parser must look.  fragments: the
    Reassembler, whose rejected sets drop their later fragments here."""
    proto = buf[ip + 9]
    if buf[ip + 6] & 0x3F or buf[ip + 7]:
        if proto == IPPROTO_UDP or proto == IPPROTO_ICMP:
            return fragment_candidate(buf, ip, stop, proto, fragments)
        return False                  # never walked into (linklayer.ip_inner)
    body = ip + ((buf[ip] & 15) << 2)
    verdict = carries_fmip(proto, buf, body, stop - body, fragments.replies)
    if verdict is not False:
        return True
    if proto == IPPROTO_UDP:
        if (buf[body + 2] << 8 | buf[body + 3]) != L.VXLAN_PORT:
            return False
    elif proto not in L.TUNNEL_PROTOCOLS:
        return False
    inner, _ = L.locate(buf, ip, stop, "ip")
    if inner == L.TOO_DEEP:
        return True               # the full parser says so (tunnel-too-deep)
    return inner > ip and ipv4_candidate(buf, inner, stop, fragments)


def frame_candidate(buf, start: int, stop: int, layer: str, fragments) -> bool:
    """The prefilter for a frame without IPv4 at a fixed offset: walk its
    layers (linklayer.locate) and test the datagram found."""
    ip, _ = L.locate(buf, start, stop, layer)
    if ip < 0 or ip + 20 > stop:
        return ip >= 0 or ip == L.TOO_DEEP     # the full parser says so
    return ipv4_candidate(buf, ip, stop, fragments)


def fragment_candidate(buf, ip: int, stop: int, proto: int, fragments) -> bool:
    """A first fragment that shows other ports or another ICMP type is
    dropped here and its set marked rejected (fragments.Reassembler.reject,
    what the full parser does with it too); a later fragment is kept unless
    its set was rejected."""
    vihl, total, ident, offset, _, addrs = _fragment_head(buf, ip)
    key = (ident, proto, addrs)          # fragment_key
    if offset & 0x1FFF:
        return key not in fragments.rejected
    ihl = (vihl & 15) * 4
    have = stop - ip
    total = total or have
    if vihl >> 4 != 4 or ihl < 20 or have < ihl or total < ihl:
        return True                   # the full parser decides
    if carries_fmip(proto, buf, ip + ihl, min(total, have) - ihl,
                    fragments.replies) is False:
        fragments.reject(key)
        return False
    return True


# --- the usual candidate, built in place ----------------------------------------

# IPv4 header without options and the first 4 octets after it (UDP ports /
# ICMP Type and Code): version+IHL, Total Length, flags+fragment offset,
# TTL, source, destination.  Always inside the buffer: padding follows the data.
_ip_head = struct.Struct(">BxH2xHBx2x4s4sHH").unpack_from


def plain_datagram(frame: int, time: float, buf, ip: int, stop: int,
                   proto: int, encap: tuple[str, str],
                   replies=NO_REPLIES) -> Datagram | None:
    """The Datagram the full parser gives for the usual candidate, built
    straight from the read buffer: an unfragmented IPv4 packet without IP
    options whose Total Length fits in the captured octets buf[ip:stop].
    None whenever the full parser must decide (IP options, fragments, a
    clipped or TSO packet, a body too short, a tunnel): the fast path then
    hands the frame to it, so both paths give the same records.  Spares the
    candidate the frame copy and the link-layer walk (perf: the FMIPv4-only
    benchmark, docs/performance.md).  encap: the path for UDP and ICMP."""
    vihl, total, fragment, ttl, src, dst, sport, dport = _ip_head(buf, ip)
    if vihl != 0x45 or fragment & 0x3FFF:       # options; MF or an offset
        return None
    end = ip + total
    if end > stop:
        return None                   # clipped by the snap length, or garbage
    if proto == IPPROTO_UDP:
        if total < 28 or (sport != PORT and dport != PORT
                          and not (replies and dport in replies)):
            return None
        return Datagram(frame, time, inet_ntoa(src), inet_ntoa(dst), proto,
                        ttl, sport, dport, bytes(buf[ip + 28:end]), False, (),
                        encap[0])
    if total < 21 or sport >> 8 != ICMP_TYPE:   # sport's place: ICMP Type
        return None
    return Datagram(frame, time, inet_ntoa(src), inet_ntoa(dst), proto,
                    ttl, None, None, bytes(buf[ip + 20:end]), False, (),
                    encap[1])
