"""Fast decoder: FMIPv4 message octets -> records.Message.

The checker decodes every FMIPv4 message of a capture through this module,
so it is built for speed: at import time the fixed header of each message in
protocol.MESSAGES and the fixed part of each option in protocol.OPTIONS is
turned into one precompiled struct.Struct plus a "plan" saying which
records.Message / records.Element attribute each unpacked value goes to, and
the plan into a small straight-line fill function.  Decoding a message is
then one unpack_from for the header and one per fixed-size option.  Nothing
about the wire format is restated here: offsets, sizes and kinds come from
protocol.py.  Measured on the samples' message mix: about 3.5 us of CPU per
message (some 280,000 messages/s in one process), ICMP checksum included.

Framing problems (short messages, bad option lengths, bad LLA padding,
unknown types and codes, non-zero option Reserved fields) are recorded as
records.Finding (records.problem) with the rule ids of spec/rules.py and the offset where they
occur; the decoder never raises on any input.  Semantic checks (flags,
codes of messages, required options, authenticators, sessions) belong to the
checker.

Entry points:
    decode_mip(payload)        UDP payload of port 434 (FBU, FBAck)
    decode_icmp(message)       ICMP message from its Type (RtSolPr..HAck)
    decode_datagram(datagram)  dispatch on records.Datagram.proto
"""

from __future__ import annotations

import struct

from ..wire.ipv4 import inet_ntoa, known
from ..spec import constraints as K
from ..spec import protocol as P
from ..spec import rules as R
from ..spec.rules import say
from ..spec.numbers import IPPROTO_ICMP, IPPROTO_UDP
from ..wire import checksum as _checksum
from ..wire.padding import padding_ok
from ..plain import factory
from ..records import Datagram, Element, Message
from ..records import problem

__all__ = ["decode_mip", "decode_icmp", "decode_datagram", "field_attribute",
           "IPPROTO_ICMP", "IPPROTO_UDP"]


# The framing problems found here (rule ids of the registry, spec/rules.py);
# an option's Reserved not zero comes from its Field.reserved_rule.
TRUNCATED = R.TRUNCATED_MESSAGE
OPTION_LENGTH_ZERO = R.OPTION_LENGTH_ZERO
OPTION_PAST_END = R.OPTION_PAST_END
LLA_BAD_PADDING = R.LLA_BAD_PADDING
OPTION_UNKNOWN_TYPE = R.OPTION_UNKNOWN_TYPE
OPTION_UNKNOWN_CODE = R.OPTION_UNKNOWN_CODE
OPTION_BAD_LENGTH = R.OPTION_BAD_LENGTH
MIP_EXTENSION_UNKNOWN = R.MIP_EXTENSION_UNKNOWN

_STRUCT_CODES = {1: "B", 2: "H", 4: "I", 8: "Q"}
_element = factory(Element)     # Element(...), cheaper per option


# --- Layouts compiled from protocol.py -------------------------------------

def field_attribute(f: P.Field) -> str:
    """The records.Message / records.Element attribute a field decodes to.

    A "flags" field goes to `flags` (its reserved bits, if any, to
    `reserved`); a "reserved" field to `reserved`; others to their name.
    """
    if f.kind == "flags":
        return "flags"
    if f.kind == "reserved":
        return "reserved"
    return f.name


def _compile(fields, header_len):
    """One big-endian Struct over fixed fields, and the plan to use it.

    The plan is a tuple of (attribute, converter, mask) per unpacked value:
    converter inet_ntoa for "ipv4" fields; a "flags" field yields two
    entries (the flag bits and the field's reserved bits, if any); a
    "reserved" field keeps only its reserved_mask bits.  Gaps in the layout
    become pad bytes.
    """
    fmt = [">"]
    plan = []
    pos = 0
    for f in sorted(fields, key=lambda f: f.offset):
        if f.offset < pos:
            raise ValueError(f"overlapping field {f.name}")
        if f.offset > pos:
            fmt.append(f"{f.offset - pos}x")
        if f.kind == "ipv4":
            fmt.append("4s")
            plan.append(((field_attribute(f), inet_ntoa, None),))
        elif f.kind == "bytes":
            fmt.append(f"{f.size}s")
            plan.append(((field_attribute(f), None, None),))
        else:
            fmt.append(_STRUCT_CODES[f.size])
            if f.kind == "flags":
                flag_bits = 0
                for flag in f.flags:
                    flag_bits |= flag.mask
                entry = [(field_attribute(f), None, flag_bits)]
                if f.reserved_mask:
                    entry.append(("reserved", None, f.reserved_mask))
                plan.append(tuple(entry))
            elif f.kind == "reserved":
                plan.append(((field_attribute(f), None, f.reserved_mask),))
            else:
                plan.append(((field_attribute(f), None, None),))
        pos = f.offset + f.size
    if pos < header_len:
        fmt.append(f"{header_len - pos}x")
    return struct.Struct("".join(fmt)), tuple(plan)


