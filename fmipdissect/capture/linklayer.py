"""Link layers and encapsulations, as table rows: from a frame's first
octet to the IPv4 header that carries the UDP or ICMP datagram.

locate() walks a frame layer by layer.  Each layer is a row of LAYERS: a
function (buf, off, stop) -> (next layer, its offset) or None (nothing
IPv4 inside).  Type fields name the next layer through the tables
ETHERTYPES (Ethernet, VLAN, Linux cooked, LLC/SNAP, GRE) and
PPP_PROTOCOLS; LINKTYPES names the first layer of each pcap link type.  A
new encapsulation is a function and a row.

An IPv4 header is a tunnel when it carries IPv4 (IP-in-IP, RFC 2003), IPv6
(RFC 4213), GRE (RFC 2784/2890) or VXLAN (UDP port 4789, RFC 7348); the
walk goes on inside it.  Otherwise it is the datagram's own header, and the
walk ends there.  Both paths of the reader use locate(): the full parser on
every frame, the prefilter on the frames its fixed-offset test cannot
settle, so they agree by construction.
"""

from __future__ import annotations

from ..spec import protocol
from ..spec.numbers import (IPPROTO_DSTOPTS, IPPROTO_GRE, IPPROTO_HOPOPTS,
                            IPPROTO_ICMP, IPPROTO_IPIP, IPPROTO_IPV6,
                            IPPROTO_ROUTING, IPPROTO_UDP)

# --- link types (tcpdump.org/linktypes.html) ----------------------------------

LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_PPP = 9
LINKTYPE_RAW_12 = 12           # DLT_RAW on most systems (12 = LOOP on OpenBSD)
LINKTYPE_PPP_HDLC = 50         # PPP in HDLC-like framing (RFC 1662)
LINKTYPE_PPP_ETHER = 51        # PPPoE session header, no Ethernet header
LINKTYPE_RAW = 101
LINKTYPE_C_HDLC = 104          # Cisco HDLC
LINKTYPE_IEEE802_11 = 105
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IEEE802_11_RADIOTAP = 127
LINKTYPE_PPP_WITH_DIR = 204
LINKTYPE_IPV4 = 228
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

# linktype: (first layer, name)
LINKTYPES = {
    LINKTYPE_NULL: ("null", "BSD null"),
    LINKTYPE_ETHERNET: ("eth", "Ethernet"),
    LINKTYPE_PPP: ("ppp", "PPP"),
    LINKTYPE_RAW_12: ("raw", "raw IP"),
    LINKTYPE_PPP_HDLC: ("ppp", "PPP in HDLC-like framing"),
    LINKTYPE_PPP_ETHER: ("pppoe", "PPPoE"),
    LINKTYPE_RAW: ("raw", "raw IP"),
    LINKTYPE_C_HDLC: ("chdlc", "Cisco HDLC"),
    LINKTYPE_IEEE802_11: ("wlan", "IEEE 802.11"),
    LINKTYPE_LOOP: ("loop", "OpenBSD loop"),
    LINKTYPE_LINUX_SLL: ("sll", "Linux cooked v1"),
    LINKTYPE_IEEE802_11_RADIOTAP: ("radiotap", "IEEE 802.11 radiotap"),
    LINKTYPE_PPP_WITH_DIR: ("pppdir", "PPP with direction"),
    LINKTYPE_IPV4: ("raw", "raw IPv4"),
    LINKTYPE_IPV6: ("raw", "raw IPv6"),
    LINKTYPE_LINUX_SLL2: ("sll2", "Linux cooked v2"),
}
LINKTYPE_NAMES = {linktype: row[1] for linktype, row in LINKTYPES.items()}

