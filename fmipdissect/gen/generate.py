"""Write a capture of handover scenarios (`fmipdissect gen`, gen/cli.py).

Scapy builds each scenario once (gen/flows.py); this module turns that one
handover into a template and writes the capture with plain struct calls, so
that a trace of millions of packets takes seconds:

* template: the raw IPv4 bytes of every frame, plus where in them the
  per-handover values sit (the MN's address, its NCoA and MAC, the FBU
  Identifications, the RtSolPr and HI Identifiers).  The positions are found
  by looking for the values of the template handover, then checked: the
  template patched for a second MN must equal Scapy's own build for it.
* patching a handover rewrites those values, recomputes the MN-PAR
  authenticator (decision D5), the UDP checksum, the ICMP checksum (decision D2)
  and the IP header checksum.
* background traffic (``--background SHARE``): UDP and TCP flows of common
  sizes, each packet a copy of its flow's prepared bytes with the IP ID, TCP
  sequence numbers and checksums updated arithmetically.

Output is streamed (pcap, or pcapng when the file name ends in .pcapng);
handovers overlap in time and are merged with the background by timestamp.
The same options and seed give the same bytes: times start at a fixed epoch.
"""

from __future__ import annotations

import heapq
import random
import socket
import struct
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Iterator

from ..errors import InputError
from ..spec import protocol as P
from ..spec.numbers import IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP
from ..wire import checksum as C
from ..wire.checksum import fold as _fold
from ..wire.checksum import ip_header_checksum, l4_checksum
from ..wire.checksum import word_sum as _words_sum
from .flows import (IDENTIFIER_SPAN, Params, ip_int, mac_bytes, ntp_ident,
                    params_for)
from .scenarios import SCENARIOS
from .writers import (LINKTYPES, PcapngWriter, PcapWriter, link_header,
                      mac_for_ip)

BACKGROUND_RATE = 20_000      # background packets per second of capture
HANDOVER_SPACING_US = 200_000  # between handover starts without background


# --- options -----------------------------------------------------------------

@dataclass
class GenOptions:
    scenario: str
    handovers: int = 1
    packets: int | None = None       # total packets; derives handovers
    background: float = 0.0          # share of background packets
    linktype: str = "ethernet"
    seed: int = 1
    params: Params | None = None     # flows.Params; None = defaults
    progress: bool = False


# --- handover templates ---------------------------------------------------------

@dataclass
class FrameTemplate:
    offset_us: int
    ip: bytes                          # the IPv4 packet of the template MN
    src_role: str                      # "mn", "par", "nar" or "other"
    dst_role: str
    patches: list[tuple[int, str]] = field(default_factory=list)
    auth: tuple[int, int] | None = None   # (offset of the extension, length)
    fix_checksums: bool = True


@dataclass
class HandoverTemplate:
    scenario: str
    base: object                       # scenarios.Params of MN 0
    frames: list[FrameTemplate]
    idents: dict[str, int]             # var name -> FBU offset (µs)
    duration_us: int
    # True when the patch plan failed its proof (an address that also
    # occurs by chance elsewhere in a packet): build every handover with
    # Scapy instead -- slow, but never wrong.
    scapy_per_handover: bool = False


def _role(addr: str, p) -> str:
    if addr in (p.mn, p.ncoa):
        return "mn"
    if addr == p.par:
        return "par"
    if addr == p.nar:
        return "nar"
    return "other"


def _find_all(data: bytes, needle: bytes, excluded: set[int]) -> list[int]:
    out, start = [], 0
    while True:
        i = data.find(needle, start)
        if i < 0:
            return out
        if not excluded.intersection(range(i, i + len(needle))):
            out.append(i)
        start = i + 1