class _MessageLayout:
    """A protocol.MessageSpec compiled for decoding."""

    __slots__ = ("spec", "key", "header_len", "build", "fields")

    def __init__(self, spec: P.MessageSpec):
        self.spec = spec
        self.key = spec.key
        self.header_len = spec.header_len
        header, plan = _compile(spec.fields, spec.header_len)
        _check_plan(spec.key, plan, Message)
        self.build = _builder(header, plan)
        # One filler per field, used only for truncated messages: made at
        # the first one (_truncated), not at import (start-up,
        # docs/performance.md).
        self.fields = None


def _named(fields, name: str) -> P.Field:
    return next(f for f in fields if f.name == name)


def _check_plan(what, plan, record_class):
    for entries in plan:
        for attr, _, _ in entries:
            if attr not in record_class.__slots__:
                raise ValueError(f"{what}: field {attr!r} has no "
                                 f"{record_class.__name__} attribute")


_FILLERS: dict = {}     # (struct format, plan) -> fill: RtSolPr, PrRtAdv and
                        # HAck share one header layout (start-up)


def _filler(unpacker: struct.Struct, plan):
    """fill(target, buf, offset): unpack and assign, as straight-line code.

    Generated once per layout at import time from the plan (itself derived
    from protocol.py), because a generic loop of setattr calls is several
    times slower and the checker decodes every message of a capture.
    """
    key = (unpacker.format, plan)
    if key in _FILLERS:
        return _FILLERS[key]
    names = [f"v{i}" for i in range(len(plan))]
    lines = [f"def fill(target, buf, offset=0):",
             f"    {', '.join(names)}{',' if len(names) == 1 else ''} "
             f"= unpack_from(buf, offset)"]
    for name, entries in zip(names, plan):
        for attr, convert, mask in entries:
            if convert is not None:
                value = f"convert_{attr}({name})"
            elif mask is not None:
                value = f"{name} & {mask:#x}"
            else:
                value = name
            lines.append(f"    target.{attr} = {value}")
    env = {"unpack_from": unpacker.unpack_from}
    for entries in plan:
        for attr, convert, _ in entries:
            if convert is not None:
                env[f"convert_{attr}"] = convert
    exec("\n".join(lines), env)   # noqa: S102 - code built from protocol.py
    _FILLERS[key] = env["fill"]
    return env["fill"]


def _builder(unpacker: struct.Struct, plan, record=Message,
             fields=("key", "raw"), at="0"):
    """build(<fields>, raw) -> the record (a Message; an Element of a fixed
    option) whose fixed part is all there: like record(<fields>) then fill
    (_filler), as straight-line code that sets each slot once (the given
    fields, the fixed part from one unpack at `at`, the others to their
    defaults) without calling the record's __init__: one function call
    instead of two, and no slot written twice.  Generated from the plan
    and the record's own field list and defaults (plain.Record)."""
    cached = ("build", unpacker.format, plan, record, fields, at)
    if cached in _FILLERS:        # RtSolPr, PrRtAdv and HAck share one
        return _FILLERS[cached]
    names = [f"v{i}" for i in range(len(plan))]
    params = fields + (() if "raw" in fields else ("raw",))
    lines = [f"def build({', '.join(params)}):",
             f"    {', '.join(names)}{',' if len(names) == 1 else ''} "
             f"= unpack_from(raw, {at})",
             "    out = new(record)"]
    lines += [f"    out.{name} = {name}" for name in fields]
    filled = set(fields)
    env = {"unpack_from": unpacker.unpack_from, "new": object.__new__,
           "record": record}
    for name, entries in zip(names, plan):
        for attr, convert, mask in entries:
            if convert is inet_ntoa:     # (a 4s field: bytes)
                # an address seen recently without a call (wire/ipv4.py)
                value = f"(known({name}) or convert_{attr}({name}))"
                env["known"] = known
                env[f"convert_{attr}"] = convert
            elif convert is not None:
                value = f"convert_{attr}({name})"
                env[f"convert_{attr}"] = convert
            elif mask is not None:
                value = f"{name} & {mask:#x}"
            else:
                value = name
            lines.append(f"    out.{attr} = {value}")
            filled.add(attr)
    for attr in record._fields:
        if attr in filled:
            continue
        if attr in record._new_list:
            lines.append(f"    out.{attr} = []")
        else:
            env[f"default_{attr}"] = record._defaults[attr]
            lines.append(f"    out.{attr} = default_{attr}")
    lines.append("    return out")
    exec("\n".join(lines), env)   # noqa: S102 - code built from protocol.py
    _FILLERS[cached] = env["build"]
    return env["build"]


