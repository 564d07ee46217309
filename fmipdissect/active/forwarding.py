"""The routers' data plane in the lab: the PAR-NAR tunnel, PAR's bindings,
NAR's buffer (RFC 4988 4.1, 5.5; decision D22).

The kernel forwards (ip_forward in PAR's and NAR's namespaces); this module
only changes where: a host route for the MN's PCoA into the tunnel at PAR
(from the accepted HAck, before the FBAck goes out, until the binding's
Lifetime ends or the MN deregisters), a reverse-tunnel rule at NAR for
what the MN sends from the PCoA on NAR's link.  The tunnel is IP in IP
(RFC 2003, protocol 4) between the routers' addresses on their shared
link; the end points are tun devices whose packets this process wraps
and unwraps (the lab's kernels may lack the ipip module, and NAR must
hold packets anyway): what the routers exchange on the wire is ordinary
IP in IP.  NAR holds what comes out of the tunnel for an MN whose HI had
the U flag until the MN's link has carrier (its layer-2 attachment), then
writes it to the kernel in the order it came, before anything newer.
"""

from __future__ import annotations

import fcntl
import os
import select
import socket
import struct
import subprocess
import threading
import time
from dataclasses import dataclass, field

from ..spec.numbers import IPPROTO_IPIP, IPPROTO_UDP
from ..spec import protocol as P
from . import registration as R

TUNSETIFF = 0x400454CA                 # <linux/if_tun.h>
IFF_TUN, IFF_NO_PI = 0x0001, 0x1000
TUNNEL_MTU = 1480                      # 1500 of the veth links less 20
REVERSE_TABLE = 94                     # NAR: routing table of the reverse tunnel
OWN_TABLE = OWN_MARK = 95              # PAR: its own messages to a bound MN
UNUSED_TUNNEL = 3.0                    # s a tunnel waits for its binding
HOLD_LIMIT = 4096                      # packets NAR holds per MN at most
RTMGRP_LINK = 1                        # <linux/rtnetlink.h>
ETH_P_IP = 0x0800


def ip(*args: str, log=None) -> bool:
    done = subprocess.run(["ip", *args], capture_output=True, text=True)
    if done.returncode and log is not None:
        log(f"ip {' '.join(args)}: {done.stderr.strip()}")
    return done.returncode == 0


def carrier(iface: str) -> bool:
    try:
        with open(f"/sys/class/net/{iface}/carrier", encoding="ascii") as f:
            return f.read().strip() == "1"
    except OSError:
        return False