def _variables(template: HandoverTemplate, p) -> dict[str, bytes]:
    """The byte values of every per-handover variable for params p."""
    values = {"mn": socket.inet_aton(p.mn), "ncoa": socket.inet_aton(p.ncoa),
              "mn_mac": mac_bytes(p.mn_mac)}
    for k in range(IDENTIFIER_SPAN):
        values[f"rtsol+{k}"] = struct.pack("!H", (p.rtsol_id + k) & 0xFFFF)
        values[f"hi+{k}"] = struct.pack("!H", (p.hi_id + k) & 0xFFFF)
    for name, offset in template.idents.items():
        values[name] = struct.pack("!Q", ntp_ident(p.start_us + offset))
    return values


def compile_template(scenario: str, base) -> HandoverTemplate:
    """Build the scenario once with Scapy and locate its variables."""
    from scapy.layers.inet import IP, UDP
    from ..layers import FBU, MNPARAuth

    spec = SCENARIOS[scenario]
    frames = spec.build(base)
    template = HandoverTemplate(scenario, base, [], {}, 0)
    # FBU Identifications are NTP timestamps of the FBU's time (decision D6).
    for fr in frames:
        fbu = fr.packet.getlayer(FBU)
        if fbu is not None and fbu.ident == ntp_ident(base.start_us
                                                      + fr.offset_us):
            template.idents[f"ident@{fr.offset_us}"] = fr.offset_us
    values = _variables(template, base)
    for fr in frames:
        raw = bytes(fr.packet)
        ip = fr.packet[IP]
        ihl = (raw[0] & 0x0F) * 4
        proto = raw[9]
        ft = FrameTemplate(fr.offset_us, raw, _role(ip.src, base),
                           _role(ip.dst, base),
                           fix_checksums=spec.repeatable)
        excluded = {10, 11}
        if proto in (IPPROTO_ICMP, IPPROTO_UDP):
            excluded |= {ihl + 2, ihl + 3} if proto == IPPROTO_ICMP else \
                {ihl + 6, ihl + 7}
        auth = fr.packet.getlayer(MNPARAuth)
        if auth is not None and UDP in fr.packet:
            start = len(raw) - len(bytes(auth))
            length = len(raw) - start - P.AUTH_HEADER_LEN
            if auth.subtype == P.AUTH_SUBTYPE_MN_PAR:
                # Only the last extension may be the authenticator, so
                # bytes(auth) (with its payload) ends the packet.
                ft.auth = (start, length)
            excluded |= set(range(start + P.AUTH_HEADER_LEN, len(raw)))
        for name in ("mn", "ncoa", "mn_mac", *template.idents):
            for pos in _find_all(raw, values[name], excluded):
                ft.patches.append((pos, name))
        if proto == IPPROTO_ICMP and len(raw) >= ihl + 8 and raw[ihl] == \
                P.ICMP_TYPE_EXPERIMENTAL_MOBILITY:
            ident = raw[ihl + 6:ihl + 8]
            for k in range(IDENTIFIER_SPAN):
                for var in (f"rtsol+{k}", f"hi+{k}"):
                    if ident == values[var] and ident != b"\x00\x00":
                        ft.patches.append((ihl + 6, var))
        template.frames.append(ft)
    template.duration_us = max(f.offset_us for f in template.frames)
    if spec.repeatable:
        # Proof that the patch plan is complete: patching for another MN
        # gives exactly Scapy's own bytes for that MN.
        other = params_for(base, 1, base.start_us + 1_234_567)
        expected = [bytes(fr.packet) for fr in spec.build(other)]
        got = [ip for _, ip in patch_handover(template, other)]
        template.scapy_per_handover = got != expected
    return template


