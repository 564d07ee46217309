"""Scapy layers for Mobile IPv4 Fast Handovers (RFC 4988).

Every class below is derived from :mod:`fmipdissect.spec.protocol`: field names,
offsets, sizes, defaults and code tables come from there; this module only
chooses the Scapy field type for each kind of field.

Messages
    ``FBU``, ``FBAck``            Mobile IPv4 messages on UDP port 434
                                  (RFC 4988 5.1, 5.2), Type field included.
    ``RtSolPr``, ``PrRtAdv``,     ICMP type 41 messages (RFC 4988 5.3-5.6,
    ``HI``, ``HAck``              RFC 4065), directly on IP.
Options and extensions
    ``LLAOption``, ``IPv4AddrOption``, ``PrefixOption``
                                  ICMP options (RFC 4988 6)
    ``FMIPOption``                any other ICMP option (type, len, data)
    ``MNPARAuth``                 MN-PAR Authentication Extension (RFC 4721 5)
    ``MIPExtension``              any other short-format Mobile IPv4 extension

Stacking (options and extensions chain as payloads, as Scapy's ICMPv6 ND
options do)::

    >>> from scapy.layers.inet import IP, UDP
    >>> from fmipdissect.layers import *
    >>> fbu = (IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=434, dport=434)
    ...        / FBU(homeaddr="10.0.0.5", haaddr="10.0.0.1", coa="10.1.0.1",
    ...              ident=0x1122334455667788)
    ...        / MNPARAuth(spi=256, key=b"secret"))
    >>> fback = (IP() / UDP(sport=434, dport=434)
    ...          / FBAck(code=1, homeaddr="10.0.0.5", ident=0x1122334455667788)
    ...          / IPv4AddrOption(code=2, addr="10.1.0.77")    # decision D4
    ...          / MNPARAuth(spi=256, key=b"secret"))
    >>> hi = (IP(src="10.0.0.1", dst="10.1.0.1")               # proto=1 is set
    ...       / HI(code=0, S=1, identifier=7)
    ...       / LLAOption(code=2, lla="00:11:22:33:44:55")
    ...       / IPv4AddrOption(code=1, addr="10.0.0.5"))
    >>> IP(bytes(hi)).summary()    # dissecting gives the same layers back
    'IP / HI FBU received from the PCoA (predictive) id=7 / LLA Link-Layer Address of the MN 00:11:22:33:44:55 / IPv4Addr Previous CoA 10.0.0.5'
    >>> got = IP(bytes(fback))
    >>> got[IPv4AddrOption].addr, got[MNPARAuth].len, got[FBAck].code
    ('10.1.0.77', 20, 1)

Building fills what is left as ``None``: option and extension lengths, LLA
padding (decision D3: Pad1 when one octet is left, else one PadN), the ICMP
checksum (decision D2: over the whole ICMP message, options included, with the
Reserved bits zeroed) and the MN-PAR authenticator.  ``MNPARAuth`` takes two
constructor arguments that are not on the wire: ``key`` (bytes) and
``algorithm`` ("hmac-md5" by default, or "hmac-sha1"/"hmac-sha256").  With a
key and ``authenticator=None`` the authenticator is computed (decision D5) over
the UDP payload from the FBU/FBAck Type field through this extension's SPI,
all preceding extensions included; standalone (no FBU/FBAck below it) it
covers only its own Type..SPI.  Without a key, ``authenticator=None`` builds
16 zero octets.  Explicit values are always kept, so broken packets can be
built on purpose (wrong lengths, bad padding, bad checksums).

Dissection: importing this module hooks into Scapy's own bindings.  UDP port
434 (either port) with Mobile IPv4 type 20/21 becomes ``FBU``/``FBAck``; all
other Mobile IPv4 types stay Scapy's ``MobileIP`` (RRQ, RRP, tunnel data).  IP
protocol 1 with ICMP type 41 and subtype 6-9 becomes ours; every other ICMP
message stays Scapy's ``ICMP``.  The LLA option's address length is the
module setting ``LLA_LENGTH`` (decision D3), changed with ``set_lla_length(n)``.
Malformed input never raises: a truncated layer keeps its complete fields
(the others are None), a fixed option whose Length claims more than 8 octets
shows the surplus as ``extra``, an option with Length 0 ends the chain, and
what cannot be decoded stays ``Raw``.  A dissected packet always rebuilds to
the octets it came from.
"""

from __future__ import annotations

import struct

from scapy.config import conf
from scapy.fields import (BitField, ByteEnumField, ByteField,
                          ConditionalField, FlagsField,
                          IntField, IPField, ShortField, StrLenField,
                          XIntField, XLongField, XShortField, XStrLenField)
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.mobileip import MobileIP
from scapy.packet import NoPayload, Packet, bind_top_down