class TunnelDevice:
    """One end of the IP-in-IP tunnel: a tun device; what the kernel routes
    into it goes out wrapped to `remote`."""

    def __init__(self, name: str, remote: str, log=None):
        self.name, self.remote = name, remote
        self.made = time.monotonic()
        self.fd = os.open("/dev/net/tun", os.O_RDWR | os.O_NONBLOCK)
        fcntl.ioctl(self.fd, TUNSETIFF,
                    struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
        ip("link", "set", name, "mtu", str(TUNNEL_MTU), "up", log=log)

    def fileno(self) -> int:
        return self.fd

    def write(self, packet: bytes) -> None:
        try:
            os.write(self.fd, packet)
        except OSError:
            pass

    def close(self) -> None:
        """The device goes with its last descriptor."""
        os.close(self.fd)


@dataclass
class Binding:
    remote: str                        # the tunnel's far end
    expires: float | None = None       # monotonic; None: until told
    held: list | None = None           # NAR: packets held (U flag)
    counts: dict = field(default_factory=lambda: {"tunnelled": 0,
                                                  "buffered": 0})


class Plane:
    """Tunnels and bindings of one router, and the thread that moves the
    tunnel's packets; `peers` maps the other router's FMIPv4 address to
    its end of the tunnel."""

    def __init__(self, peers: dict[str, str], log=None):
        self.peers, self.log = dict(peers), log
        self.tunnels: dict[str, TunnelDevice] = {}
        self.bindings: dict[str, Binding] = {}
        self.lock = threading.RLock()
        self.raw = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                 IPPROTO_IPIP)
        self.stopped = False
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def start(self):
        self.thread.start()
        return self

    def say(self, text: str) -> None:
        if self.log is not None:
            self.log(f"forwarding: {text}")

    def _tunnel(self, remote: str) -> TunnelDevice:
        if remote not in self.tunnels:
            taken = {t.name for t in self.tunnels.values()}
            name = next(f"fmip-t{n}" for n in range(len(taken) + 1)
                        if f"fmip-t{n}" not in taken)
            self.tunnels[remote] = TunnelDevice(name, remote, self.log)
            self.say(f"tunnel {name} to {remote} up")
        return self.tunnels[remote]

    def _unbind(self, pcoa: str) -> None:
        b = self.bindings.pop(pcoa, None)
        if b is None:
            return
        self.unroute(pcoa, self.tunnels[b.remote])
        self.say(f"binding of {pcoa} ended ({b.counts['tunnelled']} "
                 f"tunnelled, {b.counts['buffered']} buffered)")
        if all(o.remote != b.remote for o in self.bindings.values()):
            self.tunnels.pop(b.remote).close()
            self.say(f"tunnel to {b.remote} removed")

    def unroute(self, pcoa: str, tunnel: TunnelDevice) -> None:
        raise NotImplementedError

    def tick(self) -> None:
        """Bindings whose Lifetime ended go (RFC 4988 5.2), and tunnels
        made for a handover that never came to a binding."""
        now = time.monotonic()
        with self.lock:
            for pcoa in [p for p, b in self.bindings.items()
                         if b.expires is not None and b.expires <= now]:
                self._unbind(pcoa)
            used = {b.remote for b in self.bindings.values()}
            for remote in [r for r, t in self.tunnels.items() if r not in used
                           and now - t.made > UNUSED_TUNNEL]:
                self.tunnels.pop(remote).close()
                self.say(f"tunnel to {remote} removed (no binding)")

    def frame(self, seen) -> bool:
        """A frame of the router's FMIPv4 port that is no FMIPv4 message."""
        return False

    def extra_sockets(self) -> list:
        return []

    def idle(self) -> None:
        """Called by the forwarding thread at least every 50 ms."""

    def on_extra(self, sock) -> None:
        pass

    def _loop(self) -> None:
        while not self.stopped:
            with self.lock:
                tunnels = list(self.tunnels.values())
            try:
                # in this order: what sets up a binding (NAR: the MN's
                # link, a Registration Request) before what uses it
                ready, _, _ = select.select(
                    [*self.extra_sockets(), self.raw, *tunnels], [], [], 0.05)
            except (OSError, ValueError):      # a tunnel closed meanwhile
                continue
            with self.lock:
                self.idle()
                for r in ready:
                    try:
                        self._ready(r)
                    except OSError as exc:
                        self.say(f"{exc.strerror or exc}")

    def _ready(self, r) -> None:
        """Everything the socket or device holds now, in order."""
        if r is self.raw:
            while (outer := _read(lambda: self.raw.recv(
                    65535, socket.MSG_DONTWAIT))) is not None:
                self._unwrap(outer)
        elif isinstance(r, TunnelDevice):
            while self.tunnels.get(r.remote) is r and (
                    packet := _read(lambda: os.read(r.fd, 65535))) is not None:
                self.raw.sendto(packet, (r.remote, 0))
        else:
            self.on_extra(r)

    def _unwrap(self, outer: bytes) -> None:
        """RFC 2003 3: the outer header goes, the inner packet is handed to
        the kernel through the tunnel device, as if it came in there."""
        src = socket.inet_ntoa(outer[12:16])
        tunnel = self.tunnels.get(src)
        if tunnel is None:
            return
        inner = outer[(outer[0] & 0x0F) * 4:]
        if len(inner) >= 20:
            self.deliver(inner, tunnel)

    def deliver(self, inner: bytes, tunnel: TunnelDevice) -> None:
        b = self.bindings.get(socket.inet_ntoa(inner[16:20]))
        if b is not None:
            b.counts["tunnelled"] += 1
        tunnel.write(inner)

    def close(self) -> None:
        self.stopped = True
        if self.thread.is_alive():
            self.thread.join(1.0)
        with self.lock:
            for pcoa in list(self.bindings):
                self._unbind(pcoa)
            self.raw.close()
        self.closed()

    def closed(self) -> None:
        """What a router undoes after its bindings."""


