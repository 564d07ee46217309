"""Handover flows of RFC 4988 as sequences of timed Scapy packets.

Each scenario is a function ``scenario(params) -> list[Frame]``: the packets
one handover puts on the wire, at the network layer (IPv4), with their time
offsets from the start of the handover.  ``fmipdissect gen`` (generate.py)
adds the link layer, repeats a scenario for many mobile nodes and writes the
capture; ``python -m fmipdissect.gen.scenarios --write-samples samples`` writes
the bundled samples (samples/README.md lists them).

Everything here follows RFC 4988 and docs/decisions.md: Identification
is an NTP timestamp (decision D6) copied into the FBAck, Lifetime <= 10 s and
the FBAck's granted Lifetime <= the FBU's, the MN-PAR Authentication
Extension on every FBU and FBAck (decision D5), ICMP checksums per decision D2
(the Scapy layers compute them), FBAck destinations as decision D8 says.  The
one exception is ``violations``: every frame of it that breaks a rule
carries the rule id it breaks; ``VIOLATIONS`` lists them.
"""

from __future__ import annotations

import argparse
import socket
import struct
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

from scapy.layers.inet import ICMP, IP, UDP
from scapy.packet import Packet, Raw

from ..wire import checksum as C
from ..spec import protocol as P
from ..layers import (FBU, HI, FBAck, FMIPOption, HAck, IPv4AddrOption,
                     LLAOption, MIPExtension, MNPARAuth, PrefixOption,
                     PrRtAdv, RtSolPr)
from ..spec import rules as R

# Seconds between the NTP epoch (1900) and the Unix epoch (1970), RFC 5905.
NTP_UNIX_OFFSET = 2_208_988_800
# Fixed start of every generated capture: same seed, same bytes.
# 2026-01-01T00:00:00Z, in microseconds since the Unix epoch.
EPOCH_US = 1_767_225_600_000_000

SAMPLE_KEY = b"fmipdissect-mnpar-sample-key-01"   # MN-PAR shared secret
SAMPLE_SPI = 0x100
UNKNOWN_SPI = 0x999   # violations: an SPI that samples/keys.txt lacks (FM502)

REGENERATE = "python -m fmipdissect.gen.scenarios --write-samples samples"
REGENERATE_DOCS = "python -m fmipdissect.gen.scenarios --write-docs docs/samples.md"


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


class _Flow:
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
        # unless a violation asks for a changed copy (FM411).
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
    f = _Flow(p)
    f.discovery(0)
    ident = f.predictive_fbu(400)
    f.add(401, hi(p))
    f.add(403.5, hack(p))
    f.fbacks_predictive(404, ident)
    return f.frames


def reactive(p: Params) -> list[Frame]:
    """RFC 4988 Figure 2: RtSolPr, PrRtAdv, FBU from the new link to NAR,
    forwarded to PAR, HI Code 1, HAck, FBAck to NAR and on to the MN."""
    f = _Flow(p)
    f.discovery(0)
    f.reactive(650)
    return f.frames


def network_initiated(p: Params) -> list[Frame]:
    """Unsolicited PrRtAdv Code 1 (Identifier 0) carrying an NCoA after the
    prefix option (RFC 4988 5.4), then the predictive FBU, HI, HAck, FBAcks."""
    f = _Flow(p)
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
    f = _Flow(p)
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
    f = _Flow(p)
    f.discovery(0)
    ident = f.predictive_fbu(400)
    f.add(401, hi(p, S=1))
    f.add(403.5, hack(p, code=3, ncoa=True))
    f.fbacks_predictive(404, ident, code=P.FBACK_CODE_NCOA_SUPPLIED,
                        ncoa=True)
    return f.frames


# --- violations --------------------------------------------------------------