from .spec import constraints as K
from .wire import checksum as C
from .wire.padding import build_padding, lla_split, padding_ok
from .spec import protocol as P
from .spec.numbers import IPPROTO_ICMP

__all__ = [
    "FBU", "FBAck", "RtSolPr", "PrRtAdv", "HI", "HAck",
    "LLAOption", "IPv4AddrOption", "PrefixOption", "FMIPOption",
    "MNPARAuth", "MIPExtension", "LLA_LENGTH", "set_lla_length",
]

# decision D3: the link-layer address length is a setting, not on the wire.
LLA_LENGTH = P.DEFAULT_LLA_LENGTH


def set_lla_length(n: int) -> None:
    """Set the link-layer address length used to dissect LLA options."""
    global LLA_LENGTH
    problem = K.lla_length_problem(n)
    if problem:
        raise ValueError(problem)
    LLA_LENGTH = n


# --- Field construction from protocol.py ---------------------------------

# protocol.py names -> the Scapy field names users know (Scapy's ICMP says
# "chksum", its ND options say "len").
_SCAPY_NAME = {"checksum": "chksum", "length": "len"}

_MIP_TYPE_NAMES = {m.type: m.abbrev for m in P.MIP_MESSAGES.values()}
_ICMP_TYPE_NAMES = {P.ICMP_TYPE_EXPERIMENTAL_MOBILITY:
                    "Experimental Mobility (RFC 4065)"}
_SUBTYPE_NAMES = {m.subtype: m.abbrev for m in P.ICMP_MESSAGES.values()}
_OPTION_TYPE_NAMES = {o.type: o.name for o in P.OPTIONS.values()}


def _flag_bit_name(flag: P.Flag) -> str:
    return flag.letter


def _flags_field(f: P.Field) -> list:
    """FBU flags: one FlagsField; HI flags: one BitField per bit (S, U,
    then the reserved bits as one field named reserved)."""
    bits = f.size * 8
    by_mask = {fl.mask: fl for fl in f.flags}
    if not f.reserved_mask:
        names = "".join(_flag_bit_name(by_mask[1 << i]) for i in range(bits))
        return [FlagsField(f.name, f.default, bits, names)]
    out, run = [], 0
    for i in reversed(range(bits)):
        mask = 1 << i
        if mask & f.reserved_mask:
            run += 1
            continue
        if run:
            out.append(BitField("reserved", 0, run))
            run = 0
        out.append(BitField(_flag_bit_name(by_mask[mask]), 0, 1))
    if run:
        out.append(BitField("reserved", 0, run))
    return out


def _uint(name: str, default, size: int, hexa: bool = False):
    table = {1: (ByteField, ByteField), 2: (ShortField, XShortField),
             4: (IntField, XIntField), 8: (XLongField, XLongField)}
    return table[size][1 if hexa else 0](name, default)


def _scapy_fields(fields, codes=None, type_names=None, lengths=None) -> list:
    """Scapy fields for protocol.py Field descriptions, in wire order.

    lengths maps a protocol field name to a Scapy field replacing it
    (the auto-filled length fields)."""
    out = []
    for f in fields:
        name = _SCAPY_NAME.get(f.name, f.name)
        if lengths and f.name in lengths:
            out.append(lengths[f.name])
        elif f.kind == "type":
            out.append(ByteEnumField(name, f.default, type_names or {}))
        elif f.kind == "code":
            out.append(ByteEnumField(name, f.default, codes or {}))
        elif f.kind == "subtype":
            out.append(ByteEnumField(name, f.default, _SUBTYPE_NAMES))
        elif f.kind == "checksum":
            out.append(XShortField(name, None))
        elif f.kind == "ipv4":
            out.append(IPField(name, "0.0.0.0"))
        elif f.kind == "flags":
            out.extend(_flags_field(f))
        elif f.kind == "hex":
            out.append(_uint(name, f.default, f.size, hexa=True))
        elif f.kind in ("uint", "reserved"):
            out.append(_uint(name, f.default, f.size))
        else:
            raise ValueError(f"no Scapy field for {f.kind!r} ({f.name})")
    return out


# --- Dispatch helpers (never raise: malformed input ends as Raw) ---------

def _under_mip_message(pkt) -> type | None:
    """The FBU/FBAck class this option/extension sits in, if any."""
    lower = pkt.underlayer
    while lower is not None:
        if isinstance(lower, (FBU, FBAck)):
            return type(lower)
        if isinstance(lower, _FMIPICMPMessage):
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


