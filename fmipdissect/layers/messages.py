"""The FMIPv4 messages as Scapy layers: FBU and FBAck on UDP port 434
(RFC 4988 5.1, 5.2), RtSolPr, PrRtAdv, HI and HAck as ICMP type 41 (RFC 4988
5.3-5.6, RFC 4065 3), and their hooks into Scapy's own bindings."""

from __future__ import annotations

import struct

from scapy.config import conf
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.mobileip import MobileIP
from scapy.packet import NoPayload, Packet, bind_top_down

from ..spec import protocol as P
from ..spec.numbers import IPPROTO_ICMP
from ..wire import checksum as C
from .fields import _ICMP_TYPE_NAMES, _MIP_TYPE_NAMES, _scapy_fields, _Tolerant
from .options import (_SUMMARY_CLASSES, MNPARAuth, _icmp_option_class,
                      _mip_extension_class)


# --- Mobile IPv4 messages (RFC 4988 5.1, 5.2) -----------------------------

class _MIPMessage(_Tolerant):
    spec: P.MessageSpec
    _fmip_carrier = "mip"

    def guess_payload_class(self, payload):
        if self.is_truncated():
            return conf.raw_layer
        return _mip_extension_class(payload, isinstance(self, FBAck))

    def default_payload_class(self, payload):
        return conf.raw_layer

    def post_build(self, pkt, pay):
        # decision D5: authenticators cover the payload from the Type field
        # through their own SPI, so they are filled in here, in order.
        layer = self.payload
        while not isinstance(layer, NoPayload):
            if isinstance(layer, MNPARAuth) and layer.wants_authenticator():
                offset = len(pay) - len(layer.build())
                end = offset + P.AUTH_HEADER_LEN
                digest = C.mn_par_authenticator(pkt + pay[:end], layer.key,
                                                layer.algorithm)
                pay = pay[:end] + digest + pay[end + len(digest):]
            layer = layer.payload
        return pkt + pay

    def hashret(self):
        # decision D9: Home Address + Identification, as sent on the wire.
        return (self.get_field("homeaddr").i2m(self, self.homeaddr)
                + struct.pack("!Q", self.ident or 0))


class FBU(_MIPMessage):
    """Fast Binding Update (RFC 4988 5.1): Registration Request layout."""
    spec = P.FBU
    name = P.FBU.name
    fields_desc = _scapy_fields(P.FBU.fields, P.FBU.codes, _MIP_TYPE_NAMES)

    def mysummary(self):
        return self.sprintf("FBU %FBU.homeaddr% > %FBU.haaddr% "
                            "coa=%FBU.coa% ident=%FBU.ident%")


class FBAck(_MIPMessage):
    """Fast Binding Acknowledgment (RFC 4988 5.2): Registration Reply
    layout."""
    spec = P.FBACK
    name = P.FBACK.name
    fields_desc = _scapy_fields(P.FBACK.fields, P.FBACK.codes, _MIP_TYPE_NAMES)

    def answers(self, other):
        # decision D9: Home Address + Identification.
        return (isinstance(other, FBU) and other.homeaddr == self.homeaddr
                and other.ident == self.ident)

    def mysummary(self):
        return self.sprintf("FBAck %FBAck.code% %FBAck.homeaddr% "
                            "ident=%FBAck.ident%")


# --- ICMP type 41 messages (RFC 4988 5.3-5.6, RFC 4065 3) -----------------

class _FMIPICMPMessage(_Tolerant):
    spec: P.MessageSpec
    _fmip_carrier = "icmp"

    def guess_payload_class(self, payload):
        if self.is_truncated():
            return conf.raw_layer
        return _icmp_option_class(payload)

    def default_payload_class(self, payload):
        return conf.raw_layer

    def post_build(self, pkt, pay):
        message = pkt + pay
        if self.chksum is None:
            # decision D2: Checksum and Reserved zeroed, options included.
            ck = C.fmip_icmp_checksum(message)
            message = message[:2] + struct.pack("!H", ck) + message[4:]
        return message

    def hashret(self):
        return struct.pack("!H", self.identifier or 0)

    def answers(self, other):
        # decision D9: the Identifier links a reply to its request; an
        # unsolicited PrRtAdv (Identifier 0) answers nothing.
        request = P.MESSAGES_BY_KEY.get(self.spec.request or "")
        if self.code in self.spec.unsolicited_codes:
            return 0
        return (request is not None and isinstance(other, _FMIPICMPMessage)
                and other.spec is request
                and other.identifier == self.identifier)

    def mysummary(self):
        cls = type(self).__name__
        return self.sprintf(f"{cls} %{cls}.code% id=%{cls}.identifier%")