class _OptionLayout:
    """A protocol.Option compiled for decoding (fixed fields only)."""

    __slots__ = ("spec", "key", "build", "code_offset", "lla_offset",
                 "reserved_rule", "codes", "fixed_len", "fixed_units",
                 "decode")

    def __init__(self, spec: P.Option):
        self.spec = spec
        self.key = spec.key
        fixed = tuple(f for f in spec.fields if f.kind != "bytes")
        unpacker, plan = _compile(fixed, 0)
        _check_plan(spec.key, plan, Element)
        self.code_offset = _named(spec.fields, "code").offset   # Option-Code
        lla = [f for f in spec.fields if f.kind == "bytes"]
        # LLA: the address length is a setting (decision D3), not a constant.
        self.lla_offset = lla[0].offset if lla else None
        # build(kind, offset, size, data, raw): the Element of a fixed
        # option (the LLA option's address has no fixed place: _lla_option)
        self.build = (None if lla else _builder(
            unpacker, plan, Element, ("kind", "offset", "size", "data"),
            "offset"))
        rules = [f.reserved_rule for f in fixed if f.reserved_rule]
        self.reserved_rule = rules[0] if rules else None
        self.codes = spec.codes
        self.fixed_len = spec.fixed_len
        self.fixed_units = (spec.fixed_len // P.OPTION_UNIT
                            if spec.fixed_len else None)
        # The function that decodes this option (set after it is defined).
        self.decode = None


_MIP = {m.type: _MessageLayout(m) for m in P.MESSAGES if m.transport == "mip"}
_ICMP = {m.subtype: _MessageLayout(m) for m in P.MESSAGES
         if m.transport == "icmp"}
_OPTIONS = {t: _OptionLayout(o) for t, o in P.OPTIONS.items()}
_IPV4_OPTION = _OPTIONS[P.OPT_IPV4_ADDR]
# The same layouts indexed by the octet that names them (None for the
# others): a subscript per message and option, not a dict.get call.
_MIP_BY_TYPE = tuple(map(_MIP.get, range(256)))
_ICMP_BY_SUBTYPE = tuple(map(_ICMP.get, range(256)))
_OPTION_BY_TYPE = tuple(map(_OPTIONS.get, range(256)))
# Messages that carry the New IPv4 Address option among their Mobile IPv4
# extensions (FBAck, RFC 4988 5.2, decision D4).
_NCOA_IN_EXTENSIONS = frozenset(
    m.key for m in P.MESSAGES if m.body == "extensions" and any(
        req.option == P.OPT_IPV4_ADDR
        for reqs in K.REQUIRED_OPTIONS.get(m.key, {}).values()
        for req in reqs))
_OPTION_UNIT = P.OPTION_UNIT
_LLA_WILDCARD = P.LLA_WILDCARD
_SUBTYPE_OFFSET = P.ICMP_SUBTYPE_OFFSET     # RFC 4065 3
# Generalized Authentication Extension (RFC 4721 5): the SPI, the end of the
# 16-bit Length field (where the counted octets start) and of the SPI.
_AUTH_SUBTYPE = _named(P.AUTH_EXTENSION_FIELDS, "subtype")
_AUTH_SPI = _named(P.AUTH_EXTENSION_FIELDS, "spi")
_AUTH_SPI_STRUCT = struct.Struct(">" + _STRUCT_CODES[_AUTH_SPI.size])
_AUTH_LENGTH = _named(P.AUTH_EXTENSION_FIELDS, "length")
_AUTH_LENGTH_STRUCT = struct.Struct(">" + _STRUCT_CODES[_AUTH_LENGTH.size])
_AUTH_HEAD = _AUTH_LENGTH.offset + _AUTH_LENGTH.size
_AUTH_LEN = P.AUTH_HEADER_LEN
# the same, as plain locals-to-be for _extensions' loop
_LONG_FORMAT = P.LONG_FORMAT_EXTENSIONS
_auth_length = _AUTH_LENGTH_STRUCT.unpack_from
_auth_spi = _AUTH_SPI_STRUCT.unpack_from
_AUTH_LENGTH_AT = _AUTH_LENGTH.offset
_AUTH_SUBTYPE_AT = _AUTH_SUBTYPE.offset
_AUTH_SPI_AT = _AUTH_SPI.offset
_OPT_IPV4_ADDR = P.OPT_IPV4_ADDR
_NCOA_LENGTHS = P.NCOA_IN_FBACK_LENGTHS
_NCOA_LENGTHS_TEXT = " or ".join(map(str, _NCOA_LENGTHS))


