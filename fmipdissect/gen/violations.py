"""The violations sample: one flow per rule a packet can break.

Each entry of the table (GROUPS, filled by @group in order) builds one flow
of its own mobile node, otherwise conformant, whose frames carry the
rules they break on purpose with a description: samples/violations.pcap,
and the table of docs/samples.md that tests hold fmip-lint and the
Wireshark dissector to.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

from scapy.layers.inet import IP
from scapy.packet import Packet, Raw

from ..layers import (FBU, HI, FBAck, FMIPOption, IPv4AddrOption, LLAOption,
                      MIPExtension, PrefixOption, RtSolPr)
from ..spec import constraints as K
from ..spec import protocol as P
from ..spec import rules as R
from ..spec.numbers import IPPROTO_ICMP
from ..wire import checksum as C
from .flows import (Flow, Frame, Params, _auth, _mip, fback_message,
                    fbu_message, hack, hi, new_ap_lla, nth_host, params_for,
                    prrtadv, router_tuple, rtsolpr)

UNKNOWN_SPI = 0x999   # an SPI that samples/keys.txt lacks (auth-unknown-spi)
UNKNOWN_SUBTYPE = 5   # an experimental-mobility subtype that is not FMIPv4 (6-9)
RESERVED_SPI = P.SPI_RESERVED_MAX   # decision D14: reserved, never used
OVERLONG_PREFIX = P.IPV4_PREFIX_MAX + 1   # no IPv4 prefix (RFC 4988 6.3)


def _icmp_type41(subtype: int, identifier: int = 1) -> bytes:
    """An 8-octet ICMP type 41 message in the layout of RFC 4988 5.3-5.6
    (Type, Code 0, Checksum, Subtype at P.ICMP_SUBTYPE_OFFSET, Reserved,
    Identifier), built octet by octet: Scapy's ICMP would put its own four
    octets before the Subtype.  The checksum is the usual ICMP sum (the
    Reserved octet is zero, so decision D2 gives the same)."""
    message = bytearray(8)
    message[0] = P.ICMP_TYPE_EXPERIMENTAL_MOBILITY
    message[P.ICMP_SUBTYPE_OFFSET] = subtype
    message[6:8] = identifier.to_bytes(2, "big")
    message[2:4] = C.plain_icmp_checksum(bytes(message)).to_bytes(2, "big")
    return bytes(message)


GROUPS: list[Callable[[Flow], None]] = []


def group(fn: Callable[[Flow], None]) -> Callable[[Flow], None]:
    """Add a flow builder to the table, in order."""
    GROUPS.append(fn)
    return fn


def fbu_then_ack(f: Flow, expect, fbu_kw=None, ack_kw=None):
    ident = f.predictive_fbu(0, expect=(expect,), **(fbu_kw or {}))
    f.fbacks_predictive(1, ident, to_nar=False, **(ack_kw or {}))


# --- violations --------------------------------------------------------------

def _bad_checksum(packet: Packet, how: str) -> Packet:
    """Rebuild an ICMP type 41 packet with a checksum that fails decision D2:
    "plain" = the plain sum over the octets as sent (a warning), "bad" =
    neither computation (an error)."""
    message = bytes(packet[IP].payload)
    plain = C.plain_icmp_checksum(message)
    value = plain if how == "plain" else plain ^ 0x0F0F
    layer = packet[IP].payload
    layer.chksum = value
    return packet


# FM1xx: FBU / FBAck -------------------------------------------------
@group
def _(f):
    fbu_then_ack(f, (R.FBU_LIFETIME_OVER_LIMIT, "FBU Lifetime 11"), {"lifetime": 11})

@group
def _(f):
    fbu_then_ack(f, (R.FBU_S_B_FLAGS_SET, "FBU with the S flag set"), {"flags": 0x80})

@group
def _(f):
    fbu_then_ack(f, (R.FBU_RESERVED_FLAGS_SET, "FBU with the reserved x flag set"),
                 {"flags": 0x01})

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, _mip(f.p.par, f.p.mn) / FBAck(
        homeaddr=f.p.mn, haaddr=f.p.par, ident=ident),
        (R.AUTH_EXTENSION_MISSING, "FBAck without the MN-PAR Authentication Extension"))

@group
def _(f):
    fbu_then_ack(f, (R.AUTH_EXTENSION_WRONG_SUBTYPE, "FBU authenticated with subtype 1 "
                              "(MN-AAA) instead of MN-PAR (4)"),
                 {"auth": _auth(f.p, subtype=1)})

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, _mip(f.p.par, f.p.mn) / fback_message(f.p, ident, code=1),
          (R.FBACK_NCOA_OPTION_MISSING, "FBAck Code 1 without the NCoA option"))

@group
def _(f):
    ident = f.predictive_fbu(0)
    msg = (FBAck(code=1, homeaddr=f.p.mn, haaddr=f.p.par, ident=ident)
           / IPv4AddrOption(code=P.ADDR_NCOA, addr=f.p.ncoa, len=6)
           / _auth(f.p))
    f.add(1, _mip(f.p.par, f.p.mn) / msg,
          (R.FBACK_NCOA_OCTET_LENGTH, "NCoA option in FBAck with Length 6 (octets)"))

@group
def _(f):
    ident = f.predictive_fbu(0)
    msg = (FBAck(code=1, homeaddr=f.p.mn, haaddr=f.p.par, ident=ident)
           / _auth(f.p)
           / IPv4AddrOption(code=P.ADDR_NCOA, addr=f.p.ncoa))
    f.add(1, _mip(f.p.par, f.p.mn) / msg,
          (R.FBACK_NCOA_AFTER_AUTH, "NCoA option after the MN-PAR Authentication "
                    "Extension"))

@group
def _(f):
    ident = f.ident(0)
    msg = (FBU(homeaddr=f.p.mn, haaddr=f.p.par, coa=f.p.nar, ident=ident)
           / MIPExtension(type=100, data=b"\x00\x00") / _auth(f.p))
    f.add(0, _mip(f.p.mn, f.p.par) / msg,
          (R.MIP_EXTENSION_UNKNOWN, "FBU with the unknown non-skippable extension 100"))
    f.fbacks_predictive(1, ident, to_nar=False)

# FM2xx: ICMP type 41 messages -----------------------------------------
@group
def _(f):
    f.add(0, _bad_checksum(prrtadv(f.p, 4, None), "bad"),
          (R.ICMP_CHECKSUM_BAD, "unsolicited PrRtAdv with a wrong checksum"))

@group
def _(f):
    f.add(0, _bad_checksum(prrtadv(f.p, 4, None, reserved=0x5A), "plain"),
          (R.ICMP_CHECKSUM_PLAIN_SUM, "PrRtAdv checksum summed over the non-zero "
                    "Reserved octet"),
          (R.ICMP_RESERVED_NOT_ZERO, "PrRtAdv Reserved octet 0x5a"))

@group
def _(f):
    f.add(0, prrtadv(f.p, 4, None, reserved=0x5A),
          (R.ICMP_RESERVED_NOT_ZERO, "PrRtAdv Reserved octet 0x5a (checksum per D2)"))

@group
def _(f):
    f.add(0, IP(src=f.p.par, dst=f.p.mn, proto=IPPROTO_ICMP)
          / Raw(_icmp_type41(UNKNOWN_SUBTYPE)),
          (R.ICMP_UNKNOWN_SUBTYPE,
           f"ICMP type 41 subtype {UNKNOWN_SUBTYPE} (not FMIPv4)"))

@group
def _(f):
    f.add(0, rtsolpr(f.p, code=1), (R.UNKNOWN_CODE, "RtSolPr with Code 1"))
    f.add(2.5, prrtadv(f.p))

@group
def _(f):
    f.add(0, IP(src=f.p.mn, dst=f.p.par)
          / RtSolPr(identifier=f.p.rtsol_id),
          (R.RTSOLPR_NEW_AP_LLA_MISSING, "RtSolPr without the New AP LLA option"))
    f.add(2.5, prrtadv(f.p))

@group
def _(f):
    f.add(0, rtsolpr(f.p))
    f.add(2.5, prrtadv(f.p, options=new_ap_lla(f.p) / LLAOption(
        code=P.LLA_NAR, lla=f.p.nar_mac) / PrefixOption(
        prefixlen=f.p.prefixlen)),
        (R.PRRTADV_REQUIRED_OPTION_MISSING, "PrRtAdv Code 0 without the New Router's IP Address "
                  "option"))

@group
def _(f):
    f.add(0, rtsolpr(f.p))
    f.add(2.5, prrtadv(f.p, options=new_ap_lla(f.p) / IPv4AddrOption(
        code=P.ADDR_NAR_IP, addr=f.p.nar) / LLAOption(
        code=P.LLA_NAR, lla=f.p.nar_mac) / PrefixOption(
        prefixlen=f.p.prefixlen)),
        (R.PRRTADV_OPTION_ORDER, "PrRtAdv with the New Router's IP Address before its "
                  "LLA option"))

@group
def _(f):
    f.add(0, rtsolpr(f.p))
    f.add(2.5, prrtadv(f.p, 2, options=new_ap_lla(f.p)),
          (R.PRRTADV_REASON_CODE_MISSING, "PrRtAdv Code 2 whose LLA option gives no reason "
                    "(Option-Code 1)"))

@group
def _(f):
    f.add(0, prrtadv(f.p, 4, None, identifier=0x1234),
          (R.PRRTADV_UNSOLICITED_IDENTIFIER, "unsolicited PrRtAdv Code 4 with Identifier 0x1234"))

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, hi(f.p, options=IPv4AddrOption(code=P.ADDR_PCOA,
                                            addr=f.p.mn)),
          (R.HI_REQUIRED_OPTION_MISSING, "HI without the MN's LLA option"))
    f.add(3.5, hack(f.p))
    f.fbacks_predictive(4, ident)

@group
def _(f):
    # S set: NAR assigns an NCoA in the HAck, as RFC 4988 5.6 asks, and the
    # FBAck carries it on (RFC 4988 4).
    f.reactive(0, hi_fields={"S": 1}, hack_kw={"code": 3, "ncoa": True},
               fback_kw={"code": P.FBACK_CODE_NCOA_SUPPLIED, "ncoa": True},
               hi_expect=((R.HI_REACTIVE_S_FLAG, "HI Code 1 with the S flag set"),))

@group
def _(f):
    f.reactive(0, hi_fields={"U": 1},
               hi_expect=((R.HI_REACTIVE_U_FLAG, "HI Code 1 with the U flag set"),))

# FM3xx: options and extensions -----------------------------------------
@group
def _(f):
    fbu = fbu_message(f.p, f.ident(0))
    f.add(0, _mip(f.p.mn, f.p.par) / Raw(bytes(fbu)[:20]),
          (R.TRUNCATED_MESSAGE, "FBU cut after 20 of its 24 header octets"))

def rtsolpr_with(f, extra, expect):
    f.add(0, rtsolpr(f.p, options=new_ap_lla(f.p) / extra), expect)
    f.add(2.5, prrtadv(f.p))

@group
def _(f):
    rtsolpr_with(f, FMIPOption(type=P.OPT_PREFIX, len=0, data=bytes(6)),
                 (R.OPTION_LENGTH_ZERO, "RtSolPr option with Length 0"))

@group
def _(f):
    rtsolpr_with(f, FMIPOption(type=P.OPT_PREFIX, len=2, data=bytes(6)),
                 (R.OPTION_PAST_END, "RtSolPr option of Length 2 (16 octets) with "
                           "8 octets left"))

@group
def _(f):
    f.add(0, rtsolpr(f.p, options=LLAOption(
        code=P.LLA_NEW_AP, lla=f.p.ap_mac, padding=b"\xff" * 7)),
        (R.LLA_BAD_PADDING, "New AP LLA option padded with 0xff octets"))
    f.add(2.5, prrtadv(f.p))

@group
def _(f):
    rtsolpr_with(f, FMIPOption(type=30, data=bytes(6)),
                 (R.OPTION_UNKNOWN_TYPE, "RtSolPr with option type 30"))

@group
def _(f):
    rtsolpr_with(f, IPv4AddrOption(code=4, addr=f.p.mn),
                 (R.OPTION_UNKNOWN_CODE, "New IPv4 Address option with Option-Code 4"))

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, hi(f.p, options=LLAOption(code=P.LLA_MN, lla=f.p.mn_mac)
                / IPv4AddrOption(code=P.ADDR_PCOA, addr=f.p.mn,
                                 reserved=0xFF)),
          (R.OPTION_RESERVED_NOT_ZERO, "HI's Previous CoA option with Reserved 0xff"))
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
        (R.OPTION_BAD_LENGTH, "Prefix option with Length 2"))

# FM4xx: across packets -------------------------------------------------
@group
def _(f):
    f.add(0, _mip(f.p.par, f.p.mn) / fback_message(f.p, f.ident(-50)),
          (R.FBACK_WITHOUT_FBU, "FBAck with no FBU for its Home Address"))

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, _mip(f.p.par, f.p.mn) / fback_message(f.p, ident ^ 1),
          (R.FBACK_IDENTIFICATION_MISMATCH, "FBAck Identification one off its FBU's"))
    f.fbacks_predictive(2, ident, to_nar=False)

@group
def _(f):
    f.predictive_fbu(0, expect=((R.FBU_UNACKNOWLEDGED, "FBU never answered"),))

@group
def _(f):
    # from a NAR no HI went to: no HI between these routers at all
    # (decision D11), and so the first HAck of this router pair
    other = replace(f.p, nar=nth_host(f.p.nar, 1, 24))
    f.add(0, hack(other), (R.HACK_WITHOUT_HI, "HAck answering no HI"),
          (R.HI_HACK_WITHOUT_IPSEC, "first HAck between PAR and a second NAR, without "
                    "IPsec ESP"))

@group
def _(f):
    f.add(0, hi(f.p), (R.HI_UNANSWERED, "HI never answered"))

@group
def _(f):
    f.add(0, prrtadv(f.p),
          (R.PRRTADV_WITHOUT_RTSOLPR, "solicited PrRtAdv with no RtSolPr"))

@group
def _(f):
    f.add(0, rtsolpr(f.p), (R.RTSOLPR_UNANSWERED, "RtSolPr never answered"))

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, hi(f.p, S=1))
    f.add(3.5, hack(f.p),
          (R.HACK_NCOA_OPTION_MISSING, "HAck to an HI with S set, without the NCoA option"))
    f.fbacks_predictive(4, ident)

@group
def _(f):
    ident = f.ident(0)
    f.add(0, _mip(f.p.ncoa, f.p.par) / fbu_message(f.p, ident),
          (R.FBU_ROLE_UNKNOWN, "FBU from the NCoA to PAR: no mode sends that"))
    f.add(1, _mip(f.p.par, f.p.ncoa) / fback_message(f.p, ident))

@group
def _(f):
    f.reactive(0, forwarded={"lifetime": 8},
               fwd_expect=((R.FORWARDED_FBU_DIFFERS, "NAR forwards the FBU with Lifetime "
                                     "8 instead of 10"),),
               fback_kw={"lifetime": 8})

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, hi(f.p, P.HI_CODE_REACTIVE),
          (R.HI_CODE_MISMATCH, "HI Code 1 for an FBU that came from the PCoA"))
    f.add(3.5, hack(f.p))
    f.fbacks_predictive(4, ident)

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, _mip(f.p.par, "10.9.9.9") / fback_message(f.p, ident),
          (R.FBACK_WRONG_DESTINATION, "FBAck sent to 10.9.9.9, not to the FBU's source"))
    f.fbacks_predictive(2, ident, to_nar=False)

@group
def _(f):
    ident = f.predictive_fbu(0, sport=50434)
    f.add(1, _mip(f.p.par, f.p.mn) / fback_message(f.p, ident),
          (R.FBACK_WRONG_PORT, "FBAck to port 434; the FBU came from port 50434"))
    f.add(2, _mip(f.p.par, f.p.mn, dport=50434)
          / fback_message(f.p, ident))

@group
def _(f):
    f.discovery(0)
    ident = f.predictive_fbu(100, coa=f.p.ncoa, expect=(
        (R.FBU_COA_NOT_NAR, "FBU Care-of Address is the NCoA, not NAR's address"),))
    f.add(101, hi(f.p))
    f.add(103.5, hack(f.p))
    f.fbacks_predictive(104, ident)

@group
def _(f):
    fbu_then_ack(f, (R.FBACK_LIFETIME_EXCEEDS_REQUEST, "FBAck grants 10 s to an FBU asking 5 s"),
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
        (R.FBU_IDENTIFICATION_REUSED, "second, different FBU reusing the Identification"),))
    f.fbacks_predictive(501, ident, to_nar=False, lifetime=8)

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, hi(f.p))
    f.add(3, hack(f.p, k=1),
          (R.HACK_IDENTIFIER_MISMATCH, "HAck Identifier one off the outstanding HI's"))
    f.add(3.5, hack(f.p))
    f.fbacks_predictive(4, ident)

@group
def _(f):
    f.add(0, rtsolpr(f.p))
    f.add(2, prrtadv(f.p, k=1),
          (R.PRRTADV_IDENTIFIER_MISMATCH, "PrRtAdv Identifier one off the outstanding "
                    "RtSolPr's"))
    f.add(2.5, prrtadv(f.p))

# Checks of decisions D14, D15 and of RFC 4988 4, 5.2-5.6, 6.3 --------------
@group
def _(f):
    packet = rtsolpr(f.p)
    packet[IP].ttl = 0
    f.add(0, packet, (R.ICMP_TTL_ZERO, "RtSolPr sent with Time-to-Live 0"))
    f.add(2.5, prrtadv(f.p))

@group
def _(f):
    f.add(0, rtsolpr(f.p))
    f.add(2.5, prrtadv(f.p, options=router_tuple(f.p) / new_ap_lla(f.p)
                       / LLAOption(code=P.LLA_NAR, lla=f.p.nar_mac)
                       / IPv4AddrOption(code=P.ADDR_NAR_IP, addr=f.p.nar)),
          (R.PRRTADV_TUPLE_PREFIX_MISSING, "PrRtAdv whose second tuple has "
           "no New Router Prefix option (decision D15)"))

@group
def _(f):
    f.add(0, rtsolpr(f.p))
    f.add(2.5, prrtadv(f.p, options=new_ap_lla(f.p)
                       / LLAOption(code=P.LLA_NAR, lla=f.p.nar_mac)
                       / IPv4AddrOption(code=P.ADDR_NAR_IP, addr=f.p.nar)
                       / PrefixOption(prefixlen=OVERLONG_PREFIX)),
          (R.PREFIX_LENGTH_OVER_32, f"New Router Prefix with Prefix Length "
           f"{OVERLONG_PREFIX}"))

@group
def _(f):
    ident = f.predictive_fbu(0)
    wrong = FBAck(code=0, lifetime=P.LIFETIME_MAX, homeaddr=f.p.mn,
                  haaddr=f.p.nar, ident=ident) / _auth(f.p)
    f.add(1, _mip(f.p.par, f.p.mn) / wrong,
          (R.FBACK_HOME_AGENT_NOT_PAR, "FBAck whose Home Agent field is NAR"))

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, hi(f.p, S=1))
    f.add(3.5, hack(f.p, code=3, ncoa=True))
    f.add(4, _mip(f.p.par, f.p.mn) / fback_message(f.p, ident),
          (R.FBACK_NCOA_DROPPED, "FBAck Code 0 without the NCoA the HAck "
           "supplied"))

@group
def _(f):
    ident = f.predictive_fbu(0)
    f.add(1, hi(f.p, S=1))
    f.add(3.5, hack(f.p, code=3, ncoa=True))
    other = FBAck(code=P.FBACK_CODE_NCOA_SUPPLIED, lifetime=P.LIFETIME_MAX,
                  homeaddr=f.p.mn, haaddr=f.p.par, ident=ident) \
        / IPv4AddrOption(code=P.ADDR_NCOA, addr=nth_host(f.p.ncoa, 1)) \
        / _auth(f.p)
    f.add(4, _mip(f.p.par, f.p.mn) / other,
          (R.FBACK_NCOA_DIFFERS, "FBAck NCoA other than the HAck's"))

# FM5xx: authenticators ------------------------------------------------
@group
def _(f):
    ident = f.ident(0)
    good = bytes(fbu_message(f.p, ident))
    wrong = bytes(a ^ 0xFF for a in good[-16:])
    fbu_then_ack(f, (R.AUTH_AUTHENTICATOR_BAD, "FBU authenticator does not verify"),
                 {"auth": _auth(f.p, authenticator=wrong),
                  "ident": ident})

@group
def _(f):
    fbu_then_ack(f, (R.AUTH_UNKNOWN_SPI, f"FBU with SPI {UNKNOWN_SPI:#x}, not in "
                              f"samples/keys.txt"),
                 {"auth": _auth(f.p, spi=UNKNOWN_SPI)})

@group
def _(f):
    fbu_then_ack(f, (R.AUTH_SPI_RESERVED, f"FBU with the reserved SPI "
                                          f"{RESERVED_SPI} (decision D14)"),
                 {"auth": _auth(f.p, spi=RESERVED_SPI)})


def violations(p: Params) -> list[Frame]:
    """One frame per rule the checker applies to packets (FM1xx-FM5xx), each
    in a flow of its own mobile node that is otherwise conformant."""
    frames: list[Frame] = []
    for number, build in enumerate(GROUPS):
        # Each group is its own MN (and its own identifiers), one second
        # apart, so that no group's state meets another's (decision D9).
        flow = Flow(params_for(p, number + 1, p.start_us),
                     base_ms=1000.0 * number)
        build(flow)
        frames.extend(flow.frames)
    frames.sort(key=lambda fr: fr.offset_us)
    # Info: HI/HAck without IPsec ESP, once per router pair, at the
    # first HI of the capture.  Every group shares the one PAR/NAR pair.
    first_hi = next(i for i, fr in enumerate(frames) if HI in fr.packet)
    frames[first_hi] = replace(frames[first_hi], expect=(
        frames[first_hi].expect + ((R.HI_HACK_WITHOUT_IPSEC,
                                    "first HI between PAR and NAR, "
                                    "without IPsec ESP"),)))
    return frames


@dataclass(frozen=True)
class Violation:
    frame: int          # 1-based frame number in samples/violations.pcap
    rule: str
    description: str    # what this frame does wrong
    rfc_text: str       # the rule's why, from the registry (rules.py)


# "No reply seen before the capture ends" (decision D10) is known only when the
# capture ends: the checker reports it then, on the request's own frame.
REPORTED_AT_CAPTURE_END = frozenset(p.unanswered_rule for p in K.PAIRS)


def violation_table() -> list[Violation]:
    """Every finding the violations sample must give, in frame order."""
    frames = violations(Params())
    out = []
    for number, fr in enumerate(frames, start=1):
        for rule_id, description in fr.expect:
            if rule_id in REPORTED_AT_CAPTURE_END:
                description += " (reported when the capture ends)"
            out.append(Violation(number, rule_id, description,
                                 R.rule(rule_id).why))
    out.sort(key=lambda v: v.frame)
    return out


def __getattr__(name: str):
    # VIOLATIONS is derived from the generation itself (built on first use):
    # [(frame, rule id, description, RFC text it breaks)].
    if name == "VIOLATIONS":
        value = [tuple(v.__dict__.values()) for v in violation_table()]
        globals()[name] = value
        return value
    raise AttributeError(name)
