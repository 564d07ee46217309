"""The one description of Mobile IPv4 Fast Handovers (RFC 4988).

Everything the project knows about the wire format lives here, as plain data:
messages, their fields and flag bits, code tables, options with their
Option-Code tables, the MN-PAR Authentication Extension, and the bits
that must be zero (with the rule reporting them).  What a correct message
must contain (required options, order, exemptions, matching keys, limits)
is the rulebook, spec/constraints.py.  The Scapy layers, the fast decoder,
the Lua dissector and the checker are all derived from these two; nothing
here imports them.

Layouts not repeated by RFC 4988 come from RFC 3344 (FBU = Registration
Request, FBAck = Registration Reply), RFC 4065 (ICMP type 41) and RFC 4721
(Generalized Mobile IP Authentication Extension); see docs/decisions.md.
"""

from __future__ import annotations

from types import MappingProxyType

from ..plain import Frozen
from . import rules as R

# --- Numbers (docs/decisions.md, wire facts) -------------------------------------------

MIP_UDP_PORT = 434          # RFC 4988 5.1: destination port of FBU
ICMP_TYPE_EXPERIMENTAL_MOBILITY = 41   # RFC 4065 3
LIFETIME_MAX = 10           # RFC 4988 5.1: FBU Lifetime MUST NOT exceed 10 s
# decision D1: a Lifetime from here on has its high octet (the figure's
# "reserved" field) set
LIFETIME_HIGH_OCTET_FROM = 1 << 8
DEFAULT_LLA_LENGTH = 6      # decision D3: 802.3 / 802.11 MAC

# decision D6: the high 32 bits of Identification are often NTP seconds (since
# 1900).  "Plausible": from 1990 up to the end of NTP era 0 (2036-02-07).
NTP_UNIX_OFFSET = 2_208_988_800           # RFC 5905: 1900 -> 1970
NTP_PLAUSIBLE_FROM = 631_152_000          # 1990-01-01T00:00:00Z (Unix time)
NTP_ERA0_END = 2**32 - NTP_UNIX_OFFSET    # 2036-02-07T06:28:16Z (Unix time)
OPTION_UNIT = 8             # RFC 4988 6: option Length counts 8-octet units

AUTH_EXT_TYPE = 36          # RFC 4721 5: Generalized MIP Authentication Ext.
AUTH_SUBTYPE_MN_PAR = 4     # RFC 4988 8
SPI_RESERVED_MAX = 255      # RFC 3344 1.6, 3.5: SPIs 0-255 reserved (D14)
IPV4_PREFIX_MAX = 32        # RFC 4988 6.3: a Prefix Length of an IPv4 prefix
DEFAULT_AUTH_ALGORITHM = "hmac-md5"   # decision D5
AUTH_ALGORITHMS = {"hmac-md5": 16, "hmac-sha1": 20, "hmac-sha256": 32}

# Pad1 / PadN inside the LLA option (RFC 4988 6.1 -> RFC 2460 4.2)
PAD1 = 0x00
PADN = 0x01

# Mobile IPv4 extension types: 0-127 non-skippable, 128-255 skippable
# (RFC 3344 1.9).  Types RFC 3344/4721 give the long (16-bit length) format:
LONG_FORMAT_EXTENSIONS = {AUTH_EXT_TYPE}
SKIPPABLE_EXTENSION_MIN = 128

# Authentication Extension subtypes of RFC 4721 5 and RFC 4988 8.
AUTH_SUBTYPES = {
    1: "MN-AAA Authentication",
    4: "MN-PAR Authentication",
}

# Well-known Mobile IPv4 extension types, for display only.
MIP_EXTENSION_NAMES = {
    32: "Mobile-Home Authentication",
    33: "Mobile-Foreign Authentication",
    34: "Foreign-Home Authentication",
    AUTH_EXT_TYPE: "Generalized Mobile IP Authentication",
}


# --- Building blocks -------------------------------------------------------