def _bad_checksum(packet: Packet, how: str) -> Packet:
    """Rebuild an ICMP type 41 packet with a checksum that fails decision D2:
    "plain" = the plain sum over the octets as sent (FM202), "bad" = neither
    computation (FM201)."""
    message = bytes(packet[IP].payload)
    plain = C.plain_icmp_checksum(message)
    value = plain if how == "plain" else plain ^ 0x0F0F
    layer = packet[IP].payload
    layer.chksum = value
    return packet


def violations(p: Params) -> list[Frame]:
    """One frame per rule the checker applies to packets (FM1xx-FM5xx), each
    in a flow of its own mobile node that is otherwise conformant."""
    groups: list[Callable[[_Flow], None]] = []

    def group(fn):
        groups.append(fn)
        return fn

    def fbu_then_ack(f: _Flow, expect, fbu_kw=None, ack_kw=None):
        ident = f.predictive_fbu(0, expect=(expect,), **(fbu_kw or {}))
        f.fbacks_predictive(1, ident, to_nar=False, **(ack_kw or {}))

    # FM1xx: FBU / FBAck -------------------------------------------------
    @group
    def _(f):
        fbu_then_ack(f, ("FM101", "FBU Lifetime 11"), {"lifetime": 11})

    @group
    def _(f):
        fbu_then_ack(f, ("FM102", "FBU with the S flag set"), {"flags": 0x80})

    @group
    def _(f):
        fbu_then_ack(f, ("FM103", "FBU with the reserved x flag set"),
                     {"flags": 0x01})

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        f.add(1, _mip(f.p.par, f.p.mn) / FBAck(
            homeaddr=f.p.mn, haaddr=f.p.par, ident=ident),
            ("FM104", "FBAck without the MN-PAR Authentication Extension"))

    @group
    def _(f):
        fbu_then_ack(f, ("FM105", "FBU authenticated with subtype 1 "
                                  "(MN-AAA) instead of MN-PAR (4)"),
                     {"auth": _auth(f.p, subtype=1)})

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        f.add(1, _mip(f.p.par, f.p.mn) / fback_message(f.p, ident, code=1),
              ("FM107", "FBAck Code 1 without the NCoA option"))

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        msg = (FBAck(code=1, homeaddr=f.p.mn, haaddr=f.p.par, ident=ident)
               / IPv4AddrOption(code=P.ADDR_NCOA, addr=f.p.ncoa, len=6)
               / _auth(f.p))
        f.add(1, _mip(f.p.par, f.p.mn) / msg,
              ("FM108", "NCoA option in FBAck with Length 6 (octets)"))

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        msg = (FBAck(code=1, homeaddr=f.p.mn, haaddr=f.p.par, ident=ident)
               / _auth(f.p)
               / IPv4AddrOption(code=P.ADDR_NCOA, addr=f.p.ncoa))
        f.add(1, _mip(f.p.par, f.p.mn) / msg,
              ("FM109", "NCoA option after the MN-PAR Authentication "
                        "Extension"))

    @group
    def _(f):
        ident = f.ident(0)
        msg = (FBU(homeaddr=f.p.mn, haaddr=f.p.par, coa=f.p.nar, ident=ident)
               / MIPExtension(type=100, data=b"\x00\x00") / _auth(f.p))
        f.add(0, _mip(f.p.mn, f.p.par) / msg,
              ("FM110", "FBU with the unknown non-skippable extension 100"))
        f.fbacks_predictive(1, ident, to_nar=False)

    # FM2xx: ICMP type 41 messages -----------------------------------------
    @group
    def _(f):
        f.add(0, _bad_checksum(prrtadv(f.p, 4, None), "bad"),
              ("FM201", "unsolicited PrRtAdv with a wrong checksum"))

    @group
    def _(f):
        f.add(0, _bad_checksum(prrtadv(f.p, 4, None, reserved=0x5A), "plain"),
              ("FM202", "PrRtAdv checksum summed over the non-zero "
                        "Reserved octet"),
              ("FM203", "PrRtAdv Reserved octet 0x5a"))

    @group
    def _(f):
        f.add(0, prrtadv(f.p, 4, None, reserved=0x5A),
              ("FM203", "PrRtAdv Reserved octet 0x5a (checksum per D2)"))

    @group
    def _(f):
        f.add(0, IP(src=f.p.par, dst=f.p.mn)
              / ICMP(type=P.ICMP_TYPE_EXPERIMENTAL_MOBILITY, code=0)
              / Raw(b"\x05\x00\x00\x01"),
              ("FM204", "ICMP type 41 subtype 5 (not FMIPv4)"))

    @group
    def _(f):
        f.add(0, rtsolpr(f.p, code=1), ("FM205", "RtSolPr with Code 1"))
        f.add(2.5, prrtadv(f.p))

    @group
    def _(f):
        f.add(0, IP(src=f.p.mn, dst=f.p.par)
              / RtSolPr(identifier=f.p.rtsol_id),
              ("FM206", "RtSolPr without the New AP LLA option"))
        f.add(2.5, prrtadv(f.p))

    @group
    def _(f):
        f.add(0, rtsolpr(f.p))
        f.add(2.5, prrtadv(f.p, options=new_ap_lla(f.p) / LLAOption(
            code=P.LLA_NAR, lla=f.p.nar_mac) / PrefixOption(
            prefixlen=f.p.prefixlen)),
            ("FM207", "PrRtAdv Code 0 without the New Router's IP Address "
                      "option"))

    @group
    def _(f):
        f.add(0, rtsolpr(f.p))
        f.add(2.5, prrtadv(f.p, options=new_ap_lla(f.p) / IPv4AddrOption(
            code=P.ADDR_NAR_IP, addr=f.p.nar) / LLAOption(
            code=P.LLA_NAR, lla=f.p.nar_mac) / PrefixOption(
            prefixlen=f.p.prefixlen)),
            ("FM208", "PrRtAdv with the New Router's IP Address before its "
                      "LLA option"))

    @group
    def _(f):
        f.add(0, rtsolpr(f.p))
        f.add(2.5, prrtadv(f.p, 2, options=new_ap_lla(f.p)),
              ("FM209", "PrRtAdv Code 2 whose LLA option gives no reason "
                        "(Option-Code 1)"))

    @group
    def _(f):
        f.add(0, prrtadv(f.p, 4, None, identifier=0x1234),
              ("FM210", "unsolicited PrRtAdv Code 4 with Identifier 0x1234"))

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        f.add(1, hi(f.p, options=IPv4AddrOption(code=P.ADDR_PCOA,
                                                addr=f.p.mn)),
              ("FM212", "HI without the MN's LLA option"))
        f.add(3.5, hack(f.p))
        f.fbacks_predictive(4, ident)

    @group
    def _(f):
        # S set: NAR assigns an NCoA in the HAck, as RFC 4988 5.6 asks.
        f.reactive(0, hi_fields={"S": 1}, hack_kw={"code": 3, "ncoa": True},
                   hi_expect=(("FM213", "HI Code 1 with the S flag set"),))

    @group
    def _(f):
        f.reactive(0, hi_fields={"U": 1},
                   hi_expect=(("FM214", "HI Code 1 with the U flag set"),))

    # FM3xx: options and extensions -----------------------------------------
    @group
    def _(f):
        fbu = fbu_message(f.p, f.ident(0))
        f.add(0, _mip(f.p.mn, f.p.par) / Raw(bytes(fbu)[:20]),
              ("FM301", "FBU cut after 20 of its 24 header octets"))

    def rtsolpr_with(f, extra, expect):
        f.add(0, rtsolpr(f.p, options=new_ap_lla(f.p) / extra), expect)
        f.add(2.5, prrtadv(f.p))

    @group
    def _(f):
        rtsolpr_with(f, FMIPOption(type=P.OPT_PREFIX, len=0, data=bytes(6)),
                     ("FM302", "RtSolPr option with Length 0"))

    @group
    def _(f):
        rtsolpr_with(f, FMIPOption(type=P.OPT_PREFIX, len=2, data=bytes(6)),
                     ("FM303", "RtSolPr option of Length 2 (16 octets) with "
                               "8 octets left"))

    @group
    def _(f):
        f.add(0, rtsolpr(f.p, options=LLAOption(
            code=P.LLA_NEW_AP, lla=f.p.ap_mac, padding=b"\xff" * 7)),
            ("FM304", "New AP LLA option padded with 0xff octets"))
        f.add(2.5, prrtadv(f.p))

    @group
    def _(f):
        rtsolpr_with(f, FMIPOption(type=30, data=bytes(6)),
                     ("FM305", "RtSolPr with option type 30"))

    @group
    def _(f):
        rtsolpr_with(f, IPv4AddrOption(code=4, addr=f.p.mn),
                     ("FM306", "New IPv4 Address option with Option-Code 4"))

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        f.add(1, hi(f.p, options=LLAOption(code=P.LLA_MN, lla=f.p.mn_mac)
                    / IPv4AddrOption(code=P.ADDR_PCOA, addr=f.p.mn,
                                     reserved=0xFF)),
              ("FM307", "HI's Previous CoA option with Reserved 0xff"))
        f.add(3.5, hack(f.p))
        f.fbacks_predictive(4, ident)

    @group
    def _(f):
        f.add(0, rtsolpr(f.p))
        prefix16 = bytes([0, f.p.prefixlen]) + bytes(12)
        f.add(2.5, prrtadv(f.p, options=new_ap_lla(f.p) / LLAOption(
            code=P.LLA_NAR, lla=f.p.nar_mac) / IPv4AddrOption(
            code=P.ADDR_NAR_IP, addr=f.p.nar) / FMIPOption(
            type=P.OPT_PREFIX, len=2, data=prefix16)),
            ("FM308", "Prefix option with Length 2"))

    # FM4xx: across packets -------------------------------------------------
    @group
    def _(f):
        f.add(0, _mip(f.p.par, f.p.mn) / fback_message(f.p, f.ident(-50)),
              ("FM401", "FBAck with no FBU for its Home Address"))

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        f.add(1, _mip(f.p.par, f.p.mn) / fback_message(f.p, ident ^ 1),
              ("FM402", "FBAck Identification one off its FBU's"))
        f.fbacks_predictive(2, ident, to_nar=False)

    @group
    def _(f):
        f.predictive_fbu(0, expect=(("FM403", "FBU never answered"),))

    @group
    def _(f):
        # from a NAR no HI went to: no HI between these routers at all
        # (decision D11), and so the first HAck of this router pair
        other = replace(f.p, nar=nth_host(f.p.nar, 1, 24))
        f.add(0, hack(other), ("FM404", "HAck answering no HI"),
              ("FM418", "first HAck between PAR and a second NAR, without "
                        "IPsec ESP"))

    @group
    def _(f):
        f.add(0, hi(f.p), ("FM405", "HI never answered"))

    @group
    def _(f):
        f.add(0, prrtadv(f.p),
              ("FM406", "solicited PrRtAdv with no RtSolPr"))

    @group
    def _(f):
        f.add(0, rtsolpr(f.p), ("FM407", "RtSolPr never answered"))

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        f.add(1, hi(f.p, S=1))
        f.add(3.5, hack(f.p),
              ("FM409", "HAck to an HI with S set, without the NCoA option"))
        f.fbacks_predictive(4, ident)

    @group
    def _(f):
        ident = f.ident(0)
        f.add(0, _mip(f.p.ncoa, f.p.par) / fbu_message(f.p, ident),
              ("FM410", "FBU from the NCoA to PAR: no mode sends that"))
        f.add(1, _mip(f.p.par, f.p.ncoa) / fback_message(f.p, ident))

    @group
    def _(f):
        f.reactive(0, forwarded={"lifetime": 8},
                   fwd_expect=(("FM411", "NAR forwards the FBU with Lifetime "
                                         "8 instead of 10"),),
                   fback_kw={"lifetime": 8})

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        f.add(1, hi(f.p, P.HI_CODE_REACTIVE),
              ("FM412", "HI Code 1 for an FBU that came from the PCoA"))
        f.add(3.5, hack(f.p))
        f.fbacks_predictive(4, ident)

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        f.add(1, _mip(f.p.par, "10.9.9.9") / fback_message(f.p, ident),
              ("FM413", "FBAck sent to 10.9.9.9, not to the FBU's source"))
        f.fbacks_predictive(2, ident, to_nar=False)

    @group
    def _(f):
        ident = f.predictive_fbu(0, sport=50434)
        f.add(1, _mip(f.p.par, f.p.mn) / fback_message(f.p, ident),
              ("FM414", "FBAck to port 434; the FBU came from port 50434"))
        f.add(2, _mip(f.p.par, f.p.mn, dport=50434)
              / fback_message(f.p, ident))

    @group
    def _(f):
        f.discovery(0)
        ident = f.predictive_fbu(100, coa=f.p.ncoa, expect=(
            ("FM415", "FBU Care-of Address is the NCoA, not NAR's address"),))
        f.add(101, hi(f.p))
        f.add(103.5, hack(f.p))
        f.fbacks_predictive(104, ident)

    @group
    def _(f):
        fbu_then_ack(f, ("FM416", "FBAck grants 10 s to an FBU asking 5 s"),
                     {"lifetime": 5})
        # the finding belongs to the FBAck: move the expectation there
        fbu, ack = f.frames[-2:]
        f.frames[-2:] = [replace(fbu, expect=()),
                         replace(ack, expect=fbu.expect)]

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        f.fbacks_predictive(1, ident, to_nar=False)
        f.predictive_fbu(500, ident=ident, lifetime=8, expect=(
            ("FM417", "second, different FBU reusing the Identification"),))
        f.fbacks_predictive(501, ident, to_nar=False, lifetime=8)

    @group
    def _(f):
        ident = f.predictive_fbu(0)
        f.add(1, hi(f.p))
        f.add(3, hack(f.p, k=1),
              ("FM419", "HAck Identifier one off the outstanding HI's"))
        f.add(3.5, hack(f.p))
        f.fbacks_predictive(4, ident)

    @group
    def _(f):
        f.add(0, rtsolpr(f.p))
        f.add(2, prrtadv(f.p, k=1),
              ("FM420", "PrRtAdv Identifier one off the outstanding "
                        "RtSolPr's"))
        f.add(2.5, prrtadv(f.p))

    # FM5xx: authenticators ------------------------------------------------
    @group
    def _(f):
        ident = f.ident(0)
        good = bytes(fbu_message(f.p, ident))
        wrong = bytes(a ^ 0xFF for a in good[-16:])
        fbu_then_ack(f, ("FM501", "FBU authenticator does not verify"),
                     {"auth": _auth(f.p, authenticator=wrong),
                      "ident": ident})

    @group
    def _(f):
        fbu_then_ack(f, ("FM502", f"FBU with SPI {UNKNOWN_SPI:#x}, not in "
                                  f"samples/keys.txt"),
                     {"auth": _auth(f.p, spi=UNKNOWN_SPI)})

    frames: list[Frame] = []
    for number, build in enumerate(groups):
        # Each group is its own MN (and its own identifiers), one second
        # apart, so that no group's state meets another's (decision D9).
        flow = _Flow(params_for(p, number + 1, p.start_us),
                     base_ms=1000.0 * number)
        build(flow)
        frames.extend(flow.frames)
    frames.sort(key=lambda fr: fr.offset_us)
    # FM418 (info): HI/HAck without IPsec ESP, once per router pair, at the
    # first HI of the capture.  Every group shares the one PAR/NAR pair.
    first_hi = next(i for i, fr in enumerate(frames) if HI in fr.packet)
    frames[first_hi] = replace(frames[first_hi], expect=(
        frames[first_hi].expect + (("FM418", "first HI between PAR and NAR, "
                                    "without IPsec ESP"),)))
    return frames


