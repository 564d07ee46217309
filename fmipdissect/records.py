"""Records passed between the stages.

Data flows one way: capture -> datagrams -> messages -> findings -> report.

capture/reader.py yields Datagram and CaptureNote (a Finding);
decode/decoder.py turns a Datagram's payload into a Message with its
Elements (and framing problems as Findings); the checker reads Messages and
writes Findings.  Plain slotted classes (plain.Record, no dataclasses: its
import is most of a tiny run's start-up): each names its fields once, in
__slots__, and gets a straight-line __init__ over them; cheap to create,
compared and shown by their fields.
"""

from __future__ import annotations

from .plain import Record


class Datagram(Record):
    """An IPv4 datagram that may carry FMIPv4, as the capture reader found it."""

    __slots__ = _fields = (
        "frame",        # 1-based frame number, as Wireshark numbers frames
        "time",         # seconds since the epoch
        "src",          # IPv4 source, dotted quad
        "dst",          # IPv4 destination
        "proto",        # 1 ICMP, 17 UDP (50 ESP is reported, not decoded)
        "ttl",
        "sport",        # UDP ports, None for ICMP
        "dport",
        "payload",      # the ICMP message from its Type, or the UDP payload
        "clipped",      # captured shorter than the IP total length (snaplen)
        "fragments",    # frames it was reassembled from, if any
        "encapsulation",  # layers it came through: "eth/ip/udp",
                          # "eth/vlan/ip/gre/ip/udp" (capture/linklayer.py)
    )

    _defaults = {"clipped": False, "fragments": (), "encapsulation": ""}


class Element(Record):
    """An ICMP option (RFC 4988 6) or a Mobile IPv4 extension (FBU/FBAck).

    kind: "lla", "ipv4addr", "prefix" (options 20/21/22), "auth" (Generalized
    Authentication Extension, type 36), "option" (unknown ICMP option),
    "extension" (unknown Mobile IPv4 extension).
    """

    __slots__ = _fields = (
        "kind",
        "offset",       # from the start of the message (its Type octet)
        "type",
        "length",       # the Length field as sent
        "size",         # octets the element spans in the message
        "code",         # Option-Code; for "auth" the Subtype
        "lla",          # LLA option: the address (decision D3)
        "padding_ok",   # LLA option: Pad1 / one exact PadN (D3)
        "addr",         # New IPv4 Address option
        "prefixlen",    # Prefix option
        "reserved",     # Reserved field of options 21/22
        "spi",          # auth extension
        "authenticator",  # auth extension
        "data",         # the element's octets after Type/Length
    )

    _defaults = dict.fromkeys(
        ("code", "lla", "padding_ok", "addr", "prefixlen", "reserved", "spi",
         "authenticator"), None) | {"data": b""}


class Message(Record):
    """One decoded FMIPv4 message.  Fields not in the message stay None."""

    __slots__ = _fields = (
        "key",          # protocol message key: "fbu", "fback", "rtsolpr",
                        # "prrtadv", "hi", "hack"
        "raw",          # the message octets (UDP payload / ICMP message)
        "type",         # 20, 21 or 41
        "code",         # FBAck code or ICMP code
        "subtype",      # ICMP subtype 6-9
        "flags",        # FBU flags octet; HI octet 5 (S U + rsvd)
        "lifetime",     # 16 bits (decision D1)
        "homeaddr",
        "haaddr",
        "coa",
        "ident",        # 64-bit Identification (decision D6)
        "checksum",     # ICMP checksum as sent
        "checksum_verdict",   # checksum.CHECKSUM_* (decision D2)
        "reserved",     # ICMP octet 5 reserved bits (HI: low 6)
        "identifier",   # ICMP Identifier
        "elements",     # list[Element], in message order
        "problems",     # list[Finding]: framing
        "auth_end",     # offset just past the SPI of the first auth
                        # extension (what D5 covers)
    )

    _defaults = dict.fromkeys(
        ("code", "subtype", "flags", "lifetime", "homeaddr", "haaddr", "coa",
         "ident", "checksum", "checksum_verdict", "reserved", "identifier",
         "auth_end"), None)
    _new_list = ("elements", "problems")

    def options(self, kind: str | None = None, code: int | None = None):
        """Elements of a kind (and Option-Code), in message order."""
        return [e for e in self.elements
                if (kind is None or e.kind == kind)
                and (code is None or e.code == code)]


class Finding(Record):
    """A rule fired: the one record for it at every stage.

    The decoder records framing problems in Message.problems (frame 0, the
    offset in the message set); the capture reader yields CaptureNotes for
    the capture itself; the checker turns both, and its own verdicts, into
    Findings with the file, frame and time, and the rule's slug, severity
    and RFC section filled from the registry (spec/rules.py).
    """

    __slots__ = _fields = (
        "frame",        # 1-based frame number (0: not known yet)
        "time",         # seconds since the epoch
        "rule",         # stable id, e.g. spec.rules.FBU_LIFETIME_OVER_LIMIT
        "message",
        "file",
        "offset",       # where in the message (decoder framing problems)
        "name",         # slug, filled from the registry
        "severity",     # filled from the registry (decision D10)
        "section",      # RFC 4988 section, filled from the registry
    )

    _defaults = {"file": "", "offset": 0, "name": "", "severity": "",
                 "section": ""}

    def asdict(self) -> dict:
        """The finding as the JSON report writes it (README, "Checking a
        capture"): every field but the decoder's offset."""
        return {"file": self.file, "frame": self.frame, "time": self.time,
                "rule": self.rule, "name": self.name,
                "severity": self.severity, "section": self.section,
                "message": self.message}


class CaptureNote(Finding):
    """A Finding about the capture itself (truncated file, fragments not
    reassembled, clipped packets), as the capture reader yields it: frame
    is the frame it belongs to (the last frame read for a cut)."""

    __slots__ = ()


def problem(rule: str, message: str, offset: int = 0) -> Finding:
    """A framing problem the decoder met, at an offset of the message."""
    return Finding(0, 0.0, rule, message, offset=offset)


class Clock(Record):
    """A tick of the wall clock on live input (the capture reader's clock
    mode): time moves on although no frame arrived, so that requests can
    expire while the link is quiet (live capture, fmipdissect/live.py)."""

    __slots__ = _fields = ("time",)
