"""Live packet input and output for the active tools (emulate, probe).

Receiving: one AF_PACKET socket per interface sees every frame on it, both
directions; frames that carry FMIPv4 (ICMP type 41, or UDP port 434,
RFC 4988 5) are kept, decoded with the same decoder as fmip-lint, and
optionally recorded to a pcapng file.  Sending: a raw IPv4 socket
(IPPROTO_RAW, header included): the octets are exactly the ones built, the
kernel only routes them and resolves the next hop's link-layer address.
A UDP socket bound to port 434 keeps the kernel from answering FBUs and
FBAcks with ICMP port unreachable.

Everything is sent in the network namespace the process runs in; the lab
runs each tool inside a namespace of its own.
"""

from __future__ import annotations

import errno
import select
import socket
import struct
import time
from dataclasses import dataclass

from ..decode.decoder import decode_icmp, decode_mip
from ..errors import InputError
from ..gen.writers import PcapngWriter
from ..spec import protocol as P
from ..spec.numbers import IPPROTO_ICMP, IPPROTO_UDP

ETH_P_ALL = 0x0003
ETH_P_IP = 0x0800
PACKET_OUTGOING = 4          # sll_pkttype of a frame this host sent
LINKTYPE_ETHERNET = 1
_ETH_LEN = 14


@dataclass
class Seen:
    """One FMIPv4 frame seen on an interface."""
    time: float
    interface: str
    frame: bytes             # the Ethernet frame as captured
    outgoing: bool           # sent by this host
    src: str                 # IPv4 addresses and UDP ports (None for ICMP)
    dst: str
    proto: int
    sport: int | None
    dport: int | None
    payload: bytes           # the ICMP message from its Type, or UDP payload

    @property
    def src_mac(self) -> str:
        return ":".join(f"{b:02x}" for b in self.frame[6:12])

    def message(self):
        """The decoded FMIPv4 message (fmipdissect's decoder), or None."""
        if self.proto == IPPROTO_UDP:
            return decode_mip(self.payload)
        return decode_icmp(self.payload)


def parse_fmip_frame(frame: bytes, ports=(P.MIP_UDP_PORT,)):
    """(src, dst, proto, sport, dport, payload) of an Ethernet frame with an
    FMIPv4 message, else None: ICMP type 41 (RFC 4065 3) or UDP with one of
    ports (434, and the ports the caller's FBUs come from: an FBAck may
    come from any port, RFC 4988 5.2) on either side.  Fragments are not
    reassembled."""
    if len(frame) < _ETH_LEN + 20 or frame[12:14] != b"\x08\x00":
        return None
    ip = _ETH_LEN
    ihl = (frame[ip] & 0x0F) * 4
    total = struct.unpack_from("!H", frame, ip + 2)[0]
    if frame[ip] >> 4 != 4 or ihl < 20 or struct.unpack_from(
            "!H", frame, ip + 6)[0] & 0x3FFF:
        return None
    end = min(len(frame), ip + total)
    proto = frame[ip + 9]
    src = socket.inet_ntoa(frame[ip + 12:ip + 16])
    dst = socket.inet_ntoa(frame[ip + 16:ip + 20])
    l4 = ip + ihl
    if proto == IPPROTO_ICMP:
        if end > l4 and frame[l4] == P.ICMP_TYPE_EXPERIMENTAL_MOBILITY:
            return src, dst, proto, None, None, bytes(frame[l4:end])
        return None
    if proto == IPPROTO_UDP and end >= l4 + 8:
        sport, dport = struct.unpack_from("!HH", frame, l4)
        if sport in ports or dport in ports:
            return src, dst, proto, sport, dport, bytes(frame[l4 + 8:end])
    return None


def interface_names() -> list[str]:
    """The interfaces of this network namespace except loopback."""
    return [name for _, name in socket.if_nameindex() if name != "lo"]


def interface_mac(name: str) -> str:
    try:
        with open(f"/sys/class/net/{name}/address", encoding="ascii") as f:
            return f.read().strip()
    except OSError:
        return "00:00:00:00:00:00"


def check_local_address(addr: str) -> None:
    """InputError unless addr is an IPv4 address of this host (the kernel
    must answer ARP for it, so replies reach us)."""
    try:
        socket.inet_aton(addr)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    except OSError:
        raise InputError(f"{addr!r} is not an IPv4 address") from None
    try:
        s.bind((addr, 0))
    except OSError:
        raise InputError(f"{addr} is not an address of this host: add it to "
                         f"the interface first (ip addr add {addr}/32 dev "
                         f"IFACE)") from None
    finally:
        s.close()