# --- the registry --------------------------------------------------------

@dataclass(frozen=True)
class Scenario:
    name: str
    build: Callable[[Params], list[Frame]]
    description: str
    repeatable: bool = True   # can be repeated for many MNs (--handovers)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("predictive", predictive,
             "RFC 4988 Figure 1: RtSolPr, PrRtAdv, FBU from the old link, HI, "
             "HAck, FBAck to MN and NAR"),
    Scenario("reactive", reactive,
             "RFC 4988 Figure 2: FBU from the new link to NAR, forwarded to "
             "PAR, HI Code 1, HAck, FBAck to NAR and MN"),
    Scenario("network-initiated", network_initiated,
             "unsolicited PrRtAdv Code 1 with an NCoA, then FBU, HI, HAck, "
             "FBAcks"),
    Scenario("rejected", rejected,
             "handovers refused: HAck 128/130 and FBAck 128/129/130"),
    Scenario("ncoa", ncoa,
             "HI with S set, HAck Code 3 and FBAck Code 1 carrying the NCoA "
             "(decision D4)"),
    Scenario("violations", violations,
             "one frame per checker rule (FM1xx-FM5xx) broken on purpose; "
             "see docs/samples.md", repeatable=False),
)}

SAMPLES = tuple(SCENARIOS)   # every scenario has a sample, <name>.pcap