class ParPlane(Plane):
    """PAR: the PCoA into the tunnel from the accepted HAck on; PAR as the
    home agent of the baseline (registration.py)."""

    def __init__(self, peers, address: str, keys: dict, mn_link: str,
                 own_socket, log=None):
        """own_socket: the socket PAR's FMIPv4 messages leave by; marked,
        they take the MN's link (mn_link) to a bound MN, the rest of the
        MN's traffic the tunnel: the FBAck reaches the MN on its old link
        although the tunnel was there first (RFC 4988 4.1)."""
        super().__init__(peers, log)
        self.address, self.keys, self.mn_link = address, keys, mn_link
        from .netlink import Routes
        self.routes = Routes()
        own_socket.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, OWN_MARK)
        ip("rule", "add", "fwmark", str(OWN_MARK), "lookup", str(OWN_TABLE),
           "priority", str(OWN_TABLE), log=log)
        self.replies = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                     socket.IPPROTO_RAW)

    def closed(self) -> None:
        ip("rule", "del", "fwmark", str(OWN_MARK), "lookup", str(OWN_TABLE),
           log=self.log)
        self.routes.close()
        self.replies.close()

    def prepare(self, nar: str) -> None:
        """The tunnel to NAR, made when the HI goes out (RFC 4988 4.1), so
        that the HAck only has to change a route."""
        remote = self.peers.get(nar)
        if remote is not None:
            with self.lock:
                self._tunnel(remote)

    def bind(self, pcoa: str, nar: str, lifetime: float) -> None:
        """RFC 4988 4.1: PAR forwards the MN's packets to NAR once the HAck
        accepted the handover; called before the FBAck is sent."""
        remote = self.peers.get(nar)
        if remote is None:
            return
        with self.lock:
            tunnel = self._tunnel(remote)
            try:
                self.routes.replace(pcoa, self.mn_link, table=OWN_TABLE)
                self.routes.replace(pcoa, tunnel.name)
            except OSError as exc:
                self.say(f"route {pcoa} into {tunnel.name}: {exc.strerror}")
            self.bindings[pcoa] = Binding(remote,
                                          time.monotonic() + lifetime)
        self.say(f"{pcoa} into {tunnel.name} for {lifetime} s")

    def unroute(self, pcoa, tunnel):
        try:
            self.routes.delete(pcoa, tunnel.name)
            self.routes.delete(pcoa, self.mn_link, table=OWN_TABLE)
        except OSError as exc:
            self.say(f"route {pcoa} out of {tunnel.name}: {exc.strerror}")

    def frame(self, seen) -> bool:
        """A Registration Request to this home agent: bind or unbind, and
        the Reply (RFC 5944 3.8); True when it was one."""
        if seen.outgoing or seen.proto != IPPROTO_UDP \
                or seen.dst != self.address:
            return False
        rrq = R.parse(seen.payload, self.keys)
        if rrq is None or rrq.kind != R.REQUEST:
            return False
        if not rrq.verified:       # the Reply says Code 131 (RFC 5944 3.4)
            self.say(f"Registration Request of {rrq.home} does not "
                     f"authenticate: denied")
        key = self.keys.get(rrq.spi) or next(iter(self.keys.values()))
        code = R.ACCEPTED if rrq.verified else R.DENIED_AUTH
        if code == R.ACCEPTED and (rrq.lifetime == 0 or rrq.coa == rrq.home):
            with self.lock:
                self._unbind(rrq.home)
        elif code == R.ACCEPTED:
            self.bind(rrq.home, rrq.coa, rrq.lifetime)
        from scapy.layers.inet import IP, UDP
        from scapy.packet import Raw
        body = R.reply(code, rrq.lifetime if code == R.ACCEPTED else 0,
                       rrq.home, self.address, rrq.ident, key)
        # unmarked: to a bound MN through the tunnel (RFC 5944 3.8)
        self.replies.sendto(bytes(IP(src=self.address, dst=seen.src) / UDP(
            sport=P.MIP_UDP_PORT, dport=seen.sport or P.MIP_UDP_PORT)
            / Raw(body)), (seen.src, 0))
        return True


