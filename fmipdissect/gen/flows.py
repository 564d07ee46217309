"""Handover flows of RFC 4988 as sequences of timed Scapy packets.

Each flow is a function ``flow(params) -> list[Frame]``: the packets one
handover puts on the wire, at the network layer (IPv4), with their time
offsets from the start of the handover.  gen/scenarios.py names them,
gen/generate.py adds the link layer, repeats a scenario for many mobile
nodes and writes the capture (gen/writers.py), gen/samples.py writes the
bundled samples.

Everything here follows RFC 4988 and docs/decisions.md: Identification
is an NTP timestamp (decision D6) copied into the FBAck, Lifetime <= 10 s and
the FBAck's granted Lifetime <= the FBU's, the MN-PAR Authentication
Extension on every FBU and FBAck (decision D5), ICMP checksums per decision D2
(the Scapy layers compute them), FBAck destinations as decision D8 says.
Flows that break rules on purpose live in gen/violations.py.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass, replace

from scapy.layers.inet import IP, UDP
from scapy.packet import Packet

from ..layers import (FBU, HI, FBAck, HAck, IPv4AddrOption, LLAOption,
                      MNPARAuth, PrefixOption, PrRtAdv, RtSolPr)
from ..spec import protocol as P

# Seconds between the NTP epoch (1900) and the Unix epoch (1970), RFC 5905.
NTP_UNIX_OFFSET = P.NTP_UNIX_OFFSET
# Fixed start of every generated capture: same seed, same bytes.
# 2026-01-01T00:00:00Z, in microseconds since the Unix epoch.
EPOCH_US = 1_767_225_600_000_000

SAMPLE_KEY = b"fmipdissect-mnpar-sample-key-01"   # MN-PAR shared secret
SAMPLE_SPI = 0x100


def ntp_ident(time_us: int) -> int:
    """64-bit Identification: the NTP timestamp of time_us (decision D6)."""
    seconds, micros = divmod(time_us, 1_000_000)
    fraction = (micros << 32) // 1_000_000
    return ((seconds + NTP_UNIX_OFFSET) << 32) | fraction


@dataclass(frozen=True)
class Params:
    """Who takes part in one handover, and its keys and identifiers.

    mn is the MN's previous care-of address, which is also the FBU's Home
    Address field (co-located CoA mode, RFC 4988 4.1).  ap_mac is the new
    access point's link-layer address (the New AP LLA option).
    """
    mn: str = "10.1.0.10"
    par: str = "10.1.0.1"
    nar: str = "10.2.0.1"
    ncoa: str = "10.2.0.10"
    mn_mac: str = "02:00:00:aa:00:01"
    par_mac: str = "02:00:00:bb:00:01"
    nar_mac: str = "02:00:00:bb:00:02"
    ap_mac: str = "02:00:00:cc:00:02"
    key: bytes = SAMPLE_KEY
    spi: int = SAMPLE_SPI
    algorithm: str = P.DEFAULT_AUTH_ALGORITHM
    start_us: int = EPOCH_US
    rtsol_id: int = 0x4D01     # RtSolPr Identifier; a flow may use +0..+3
    hi_id: int = 0x7A01        # HI Identifier; a flow may use +0..+3
    prefixlen: int = 16        # NAR's prefix (New Router Prefix option)


IDENTIFIER_SPAN = 4   # identifiers a flow may use from rtsol_id / hi_id on


@dataclass(frozen=True)
class Frame:
    """One packet of a flow: time offset from the flow's start, the IPv4
    packet, and the findings the checker must report on it (violations)."""
    offset_us: int
    packet: Packet
    expect: tuple[tuple[str, str], ...] = ()


# --- address arithmetic (also used by generate.py for many MNs) -----------

def ip_int(addr: str) -> int:
    return struct.unpack("!I", socket.inet_aton(addr))[0]


def ip_str(value: int) -> str:
    return socket.inet_ntoa(struct.pack("!I", value & 0xFFFFFFFF))


def nth_host(base: str, n: int, prefix: int = 16) -> str:
    """The n-th host address from base inside base's /prefix, skipping the
    .0 and .255 of every /24, wrapping around inside the /prefix."""
    b = ip_int(base)
    net = b & ~((1 << (32 - prefix)) - 1) & 0xFFFFFFFF
    blocks = 1 << max(0, 24 - prefix)            # /24 blocks in the prefix
    position = ((b >> 8) - (net >> 8)) * 254 + max(1, b & 0xFF) - 1 + n
    position %= blocks * 254
    block, host = divmod(position, 254)
    return ip_str(net + (block << 8) + host + 1)


def mac_bytes(mac: str) -> bytes:
    return bytes(int(x, 16) for x in mac.split(":"))


def nth_mac(base: str, n: int) -> str:
    """base with n added to its lower 24 bits (the vendor half stays)."""
    raw = mac_bytes(base)
    low = (int.from_bytes(raw[3:], "big") + n) & 0xFFFFFF
    return ":".join(f"{x:02x}" for x in raw[:3] + low.to_bytes(3, "big"))


def _wrap_identifier(base: int, n: int) -> int:
    """Identifiers 1..65535-IDENTIFIER_SPAN, so base+k never wraps to 0."""
    span = 0xFFFF - IDENTIFIER_SPAN
    return 1 + (base - 1 + IDENTIFIER_SPAN * n) % span


def params_for(base: Params, n: int, start_us: int) -> Params:
    """The parameters of the n-th mobile node of a large trace."""
    return replace(
        base, mn=nth_host(base.mn, n), ncoa=nth_host(base.ncoa, n),
        mn_mac=nth_mac(base.mn_mac, n), start_us=start_us,
        rtsol_id=_wrap_identifier(base.rtsol_id, n),
        hi_id=_wrap_identifier(base.hi_id, n))


# --- message builders ------------------------------------------------------

def _auth(p: Params, **fields) -> MNPARAuth:
    """MN-PAR Authentication Extension with the authenticator computed
    (decision D5) unless given."""
    fields.setdefault("spi", p.spi)
    return MNPARAuth(key=p.key, algorithm=p.algorithm, **fields)


def _mip(src: str, dst: str, sport: int = P.MIP_UDP_PORT,
         dport: int = P.MIP_UDP_PORT) -> Packet:
    # RFC 4988 5.1: destination port 434; the source port is variable, and
    # this generator uses 434 unless a flow says otherwise.
    return IP(src=src, dst=dst) / UDP(sport=sport, dport=dport)


def fbu_message(p: Params, ident: int, lifetime: int = P.LIFETIME_MAX,
                coa: str | None = None, auth: Packet | None = None,
                **fields) -> Packet:
    """FBU fields as RFC 4988 4.1 sets them in every mode: Home Address =
    PCoA, Home Agent = PAR, Care-of Address = NAR (RFC 4988 5.1, 7)."""
    return (FBU(homeaddr=p.mn, haaddr=p.par, coa=coa or p.nar, ident=ident,
                lifetime=lifetime, **fields)
            / (auth if auth is not None else _auth(p)))


def fback_message(p: Params, ident: int, code: int = 0,
                  lifetime: int = P.LIFETIME_MAX, ncoa: bool = False,
                  auth: Packet | None = None) -> Packet:
    """FBAck copying the FBU's Identification (RFC 4988 5.2).  With ncoa,
    the New IPv4 Address option (Option-Code 2) precedes the MN-PAR
    Authentication Extension, so that the authenticator covers it (D4)."""
    msg = FBAck(code=code, lifetime=lifetime, homeaddr=p.mn, haaddr=p.par,
                ident=ident)
    if ncoa:
        msg = msg / IPv4AddrOption(code=P.ADDR_NCOA, addr=p.ncoa)
    return msg / (auth if auth is not None else _auth(p))


def new_ap_lla(p: Params, code: int = P.LLA_NEW_AP) -> LLAOption:
    return LLAOption(code=code, lla=p.ap_mac)


def rtsolpr(p: Params, k: int = 0, options: Packet | None = None,
            **fields) -> Packet:
    """RtSolPr MN -> PAR with the New AP LLA option (RFC 4988 5.3)."""
    fields.setdefault("identifier", p.rtsol_id + k)
    msg = RtSolPr(**fields) / (options if options is not None
                               else new_ap_lla(p))
    return IP(src=p.mn, dst=p.par) / msg


def router_tuple(p: Params) -> Packet:
    """The [AP-ID, AR-Info] tuple in RFC 4988 5.4's order: New AP LLA, New
    Router's LLA, New Router's IP Address, New Router Prefix Information."""
    return (new_ap_lla(p)
            / LLAOption(code=P.LLA_NAR, lla=p.nar_mac)
            / IPv4AddrOption(code=P.ADDR_NAR_IP, addr=p.nar)
            / PrefixOption(prefixlen=p.prefixlen))


def prrtadv(p: Params, code: int = 0, k: int | None = 0,
            options: Packet | None = None, **fields) -> Packet:
    """PrRtAdv PAR -> MN.  k=None: unsolicited, Identifier 0 (RFC 4988 5.4,
    decision D9); otherwise it copies the RtSolPr's Identifier."""
    fields.setdefault("identifier", 0 if k is None else p.rtsol_id + k)
    msg = PrRtAdv(code=code, **fields) / (
        options if options is not None else router_tuple(p))
    return IP(src=p.par, dst=p.mn) / msg