@dataclass(frozen=True)
class Violation:
    frame: int          # 1-based frame number in samples/violations.pcap
    rule: str
    description: str    # what this frame does wrong
    rfc_text: str       # the rule's why, from the registry (rules.py)


# "No reply seen before the capture ends" (decision D10) is known only when the
# capture ends: the checker reports these at the last frame, the frame whose
# time revealed it (fmipdissect/lint/session.py), naming the request's frame.
REPORTED_AT_CAPTURE_END = ("FM403", "FM405", "FM407")


def _violations() -> list[Violation]:
    frames = violations(Params())
    out = []
    for number, fr in enumerate(frames, start=1):
        for rule_id, description in fr.expect:
            at = number
            if rule_id in REPORTED_AT_CAPTURE_END:
                at = len(frames)
                description += (f" (the request is frame {number}; reported "
                                f"when the capture ends)")
            out.append(Violation(at, rule_id, description,
                                 R.rule(rule_id).why))
    out.sort(key=lambda v: v.frame)
    return out


def __getattr__(name: str):
    # VIOLATIONS is derived from the generation itself (built on first use):
    # [(frame, rule id, description, RFC text it breaks)].
    if name == "VIOLATIONS":
        value = [tuple(v.__dict__.values()) for v in _violations()]
        globals()[name] = value
        return value
    raise AttributeError(name)