class NarPlane(Plane):
    """NAR: the tunnel from the HI on, the reverse tunnel for the MN on its
    link, the buffer of the U flag, the binding until the MN leaves the
    link; a foreign agent's view of the baseline's registration."""

    def __init__(self, peers, address: str, mn_link: str, log=None):
        super().__init__(peers, log)
        self.address, self.mn_link = address, mn_link
        self.netlink = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                     socket.NETLINK_ROUTE)
        self.netlink.bind((0, RTMGRP_LINK))
        self.sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM,
                                   socket.htons(ETH_P_IP))
        self.sniff.bind((mn_link, 0))
        self.attached = carrier(mn_link)
        self.adverts = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                     socket.IPPROTO_ICMP)
        self.adverts.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
        self.adverts.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                                mn_link.encode())
        self.advert_seq, self.advert_due = 0, 0.0

    def idle(self) -> None:
        """The foreign agent's Agent Advertisement, once a second, whether
        an MN is there or not (RFC 5944 2.3.2; registration.py)."""
        now = time.monotonic()
        if now < self.advert_due:
            return
        self.advert_due = now + R.ADVERT_INTERVAL
        self.advert_seq += 1
        try:
            self.adverts.sendto(R.advertisement(
                self.address, self.advert_seq, P.LIFETIME_MAX),
                ("255.255.255.255", 0))
        except OSError:
            pass

    def extra_sockets(self):
        return [self.netlink, self.sniff]

    def handover(self, pcoa: str, par: str, hold: bool) -> None:
        """An accepted HI (RFC 4988 5.5): the tunnel, the reverse tunnel,
        and with U an MN not yet here held (4.1); before the HAck."""
        remote = self.peers.get(par)
        if remote is None:
            return
        with self.lock:
            self._bind(pcoa, remote, hold and not self.attached)

    def _bind(self, pcoa, remote, hold) -> None:
        tunnel = self._tunnel(remote)
        old = self.bindings.get(pcoa)
        if old is not None and old.remote == remote:
            return
        ip("rule", "add", "from", f"{pcoa}/32", "iif", self.mn_link,
           "lookup", str(REVERSE_TABLE), "priority", str(REVERSE_TABLE),
           log=self.log)
        ip("route", "replace", "default", "dev", tunnel.name, "table",
           str(REVERSE_TABLE), log=self.log)
        self.bindings[pcoa] = Binding(remote, None, [] if hold else None)
        self.say(f"binding of {pcoa} via {tunnel.name}"
                 + (", holding until it attaches" if hold else ""))

    def unroute(self, pcoa, tunnel):
        ip("rule", "del", "from", f"{pcoa}/32", "iif", self.mn_link,
           "lookup", str(REVERSE_TABLE), log=self.log)

    def deliver(self, inner, tunnel):
        b = self.bindings.get(socket.inet_ntoa(inner[16:20]))
        if b is not None and b.held is not None:
            if len(b.held) < HOLD_LIMIT:
                b.held.append(inner)
            return
        super().deliver(inner, tunnel)

    def on_extra(self, sock) -> None:
        if sock is self.netlink:
            sock.recv(65535)
            self._link_changed(carrier(self.mn_link))
        else:
            self._registration(sock.recv(65535))

    def _link_changed(self, up: bool) -> None:
        if up == self.attached:
            return
        self.attached = up
        self.say(f"{self.mn_link} carrier {'on' if up else 'off'}")
        if up:      # RFC 4988 4.1: the MN attached: release, in order
            for pcoa, b in self.bindings.items():
                if b.held is not None:
                    held, b.held = b.held, None
                    b.counts["buffered"] += len(held)
                    for packet in held:
                        self.deliver(packet, self.tunnels[b.remote])
                    self.say(f"{pcoa} attached: {len(held)} held packets "
                             f"released")
        else:       # the MN left NAR's link: its binding here ends
            for pcoa in list(self.bindings):
                self._unbind(pcoa)

    def _registration(self, packet: bytes) -> None:
        """A Registration Request from the link naming this NAR as the
        care-of address: the tunnel to its home agent (baseline)."""
        ihl = (packet[0] & 0x0F) * 4 if packet else 0
        if len(packet) < ihl + 8 or packet[9] != IPPROTO_UDP or \
                struct.unpack_from("!H", packet, ihl + 2)[0] \
                != P.MIP_UDP_PORT:
            return
        rrq = R.parse(packet[ihl + 8:])
        if rrq is None or rrq.kind != R.REQUEST or rrq.coa != self.address \
                or rrq.lifetime == 0:
            return
        remote = self.peers.get(rrq.agent)
        if remote is not None:
            self._bind(rrq.home, remote, False)

    def closed(self):
        self.netlink.close()
        self.sniff.close()
        self.adverts.close()


def _read(read):
    """read() once, None when there is nothing (non-blocking)."""
    try:
        return read()
    except (BlockingIOError, InterruptedError):
        return None


def drain(sock) -> None:
    """Read and drop what a socket holds now."""
    sock.setblocking(False)
    try:
        while True:
            sock.recv(65535)
    except (BlockingIOError, InterruptedError):
        pass
    finally:
        sock.setblocking(True)