def _icmp_fields(msg: P.MessageSpec) -> list:
    return _scapy_fields(msg.fields, msg.codes, _ICMP_TYPE_NAMES)


class RtSolPr(_FMIPICMPMessage):
    """Router Solicitation for Proxy Advertisement (RFC 4988 5.3)."""
    spec = P.RTSOLPR
    name = P.RTSOLPR.name
    fields_desc = _icmp_fields(P.RTSOLPR)


class PrRtAdv(_FMIPICMPMessage):
    """Proxy Router Advertisement (RFC 4988 5.4)."""
    spec = P.PRRTADV
    name = P.PRRTADV.name
    fields_desc = _icmp_fields(P.PRRTADV)


class HI(_FMIPICMPMessage):
    """Handover Initiate (RFC 4988 5.5)."""
    spec = P.HI
    name = P.HI.name
    fields_desc = _icmp_fields(P.HI)


class HAck(_FMIPICMPMessage):
    """Handover Acknowledge (RFC 4988 5.6)."""
    spec = P.HACK
    name = P.HACK.name
    fields_desc = _icmp_fields(P.HACK)


_ICMP_CLASSES = {c.spec.subtype: c for c in (RtSolPr, PrRtAdv, HI, HAck)}
_MIP_CLASSES = {c.spec.type: c for c in (FBU, FBAck)}
_SUMMARY_CLASSES[:0] = [*_MIP_CLASSES.values(), *_ICMP_CLASSES.values()]


# --- Hooking into Scapy's bindings ---------------------------------------

class _MobileIPv4Dispatch(Packet):
    """Stands before Scapy's MobileIP on UDP 434: types 20/21 become ours,
    everything else is Scapy's MobileIP exactly as before."""
    name = "Mobile IPv4 dispatch"

    @classmethod
    def dispatch_hook(cls, _pkt=None, *args, **kargs):
        if _pkt:
            ours = _MIP_CLASSES.get(_pkt[0])
            if ours is not None and len(_pkt) >= ours.spec.header_len:
                return ours
        return MobileIP


class _ICMPType41Dispatch(Packet):
    """Stands before Scapy's ICMP on IP protocol 1: type 41 with subtype 6-9
    becomes ours, every other ICMP message is Scapy's ICMP as before."""
    name = "ICMP dispatch"

    @classmethod
    def dispatch_hook(cls, _pkt=None, *args, **kargs):
        if (_pkt and len(_pkt) >= P.RTSOLPR.header_len
                and _pkt[0] == P.ICMP_TYPE_EXPERIMENTAL_MOBILITY):
            ours = _ICMP_CLASSES.get(_pkt[P.ICMP_SUBTYPE_OFFSET])
            if ours is not None:
                return ours
        return ICMP


def _insert_before(lower, upper, dispatcher) -> None:
    """Put dispatcher entries in front of each binding lower -> upper, with
    the same field values, so precedence over other bindings is unchanged."""
    guesses = []
    for fval, cls in lower.payload_guess:
        if cls is upper and (fval, dispatcher) not in guesses:
            guesses.append((fval, dispatcher))
        if cls is not dispatcher:
            guesses.append((fval, cls))
    lower.payload_guess = guesses


_insert_before(UDP, MobileIP, _MobileIPv4Dispatch)
_insert_before(IP, ICMP, _ICMPType41Dispatch)

# Building: IP()/HI() sets proto 1, UDP()/FBU() the Mobile IPv4 port.
for _cls in _ICMP_CLASSES.values():
    bind_top_down(IP, _cls, proto=IPPROTO_ICMP)
for _cls in _MIP_CLASSES.values():
    bind_top_down(UDP, _cls, sport=P.MIP_UDP_PORT, dport=P.MIP_UDP_PORT)
del _cls