def patch_handover(template: HandoverTemplate, p) -> list[tuple[int, bytes]]:
    """The frames of one handover for params p: (time µs, IPv4 bytes)."""
    if template.scapy_per_handover:
        return [(p.start_us + fr.offset_us, bytes(fr.packet))
                for fr in SCENARIOS[template.scenario].build(p)]
    values = _variables(template, p)
    out = []
    for ft in template.frames:
        if not ft.fix_checksums:
            out.append((p.start_us + ft.offset_us, ft.ip))
            continue
        b = bytearray(ft.ip)
        for pos, var in ft.patches:
            v = values[var]
            b[pos:pos + len(v)] = v
        ihl = (b[0] & 0x0F) * 4
        proto = b[9]
        if proto == IPPROTO_UDP:
            if ft.auth:
                start, length = ft.auth
                end = start + P.AUTH_HEADER_LEN
                b[end:end + length] = C.mn_par_authenticator(
                    bytes(b[ihl + 8:end]), p.key, p.algorithm)
            b[ihl + 6:ihl + 8] = b"\x00\x00"
            b[ihl + 6:ihl + 8] = struct.pack("!H", l4_checksum(
                bytes(b[12:16]), bytes(b[16:20]), IPPROTO_UDP, bytes(b[ihl:])))
        elif proto == IPPROTO_ICMP:
            message = bytes(b[ihl:])
            if message[0] == P.ICMP_TYPE_EXPERIMENTAL_MOBILITY and \
                    P.message_for("icmp", message[4]) is not None:
                value = C.fmip_icmp_checksum(message)
            else:
                value = C.plain_icmp_checksum(message)
            b[ihl + 2:ihl + 4] = struct.pack("!H", value)
        b[10:12] = struct.pack("!H", ip_header_checksum(b[:ihl]))
        out.append((p.start_us + ft.offset_us, bytes(b)))
    return out


# --- background traffic -------------------------------------------------------------

# (name, IP protocol, weight, server port, client->server size,
#  server->client size): IP total lengths of common traffic
BACKGROUND_CLASSES = (
    # bulk TCP: ACKs up, full segments down
    ("web", IPPROTO_TCP, 45, 443, 40, 1500),
    ("web-small", IPPROTO_TCP, 10, 80, 40, 576),
    ("ntp", IPPROTO_UDP, 10, 123, 76, 76),
    ("rtp", IPPROTO_UDP, 20, 5004, 200, 200),   # G.711, 20 ms frames
    ("quic", IPPROTO_UDP, 15, 443, 60, 1280),
)
SERVER_NETS = ("192.0.2.0", "198.51.100.0", "203.0.113.0")
FLOWS = 1024


class _BackgroundFlow:
    __slots__ = ("packets", "tcp", "seq", "sums")

    def __init__(self):
        self.packets = []   # per direction: (link header + IP bytes, ...)
        self.tcp = False
        self.seq = [0, 0]
        self.sums = [0, 0]  # per direction: checksum sums without id/seq


def _background_flows(rnd: random.Random, linktype: str, base) -> list:
    weights = [c[2] for c in BACKGROUND_CLASSES]
    payload = rnd.randbytes(1500)
    # Clients live on PAR's and NAR's links (their /16), servers elsewhere.
    client_nets = (ip_int(base.mn) & 0xFFFF0000, ip_int(base.nar) & 0xFFFF0000)
    routers = {0: mac_bytes(base.par_mac), 1: mac_bytes(base.nar_mac)}
    flows = []
    for _ in range(FLOWS):
        name, proto, _, sport_srv, up, down = rnd.choices(
            BACKGROUND_CLASSES, weights)[0]
        net = rnd.randrange(len(client_nets))
        client = client_nets[net] + (rnd.randrange(2, 255) << 8) + \
            rnd.randrange(1, 255)
        server = ip_int(rnd.choice(SERVER_NETS)) + rnd.randrange(1, 255)
        cport = rnd.randrange(49152, 65536)
        flow = _BackgroundFlow()
        flow.tcp = proto == IPPROTO_TCP
        for direction, size in enumerate((up, down)):
            src, dst = (client, server) if direction == 0 else (server, client)
            sport, dport = (cport, sport_srv) if direction == 0 else \
                (sport_srv, cport)
            s, d = struct.pack("!I", src), struct.pack("!I", dst)
            client_mac = mac_for_ip(struct.pack("!I", client))
            src_mac, dst_mac = ((client_mac, routers[net]) if direction == 0
                                else (routers[net], client_mac))
            link = link_header(linktype, src_mac, dst_mac)
            header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, size, 0, 0x4000,
                                 64, proto, 0, s, d)
            if flow.tcp:
                l4 = struct.pack("!HHIIBBHHH", sport, dport, 0, 0, 0x50,
                                 0x10 if size == 40 else 0x18, 65535, 0, 0)
            else:
                l4 = struct.pack("!HHHH", sport, dport, size - 20, 0)
            body = payload[:size - 20 - len(l4)]
            l4sum = _words_sum(s + d + struct.pack("!BBH", 0, proto,
                                                   size - 20)) + \
                _words_sum(l4) + _words_sum(body)
            if not flow.tcp:
                ck = ~_fold(l4sum) & 0xFFFF or 0xFFFF
                l4 = l4[:6] + struct.pack("!H", ck)
            flow.packets.append((len(link), link + header + l4 + body))
            # IP header sum without ID and checksum; l4 sum without seq/ack
            flow.sums[direction] = (_words_sum(header), l4sum)
            flow.seq[direction] = rnd.getrandbits(32)
        flows.append(flow)
    return flows


