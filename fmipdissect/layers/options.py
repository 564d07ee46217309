"""ICMP options (RFC 4988 6) and Mobile IPv4 extensions (RFC 3344 1.9,
RFC 4721 5): each one is a layer whose payload is the next option or
extension, so they chain as Scapy's ICMPv6 ND options do."""

from __future__ import annotations

import struct

from scapy.config import conf
from scapy.fields import (ByteEnumField, ByteField, ConditionalField,
                          ShortField, XStrLenField)

from ..spec import protocol as P
from ..wire import checksum as C
from ..wire.padding import build_padding, padding_ok
from .fields import (_LLA_SPEC, _OPTION_TYPE_NAMES, _SCAPY_NAME, LLAField,
                     _lla_body_len, _lla_octets, _option_head, _scapy_fields,
                     _Tolerant)

# --- Dispatch helpers (never raise: malformed input ends as Raw) ---------

def _under_mip_message(pkt) -> type | None:
    """The FBU/FBAck class this option/extension sits in, if any (None in
    an ICMP type 41 message)."""
    lower = pkt.underlayer
    while lower is not None:
        carrier = getattr(lower, "_fmip_carrier", None)
        if carrier == "mip":
            return type(lower)
        if carrier == "icmp":
            return None
        lower = lower.underlayer
    return None


def _mip_extension_class(payload: bytes, in_fback: bool):
    """The class of the Mobile IPv4 extension at the start of payload."""
    if len(payload) < 2:
        return conf.raw_layer
    ext_type = payload[0]
    if ext_type in P.LONG_FORMAT_EXTENSIONS:
        # Generalized Authentication Extension, long format (RFC 4721 5);
        # a Length too short for the SPI leaves the rest undecodable.
        if (len(payload) >= P.AUTH_HEADER_LEN
                and int.from_bytes(payload[2:4], "big") >= _AUTH_SPI_LEN):
            return MNPARAuth
        return conf.raw_layer
    if (in_fback and ext_type == P.OPT_IPV4_ADDR
            and payload[1] in P.NCOA_IN_FBACK_LENGTHS
            and len(payload) >= P.OPTIONS[P.OPT_IPV4_ADDR].fixed_len):
        return IPv4AddrOption   # decision D4: NCoA option in the extension area
    return MIPExtension


def _icmp_option_class(payload: bytes):
    """The class of the ICMP option at the start of payload (RFC 4988 6)."""
    if len(payload) < 2:
        return conf.raw_layer
    opt_type, units = payload[0], payload[1]
    spec = P.OPTIONS.get(opt_type)
    if spec is None or units == 0:
        return FMIPOption
    if spec.fixed_len is None:          # LLA option
        return _OPTION_CLASS[opt_type] if len(payload) >= 3 else FMIPOption
    if len(payload) >= spec.fixed_len:
        # A Length other than 1 is misframed; the fixed fields are still
        # decoded and the octets the Length adds are shown as "extra".
        return _OPTION_CLASS[opt_type]
    return FMIPOption


class _Chained(_Tolerant):
    """An option or extension: the next one follows as its payload."""

    def _ends_chain(self) -> bool:
        return False

    def guess_payload_class(self, payload):
        if self._ends_chain() or self.is_truncated():
            return conf.raw_layer
        mip = _under_mip_message(self)
        if mip is not None:
            return _mip_extension_class(payload, mip.spec is P.FBACK)
        return _icmp_option_class(payload)

    def default_payload_class(self, payload):
        return conf.raw_layer

    def _summary_text(self) -> str:
        return type(self).__name__

    def mysummary(self):
        # Keep the message's and every option's summary in Packet.summary().
        return self._summary_text(), list(_SUMMARY_CLASSES)


# --- ICMP options (RFC 4988 6) --------------------------------------------

def _option_units(pkt: bytes) -> int:
    return (len(pkt) + P.OPTION_UNIT - 1) // P.OPTION_UNIT


def _fill_len(pkt: bytes, value, offset: int = 1) -> bytes:
    if value is None:
        pkt = pkt[:offset] + bytes([min(_option_units(pkt), 255)]) + \
            pkt[offset + 1:]
    return pkt


def padding_is_valid(pad: bytes) -> bool:
    """Pad1, or one PadN filling pad exactly (RFC 2460 4.2, decision D3)."""
    return padding_ok(pad)


