"""How `fmipdissect decode` shows a message: text and JSON Lines.

The command itself is decode/cli.py.

Like `tshark -V`, but only the FMIPv4 part: for each message the frame
number, time, IP addresses and ports, then every header field (codes and
Option-Codes with their names, flag bits spelled out, Identification in hex
with its NTP time when plausible (decision D6), the ICMP checksum with its
decision D2 verdict), every option and extension, and the framing problems the
decoder met.  Names and labels come from protocol.py, rule names and
severities from spec/rules.py.

`--format json` writes JSON Lines: one object per line, in frame order.
Every object has the key "record", which is "message" or "note".

A "message" object (keys always present; null where they do not apply):

    record       "message"
    frame        1-based frame number (as Wireshark numbers frames)
    time         ISO-8601 UTC with microseconds, e.g. "2026-11-26T16:15:33.123456Z"
    epoch        seconds since 1970-01-01 UTC (float)
    src, dst     IPv4 addresses (dotted quad)
    ttl          IP time to live
    proto        "udp" or "icmp"
    sport, dport UDP ports (null for ICMP)
    clipped      true if the capture cut the datagram short (snap length)
    fragments    frame numbers the datagram was reassembled from ([] if none)
    encapsulation  the layers it came through, e.g. "eth/ip/udp",
                 "eth/ip/gre/ip/udp", "eth/mpls/ip/icmp" (capture/linklayer.py)
    message      protocol key: "fbu", "fback", "rtsolpr", "prrtadv", "hi", "hack"
    abbrev       "FBU", "FBAck", "RtSolPr", "PrRtAdv", "HI", "HAck"
    name         full message name
    section      RFC 4988 section of the message
    length       message octets (UDP payload / ICMP message)
    type         20, 21 (Mobile IPv4 type) or 41 (ICMP type)
    code         FBAck or ICMP Code
    code_text    its meaning ("Unknown (N)" if undefined)
    subtype      ICMP subtype 6-9
    flags        FBU flags octet, or HI's S and U bits, as a number
    flags_set    names of the set flag bits, e.g. ["s", "u"] (FBU: s b d m g r t x)
    lifetime     seconds (16 bits, decision D1)
    homeaddr, haaddr, coa   IPv4 addresses
    ident        Identification, "0x" + 16 hex digits (decision D6)
    ident_ntp    ISO-8601 time of its high 32 bits if a plausible NTP time
    checksum     ICMP checksum as sent (number)
    checksum_verdict  "ok", "plain-sum" (warning) or "bad" (decision D2)
    reserved     ICMP Reserved bits (HI: the low 6 bits of octet 5)
    identifier   ICMP Identifier
    auth_end     offset just past the SPI of the first authentication
                 extension: the authenticator covers [0, auth_end) (decision D5)
    elements     list of options / extensions, in message order, each with
                 kind ("lla", "ipv4addr", "prefix", "auth", "option",
                 "extension"), name, offset, type, length (as sent), size
                 (octets), code, code_text, lla (colon-separated hex),
                 padding_ok, addr, prefixlen, reserved, spi, authenticator
                 (hex), data (hex: octets after Type and Length; after the
                 16-bit Length for "auth")
    problems     list of {rule, name, severity, offset, message}: framing
                 problems found by the decoder (rule ids of spec/rules.py)

A "note" object reports something about the capture itself:

    record "note", frame, time, epoch, rule, name, severity, message
"""

from __future__ import annotations

from datetime import datetime, timezone

from ..records import CaptureNote, Datagram, Element, Message
from ..spec import protocol as P
from ..spec.rules import RULES_BY_ID
from ..wire.checksum import (CHECKSUM_BAD, CHECKSUM_OK, CHECKSUM_PLAIN_SUM,
                             fmip_icmp_checksum)
from ..spec.numbers import IPPROTO_ICMP
from .decoder import field_attribute

# decision D6 (spec/protocol.py): the NTP range of Identification
NTP_UNIX_OFFSET = P.NTP_UNIX_OFFSET
NTP_PLAUSIBLE_FROM = P.NTP_PLAUSIBLE_FROM
NTP_ERA0_END = P.NTP_ERA0_END