# Ethernet type values (IEEE registry; 0x6558 RFC 1701 transparent Ethernet
# bridging, the Ethernet-over-GRE payload type)
ETHERTYPE_IPV4 = 0x0800
ETHERTYPE_IPV6 = 0x86DD
ETHERTYPES = {
    ETHERTYPE_IPV4: "ip",
    ETHERTYPE_IPV6: "ipv6",
    0x8100: "vlan", 0x88A8: "vlan", 0x9100: "vlan",   # 802.1Q, 802.1ad, QinQ
    0x8847: "mpls", 0x8848: "mpls",                     # RFC 3032 unicast, multicast
    0x8864: "pppoe",                                    # RFC 2516 session stage
    0x6558: "eth",
}
ETHERTYPE_MAX_LENGTH = 1500    # at or below: an 802.3 length field, LLC follows
# PPP protocol numbers (RFC 1332 IPv4, RFC 5072 IPv6, RFC 3032 MPLS)
PPP_PROTOCOLS = {0x0021: "ip", 0x0057: "ipv6", 0x0281: "mpls", 0x0283: "mpls"}
# BSD null / OpenBSD loop address families: AF_INET is 2 everywhere, AF_INET6
# is 24 (NetBSD, OpenBSD), 28 (FreeBSD), 30 (macOS)
NULL_FAMILIES = {2: "ip", 24: "ipv6", 28: "ipv6", 30: "ipv6"}
SNAP_OUIS = (b"\x00\x00\x00", b"\x00\x00\xf8")     # RFC 1042, 802.1H

IPV6_EXTENSIONS = (IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_DSTOPTS)
VXLAN_PORT = 4789              # RFC 7348 5
TUNNEL_PROTOCOLS = {IPPROTO_IPIP: "ip", IPPROTO_IPV6: "ipv6",
                    IPPROTO_GRE: "gre"}
MIP_PORT = protocol.MIP_UDP_PORT

# How deep the walk goes: further than Wireshark follows tunnels (a frame
# of 64 KiB holds at most a few thousand headers; these bound the work).
# Deeper frames are reported (locate() gives TOO_DEEP), never dropped
# silently.
MAX_LAYERS = 256               # headers walked: a tunnel in a tunnel in ...
MAX_MPLS_LABELS = 256
TOO_DEEP = -2                  # locate(): the walk's limits were reached


# --- layers: (buf, off, stop) -> (next layer, offset) or None ---------------

def _ethertype(buf, at: int, payload: int, stop: int):
    if at + 2 > stop:
        return None
    layer = ETHERTYPES.get(buf[at] << 8 | buf[at + 1])
    return None if layer is None else (layer, payload)


def _eth(buf, off, stop):
    if off + 14 > stop:
        return None
    if (buf[off + 12] << 8 | buf[off + 13]) <= ETHERTYPE_MAX_LENGTH:
        return "llc", off + 14                 # IEEE 802.3 frame
    return _ethertype(buf, off + 12, off + 14, stop)


def _vlan(buf, off, stop):
    return _ethertype(buf, off + 2, off + 4, stop)     # TCI, then the type


def _llc(buf, off, stop):
    """802.2 LLC with SNAP (RFC 1042): AA AA 03, OUI, ethertype."""
    if off + 8 > stop or buf[off:off + 3] != b"\xaa\xaa\x03" \
            or bytes(buf[off + 3:off + 6]) not in SNAP_OUIS:
        return None
    return _ethertype(buf, off + 6, off + 8, stop)


def _sll(buf, off, stop):
    return _ethertype(buf, off + 14, off + 16, stop)


def _sll2(buf, off, stop):
    """Linux cooked v2: protocol type (2), reserved (2), ifindex (4), ARPHRD
    (2), packet type (1), address length (1), address (8) = 20 octets."""
    if off + 20 > stop:
        return None
    return _ethertype(buf, off, off + 20, stop)


def _raw(buf, off, stop):
    if off >= stop:
        return None
    return {4: ("ip", off), 6: ("ipv6", off)}.get(buf[off] >> 4)