# --- samples and their documentation ---------------------------------------

def keys_text(params: Params = Params()) -> str:
    """samples/keys.txt in the key file format of fmip-lint --keys (README)."""
    return (f"# Generated by `{REGENERATE}`; do not edit.\n"
            f"# MN-PAR keys of the bundled samples (fmip-lint --keys file "
            f"format: SPI HEXKEY [algorithm]).\n"
            f"# SPI {UNKNOWN_SPI:#x} of samples/violations.pcap is left out on "
            f"purpose (FM502).\n"
            f"{params.spi:#x} {params.key.hex()} {params.algorithm}\n")


SAMPLE_NOTES = {
    "predictive": "RFC 4988 Figure 1. The MN (10.1.0.10) asks PAR (10.1.0.1) "
                  "about the new access point (RtSolPr, PrRtAdv Code 0 with "
                  "NAR's tuple), sends the FBU from the old link (IP source = "
                  "Home Address = PCoA, destination = Home Agent = PAR, Care-of "
                  "Address = NAR 10.2.0.1), PAR sends HI Code 0 (U set) to "
                  "NAR, NAR answers HAck Code 0, PAR sends the FBAck to the MN "
                  "and a copy to NAR (decision D8).",
    "reactive": "RFC 4988 Figure 2. After RtSolPr/PrRtAdv the MN moves and "
                "sends the FBU from the new link to NAR; NAR forwards it "
                "unchanged from the Type field on to PAR (source NAR, "
                "destination PAR, decision D7); PAR sends HI Code 1, NAR "
                "answers HAck; PAR sends the FBAck to NAR, which passes it "
                "on to the MN.",
    "network-initiated": "PAR triggers the handover with an unsolicited "
                         "PrRtAdv Code 1 (Identifier 0) carrying NAR's tuple "
                         "and, after the prefix option, the NCoA 10.2.0.10 "
                         "(RFC 4988 5.4); the MN answers with the FBU at "
                         "once, followed by HI, HAck and the FBAcks.",
    "rejected": "Three refused attempts by one MN: NAR refuses with HAck "
                "128, then HAck 130, and PAR passes the refusal on as FBAck "
                "128 and 130 (Lifetime 0); the third FBU PAR refuses itself "
                "with FBAck 129, without an HI.",
    "ncoa": "Assigned addressing: HI with S (and U) set, NAR assigns the "
            "NCoA 10.2.0.10 in HAck Code 3 with a New IPv4 Address option "
            "(Option-Code 2); PAR returns it in FBAck Code 1, the option "
            "placed before the MN-PAR Authentication Extension (decision D4).",
    "violations": "One flow per rule of the checker that a packet can "
                  "break (FM1xx-FM5xx), each of its own MN, one second "
                  "apart; every frame not listed in the table below is "
                  "conformant. `fmip-lint --keys samples/keys.txt "
                  "samples/violations.pcap` reports exactly the table.",
}


