"""Records passed between the stages.

Data flows one way: capture -> datagrams -> messages -> findings -> report.

capture/reader.py yields Datagram and CaptureNote (a Finding);
decode/decoder.py turns a Datagram's payload into a Message with its
Elements (and framing problems as Findings); the checker reads Messages and
writes Findings.  Plain slotted dataclasses: cheap to create, easy to read.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class Datagram:
    """An IPv4 datagram that may carry FMIPv4, as the capture reader found it."""
    frame: int              # 1-based frame number, as Wireshark numbers frames
    time: float             # seconds since the epoch
    src: str                # IPv4 source, dotted quad
    dst: str                # IPv4 destination
    proto: int              # 1 ICMP, 17 UDP (50 ESP is reported, not decoded)
    ttl: int
    sport: int | None       # UDP ports, None for ICMP
    dport: int | None
    payload: bytes          # the ICMP message from its Type, or the UDP payload
    clipped: bool = False   # captured shorter than the IP total length (snaplen)
    fragments: tuple[int, ...] = ()   # frames it was reassembled from, if any
    encapsulation: str = ""  # layers it came through: "eth/ip/udp",
                             # "eth/vlan/ip/gre/ip/udp" (capture/linklayer.py)


@dataclass(slots=True)
class Element:
    """An ICMP option (RFC 4988 6) or a Mobile IPv4 extension (FBU/FBAck).

    kind: "lla", "ipv4addr", "prefix" (options 20/21/22), "auth" (Generalized
    Authentication Extension, type 36), "option" (unknown ICMP option),
    "extension" (unknown Mobile IPv4 extension).
    """
    kind: str
    offset: int             # from the start of the message (its Type octet)
    type: int
    length: int             # the Length field as sent
    size: int               # octets the element spans in the message
    code: int | None = None         # Option-Code; for "auth" the Subtype
    lla: bytes | None = None        # LLA option: the address (decision D3)
    padding_ok: bool | None = None  # LLA option: Pad1 / one exact PadN (D3)
    addr: str | None = None         # New IPv4 Address option
    prefixlen: int | None = None    # Prefix option
    reserved: int | None = None     # Reserved field of options 21/22
    spi: int | None = None          # auth extension
    authenticator: bytes | None = None   # auth extension
    data: bytes = b""               # the element's octets after Type/Length


@dataclass(slots=True)
class Message:
    """One decoded FMIPv4 message.  Fields not in the message stay None."""
    key: str                # protocol message key: "fbu", "fback", "rtsolpr",
                            # "prrtadv", "hi", "hack"
    raw: bytes              # the message octets (UDP payload / ICMP message)
    type: int               # 20, 21 or 41
    code: int | None = None         # FBAck code or ICMP code
    subtype: int | None = None      # ICMP subtype 6-9
    flags: int | None = None        # FBU flags octet; HI octet 5 (S U + rsvd)
    lifetime: int | None = None     # 16 bits (decision D1)
    homeaddr: str | None = None
    haaddr: str | None = None
    coa: str | None = None
    ident: int | None = None        # 64-bit Identification (decision D6)
    checksum: int | None = None     # ICMP checksum as sent
    checksum_verdict: str | None = None   # checksum.CHECKSUM_* (decision D2)
    reserved: int | None = None     # ICMP octet 5 reserved bits (HI: low 6)
    identifier: int | None = None   # ICMP Identifier
    elements: list[Element] = field(default_factory=list)
    problems: list[Finding] = field(default_factory=list)   # framing
    auth_end: int | None = None     # offset just past the SPI of the first
                                    # auth extension (what D5 covers)

    def options(self, kind: str | None = None, code: int | None = None):
        """Elements of a kind (and Option-Code), in message order."""
        return [e for e in self.elements
                if (kind is None or e.kind == kind)
                and (code is None or e.code == code)]


@dataclass(slots=True)
class Finding:
    """A rule fired: the one record for it at every stage.

    The decoder records framing problems in Message.problems (frame 0, the
    offset in the message set); the capture reader yields CaptureNotes for
    the capture itself; the checker turns both, and its own verdicts, into
    Findings with the file, frame and time, and the rule's slug, severity
    and RFC section filled from the registry (spec/rules.py).
    """
    frame: int              # 1-based frame number (0: not known yet)
    time: float             # seconds since the epoch
    rule: str               # stable id, e.g. spec.rules.FBU_LIFETIME_OVER_LIMIT
    message: str
    file: str = ""
    offset: int = 0         # where in the message (decoder framing problems)
    name: str = ""          # slug, filled from the registry
    severity: str = ""      # filled from the registry (decision D10)
    section: str = ""       # RFC 4988 section, filled from the registry


@dataclass(slots=True)
class CaptureNote(Finding):
    """A Finding about the capture itself (truncated file, fragments not
    reassembled, clipped packets), as the capture reader yields it: frame
    is the frame it belongs to (the last frame read for a cut)."""


def problem(rule: str, message: str, offset: int = 0) -> Finding:
    """A framing problem the decoder met, at an offset of the message."""
    return Finding(0, 0.0, rule, message, offset=offset)