# --- ICMP checksum (decision D2) -----------------------------------------------

_RESERVED_MASK = _checksum.RESERVED_MASKS
_one_sum_verdict = _checksum.one_sum_verdict


# --- Header ----------------------------------------------------------------

def _truncated(layout: _MessageLayout, msg: Message, raw: bytes) -> None:
    """A message shorter than its fixed header: fill the fields that fit,
    report the rest missing."""
    if layout.fields is None:
        layout.fields = tuple((f.offset + f.size, _filler(*_compile((f,), 0)))
                              for f in layout.spec.fields)
    for end, fill in layout.fields:
        if end <= len(raw):
            fill(msg, raw)   # each Struct starts with pad bytes up to its field
    msg.problems.append(problem(
        TRUNCATED, say(TRUNCATED, abbrev=layout.spec.abbrev, length=len(raw),
                       header_len=layout.header_len), len(raw)))


# --- ICMP options (RFC 4988 6) ---------------------------------------------

def _lla_option(layout: _OptionLayout, msg: Message, raw: bytes, off: int,
                length: int, size: int, lla_length: int,
                in_extension_area: bool = False) -> None:
    """LLA option: Option-Code, address, padding (RFC 4988 6.1, decision D3).

    The address length is a setting (lla_length); the rest of the option
    must be padding.  With the wildcard Option-Code the option may hold only
    padding (lla is then b"").  If the padding does not parse, padding_ok is
    False and data keeps the raw octets after Type and Length.
    """
    code = raw[off + layout.code_offset]
    start = off + layout.lla_offset
    end = off + size
    address_end = start + lla_length
    el = _element("lla", off, raw[off], length, size, code,
                 raw[start:address_end if address_end < end else end])
    el.data = raw[off + 2:end]
    if address_end <= end and padding_ok(raw, address_end, end):
        el.padding_ok = True
    elif code == _LLA_WILDCARD and padding_ok(raw, start, end):
        el.lla = b""
        el.padding_ok = True
    else:
        el.padding_ok = False
        if address_end > end:
            text = say(LLA_BAD_PADDING, variant="short", offset=off,
                       left=end - start, lla_length=lla_length)
        else:
            text = say(LLA_BAD_PADDING, variant="padding", offset=off,
                       padding=end - address_end, lla_length=lla_length)
        msg.problems.append(problem(LLA_BAD_PADDING, text, off))
    if code not in layout.codes:
        _unknown_code(msg, layout, off, code)
    msg.elements.append(el)


def _fixed_option(layout: _OptionLayout, msg: Message, raw: bytes, off: int,
                  length: int, size: int, lla_length: int = 0,
                  in_extension_area: bool = False) -> None:
    """New IPv4 Address (6.2) or Prefix (6.3) option: 8 fixed octets."""
    # decision D4: in the FBAck's extension area Length 6 frames the same 8
    # octets; the checker warns about it, so it is not a bad Length here.
    if length != layout.fixed_units and not (
            in_extension_area and length in P.NCOA_IN_FBACK_LENGTHS):
        msg.problems.append(problem(OPTION_BAD_LENGTH, say(
            OPTION_BAD_LENGTH, variant="option", option=layout.spec.name,
            offset=off, length=length, units=layout.fixed_units), off))
    if size >= layout.fixed_len:
        # (its Length from the same octet: the Length as sent)
        el = layout.build(layout.key, off, size, raw[off + 2:off + size],
                          raw)
        if el.reserved and layout.reserved_rule:
            msg.problems.append(problem(layout.reserved_rule, say(
                layout.reserved_rule, option=layout.spec.name, offset=off,
                reserved=f"{el.reserved:#x}"), off))
    else:
        el = _element(layout.key, off, raw[off], length, size)
        el.data = raw[off + 2:off + size]
        if size > layout.code_offset:
            el.code = raw[off + layout.code_offset]
    if el.code is not None and el.code not in layout.codes:
        _unknown_code(msg, layout, off, el.code)
    msg.elements.append(el)