def background_packets(count: int, start_us: int, duration_us: int,
                       rnd: random.Random, linktype: str, base
                       ) -> Iterator[tuple[int, bytes]]:
    """count background packets, times spread over duration_us."""
    flows = _background_flows(rnd, linktype, base)
    mean_gap = duration_us / max(count, 1)
    t = float(start_us)
    pack_into = struct.pack_into
    expovariate = rnd.expovariate
    getrandbits = rnd.getrandbits
    lam = 1.0 / mean_gap if mean_gap > 0 else 1.0
    ip_id = 0
    for _ in range(count):
        t += expovariate(lam)
        flow = flows[getrandbits(10)]
        direction = getrandbits(1)
        off, tpl = flow.packets[direction]
        b = bytearray(tpl)
        ip_id = (ip_id + 1) & 0xFFFF
        hsum, l4sum = flow.sums[direction]
        pack_into("!H", b, off + 4, ip_id)
        total = hsum + ip_id
        total = (total & 0xFFFF) + (total >> 16)
        total = (total & 0xFFFF) + (total >> 16)
        pack_into("!H", b, off + 10, ~total & 0xFFFF)
        if flow.tcp:
            seq = flow.seq[direction]
            ack = flow.seq[1 - direction]
            size = len(tpl) - off
            flow.seq[direction] = (seq + (size - 40)) & 0xFFFFFFFF
            s = l4sum + (seq >> 16) + (seq & 0xFFFF) + (ack >> 16) + \
                (ack & 0xFFFF)
            s = (s & 0xFFFF) + (s >> 16)
            s = (s & 0xFFFF) + (s >> 16)
            pack_into("!II", b, off + 24, seq, ack)
            pack_into("!H", b, off + 36, ~s & 0xFFFF)
        yield int(t), bytes(b)


# --- the whole capture -------------------------------------------------------------

def _handover_starts(n: int, spacing_us: float, base_us: int,
                     rnd: random.Random) -> Iterator[int]:
    for i in range(n):
        jitter = rnd.random() * spacing_us / 2 if i else 0.0
        yield base_us + int(i * spacing_us + jitter)


def plan(options: GenOptions, frames_per_handover: int) -> tuple[int, int]:
    """(handovers, background packets) the options ask for."""
    share = options.background
    if options.packets is not None:
        fmip = round(options.packets * (1 - share))
        handovers = max(1, round(fmip / frames_per_handover)) if fmip else 0
        return handovers, max(0, options.packets
                              - handovers * frames_per_handover)
    fmip = options.handovers * frames_per_handover
    return options.handovers, round(fmip * share / (1 - share))