def hi_options(p: Params) -> Packet:
    """RFC 4988 5.5: the MN's LLA and its Previous CoA MUST be included."""
    return (LLAOption(code=P.LLA_MN, lla=p.mn_mac)
            / IPv4AddrOption(code=P.ADDR_PCOA, addr=p.mn))


def hi(p: Params, code: int = P.HI_CODE_PREDICTIVE, k: int = 0,
       options: Packet | None = None, **fields) -> Packet:
    """HI PAR -> NAR.  U (buffer) is set with Code 0, never with Code 1
    (RFC 4988 5.5)."""
    fields.setdefault("U", 1 if code == P.HI_CODE_PREDICTIVE else 0)
    msg = HI(code=code, identifier=p.hi_id + k, **fields) / (
        options if options is not None else hi_options(p))
    return IP(src=p.par, dst=p.nar) / msg


def hack(p: Params, code: int = 0, k: int = 0, ncoa: bool = False,
         options: Packet | None = None, **fields) -> Packet:
    """HAck NAR -> PAR copying the HI's Identifier (RFC 4988 5.6); with
    ncoa, the New IPv4 Address option carrying the assigned NCoA."""
    fields.setdefault("identifier", p.hi_id + k)
    msg = HAck(code=code, **fields)
    if ncoa:
        msg = msg / IPv4AddrOption(code=P.ADDR_NCOA, addr=p.ncoa)
    if options is not None:
        msg = msg / options
    return IP(src=p.nar, dst=p.par) / msg