# RFC 4721 5: the Length counts the SPI and the authenticator.
_AUTH_SPI_LEN = next(f.size for f in P.AUTH_EXTENSION_FIELDS
                     if f.name == "spi")


class LLAOption(_Chained):
    """Link-Layer Address option (RFC 4988 6.1, decision D3)."""
    name = "FMIPv4 Link-Layer Address Option"
    fields_desc = _option_head(_LLA_SPEC) + [
        LLAField("lla", None),
        XStrLenField("padding", None, length_from=lambda pkt: max(
            0, _lla_body_len(pkt) - len(_lla_octets(pkt)))),
    ]

    def post_build(self, pkt, pay):
        if self.padding is None:
            pkt += build_padding(len(pkt))
        return _fill_len(pkt, self.len) + pay

    def _ends_chain(self):
        return self.len == 0

    def _summary_text(self):
        return self.sprintf("LLA %LLAOption.code% %LLAOption.lla%")


def _fixed_extra_len(pkt) -> int:
    """Octets a fixed 8-octet option's Length claims beyond its layout.

    Always 0 in an FBAck's extension area, where Length 1 and 6 both frame
    the same 8 octets (decision D4)."""
    if not pkt.len or _under_mip_message(pkt) is not None:
        return 0
    return max(0, pkt.len * P.OPTION_UNIT - P.OPTIONS[pkt.type].fixed_len) \
        if pkt.type in P.OPTIONS else 0


def _fixed_option(spec: P.Option) -> list:
    return _option_head(spec) + _scapy_fields(
        [f for f in spec.fields if f.name not in ("type", "length", "code")]
    ) + [ConditionalField(
        XStrLenField("extra", b"", length_from=_fixed_extra_len),
        lambda pkt: _fixed_extra_len(pkt) > 0)]


class IPv4AddrOption(_Chained):
    """New IPv4 Address option (RFC 4988 6.2); also the NCoA option in an
    FBAck's extension area (decision D4, Length 1 or 6)."""
    name = "FMIPv4 New IPv4 Address Option"
    fields_desc = _fixed_option(P.OPTIONS[P.OPT_IPV4_ADDR])
    fields_desc[2].default = P.ADDR_PCOA

    def post_build(self, pkt, pay):
        return _fill_len(pkt, self.len) + pay

    def _ends_chain(self):
        return self.len == 0

    def _summary_text(self):
        return self.sprintf("IPv4Addr %IPv4AddrOption.code% "
                            "%IPv4AddrOption.addr%")


class PrefixOption(_Chained):
    """New Router Prefix Information option (RFC 4988 6.3)."""
    name = "FMIPv4 New Router Prefix Information Option"
    fields_desc = _fixed_option(P.OPTIONS[P.OPT_PREFIX])

    def post_build(self, pkt, pay):
        return _fill_len(pkt, self.len) + pay

    def _ends_chain(self):
        return self.len == 0

    def _summary_text(self):
        return self.sprintf("Prefix /%PrefixOption.prefixlen%")


class FMIPOption(_Chained):
    """Any other ICMP option (unknown type, or a known type whose Length does
    not fit its layout): Type, Length (8-octet units), data.  With len=None
    the data is zero-filled to whole 8-octet units."""
    name = "FMIPv4 Option"
    fields_desc = [
        ByteEnumField("type", 0, _OPTION_TYPE_NAMES),
        ByteField("len", None),
        XStrLenField("data", b"", length_from=lambda pkt: max(
            0, (pkt.len or 0) * P.OPTION_UNIT - 2)),
    ]

    def post_build(self, pkt, pay):
        if self.len is None:
            # Whole 8-octet units (RFC 4988 6): zero-fill the data.
            pkt += bytes(-len(pkt) % P.OPTION_UNIT)
        return _fill_len(pkt, self.len) + pay

    def _ends_chain(self):
        # Length 0 gives no way to find the next option (RFC 4988 6).
        return self.len == 0

    def _summary_text(self):
        return self.sprintf("Option %FMIPOption.type% len=%FMIPOption.len%")


_OPTION_CLASS = {P.OPT_LLA: LLAOption, P.OPT_IPV4_ADDR: IPv4AddrOption,
                 P.OPT_PREFIX: PrefixOption}


