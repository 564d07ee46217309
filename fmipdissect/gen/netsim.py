"""The wire of `fmipdissect gen --vantage`: links with delays and loss, and
what each node's capture records.

A datagram put on a link at time t by one end is recorded by that end's
capture at t and, unless the link loses it, by the other end's capture at t
plus the link's delay.  Routers change what a router changes when it
forwards (TTL, header checksum, link-layer addresses) and nothing else: the
IP Identification stays the same end to end.  IP-in-IP (RFC 2003) wraps a
datagram in an outer header of the tunnel's entry; the inner TTL is
decremented by the encapsulating router as part of forwarding (RFC 2003
3.1) and again by the decapsulating router when it forwards the datagram on.

Times are integer microseconds on the reference clock (decision D23); the
writer (gen/vantage_write.py) adds each node's clock offset.
"""

from __future__ import annotations

import random
import struct
from socket import inet_aton

from ..spec.numbers import IPPROTO_IPIP, IPPROTO_UDP
from ..wire.checksum import ip_header_checksum, l4_checksum
from .flows import mac_bytes
from .topology import LINKS, NODES
from .writers import ETH_IPV4

TTL = 64
_HEADER = struct.Struct("!BBHHHBBH4s4s")


def ipv4_header(src: bytes, dst: bytes, proto: int, ident: int,
                payload_len: int, ttl: int = TTL) -> bytes:
    """A 20-octet IPv4 header with DF clear and its checksum."""
    head = bytearray(_HEADER.pack(0x45, 0, 20 + payload_len, ident, 0, ttl,
                                  proto, 0, src, dst))
    head[10:12] = struct.pack("!H", ip_header_checksum(head))
    return bytes(head)


def udp_datagram(src: bytes, dst: bytes, ident: int, port: int,
                 payload: bytes) -> bytes:
    """IPv4/UDP from port to the same port, UDP checksum computed."""
    udp = bytearray(struct.pack("!HHHH", port, port, 8 + len(payload), 0)
                    + payload)
    udp[6:8] = struct.pack("!H", l4_checksum(src, dst, IPPROTO_UDP,
                                             bytes(udp)) or 0xFFFF)
    return ipv4_header(src, dst, IPPROTO_UDP, ident, len(udp)) + bytes(udp)


def forwarded(ip: bytes) -> bytes:
    """The datagram as a router sends it on: TTL one less, new checksum."""
    b = bytearray(ip)
    b[8] -= 1
    b[10:12] = b"\x00\x00"
    b[10:12] = struct.pack("!H", ip_header_checksum(b[:20]))
    return bytes(b)


class Network:
    """Links, their delays and loss, and every node's capture records.

    records[node] holds (time_us, order, frame bytes, tag, link): tag
    names the FMIPv4 message a frame carries (for the truth file), else
    None; link: the link it was seen on.
    """

    def __init__(self, delays_us: dict[str, int], loss: float, seed: int,
                 jitter_us: int = 0, captured: tuple[str, ...] = NODES):
        self.delays_us = delays_us
        self.loss = loss
        self.rnd = random.Random(f"loss:{seed}")
        # jitter: each frame's delay grows by 0..jitter_us, drawn anew for
        # every frame (as netem's jitter does, it may reorder a link)
        self.jitter_us = jitter_us
        self.rnd_jitter = random.Random(f"jitter:{seed}")
        ids = random.Random(f"ident:{seed}")
        self.next_ident = {node: ids.randrange(0x10000) for node in NODES}
        # only the captures written keep their records
        self.records: dict[str, list] = {node: [] for node in captured}
        self.order = 0
        # the link-layer header of a frame sent on a link by one of its ends
        self.headers = {}
        for name, link in LINKS.items():
            for sender, receiver in ((link.a, link.b), (link.b, link.a)):
                self.headers[name, sender.node] = (
                    mac_bytes(receiver.mac) + mac_bytes(sender.mac) + ETH_IPV4)

    def ident(self, node: str) -> int:
        """The next IP Identification of a datagram the node originates."""
        value = self.next_ident[node]
        self.next_ident[node] = (value + 1) & 0xFFFF
        return value

    def encapsulate(self, node: str, src: str, dst: str, ip: bytes) -> bytes:
        """IP-in-IP (RFC 2003) from the tunnel entry src to its exit dst."""
        return ipv4_header(inet_aton(src), inet_aton(dst), IPPROTO_IPIP,
                           self.ident(node), len(ip)) + ip

    def record(self, node: str, link: str, sender: str, t: int, ip: bytes,
               tag=None) -> None:
        self.order += 1
        bucket = self.records.get(node)
        if bucket is not None:
            bucket.append((t, self.order, self.headers[link, sender] + ip,
                           tag, link))

    def send(self, link: str, sender: str, t: int, ip: bytes,
             lossy: bool = False, tag=None) -> int | None:
        """sender puts ip on link at t (its capture records it); the time
        it reaches the other end, or None when the link loses it."""
        self.record(sender, link, sender, t, ip, tag)
        if lossy and self.loss and self.rnd.random() < self.loss:
            return None
        if self.jitter_us:
            t += self.rnd_jitter.randint(0, self.jitter_us)
        return t + self.delays_us[link]

    def receive(self, link: str, sender: str, t: int, ip: bytes,
                tag=None) -> None:
        """The other end of link takes in what sender sent (its capture)."""
        self.record(LINKS[link].peer(sender).node, link, sender, t, ip, tag)

    def hop(self, link: str, sender: str, t: int, ip: bytes,
            lossy: bool = False, tag=None) -> int | None:
        """send and receive: the other end is always there (a router or
        the CN); its arrival time, or None when lost."""
        arrival = self.send(link, sender, t, ip, lossy, tag)
        if arrival is not None:
            self.receive(link, sender, arrival, ip, tag)
        return arrival


class CountingNetwork(Network):
    """The same wire, counting each capture's frames and octets instead of
    keeping them: a dry run that sizes the background (``--packets``)."""

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        self.frames = dict.fromkeys(NODES, 0)
        self.octets = dict.fromkeys(NODES, 0)

    def record(self, node: str, link: str, sender: str, t: int, ip: bytes,
               tag=None) -> None:
        self.frames[node] += 1
        self.octets[node] += len(self.headers[link, sender]) + len(ip)