def _unknown_code(msg: Message, layout: _OptionLayout, off: int,
                  code: int) -> None:
    msg.problems.append(problem(OPTION_UNKNOWN_CODE, say(
        OPTION_UNKNOWN_CODE, option=layout.spec.name, offset=off,
        code=code), off))


def _options(msg: Message, raw: bytes, off: int, lla_length: int) -> None:
    """ICMP options from off to the end (RFC 4988 6: Length in 8-octet units)."""
    end = len(raw)
    while off < end:
        if end - off < 2:
            msg.problems.append(problem(OPTION_PAST_END, say(
                OPTION_PAST_END, variant="option-header", offset=off), off))
            return
        otype = raw[off]
        length = raw[off + 1]
        if length == 0:
            msg.problems.append(problem(OPTION_LENGTH_ZERO, say(
                OPTION_LENGTH_ZERO, type=otype, offset=off), off))
            return
        size = length * _OPTION_UNIT
        if off + size > end:
            msg.problems.append(problem(OPTION_PAST_END, say(
                OPTION_PAST_END, variant="option", type=otype, offset=off,
                length=length, size=size, left=end - off), off))
            return
        layout = _OPTION_BY_TYPE[otype]
        if layout is None:
            el = _element("option", off, otype, length, size)
            el.data = raw[off + 2:off + size]
            msg.elements.append(el)
            msg.problems.append(problem(OPTION_UNKNOWN_TYPE, say(
                OPTION_UNKNOWN_TYPE, offset=off, type=otype), off))
        else:
            layout.decode(layout, msg, raw, off, length, size, lla_length)
        off += size


# --- Mobile IPv4 extensions (FBU, FBAck) -----------------------------------

def _auth_extension(msg: Message, raw: bytes, off: int, end: int,
                    etype: int) -> int | None:
    """A long-format extension at off (RFC 4721 5: Type | Subtype | Length
    (16 bits) | SPI | Authenticator): its Element, and where the next one
    starts; None when its framing cannot be trusted (parsing stops)."""
    problems = msg.problems
    if end - off < _AUTH_HEAD:
        problems.append(problem(OPTION_PAST_END, say(
            OPTION_PAST_END, variant="auth-header", type=etype, offset=off,
            left=end - off), off))
        return None
    length = _auth_length(raw, off + _AUTH_LENGTH_AT)[0]
    size = _AUTH_HEAD + length
    if off + size > end:
        problems.append(problem(OPTION_PAST_END, say(
            OPTION_PAST_END, variant="auth", type=etype, offset=off,
            length=length, left=end - off - _AUTH_HEAD), off))
        return None
    if size < _AUTH_LEN:
        # The SPI would run past the extension: its framing is not to be
        # trusted, so parsing stops as for Length 0 or past the end.
        problems.append(problem(OPTION_PAST_END, say(
            OPTION_PAST_END, variant="auth-spi", offset=off, length=length,
            spi_size=_AUTH_LEN - _AUTH_HEAD), off))
        return None
    el = _element("auth", off, etype, length, size,
                 raw[off + _AUTH_SUBTYPE_AT])
    el.spi = _auth_spi(raw, off + _AUTH_SPI_AT)[0]
    el.authenticator = raw[off + _AUTH_LEN:off + size]
    el.data = raw[off + _AUTH_HEAD:off + size]
    if msg.auth_end is None:
        msg.auth_end = off + _AUTH_LEN   # decision D5
    msg.elements.append(el)
    return off + size