# --- Mobile IPv4 extensions (RFC 3344 1.9, RFC 4721 5) --------------------

class MIPExtension(_Chained):
    """Any other Mobile IPv4 extension, short format: Type, Length (octets of
    data that follow), data."""
    name = "Mobile IPv4 Extension"
    fields_desc = [
        ByteEnumField("type", 0, P.MIP_EXTENSION_NAMES),
        ByteField("len", None),
        XStrLenField("data", b"", length_from=lambda pkt: pkt.len or 0),
    ]

    def post_build(self, pkt, pay):
        if self.len is None:
            pkt = pkt[:1] + bytes([min(len(pkt) - 2, 255)]) + pkt[2:]
        return pkt + pay

    def _summary_text(self):
        return self.sprintf("MIPExt %MIPExtension.type% "
                            "len=%MIPExtension.len%")


def _auth_fields() -> list:
    fields = []
    for f in P.AUTH_EXTENSION_FIELDS:
        name = _SCAPY_NAME.get(f.name, f.name)
        if f.kind == "type":
            fields.append(ByteEnumField(name, f.default,
                                        P.MIP_EXTENSION_NAMES))
        elif f.kind == "subtype":
            fields.append(ByteEnumField(name, f.default, P.AUTH_SUBTYPES))
        elif f.name == "length":
            fields.append(ShortField(name, None))
        else:
            fields.extend(_scapy_fields([f]))
    spi_end = P.AUTH_HEADER_LEN
    length_offset = next(f.offset + f.size for f in P.AUTH_EXTENSION_FIELDS
                         if f.name == "length")
    fields.append(XStrLenField(
        "authenticator", None,
        length_from=lambda pkt: max(
            0, (pkt.len or 0) - (spi_end - length_offset))))
    return fields


class MNPARAuth(_Chained):
    """MN-PAR Authentication Extension: Generalized Mobile IP Authentication
    Extension (RFC 4721 5), type 36, subtype 4 (RFC 4988 8).

    key= and algorithm= are not wire fields; see the module docstring."""
    __slots__ = ["key", "algorithm"]
    name = "FMIPv4 MN-PAR Authentication Extension"
    fields_desc = _auth_fields()

    def __init__(self, *args, key: bytes | None = None,
                 algorithm: str = P.DEFAULT_AUTH_ALGORITHM, **kwargs):
        self.key = key
        self.algorithm = algorithm
        super().__init__(*args, **kwargs)

    def copy(self):
        clone = super().copy()
        clone.key, clone.algorithm = self.key, self.algorithm
        return clone

    def clone_with(self, payload=None, **kargs):
        clone = super().clone_with(payload=payload, **kargs)
        clone.key, clone.algorithm = self.key, self.algorithm
        return clone

    def authenticator_length(self) -> int:
        if self.key is None:
            return P.AUTH_ALGORITHMS[P.DEFAULT_AUTH_ALGORITHM]
        if self.algorithm not in P.AUTH_ALGORITHMS:
            raise ValueError(f"unknown authentication algorithm "
                             f"{self.algorithm!r}")
        return P.AUTH_ALGORITHMS[self.algorithm]

    def wants_authenticator(self) -> bool:
        return self.key is not None and self.authenticator is None

    def post_build(self, pkt, pay):
        header = pkt[:P.AUTH_HEADER_LEN]
        if self.authenticator is None:
            # Placeholder; FBU/FBAck.post_build fills it in (decision D5).
            pkt = header + bytes(self.authenticator_length())
        if self.len is None:
            pkt = pkt[:2] + struct.pack("!H", len(pkt) - 4) + pkt[4:]
        if self.wants_authenticator() and _under_mip_message(self) is None:
            # Standalone: the extension covers only its own Type..SPI.
            header = pkt[:P.AUTH_HEADER_LEN]
            pkt = header + C.mn_par_authenticator(header, self.key,
                                                  self.algorithm)
        return pkt + pay

    def _summary_text(self):
        return self.sprintf("MN-PAR Auth SPI=%MNPARAuth.spi%")


# The layers whose summary Packet.summary() keeps (see _Chained.mysummary);
# messages.py puts the messages in front.
_SUMMARY_CLASSES = [LLAOption, IPv4AddrOption, PrefixOption, FMIPOption,
                    MIPExtension, MNPARAuth]