def samples_readme() -> str:
    lines = [
        f"<!-- Generated by `{REGENERATE}`; do not edit. -->",
        "",
        "# Sample captures",
        "",
        f"Generated files; regenerate all of them with `{REGENERATE}`",
        "(or `make samples`). `tests/test_generate.py` proves they are "
        "current.",
        "",
        "| file | what it shows | the same with `fmipdissect gen` |",
        "|---|---|---|",
    ]
    for name in SAMPLES:
        lines.append(f"| `{name}.pcap` | {SCENARIOS[name].description} | "
                     f"`fmipdissect gen {name} -o {name}.pcap` |")
    lines += [
        "| `keys.txt` | MN-PAR keys of the samples (`fmip-lint --keys "
        "samples/keys.txt`) | |",
        "",
        "All but `violations.pcap` conform to RFC 4988 and docs/decisions.md; the only "
        "finding",
        "expected on them is the info FM418 (HI/HAck without IPsec ESP).",
        "Frame by frame: `docs/samples.md`.",
        "",
    ]
    return "\n".join(lines)


def samples_doc() -> str:
    """docs/samples.md: every sample described, the violations table."""
    lines = [
        f"<!-- Generated by `{REGENERATE_DOCS}`; do not edit. -->",
        "",
        "# The sample captures",
        "",
        f"`samples/` holds one capture per scenario of `fmipdissect gen`, "
        f"regenerated by `{REGENERATE}`. Addresses: MN (PCoA, Home Address) "
        "10.1.0.10, PAR 10.1.0.1, NAR 10.2.0.1, NCoA 10.2.0.10; MN-PAR key "
        f"SPI {SAMPLE_SPI:#x} in `samples/keys.txt` (HMAC-MD5, decision D5). "
        "Identification values are NTP timestamps of the FBU's time "
        "(decision D6); captures start at 2026-01-01T00:00:00Z.",
        "",
        "The same scenarios, larger: `fmipdissect gen SCENARIO -o FILE` with",
        "`--handovers N` (N mobile nodes counting up from `--mn`, `--ncoa`,",
        "`--mn-mac`, their flows interleaved in time), `--background SHARE`",
        "(UDP/TCP flows of common sizes: 40-octet ACKs, 1500-octet segments,",
        "RTP, NTP, QUIC), `--packets N` (total; e.g. `--packets 1000000",
        "--background 0.99` gives 1 % FMIPv4), `--linktype",
        "ethernet|cooked|raw`, `.pcapng` output by file name, `--seed`.",
        "Each scenario is built once with Scapy and then written with struct",
        "calls (addresses, Identification, checksums and the authenticator",
        "patched per MN), streamed: a million packets take seconds in flat",
        "memory. `fmipdissect gen --list` lists the scenarios.",
        "",
    ]
    for name in SAMPLES:
        frames = SCENARIOS[name].build(Params())
        lines += [f"## `{name}.pcap`", "", SAMPLE_NOTES[name], ""]
        if name != "violations":
            lines += ["| frame | time (ms) | message |", "|---|---|---|"]
            for number, fr in enumerate(frames, start=1):
                lines.append(f"| {number} | {fr.offset_us / 1000:g} | "
                             f"{describe(fr.packet)} |")
            lines.append("")
    lines += [
        "### Expected findings in `violations.pcap`",
        "",
        "Run with `--keys samples/keys.txt`. The RFC text is the rule's "
        "reason from the registry (`fmipdissect/lint/rules.py`).",
        "",
        "| frame | rule | slug | RFC 4988 section | what the frame does | "
        "RFC text it breaks |",
        "|---|---|---|---|---|---|",
    ]
    for v in _violations():
        rule = R.rule(v.rule)
        text = v.rfc_text.replace("|", "\\|")
        lines.append(f"| {v.frame} | {v.rule} | `{rule.name}` | "
                     f"{rule.section} | {v.description} | {text} |")
    lines.append("")
    return "\n".join(lines)