class _Tolerant(Packet):
    """Dissects truncated input without raising: the complete fields are
    decoded, the others are left None and the partial octets become Raw."""

    def do_dissect(self, s):
        try:
            return super().do_dissect(s)
        except struct.error:
            pass
        raw, self.fields, self.raw_packet_cache_fields = s, {}, {}
        for f in self.fields_desc:
            try:
                rest, value = f.getfield(self, s)
            except struct.error:
                break
            s = rest
            if not (f.isconditional and value is None):
                self.fields[f.name] = value
        if isinstance(s, tuple):     # stopped inside a run of BitFields
            s = s[0]
        for f in self.fields_desc:
            if not f.isconditional:
                self.fields.setdefault(f.name, None)
        self.raw_packet_cache = raw[:len(raw) - len(s)]
        self.explicit = 1
        return s

    def is_truncated(self) -> bool:
        """A dissected layer whose fixed fields did not all fit."""
        if self.raw_packet_cache is None:     # built, not dissected
            return False
        return any(self.fields.get(f.name, 0) is None
                   for f in self.fields_desc if not f.isconditional)


class _Chained(_Tolerant):
    """An option or extension: the next one follows as its payload."""

    def _ends_chain(self) -> bool:
        return False

    def guess_payload_class(self, payload):
        if self._ends_chain() or self.is_truncated():
            return conf.raw_layer
        mip = _under_mip_message(self)
        if mip is not None:
            return _mip_extension_class(payload, mip is FBAck)
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


_LLA_SPEC = P.OPTIONS[P.OPT_LLA]
# RFC 4721 5: the Length counts the SPI and the authenticator.
_AUTH_SPI_LEN = next(f.size for f in P.AUTH_EXTENSION_FIELDS
                     if f.name == "spi")
_LLA_OFFSET = _LLA_SPEC.fields[-1].offset   # address starts after Option-Code


def _lla_body_len(pkt) -> int:
    """Octets of the LLA option after the Option-Code, as its Length says."""
    units = pkt.len or 0
    return max(0, units * P.OPTION_UNIT - _LLA_OFFSET)


def _lla_wire_length(pkt, body: bytes) -> int:
    """Address octets in a received LLA option (decision D3).

    The address takes LLA_LENGTH octets when the rest is valid padding; a
    wildcard (code 0) option may hold padding only; otherwise the address
    still takes LLA_LENGTH octets and the rest is shown as (bad) padding.
    Same order of tests as the fast decoder.
    """
    end = lla_split(body, 0, len(body), LLA_LENGTH, pkt.code)
    return min(LLA_LENGTH, len(body)) if end is None else end


def _mac_text(raw: bytes) -> str:
    return ":".join(f"{b:02x}" for b in raw)


def _lla_bytes(value) -> bytes:
    """bytes, or text: "00:11:22:33:44:55", "0-11-22-..." or bare hex."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    text = str(value).strip().replace("-", ":")
    if ":" in text:
        return bytes(int(group, 16) for group in text.split(":"))
    return bytes.fromhex(text)


class LLAField(StrLenField):
    """Link-layer address: held as colon hex text ("00:11:22:33:44:55").

    Accepts bytes or text with ':' / '-' separators (any length)."""

    def h2i(self, pkt, x):
        if x is None:
            return None
        return _mac_text(_lla_bytes(x))

    def any2i(self, pkt, x):
        return self.h2i(pkt, x)

    def m2i(self, pkt, x):
        return _mac_text(x)

    def i2m(self, pkt, x):
        if x is None:
            return bytes(LLA_LENGTH)
        return _lla_bytes(x)

    def i2len(self, pkt, x):
        return len(self.i2m(pkt, x))

    def getfield(self, pkt, s):
        body = s[:_lla_body_len(pkt)]
        n = _lla_wire_length(pkt, body)
        return s[n:], self.m2i(pkt, s[:n])

    def i2repr(self, pkt, x):
        return "None" if x is None else (x or "(absent)")


def _lla_octets(pkt) -> bytes:
    """The address octets of an LLA option as dissected."""
    text = pkt.fields.get("lla")
    return _lla_bytes(text) if text else b""


def _option_head(spec: P.Option, length_default=None) -> list:
    head = [f for f in spec.fields if f.name in ("type", "length", "code")]
    fields = _scapy_fields(
        head, spec.codes, _OPTION_TYPE_NAMES,
        lengths={"length": ByteField("len", length_default)})
    fields[0].default = spec.type
    return fields


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


# --- Mobile IPv4 messages (RFC 4988 5.1, 5.2) -----------------------------

class _MIPMessage(_Tolerant):
    spec: P.MessageSpec

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
_SUMMARY_CLASSES = (tuple(_MIP_CLASSES.values())
                    + tuple(_ICMP_CLASSES.values())
                    + (LLAOption, IPv4AddrOption, PrefixOption, FMIPOption,
                       MIPExtension, MNPARAuth))


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