class Flag(Frozen):
    """One bit of a flags octet.

    policy says what the RFC asks of it (decision D10):
      "use"        - meaningful bit, any value
      "sent-zero"  - "sent as zero, ignored on reception" -> warning when set
      "reserved"   - reserved bit, MUST be zero by the sender -> see rule
    rule is the checker's rule id that reports the bit when set.
    """
    name: str          # short name, also the Wireshark field suffix
    mask: int
    label: str
    policy: str = "use"
    rule: str | None = None

    @property
    def letter(self) -> str:
        """The bit's letter as the RFC figure writes it (RFC 3344 3.3 writes
        the reserved bits r and x in lower case)."""
        return self.name if self.label.startswith("Reserved") else \
            self.name.upper()


class Field(Frozen):
    """A fixed header field of a message.

    kind: "uint" (number), "ipv4" (address), "hex" (number shown in hex),
          "flags" (bit field, see flags), "type", "code", "subtype",
          "checksum", "reserved" (must be zero; see reserved_rule)
    wsfield is the Wireshark display-filter name (a stable contract: users filter on it).
    """
    name: str
    offset: int
    size: int          # octets
    kind: str
    label: str
    wsfield: str | None = None
    flags: tuple[Flag, ...] = ()
    default: int | str = 0
    reserved_mask: int = 0       # bits that are reserved inside this field
    reserved_rule: str | None = None


class MessageSpec(Frozen):
    key: str              # "fbu"
    abbrev: str           # "FBU"
    name: str             # "Fast Binding Update"
    section: str          # RFC 4988 section
    transport: str        # "mip" (UDP 434) or "icmp" (ICMP type 41)
    type: int             # Mobile IPv4 type (20/21) or ICMP type 41
    subtype: int | None   # ICMP subtype (6-9) or None
    header_len: int       # fixed part, octets
    fields: tuple[Field, ...]
    # Code -> meaning; a message without Codes (FBU) shares this empty,
    # read-only table
    codes: dict[int, str] = MappingProxyType({})
    body: str = "options"     # "extensions" (Mobile IPv4) or "options" (ICMP)
    auth_required: bool = False   # MN-PAR Authentication Extension MUST be present
    is_response: bool = False
    request: str | None = None    # key of the request this one answers (decision D9)
    unsolicited_codes: tuple[int, ...] = ()   # codes sent without a request

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)


class Option(Frozen):
    """An option of the ICMP messages (RFC 4988 6), Length in 8-octet units."""
    type: int
    key: str
    name: str
    section: str
    codes: dict[int, str]
    fixed_len: int | None     # octets, None = variable (LLA)
    fields: tuple[Field, ...]  # offsets relative to the option start


# --- Code tables -------------------------------------------------------------

FBACK_CODES = {   # RFC 4988 5.2
    0: "FBU Accepted",
    1: "FBU Accepted, NCoA supplied",
    128: "FBU Not Accepted, reason unspecified",
    129: "Administratively prohibited",
    130: "Insufficient resources",
}
FBACK_CODE_NCOA_SUPPLIED = 1
FBACK_CODE_REFUSED_MIN = 128   # RFC 4988 5.2: Code 128 and above refuse the FBU

RTSOLPR_CODES = {0: "Request"}   # RFC 4988 5.3: Code 0

PRRTADV_CODES = {   # RFC 4988 5.4
    0: "Use the [AP-ID, AR-Info] tuple",
    1: "Unsolicited, network-initiated handover trigger",
    2: "No new router information",
    3: "New router information for a subset of access points",
    4: "Unsolicited neighborhood information, not a trigger",
}
PRRTADV_UNSOLICITED = (1, 4)    # Identifier zero (RFC 4988 5.4, decision D9)
PRRTADV_SOLICITED = tuple(c for c in PRRTADV_CODES
                          if c not in PRRTADV_UNSOLICITED)   # answer RtSolPr
PRRTADV_CODE_NETWORK_TRIGGER = 1   # the network initiates the handover (5.4)
PRRTADV_REASON_CODES = (2, 3)   # LLA Option-Code carries the reason

HI_CODES = {   # RFC 4988 5.5
    0: "FBU received from the PCoA (predictive)",
    1: "FBU received from NAR (reactive)",
}
HI_CODE_PREDICTIVE = 0
HI_CODE_REACTIVE = 1