class LiveLink:
    """Send IPv4 packets, receive the FMIPv4 frames of some interfaces."""

    def __init__(self, interfaces: list[str] | None = None,
                 pcap: str | None = None, keep: bool = False,
                 ports: tuple[int, ...] = (P.MIP_UDP_PORT,),
                 bind_to: str | None = None, address: str | None = None):
        """bind_to: send only through this interface (SO_BINDTODEVICE);
        address: keep only frames from or to it, and take its port 434
        only (the emulators without --interface)."""
        names = interfaces or interface_names()
        self.ports, self.address = tuple(ports), address
        if not names:
            raise InputError("no network interface to listen on")
        self.interfaces = list(names)
        self.macs = {}
        self.rx: list[socket.socket] = []
        self.kept: list[Seen] = []     # every frame, when keep (the prober)
        self.keep = keep
        self.tx = None
        self.absorb: list[socket.socket] = []
        self._pcap_file = self._pcap = None
        try:
            for name in self.interfaces:
                try:
                    socket.if_nametoindex(name)
                except OSError:
                    raise InputError(f"no such interface: {name}") from None
                s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW,
                                  socket.htons(ETH_P_ALL))
                self.rx.append(s)
                s.bind((name, 0))
                s.setblocking(False)
                self.macs[name] = interface_mac(name)
            self.tx = socket.socket(socket.AF_INET, socket.SOCK_RAW,
                                    socket.IPPROTO_RAW)
            if bind_to:
                self.tx.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE,
                                   bind_to.encode())
        except PermissionError:
            self.close()
            raise InputError("raw sockets need root (or CAP_NET_RAW): "
                             "run as root") from None
        except BaseException:
            self.close()
            raise
        self.absorb = [s for s in (_port_absorber(p, address or "0.0.0.0")
                                   for p in ports) if s]
        if pcap:
            try:
                self._pcap_file = open(pcap, "wb")
            except OSError as exc:
                self.close()
                raise InputError(f"cannot write {pcap}: "
                                 f"{exc.strerror or exc}") from None
            self._pcap = PcapngWriter(self._pcap_file, LINKTYPE_ETHERNET)

    @property
    def mac(self) -> str:
        """The link-layer address of the first interface."""
        return self.macs[self.interfaces[0]]

    def send(self, packet) -> None:
        """Send an IPv4 packet (Scapy packet or octets) as built."""
        data = bytes(packet)
        dst = socket.inet_ntoa(data[16:20])
        self.tx.sendto(data, (dst, 0))

    def poll(self, timeout: float) -> list[Seen]:
        """FMIPv4 frames seen within timeout seconds (all that are ready)."""
        out: list[Seen] = []
        ready, _, _ = select.select(self.rx + self.absorb, [], [],
                                    max(0.0, timeout))
        for s in ready:
            if s in self.absorb:
                _drain(s)
                continue
            self._read(s, out)
        return out

    def drain(self) -> None:
        """Drop what came before now, unrecorded (the lab starts its tools
        early and lets them go later)."""
        for s in self.rx + self.absorb:
            _drain(s)

    def _read(self, s: socket.socket, out: list[Seen]) -> None:
        while True:
            try:
                frame, addr = s.recvfrom(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:       # its interface went down (the
                if exc.errno == errno.ENETDOWN:   # lab's moving MN): it
                    return               # resumes when the link is up
                raise
            now = time.time()
            parsed = parse_fmip_frame(frame, self.ports)
            if parsed is None or (self.address is not None
                                  and self.address not in parsed[:2]):
                continue
            seen = Seen(now, addr[0], frame, addr[2] == PACKET_OUTGOING,
                        *parsed)
            if self._pcap is not None:
                self._pcap.record(int(now * 1_000_000), frame)
                self._pcap.flush()
            if self.keep:
                self.kept.append(seen)
            out.append(seen)

    def close(self) -> None:
        for s in self.rx + self.absorb + [self.tx]:
            if s is not None:
                s.close()
        self.rx, self.absorb, self.tx = [], [], None
        if self._pcap_file is not None:
            self._pcap.flush()
            self._pcap_file.close()
            self._pcap_file = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def _port_absorber(port: int, address: str) -> socket.socket | None:
    """A UDP socket on port (434), so the kernel does not answer FBUs and
    FBAcks with port unreachable; None when the port is taken by a socket
    that does not share it (a real Mobile IPv4 daemon: then it answers)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        s.bind((address, port))
        s.setblocking(False)
        return s
    except OSError:
        s.close()
        return None


def _drain(s: socket.socket) -> None:
    try:
        while True:
            s.recv(65535)
    except (BlockingIOError, InterruptedError):
        pass
    except OSError as exc:
        if exc.errno != errno.ENETDOWN:
            raise