def _null(buf, off, stop):
    """The family is in the writer's host order: accept both."""
    if off + 4 > stop:
        return None
    little = int.from_bytes(buf[off:off + 4], "little")
    big = int.from_bytes(buf[off:off + 4], "big")
    layer = NULL_FAMILIES.get(little) or NULL_FAMILIES.get(big)
    return None if layer is None else (layer, off + 4)


def _ppp_protocol(buf, off, stop):
    if off + 1 > stop:
        return None
    if buf[off] & 1:                           # protocol field compressed
        number, off = buf[off], off + 1
    elif off + 2 <= stop:
        number, off = buf[off] << 8 | buf[off + 1], off + 2
    else:
        return None
    layer = PPP_PROTOCOLS.get(number)
    return None if layer is None else (layer, off)


def _ppp(buf, off, stop):
    """PPP, with or without the HDLC address and control octets FF 03."""
    if buf[off:off + 2] == b"\xff\x03":
        off += 2
    return _ppp_protocol(buf, off, stop)


def _ppp_with_direction(buf, off, stop):
    return _ppp(buf, off + 1, stop)


def _pppoe(buf, off, stop):
    """RFC 2516 session stage: VER/TYPE 0x11, CODE 0, session id, LENGTH
    (of the PPP payload, protocol field included), then the PPP protocol.
    An IPv4 header that does not fit in LENGTH is not inside this session
    (Wireshark reads the session to LENGTH and finds no message there)."""
    if off + 8 > stop or buf[off] != 0x11 or buf[off + 1] != 0:
        return None
    step = _ppp_protocol(buf, off + 6, stop)
    if step is None:
        return None
    end = off + 6 + (buf[off + 4] << 8 | buf[off + 5])
    layer, inner = step
    if layer == "ip" and inner + 20 > end:
        return None
    return step


def _chdlc(buf, off, stop):
    return _ethertype(buf, off + 2, off + 4, stop)     # address, control, type


def _mpls(buf, off, stop):
    """RFC 3032 label stack; after the bottom of stack, the first nibble
    tells IPv4 (4) from IPv6 (6), as routers and Wireshark guess it."""
    for _ in range(MAX_MPLS_LABELS):
        if off + 4 > stop:
            return None
        bottom = buf[off + 2] & 1
        off += 4
        if bottom:
            return _raw(buf, off, stop)
    return _DEEP, off                  # more labels than the walk follows


def _gre(buf, off, stop):
    """RFC 2784 / RFC 2890: C (checksum + reserved), K (key), S (sequence
    number) each add 4 octets; version 0 only, no RFC 1701 routing."""
    if off + 4 > stop:
        return None
    flags = buf[off]
    if buf[off + 1] & 7 or flags & 0x40:
        return None
    size = 4 + 4 * ((flags >> 7) + (flags >> 5 & 1) + (flags >> 4 & 1))
    return _ethertype(buf, off + 2, off + size, stop)


def _vxlan(buf, off, stop):
    if off + 8 > stop or not buf[off] & 0x08:  # the I flag: a valid VNI
        return None
    return "eth", off + 8


def _ipv6(buf, off, stop):
    """IPv6 (RFC 8200) carrying IPv4, GRE or VXLAN, after extension headers."""
    if off + 40 > stop or buf[off] >> 4 != 6:
        return None
    header, off = buf[off + 6], off + 40
    while header in IPV6_EXTENSIONS:
        if off + 8 > stop:
            return None
        header, off = buf[off], off + (buf[off + 1] + 1) * 8
    if header == IPPROTO_UDP:
        return _vxlan_udp(buf, off, stop)
    layer = TUNNEL_PROTOCOLS.get(header)
    return None if layer is None else (layer, off)


def _vxlan_udp(buf, udp, stop):
    if udp + 8 > stop or (buf[udp + 2] << 8 | buf[udp + 3]) != VXLAN_PORT:
        return None
    return "vxlan", udp + 8