# --- Shared helpers --------------------------------------------------------

def iso_time(epoch: float) -> str:
    """ISO-8601 UTC with microseconds."""
    try:
        return (datetime.fromtimestamp(epoch, timezone.utc)
                .strftime("%Y-%m-%dT%H:%M:%S.%fZ"))
    except (OverflowError, OSError, ValueError):
        return f"{epoch!r} s"


def ntp_time(ident: int | None) -> str | None:
    """The high 32 bits of Identification as an NTP time, if plausible (D6)."""
    if ident is None:
        return None
    seconds = (ident >> 32) - NTP_UNIX_OFFSET
    if not NTP_PLAUSIBLE_FROM <= seconds < NTP_ERA0_END:
        return None
    fraction = (ident & 0xFFFFFFFF) / 2**32
    return iso_time(seconds + fraction)


def _spec(msg: Message) -> P.MessageSpec:
    return P.MESSAGES_BY_KEY[msg.key]


def _flag_fields(spec: P.MessageSpec) -> list[P.Field]:
    return [f for f in spec.fields if f.kind == "flags"]


def flags_set(msg: Message) -> list[str]:
    if msg.flags is None:
        return []
    return [flag.name for f in _flag_fields(_spec(msg)) for flag in f.flags
            if msg.flags & flag.mask]


def _element_name(el: Element) -> str:
    if el.kind == "auth":
        return P.AUTH_SUBTYPES.get(el.code, "Generalized Mobile IP "
                                   "Authentication") + " Extension"
    if el.kind == "extension":
        return P.MIP_EXTENSION_NAMES.get(el.type, "Unknown extension")
    opt = P.OPTIONS.get(el.type)
    return opt.name + " option" if opt else "Unknown option"


def _element_code_text(el: Element) -> str | None:
    if el.code is None:
        return None
    if el.kind == "auth":
        return P.AUTH_SUBTYPES.get(el.code, f"Unknown ({el.code})")
    if el.kind in ("lla", "ipv4addr", "prefix"):
        return P.option_code_text(el.type, el.code)
    return None


def lla_text(lla: bytes | None) -> str | None:
    return None if lla is None else ":".join(f"{b:02x}" for b in lla)


def _problem_dict(p) -> dict:
    rule = RULES_BY_ID.get(p.rule)
    return {"rule": p.rule, "name": rule.name if rule else "",
            "severity": rule.severity if rule else "",
            "offset": p.offset, "message": p.message}


# --- JSON ------------------------------------------------------------------

def element_json(el: Element) -> dict:
    return {
        "kind": el.kind, "name": _element_name(el), "offset": el.offset,
        "type": el.type, "length": el.length, "size": el.size,
        "code": el.code, "code_text": _element_code_text(el),
        "lla": lla_text(el.lla), "padding_ok": el.padding_ok,
        "addr": el.addr, "prefixlen": el.prefixlen, "reserved": el.reserved,
        "spi": el.spi,
        "authenticator": (None if el.authenticator is None
                          else el.authenticator.hex()),
        "data": el.data.hex(),
    }


def message_json(d: Datagram, msg: Message) -> dict:
    spec = _spec(msg)
    return {
        "record": "message",
        "frame": d.frame, "time": iso_time(d.time), "epoch": d.time,
        "src": d.src, "dst": d.dst, "ttl": d.ttl,
        "proto": "icmp" if d.proto == IPPROTO_ICMP else "udp",
        "sport": d.sport, "dport": d.dport,
        "clipped": d.clipped, "fragments": list(d.fragments),
        "encapsulation": d.encapsulation,
        "message": msg.key, "abbrev": spec.abbrev, "name": spec.name,
        "section": spec.section, "length": len(msg.raw),
        "type": msg.type, "code": msg.code,
        "code_text": (None if msg.code is None or not spec.codes
                      else P.code_text(spec, msg.code)),
        "subtype": msg.subtype, "flags": msg.flags,
        "flags_set": flags_set(msg), "lifetime": msg.lifetime,
        "homeaddr": msg.homeaddr, "haaddr": msg.haaddr, "coa": msg.coa,
        "ident": None if msg.ident is None else f"0x{msg.ident:016x}",
        "ident_ntp": ntp_time(msg.ident),
        "checksum": msg.checksum, "checksum_verdict": msg.checksum_verdict,
        "reserved": msg.reserved, "identifier": msg.identifier,
        "auth_end": msg.auth_end,
        "elements": [element_json(e) for e in msg.elements],
        "problems": [_problem_dict(p) for p in msg.problems],
    }