HACK_CODES = {   # RFC 4988 5.6
    0: "Handover Accepted",
    1: "Handover Accepted, NCoA not valid",
    2: "Handover Accepted, NCoA in use",
    3: "Handover Accepted, NCoA assigned",
    4: "Handover Accepted, NCoA not assigned",
    128: "Handover Not Accepted, reason unspecified",
    129: "Administratively prohibited",
    130: "Insufficient resources",
}

# Option types (RFC 4988 6, 8)
OPT_LLA = 20
OPT_IPV4_ADDR = 21
OPT_PREFIX = 22

LLA_CODES = {   # RFC 4988 6.1
    0: "Wildcard requesting resolution for all nearby access points",
    1: "Link-Layer Address of the New Access Point",
    2: "Link-Layer Address of the MN",
    3: "Link-Layer Address of the NAR",
    4: "Link-Layer Address of the source of the RtSolPr or PrRtAdv message",
    5: "The access point belongs to the current interface of the router",
    6: "No prefix information available for the access point",
    7: "No fast handovers support available for the access point",
}
LLA_WILDCARD = 0
LLA_NEW_AP = 1
LLA_MN = 2
LLA_NAR = 3
LLA_REASON_CODES = (5, 6, 7)   # reasons in PrRtAdv code 2/3 (RFC 4988 5.4)

IPV4_ADDR_CODES = {   # RFC 4988 6.2
    1: "Previous CoA",
    2: "New CoA",
    3: "NAR's IP Address",
}
ADDR_PCOA = 1
ADDR_NCOA = 2
ADDR_NAR_IP = 3

PREFIX_CODES = {0: "Prefix-Length"}   # RFC 4988 6.3: Option-Code 0

# decision D4: the NCoA option in an FBAck also accepted with Mobile IPv4's
# octet-count framing (Length 6) -- decoded, but the checker warns.
NCOA_IN_FBACK_LENGTHS = (1, 6)


# --- Options ---------------------------------------------------------------

def _opt_header(code_label: str) -> tuple[Field, ...]:
    return (
        Field("type", 0, 1, "type", "Type", "fmip.opt.type"),
        Field("length", 1, 1, "uint", "Length (8-octet units)", "fmip.opt.len"),
        Field("code", 2, 1, "code", code_label, "fmip.opt.code"),
    )


OPTIONS: dict[int, Option] = {
    OPT_LLA: Option(
        OPT_LLA, "lla", "Link-Layer Address", "6.1", LLA_CODES, None,
        _opt_header("Option-Code") + (
            # Address length is a setting (decision D3), padding follows.
            Field("lla", 3, DEFAULT_LLA_LENGTH, "bytes", "Link-Layer Address",
                  "fmip.opt.lla"),
        )),
    OPT_IPV4_ADDR: Option(
        OPT_IPV4_ADDR, "ipv4addr", "New IPv4 Address", "6.2",
        IPV4_ADDR_CODES, 8,
        _opt_header("Option-Code") + (
            Field("reserved", 3, 1, "reserved", "Reserved", "fmip.opt.reserved",
                  reserved_mask=0xFF, reserved_rule=R.OPTION_RESERVED_NOT_ZERO),
            Field("addr", 4, 4, "ipv4", "Address", "fmip.opt.addr"),
        )),
    OPT_PREFIX: Option(
        OPT_PREFIX, "prefix", "New Router Prefix Information", "6.3",
        PREFIX_CODES, 8,
        _opt_header("Option-Code") + (
            Field("prefixlen", 3, 1, "uint", "Prefix-Length",
                  "fmip.opt.prefixlen"),
            Field("reserved", 4, 4, "reserved", "Reserved", "fmip.opt.reserved",
                  reserved_mask=0xFFFFFFFF, reserved_rule=R.OPTION_RESERVED_NOT_ZERO),
        )),
}


# --- MN-PAR Authentication Extension (RFC 4721 5, RFC 4988 8) -------------