def _ieee802_11(buf, off, stop):
    """An 802.11 data frame carrying LLC/SNAP: the LLC header."""
    if off + 24 > stop:
        return None
    fc0, fc1 = buf[off], buf[off + 1]
    if (fc0 >> 2) & 3 != 2:           # not a data frame
        return None
    subtype = fc0 >> 4
    if subtype & 0x4:                 # Null / CF-Ack/Poll without data
        return None
    if fc1 & 0x40:                    # Protected Frame: encrypted payload
        return None
    header = 24
    if fc1 & 0x03 == 0x03:            # ToDS and FromDS: 4-address frame
        header += 6
    if subtype & 0x8:                 # QoS data: QoS Control
        header += 2
        if fc1 & 0x80:                # +HTC/Order: HT Control
            header += 4
    return "llc", off + header


def _radiotap(buf, off, stop):
    if off + 8 > stop or buf[off] != 0:
        return None
    return "wlan", off + (buf[off + 2] | buf[off + 3] << 8)


LAYERS = {
    "eth": _eth, "vlan": _vlan, "llc": _llc, "sll": _sll, "sll2": _sll2,
    "raw": _raw, "null": _null, "loop": _null, "ppp": _ppp,
    "pppdir": _ppp_with_direction, "pppoe": _pppoe, "chdlc": _chdlc,
    "mpls": _mpls, "gre": _gre, "vxlan": _vxlan, "ipv6": _ipv6,
    "wlan": _ieee802_11, "radiotap": _radiotap,
}


def ip_inner(buf, off: int, stop: int):
    """The layer inside the IPv4 header at off when it is a tunnel (IP-in-IP,
    IPv6, GRE, VXLAN), else None: this header carries the datagram."""
    if off + 20 > stop or buf[off] >> 4 != 4:
        return None
    if buf[off + 6] & 0x3F or buf[off + 7]:
        return None                   # a fragment: not walked into
    ihl = (buf[off] & 15) * 4
    proto = buf[off + 9]
    if proto == IPPROTO_UDP:
        udp = off + ihl
        if udp + 4 <= stop and MIP_PORT in (buf[udp] << 8 | buf[udp + 1],
                                           buf[udp + 2] << 8 | buf[udp + 3]):
            return None               # FMIPv4 itself, whatever the other port
        return _vxlan_udp(buf, udp, stop)
    layer = TUNNEL_PROTOCOLS.get(proto)
    return None if layer is None else (layer, off + ihl)


_DEEP = "too deep"     # a layer's verdict: more than the walk follows


def locate(buf, off: int, stop: int, layer: str) -> tuple[int, list]:
    """(offset of the IPv4 header carrying the datagram, or -1, or TOO_DEEP
    when the walk's limits were reached; the layers walked, e.g. ["eth",
    "ip", "gre", "ip"]) for the frame buf[off:stop] whose first header is
    `layer`."""
    path = []
    for _ in range(MAX_LAYERS):
        if layer == _DEEP:
            return TOO_DEEP, path
        path.append(layer)
        if layer == "ip":
            step = ip_inner(buf, off, stop)
            if step is None:
                return off, path
        else:
            step = LAYERS[layer](buf, off, stop)
            if step is None:
                return -1, path
        layer, off = step
    return TOO_DEEP, path


def locate_tunnel(buf, off: int, stop: int, layer: str):
    """locate(), and the offset of the outermost IPv4 header the walk went
    through as a tunnel (IP-in-IP, GRE, VXLAN), or -1: (ip, tunnel, path).
    The merge (correlate/merge.py) reads a tunnelled datagram's inner header
    as the datagram and the outer addresses as where it was carried."""
    path = []
    tunnel = -1
    for _ in range(MAX_LAYERS):
        if layer == _DEEP:
            return TOO_DEEP, tunnel, path
        path.append(layer)
        if layer == "ip":
            step = ip_inner(buf, off, stop)
            if step is None:
                return off, tunnel, path
            if tunnel < 0:
                tunnel = off
        else:
            step = LAYERS[layer](buf, off, stop)
            if step is None:
                return -1, tunnel, path
        layer, off = step
    return TOO_DEEP, tunnel, path