class Flow:
    """Collects the frames of a flow; times in milliseconds from its start."""

    def __init__(self, p: Params, base_ms: float = 0.0):
        self.p = p
        self.base_ms = base_ms
        self.frames: list[Frame] = []

    def us(self, t_ms: float) -> int:
        return round((self.base_ms + t_ms) * 1000)

    def ident(self, t_ms: float) -> int:
        """The Identification of an FBU sent at t_ms (decision D6)."""
        return ntp_ident(self.p.start_us + self.us(t_ms))

    def add(self, t_ms: float, packet: Packet, *expect: tuple[str, str]):
        self.frames.append(Frame(self.us(t_ms), packet, tuple(expect)))

    # The common sequences ---------------------------------------------
    def discovery(self, t_ms: float, k: int = 0) -> None:
        """RtSolPr and its PrRtAdv Code 0 (RFC 4988 Figure 1)."""
        self.add(t_ms, rtsolpr(self.p, k))
        self.add(t_ms + 2.5, prrtadv(self.p, 0, k))

    def predictive_fbu(self, t_ms: float, **kw) -> int:
        """FBU from the old link: IP source = PCoA, destination = PAR
        (RFC 4988 4.1); returns its Identification."""
        ident = kw.pop("ident", None) or self.ident(t_ms)
        sport = kw.pop("sport", P.MIP_UDP_PORT)
        expect = kw.pop("expect", ())
        self.add(t_ms, _mip(self.p.mn, self.p.par, sport=sport)
                 / fbu_message(self.p, ident, **kw), *expect)
        return ident

    def fbacks_predictive(self, t_ms: float, ident: int, to_nar: bool = True,
                          **kw) -> None:
        """FBAck PAR -> MN, and the copy PAR -> NAR (Figure 1, decision D8)."""
        msg = fback_message(self.p, ident, **kw)
        self.add(t_ms, _mip(self.p.par, self.p.mn) / msg)
        if to_nar:
            self.add(t_ms + 0.2, _mip(self.p.par, self.p.nar) / msg.copy())

    def reactive(self, t_ms: float, hi_fields: dict | None = None,
                 hack_kw: dict | None = None, hi_expect=(),
                 forwarded: dict | None = None, fwd_expect=(),
                 fback_kw: dict | None = None) -> None:
        """RFC 4988 Figure 2: FBU MN -> NAR from the new link, NAR forwards
        it from the Type field on to PAR (source NAR, destination PAR), HI
        Code 1, HAck, FBAck PAR -> NAR and NAR -> MN (decisions D7, D8)."""
        p = self.p
        ident = self.ident(t_ms)
        fbu = fbu_message(p, ident)
        self.add(t_ms, _mip(p.mn, p.nar) / fbu)
        # "unchanged from the Type field on" (RFC 4988 4.1): the same bytes,
        # unless a violation asks for a changed copy (forwarded-fbu-differs).
        copy = fbu_message(p, ident, **(forwarded or {}))
        self.add(t_ms + 0.8, _mip(p.nar, p.par) / copy, *fwd_expect)
        self.add(t_ms + 1.2, hi(p, P.HI_CODE_REACTIVE, **(hi_fields or {})),
                 *hi_expect)
        self.add(t_ms + 3.5, hack(p, **(hack_kw or {})))
        msg = fback_message(p, ident, **(fback_kw or {}))
        self.add(t_ms + 4.0, _mip(p.par, p.nar) / msg)
        self.add(t_ms + 4.6, _mip(p.nar, p.mn) / msg.copy())