AUTH_EXTENSION_FIELDS: tuple[Field, ...] = (
    Field("type", 0, 1, "type", "Type", "fmip.auth.type", default=AUTH_EXT_TYPE),
    Field("subtype", 1, 1, "subtype", "Subtype", "fmip.auth.subtype",
          default=AUTH_SUBTYPE_MN_PAR),
    Field("length", 2, 2, "uint", "Length", "fmip.auth.len"),
    Field("spi", 4, 4, "hex", "SPI", "fmip.auth.spi"),
    # Authenticator follows: Length - 4 octets (docs/decisions.md, wire facts).
)
AUTH_HEADER_LEN = 8   # Type..SPI; the authenticator covers up to here (D5)
AUTH_EXTENSION_SECTION = "8"


# --- Messages --------------------------------------------------------------

FBU_FLAGS = (   # RFC 3344 3.3 flags octet; RFC 4988 5.1 for S and B
    Flag("s", 0x80, "Simultaneous bindings", "sent-zero", R.FBU_S_B_FLAGS_SET),
    Flag("b", 0x40, "Broadcast datagrams", "sent-zero", R.FBU_S_B_FLAGS_SET),
    Flag("d", 0x20, "Decapsulation by mobile node"),
    Flag("m", 0x10, "Minimal encapsulation"),
    Flag("g", 0x08, "GRE encapsulation"),
    Flag("r", 0x04, "Reserved (r)", "sent-zero", R.FBU_RESERVED_FLAGS_SET),
    Flag("t", 0x02, "Reverse tunneling"),
    Flag("x", 0x01, "Reserved (x)", "sent-zero", R.FBU_RESERVED_FLAGS_SET),
)

HI_FLAGS = (   # RFC 4988 5.5
    Flag("s", 0x80, "Assigned address configuration (S)"),
    Flag("u", 0x40, "Buffer (U)"),
)

def _icmp_head(subtype: int, second: Field | None = None) -> tuple[Field, ...]:
    """Type 41 header (RFC 4065 3): Type, Code, Checksum, Subtype, Reserved."""
    reserved = second or Field(
        "reserved", 5, 1, "reserved", "Reserved", "fmip.reserved",
        reserved_mask=0xFF, reserved_rule=R.ICMP_RESERVED_NOT_ZERO)
    return (
        Field("type", 0, 1, "type", "Type", None,
              default=ICMP_TYPE_EXPERIMENTAL_MOBILITY),
        Field("code", 1, 1, "code", "Code", "fmip.code"),
        Field("checksum", 2, 2, "checksum", "Checksum", "fmip.checksum"),
        Field("subtype", 4, 1, "subtype", "Subtype", "fmip.subtype",
              default=subtype),
        reserved,
        Field("identifier", 6, 2, "uint", "Identifier", "fmip.identifier"),
    )