def describe(packet: Packet) -> str:
    """One line: source -> destination and the FMIPv4 message."""
    ip = packet[IP]
    for cls in (FBU, FBAck, RtSolPr, PrRtAdv, HI, HAck):
        if cls in packet:
            msg = packet[cls]
            extra = ""
            if hasattr(msg, "code") and cls is not FBU:
                extra = f" Code {msg.code}"
            if cls is HI:
                extra += f" S={msg.S} U={msg.U}"
            if cls is FBU and UDP in packet and ip.src == msg.coa:
                extra = " (forwarded by NAR, decision D7)"
            return f"{ip.src} -> {ip.dst} {cls.__name__}{extra}"
    return f"{ip.src} -> {ip.dst} {packet.lastlayer().name}"


def write_samples(directory: Path) -> list[Path]:
    from .generate import GenOptions, generate_file
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name in SAMPLES:
        path = directory / f"{name}.pcap"
        generate_file(GenOptions(scenario=name), path)
        written.append(path)
    (directory / "keys.txt").write_text(keys_text())
    (directory / "README.md").write_text(samples_readme())
    return written + [directory / "keys.txt", directory / "README.md"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fmipdissect.gen.scenarios",
        description="Write the bundled sample captures and their docs.")
    parser.add_argument("--write-samples", metavar="DIR", type=Path,
                        help="write <scenario>.pcap, keys.txt and README.md")
    parser.add_argument("--write-docs", metavar="FILE", type=Path,
                        help="write the samples documentation (docs/samples.md)")
    args = parser.parse_args(argv)
    if not (args.write_samples or args.write_docs):
        parser.error("give --write-samples DIR and/or --write-docs FILE")
    if args.write_samples:
        for path in write_samples(args.write_samples):
            print(path)
    if args.write_docs:
        args.write_docs.parent.mkdir(parents=True, exist_ok=True)
        args.write_docs.write_text(samples_doc())
        print(args.write_docs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