# --- the conformant scenarios -----------------------------------------------

def predictive(p: Params) -> list[Frame]:
    """RFC 4988 Figure 1: RtSolPr, PrRtAdv, FBU from the old link, HI Code 0,
    HAck, FBAck to the MN and to NAR."""
    f = Flow(p)
    f.discovery(0)
    ident = f.predictive_fbu(400)
    f.add(401, hi(p))
    f.add(403.5, hack(p))
    f.fbacks_predictive(404, ident)
    return f.frames


def reactive(p: Params) -> list[Frame]:
    """RFC 4988 Figure 2: RtSolPr, PrRtAdv, FBU from the new link to NAR,
    forwarded to PAR, HI Code 1, HAck, FBAck to NAR and on to the MN."""
    f = Flow(p)
    f.discovery(0)
    f.reactive(650)
    return f.frames


def network_initiated(p: Params) -> list[Frame]:
    """Unsolicited PrRtAdv Code 1 (Identifier 0) carrying an NCoA after the
    prefix option (RFC 4988 5.4), then the predictive FBU, HI, HAck, FBAcks."""
    f = Flow(p)
    f.add(0, prrtadv(p, code=1, k=None, options=router_tuple(p)
                     / IPv4AddrOption(code=P.ADDR_NCOA, addr=p.ncoa)))
    # "the MN SHOULD use the supplied NCoA and send the FBU immediately";
    # it still binds its PCoA to NAR's address (RFC 4988 5.4).
    ident = f.predictive_fbu(30)
    f.add(31, hi(p))
    f.add(33.5, hack(p))
    f.fbacks_predictive(34, ident)
    return f.frames


def rejected(p: Params) -> list[Frame]:
    """Handovers refused: HAck 128 -> FBAck 128, HAck 130 -> FBAck 130, and
    an FBU PAR refuses itself (FBAck 129, no HI)."""
    f = Flow(p)
    f.discovery(0)
    for k, (t, code) in enumerate(((400, 128), (1400, 130))):
        ident = f.predictive_fbu(t)
        f.add(t + 1, hi(p, k=k))
        f.add(t + 3.5, hack(p, code=code, k=k))
        # A refused binding is granted no time: Lifetime 0 <= the request.
        f.fbacks_predictive(t + 4, ident, to_nar=False, code=code, lifetime=0)
    ident = f.predictive_fbu(2400)
    f.fbacks_predictive(2401, ident, to_nar=False, code=129, lifetime=0)
    return f.frames


def ncoa(p: Params) -> list[Frame]:
    """Assigned addressing: HI with S set, HAck Code 3 with the NCoA option,
    FBAck Code 1 with the NCoA option before the authentication extension
    (RFC 4988 5.2, 5.5, 5.6, decision D4)."""
    f = Flow(p)
    f.discovery(0)
    ident = f.predictive_fbu(400)
    f.add(401, hi(p, S=1))
    f.add(403.5, hack(p, code=3, ncoa=True))
    f.fbacks_predictive(404, ident, code=P.FBACK_CODE_NCOA_SUPPLIED,
                        ncoa=True)
    return f.frames
