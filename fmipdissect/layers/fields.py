"""Scapy fields derived from the protocol description (spec/protocol.py),
the link-layer address field, whose length is settings.LLA_LENGTH
(decision D3), and the base class of every layer: dissection
that never raises (_Tolerant)."""

from __future__ import annotations

import struct

from scapy.fields import (BitField, ByteEnumField, ByteField, FlagsField,
                          IntField, IPField, ShortField, StrLenField,
                          XIntField, XLongField, XShortField)
from scapy.packet import Packet

from ..spec import protocol as P
from ..wire.padding import lla_split
from . import settings


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


# --- The LLA option's address (RFC 4988 6.1, decision D3) ------------------

_LLA_SPEC = P.OPTIONS[P.OPT_LLA]
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
    length = settings.LLA_LENGTH
    end = lla_split(body, 0, len(body), length, pkt.code)
    return min(length, len(body)) if end is None else end


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
            return bytes(settings.LLA_LENGTH)
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


# --- Dissection that never raises -----------------------------------------

class _Tolerant(Packet):
    """Dissects truncated input without raising: the complete fields are
    decoded, the others are left None and the partial octets become Raw."""

    # What carries the layers above: "mip" in FBU and FBAck (their
    # extensions follow), "icmp" in the ICMP type 41 messages (options).
    _fmip_carrier: str | None = None

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