def generate(options: GenOptions, out: BinaryIO, pcapng: bool = False) -> int:
    """Write the capture to out; returns the number of packets."""

    if options.scenario not in SCENARIOS:
        raise InputError(f"unknown scenario {options.scenario!r} (choose from "
                         f"{', '.join(SCENARIOS)})")
    spec = SCENARIOS[options.scenario]
    base = options.params or Params()
    template = compile_template(options.scenario, base)
    handovers, n_background = plan(options, len(template.frames))
    if handovers > 1 and not spec.repeatable:
        raise InputError(f"scenario {options.scenario!r} is one fixed capture: "
                         f"it cannot be repeated for {handovers} handovers")
    linktype = options.linktype
    writer = (PcapngWriter if pcapng else PcapWriter)(out, LINKTYPES[linktype])
    total = handovers * len(template.frames) + n_background

    rnd_handovers = random.Random(f"handovers:{options.seed}")
    rnd_background = random.Random(f"background:{options.seed}")
    if n_background:
        duration = max(1, int(n_background / BACKGROUND_RATE * 1e6))
        spacing = duration / max(handovers, 1)
    else:
        duration, spacing = 0, HANDOVER_SPACING_US
    starts = _handover_starts(handovers, spacing, base.start_us, rnd_handovers)
    background = background_packets(n_background, base.start_us, duration,
                                    rnd_background, linktype, base)

    static_macs = {"par": mac_bytes(base.par_mac),
                   "nar": mac_bytes(base.nar_mac)}

    def framed(ft: FrameTemplate, ip: bytes, mn_mac: bytes) -> bytes:
        def mac(role, addr):
            if role == "mn":
                return mn_mac
            return static_macs.get(role) or mac_for_ip(addr)
        return link_header(linktype, mac(ft.src_role, ip[12:16]),
                           mac(ft.dst_role, ip[16:20]),
                           outgoing=ft.src_role == "par") + ip

    heap: list = []
    order = 0
    next_start = next(starts, None)
    next_bg = next(background, None)
    index = 0
    progress = _Progress(total) if options.progress else None
    while True:
        # Admit every handover that starts before the next frame to write.
        while next_start is not None and (
                (not heap or next_start <= heap[0][0])
                and (next_bg is None or next_start <= next_bg[0])):
            p = params_for(base, index, next_start)
            mn_mac = mac_bytes(p.mn_mac)
            for ft, (t, ip) in zip(template.frames,
                                   patch_handover(template, p)):
                heapq.heappush(heap, (t, order, framed(ft, ip, mn_mac)))
                order += 1
            index += 1
            next_start = next(starts, None)
        if heap and (next_bg is None or heap[0][0] <= next_bg[0]):
            t, _, data = heapq.heappop(heap)
        elif next_bg is not None:
            t, data = next_bg
            next_bg = next(background, None)
        else:
            break
        writer.record(t, data)
        if progress:
            progress.tick(writer.count)
    writer.flush()
    if progress:
        progress.done(writer.count)
    return writer.count


class _Progress:
    def __init__(self, total: int):
        self.total = total
        self.started = time.monotonic()
        self.next_at = 0.0

    def tick(self, count: int) -> None:
        if count & 0x3FFF:
            return
        now = time.monotonic()
        if now >= self.next_at:
            self.next_at = now + 0.5
            sys.stderr.write(f"\r{count:,}/{self.total:,} packets "
                             f"({100 * count // max(self.total, 1)}%)\033[K")
            sys.stderr.flush()

    def done(self, count: int) -> None:
        sys.stderr.write(f"\r{count:,} packets in "
                         f"{time.monotonic() - self.started:.1f} s\033[K\n")


def generate_file(options: GenOptions, path: Path) -> int:
    path = Path(path)
    pcapng = path.suffix.lower() == ".pcapng"
    try:
        out = open(path, "wb")
    except OSError as exc:
        raise InputError(f"cannot write {path}: {exc.strerror}") from None
    try:
        with out:
            return generate(options, out, pcapng)
    except BaseException:
        path.unlink(missing_ok=True)   # no half-written capture left behind
        raise