MESSAGES: tuple[MessageSpec, ...] = (
    MessageSpec(
        "fbu", "FBU", "Fast Binding Update", "5.1", "mip", 20, None, 24,
        (
            Field("type", 0, 1, "type", "Type", "fmip.type", default=20),
            Field("flags", 1, 1, "flags", "Flags", "fmip.flags", FBU_FLAGS),
            # decision D1: Lifetime is 16 bits (the figure's "reserved" octet
            # is its high octet).
            Field("lifetime", 2, 2, "uint", "Lifetime", "fmip.lifetime",
                  default=LIFETIME_MAX),
            Field("homeaddr", 4, 4, "ipv4", "Home Address", "fmip.homeaddr"),
            Field("haaddr", 8, 4, "ipv4", "Home Agent (PAR)", "fmip.haaddr"),
            Field("coa", 12, 4, "ipv4", "Care-of Address (NAR)", "fmip.coa"),
            Field("ident", 16, 8, "hex", "Identification", "fmip.ident"),
        ),
        body="extensions", auth_required=True),
    MessageSpec(
        "fback", "FBAck", "Fast Binding Acknowledgment", "5.2", "mip", 21,
        None, 20,
        (
            Field("type", 0, 1, "type", "Type", "fmip.type", default=21),
            Field("code", 1, 1, "code", "Code", "fmip.code"),
            Field("lifetime", 2, 2, "uint", "Lifetime", "fmip.lifetime",
                  default=LIFETIME_MAX),
            Field("homeaddr", 4, 4, "ipv4", "Home Address", "fmip.homeaddr"),
            Field("haaddr", 8, 4, "ipv4", "Home Agent (PAR)", "fmip.haaddr"),
            Field("ident", 12, 8, "hex", "Identification", "fmip.ident"),
        ),
        codes=FBACK_CODES, body="extensions", auth_required=True,
        is_response=True, request="fbu"),
    MessageSpec(
        "rtsolpr", "RtSolPr", "Router Solicitation for Proxy Advertisement",
        "5.3", "icmp", 41, 6, 8, _icmp_head(6), codes=RTSOLPR_CODES),
    MessageSpec(
        "prrtadv", "PrRtAdv", "Proxy Router Advertisement", "5.4", "icmp", 41,
        7, 8, _icmp_head(7), codes=PRRTADV_CODES,
        is_response=True, request="rtsolpr",
        unsolicited_codes=PRRTADV_UNSOLICITED),
    MessageSpec(
        "hi", "HI", "Handover Initiate", "5.5", "icmp", 41, 8, 8,
        _icmp_head(8, Field("hiflags", 5, 1, "flags", "Flags", "fmip.hi.flags",
                            HI_FLAGS, reserved_mask=0x3F,
                            reserved_rule=R.ICMP_RESERVED_NOT_ZERO)),
        codes=HI_CODES),
    MessageSpec(
        "hack", "HAck", "Handover Acknowledge", "5.6", "icmp", 41, 9, 8,
        _icmp_head(9), codes=HACK_CODES,
        is_response=True, request="hi"),
)

MESSAGES_BY_KEY = {m.key: m for m in MESSAGES}
MIP_MESSAGES = {m.type: m for m in MESSAGES if m.transport == "mip"}
ICMP_MESSAGES = {m.subtype: m for m in MESSAGES if m.transport == "icmp"}
FBU = MESSAGES_BY_KEY["fbu"]
FBACK = MESSAGES_BY_KEY["fback"]
RTSOLPR = MESSAGES_BY_KEY["rtsolpr"]
PRRTADV = MESSAGES_BY_KEY["prrtadv"]
HI = MESSAGES_BY_KEY["hi"]
HACK = MESSAGES_BY_KEY["hack"]
# Mobile IPv4 registration (RFC 5944 3.3, 3.4; RFC 3344): the Request (Type
# 1) and the Reply (Type 3) have the address fields where the FBU and the
# FBAck have them (which RFC 4988 5.1, 5.2 took from them).  An MN without
# fast handovers re-registers with them after a move.
REGISTRATION_REQUEST, REGISTRATION_REPLY = 1, 3
REGISTRATION_LAYOUTS = {REGISTRATION_REQUEST: FBU, REGISTRATION_REPLY: FBACK}
REGISTRATION_NAMES = {REGISTRATION_REQUEST: "RegistrationRequest",
                      REGISTRATION_REPLY: "RegistrationReply"}
# RFC 5944 3.4: Code 0 registration accepted, 1 accepted but simultaneous
# mobility bindings unsupported; every other Code denies it
REGISTRATION_ACCEPTED = frozenset({0, 1})

# Every ICMP type 41 message has its Subtype at the same offset (RFC 4065 3).
ICMP_SUBTYPE_OFFSET, = {m.field("subtype").offset for m in MESSAGES
                        if m.transport == "icmp"}


def message_for(transport: str, number: int) -> MessageSpec | None:
    """The message for a Mobile IPv4 type (transport "mip") or ICMP subtype."""
    table = MIP_MESSAGES if transport == "mip" else ICMP_MESSAGES
    return table.get(number)


def code_text(msg: MessageSpec, code: int) -> str:
    return msg.codes.get(code, f"Unknown ({code})")


def option_code_text(opt_type: int, code: int) -> str:
    opt = OPTIONS.get(opt_type)
    if opt is None:
        return str(code)
    return opt.codes.get(code, f"Unknown ({code})")