def note_json(note: CaptureNote) -> dict:
    rule = RULES_BY_ID.get(note.rule)
    return {"record": "note", "frame": note.frame,
            "time": iso_time(note.time), "epoch": note.time,
            "rule": note.rule, "name": rule.name if rule else "",
            "severity": rule.severity if rule else "",
            "message": note.message}


# --- Text ------------------------------------------------------------------

def _bits(value: int, mask: int, width: int) -> str:
    """Wireshark's bit picture: '1... ....' for mask 0x80 set."""
    out = []
    for i in range(width - 1, -1, -1):
        bit = 1 << i
        out.append(("1" if value & bit else "0") if mask & bit else ".")
        if i % 4 == 0 and i:
            out.append(" ")
    return "".join(out)


def _checksum_text(msg: Message) -> str:
    verdict = msg.checksum_verdict
    if verdict == CHECKSUM_OK:
        why = "correct (Checksum and Reserved zeroed, decision D2)"
    elif verdict == CHECKSUM_PLAIN_SUM:
        why = ("matches only the plain sum over the Reserved bits as sent; "
               f"RFC 4988 value 0x{fmip_icmp_checksum(msg.raw):04x} "
               "(decision D2, warning)")
    elif verdict == CHECKSUM_BAD:
        why = (f"incorrect, should be 0x{fmip_icmp_checksum(msg.raw):04x} "
               "(decision D2)")
    else:
        why = "not verified"
    return f"0x{msg.checksum:04x} [{why}]"


def _field_lines(spec: P.MessageSpec, msg: Message) -> list[str]:
    lines = []
    for f in spec.fields:
        attr = field_attribute(f)
        value = getattr(msg, attr)
        if f.kind == "flags":
            if value is None:
                continue
            octet = value | (msg.reserved or 0) if f.reserved_mask else value
            lines.append(f"{f.label}: 0x{octet:02x}")
            for flag in f.flags:
                state = "Set" if octet & flag.mask else "Not set"
                lines.append(f"    {_bits(octet, flag.mask, 8 * f.size)} = "
                             f"{flag.label}: {state}")
            if f.reserved_mask:
                lines.append(f"    {_bits(octet, f.reserved_mask, 8 * f.size)}"
                             f" = Reserved: 0x{msg.reserved:02x}")
            continue
        if value is None:
            continue
        if f.kind == "code":
            text = f"{value} ({P.code_text(spec, value)})"
        elif f.kind == "subtype":
            text = f"{value} ({spec.name}, {spec.abbrev})"
        elif f.kind == "checksum":
            text = _checksum_text(msg)
        elif f.kind == "reserved":
            text = f"0x{value:0{2 * f.size}x}"
        elif f.kind == "hex":
            text = f"0x{value:0{2 * f.size}x}"
            when = ntp_time(value) if f.name == "ident" else None
            if when:
                text += f" (NTP time {when})"
        elif f.name == "lifetime":
            text = f"{value} s"
        else:
            text = str(value)
        lines.append(f"{f.label}: {text}")
    return lines


def _padding_text(el: Element) -> str:
    # data is Option-Code onward; the address follows the Option-Code.
    pad = el.data[1 + len(el.lla or b""):]
    if not el.padding_ok:
        return f"{pad.hex(' ') or '(none)'} [not Pad1 or one exact PadN, decision D3]"
    if not pad:
        return "none"
    if len(pad) == 1:
        return "Pad1"
    return f"PadN, {len(pad)} octets"