def _extensions(msg: Message, raw: bytes, off: int,
                ncoa_allowed: bool) -> None:
    """Mobile IPv4 extensions from off to the end (RFC 3344 1.9, RFC 4721 5).

    ncoa_allowed: the message may carry the NCoA option here (decision D4).
    """
    end = len(raw)
    elements = msg.elements
    problems = msg.problems
    while off < end:
        etype = raw[off]
        if etype in _LONG_FORMAT:
            off = _auth_extension(msg, raw, off, end, etype)
            if off is None:
                return
            continue
        # RFC 3344 1.9: Type | Length (octets of data) | data
        if end - off < 2:
            problems.append(problem(OPTION_PAST_END, say(
                OPTION_PAST_END, variant="extension-header", type=etype,
                offset=off), off))
            return
        length = raw[off + 1]
        # decision D4: in an FBAck the New IPv4 Address option (NCoA) travels in
        # the extension area with its 8-octet layout, Length 1 (8-octet
        # units) or 6 (Mobile IPv4's octet count of the same 8 octets).
        ncoa_option = (etype == _OPT_IPV4_ADDR and ncoa_allowed
                       and length in _NCOA_LENGTHS)
        size = _IPV4_OPTION.fixed_len if ncoa_option else 2 + length
        if off + size > end:
            problems.append(problem(OPTION_PAST_END, say(
                OPTION_PAST_END, variant="extension", type=etype, offset=off,
                length=length, size=size, left=end - off), off))
            return
        if ncoa_option:
            _fixed_option(_IPV4_OPTION, msg, raw, off, length, size, 0,
                          in_extension_area=True)
            off += size
            continue
        el = _element("extension", off, etype, length, size)
        el.data = raw[off + 2:off + size]
        elements.append(el)
        if etype == P.OPT_IPV4_ADDR and ncoa_allowed:
            problems.append(problem(OPTION_BAD_LENGTH, say(
                OPTION_BAD_LENGTH, variant="extension",
                option=_IPV4_OPTION.spec.name, offset=off, length=length,
                lengths=_NCOA_LENGTHS_TEXT, size=size), off))
        elif (etype < P.SKIPPABLE_EXTENSION_MIN
                and etype not in K.KNOWN_MIP_EXTENSIONS):
            problems.append(problem(
                MIP_EXTENSION_UNKNOWN, say(MIP_EXTENSION_UNKNOWN,
                                           type=etype, offset=off), off))
        off += size


for _layout in _OPTIONS.values():
    _layout.decode = (_lla_option if _layout.lla_offset is not None
                      else _fixed_option)


# --- Entry points ----------------------------------------------------------

def decode_mip(payload: bytes,
               lla_length: int = P.DEFAULT_LLA_LENGTH) -> Message | None:
    """Decode a UDP payload; None unless its first octet is FBU/FBAck type.

    lla_length is accepted for symmetry; Mobile IPv4 messages carry no LLA.
    """
    if not payload:
        return None
    layout = _MIP_BY_TYPE[payload[0]]
    if layout is None:
        return None
    raw = payload if type(payload) is bytes else bytes(payload)
    if len(raw) < layout.header_len:
        msg = Message(layout.key, raw, raw[0])
        _truncated(layout, msg, raw)
        return msg
    msg = layout.build(layout.key, raw)
    if len(raw) > layout.header_len:
        _extensions(msg, raw, layout.header_len,
                    layout.key in _NCOA_IN_EXTENSIONS)
    return msg


def decode_icmp(message: bytes,
                lla_length: int = P.DEFAULT_LLA_LENGTH) -> Message | None:
    """Decode an ICMP message (from its Type); None unless FMIPv4.

    FMIPv4 means type 41 (RFC 4065 3) with subtype 6-9 (RFC 4988 8).
    """
    if (len(message) <= _SUBTYPE_OFFSET
            or message[0] != P.ICMP_TYPE_EXPERIMENTAL_MOBILITY):
        return None
    layout = _ICMP_BY_SUBTYPE[message[_SUBTYPE_OFFSET]]
    if layout is None:
        return None
    raw = message if type(message) is bytes else bytes(message)
    size = len(raw)
    verdict = (_one_sum_verdict(raw, _RESERVED_MASK[raw[_SUBTYPE_OFFSET]])
               if size >= 6 and not size & 1       # decision D2
               else _checksum.reference_verdict(raw))
    if size < layout.header_len:
        msg = Message(layout.key, raw, raw[0])
        msg.checksum_verdict = verdict
        _truncated(layout, msg, raw)
        return msg
    msg = layout.build(layout.key, raw)
    msg.checksum_verdict = verdict
    if size > layout.header_len:
        _options(msg, raw, layout.header_len, lla_length)
    return msg


def decode_datagram(d: Datagram,
                    lla_length: int = P.DEFAULT_LLA_LENGTH) -> Message | None:
    """Decode the FMIPv4 message a datagram carries, if any."""
    if d.proto == IPPROTO_UDP:
        return decode_mip(d.payload, lla_length)
    if d.proto == IPPROTO_ICMP:
        return decode_icmp(d.payload, lla_length)
    return None