def _element_lines(el: Element) -> list[str]:
    head = f"{_element_name(el)} (type {el.type}), offset {el.offset}"
    lines = [head]
    if el.kind == "auth":
        f = {x.name: x for x in P.AUTH_EXTENSION_FIELDS}
        lines.append(f"    {f['subtype'].label}: {el.code} "
                     f"({_element_code_text(el)})")
        lines.append(f"    {f['length'].label}: {el.length}")
        if el.spi is not None:
            lines.append(f"    {f['spi'].label}: 0x{el.spi:08x} ({el.spi})")
            lines.append(f"    Authenticator ({len(el.authenticator)} octets):"
                         f" {el.authenticator.hex()}")
        return lines
    if el.kind == "extension":
        skippable = el.type >= P.SKIPPABLE_EXTENSION_MIN
        lines.append(f"    Length: {el.length} "
                     f"({'skippable' if skippable else 'non-skippable'})")
        lines.append(f"    Data: {el.data.hex(' ') or '(none)'}")
        return lines
    if el.kind == "option":
        lines.append(f"    Length: {el.length} ({el.size} octets)")
        lines.append(f"    Data: {el.data.hex(' ')}")
        return lines
    spec = P.OPTIONS[el.type]
    labels = {x.name: x.label for x in spec.fields}
    if el.size != el.length * P.OPTION_UNIT:
        unit = "octets after Length: Mobile IPv4 framing, decision D4"
    else:
        unit = f"{el.size} octets"
    lines.append(f"    Length: {el.length} ({unit})")
    if el.code is not None:
        lines.append(f"    {labels['code']}: {el.code} "
                     f"({_element_code_text(el)})")
    if el.kind == "lla":
        if el.lla == b"" and el.padding_ok:
            lines.append(f"    {labels['lla']}: (absent, wildcard)")
        else:
            lines.append(f"    {labels['lla']}: {lla_text(el.lla)}")
        lines.append(f"    Padding: {_padding_text(el)}")
    elif el.kind == "ipv4addr":
        if el.reserved is not None:
            lines.append(f"    {labels['reserved']}: 0x{el.reserved:02x}")
        if el.addr is not None:
            lines.append(f"    {labels['addr']}: {el.addr}")
    elif el.kind == "prefix":
        if el.prefixlen is not None:
            lines.append(f"    {labels['prefixlen']}: {el.prefixlen}")
        if el.reserved is not None:
            lines.append(f"    {labels['reserved']}: 0x{el.reserved:08x}")
    return lines


def message_text(d: Datagram, msg: Message) -> str:
    spec = _spec(msg)
    if d.proto == IPPROTO_ICMP:
        where = f"{d.src} -> {d.dst}, ICMP"
    else:
        where = f"{d.src}:{d.sport} -> {d.dst}:{d.dport}, UDP"
    out = [f"Frame {d.frame}  {iso_time(d.time)}  {where}, TTL {d.ttl}"]
    extras = []
    if d.clipped:
        extras.append("clipped by the capture's snap length")
    if d.fragments:
        extras.append("reassembled from frames "
                      + ", ".join(map(str, d.fragments)))
    if d.encapsulation.count("/") > 2:     # more than link/ip/transport
        extras.append(f"through {d.encapsulation}")
    if extras:
        out.append("  [" + "; ".join(extras) + "]")
    out.append(f"  {spec.name} ({spec.abbrev}), RFC 4988 {spec.section}, "
               f"{len(msg.raw)} octets")
    out.extend("    " + line for line in _field_lines(spec, msg))
    word = "Extension" if spec.body == "extensions" else "Option"
    for el in msg.elements:
        lines = _element_lines(el)
        out.append(f"    {word}: {lines[0]}")
        out.extend("    " + line for line in lines[1:])
    if msg.auth_end is not None:
        out.append(f"    [Authenticator covers octets 0-{msg.auth_end - 1} "
                   f"(decision D5)]")
    for p in msg.problems:
        pd = _problem_dict(p)
        out.append(f"    [{pd['severity'] or 'problem'}: {p.rule} "
                   f"{pd['name']}] {p.message}")
    return "\n".join(out) + "\n\n"


def note_text(note: CaptureNote) -> str:
    rule = RULES_BY_ID.get(note.rule)
    label = f"{rule.severity}: {note.rule} {rule.name}" if rule else note.rule
    when = f"{iso_time(note.time)}  " if note.time else ""
    return f"Frame {note.frame}  {when}[{label}] {note.message}\n\n"
