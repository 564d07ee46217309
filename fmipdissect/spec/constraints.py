"""The rulebook: what RFC 4988 asks of each message, written once as data.

protocol.py says how FMIPv4 messages are laid out; this module says what a
correct one contains and how requests and replies belong together.  The
checker (lint/checks.py, lint/session.py) is driven by these tables and the
Wireshark dissector's expert infos are generated from them
(wireshark/luagen.py), so both give the same verdict on the same packet
(tests/differential/test_rules_differential.py holds them to it).

Contents:
  * required options per message and Code, with the Option-Codes that
    satisfy them (decision D12);
  * the PrRtAdv option order (RFC 4988 5.4);
  * flag rules that depend on the Code (HI Code 1, RFC 4988 5.5);
  * exemptions: HAck codes that carry no NCoA, Mobile IPv4
    extension types a receiver knows;
  * limits: the FBU Lifetime, the link-layer address length range;
  * the request/reply pairs with their matching keys (decision D9) and the
    rules for replies and requests that do not match (decision D11).
"""

from __future__ import annotations

from ..plain import Frozen
from . import protocol as P
from . import rules as R


# --- Required options (RFC 4988 5.2-5.6, decisions D4 and D12) --------------

class OptionRequirement(Frozen):
    """An option a message must carry.

    Only an option of this type with one of these Option-Codes satisfies it
    (decision D12): an LLA option with another Option-Code (4, the sender's
    own LLA) does not stand in for the one required.
    """
    option: int                # option type (20, 21, 22)
    codes: tuple[int, ...]     # Option-Codes that satisfy it
    label: str
    rule: str                  # the rule reporting its absence

    def satisfied_by(self, elements) -> bool:
        """Whether a decoded element (records.Element) satisfies it."""
        kind = P.OPTIONS[self.option].key
        for e in elements:
            if e.kind == kind and e.code in self.codes:
                return True
        return False


def _need(option, codes, label, rule):
    return OptionRequirement(option, tuple(codes), label, rule)


# decision D12: which LLA Option-Codes name the New Access Point.
RTSOLPR_NEW_AP_LLA_CODES = (P.LLA_WILDCARD, P.LLA_NEW_AP)       # RFC 4988 5.3
PRRTADV_NEW_AP_LLA_CODES = (P.LLA_NEW_AP,)                      # RFC 4988 5.4
# Codes 2 and 3: the Option-Code may give the reason instead (RFC 4988 5.4).
PRRTADV_REASON_NEW_AP_LLA_CODES = (P.LLA_NEW_AP,) + P.LLA_REASON_CODES

_PRRTADV = R.PRRTADV_REQUIRED_OPTION_MISSING
_NEW_AP = "New Access Point LLA option"
# PrRtAdv Code 0 and 1 (RFC 4988 5.4): the New AP LLA (Option-Code 1) MUST
# be there; each [AP-ID, AR-Info] tuple it starts is checked on its own
# (PRRTADV_TUPLES below, decision D15).
_AR_INFO_TUPLE = (
    _need(P.OPT_LLA, PRRTADV_NEW_AP_LLA_CODES, _NEW_AP, _PRRTADV),
)

# message key -> {Code (None: every Code) -> requirements}
REQUIRED_OPTIONS: dict[str, dict[int | None, tuple[OptionRequirement, ...]]] = {
    # decision D4: the NCoA option travels in the FBAck's extension area.
    "fback": {P.FBACK_CODE_NCOA_SUPPLIED: (
        _need(P.OPT_IPV4_ADDR, (P.ADDR_NCOA,),
              "New IPv4 Address option (NCoA)", R.FBACK_NCOA_OPTION_MISSING),)},
    "rtsolpr": {None: (
        _need(P.OPT_LLA, RTSOLPR_NEW_AP_LLA_CODES, _NEW_AP,
              R.RTSOLPR_NEW_AP_LLA_MISSING),)},
    "prrtadv": {
        0: _AR_INFO_TUPLE,
        1: _AR_INFO_TUPLE,
        2: (_need(P.OPT_LLA, PRRTADV_REASON_NEW_AP_LLA_CODES, _NEW_AP,
                  _PRRTADV),),
        3: (_need(P.OPT_LLA, PRRTADV_REASON_NEW_AP_LLA_CODES, _NEW_AP,
                  _PRRTADV),),
        4: (_need(P.OPT_LLA, PRRTADV_NEW_AP_LLA_CODES, _NEW_AP, _PRRTADV),),
    },
    "hi": {None: (
        _need(P.OPT_LLA, (P.LLA_MN,), "Link-layer address of MN option",
              R.HI_REQUIRED_OPTION_MISSING),
        _need(P.OPT_IPV4_ADDR, (P.ADDR_PCOA,), "Previous Care-of Address option",
              R.HI_REQUIRED_OPTION_MISSING))},
}


def required_options(key: str, code: int | None) -> tuple[OptionRequirement, ...]:
    """Every requirement of a message with this Code (its own and "every
    Code" ones)."""
    table = REQUIRED_OPTIONS.get(key)
    if not table:
        return ()
    return table.get(None, ()) + (table.get(code, ()) if code is not None
                                  else ())


# Messages whose MN-PAR Authentication Extension MUST be present
# (RFC 4988 5.1, 5.2, 7).
AUTH_REQUIRED = frozenset(m.key for m in P.MESSAGES if m.auth_required)

# PrRtAdv Code 2 or 3: an LLA option's Option-Code gives the reason
# (RFC 4988 5.4, 6.1); without one, a warning.
REASON_CODES = {"prrtadv": (P.PRRTADV_REASON_CODES, P.LLA_REASON_CODES,
                            R.PRRTADV_REASON_CODE_MISSING)}

# Unsolicited PrRtAdv (Code 1 or 4) carries Identifier zero (RFC 4988 5.4).
UNSOLICITED_IDENTIFIER_RULE = {"prrtadv": R.PRRTADV_UNSOLICITED_IDENTIFIER}


# --- PrRtAdv tuples (RFC 4988 5.4, decision D15) -----------------------------

class TupleRules(Frozen):
    """How a PrRtAdv's options group into [AP-ID, AR-Info] tuples and what
    each tuple needs.  A tuple starts at a New Access Point LLA option (an
    LLA option with one of start_codes) and runs to the next one; options
    before the first start count for the first tuple (their order is the
    option-order rule's business)."""
    start_codes: tuple[int, ...]
    required: dict          # PrRtAdv Code -> (OptionRequirement, ...)
    prefix_codes: tuple[int, ...]   # Codes whose tuples carry the prefix
    prefix_rule: str


PRRTADV_TUPLES = TupleRules(
    PRRTADV_REASON_NEW_AP_LLA_CODES,
    # Code 0 and 1: every tuple MUST carry NAR's LLA and IP address.
    {code: (_need(P.OPT_LLA, (P.LLA_NAR,), "New Router's LLA option",
                  _PRRTADV),
            _need(P.OPT_IPV4_ADDR, (P.ADDR_NAR_IP,),
                  "New Router's IP Address option", _PRRTADV))
     for code in (0, 1)},
    # Code 0, 1 and 4: the tuple is defined with the New Router Prefix
    # Information option (no keyword: a warning).
    (0, 1, 4), R.PRRTADV_TUPLE_PREFIX_MISSING)


def prrtadv_tuples(elements) -> list[tuple[int, list]]:
    """(offset of the tuple's New AP LLA option, [its other elements]) per
    tuple of a PrRtAdv (decision D15)."""
    tuples: list[tuple[int, list]] = []
    leading: list = []
    starts = PRRTADV_TUPLES.start_codes
    lla_kind = P.OPTIONS[P.OPT_LLA].key
    for e in elements:
        if e.kind == lla_kind and e.code in starts:
            tuples.append((e.offset, leading if not tuples else []))
        elif tuples:
            tuples[-1][1].append(e)
        else:
            leading.append(e)
    return tuples


# --- PrRtAdv option order (RFC 4988 5.4) -------------------------------------

class OrderSlot(Frozen):
    option: int
    codes: tuple[int, ...]
    label: str


# "Valid Options in the following order"; a New AP LLA starts the next
# [AP-ID, AR-Info] tuple.
PRRTADV_OPTION_ORDER = (
    OrderSlot(P.OPT_LLA, PRRTADV_REASON_NEW_AP_LLA_CODES
              + (P.LLA_WILDCARD, 4), "New Access Point LLA"),
    OrderSlot(P.OPT_LLA, (P.LLA_NAR,), "New Router's LLA"),
    OrderSlot(P.OPT_IPV4_ADDR, (P.ADDR_NAR_IP,), "New Router's IP Address"),
    OrderSlot(P.OPT_PREFIX, (0,), "New Router Prefix Information"),
    OrderSlot(P.OPT_IPV4_ADDR, (P.ADDR_NCOA,), "New CoA"),
)
OPTION_ORDER = {"prrtadv": (PRRTADV_OPTION_ORDER, R.PRRTADV_OPTION_ORDER)}


# --- Flags that depend on the Code (RFC 4988 5.5) ------------------------------

# message key -> Code -> ((flag name, rule), ...): HI Code 1 (reactive):
# S MUST be 0, U SHOULD be 0.
CODE_FLAG_RULES = {"hi": {P.HI_CODE_REACTIVE: (
    ("s", R.HI_REACTIVE_S_FLAG), ("u", R.HI_REACTIVE_U_FLAG))}}


# --- Limits --------------------------------------------------------------------

# RFC 4988 5.1: the FBU Lifetime MUST NOT exceed 10 seconds.  FBAck's
# Lifetime is the granted one, checked against its FBU (fback-lifetime-exceeds-request) instead.
LIFETIME_LIMIT = {"fbu": (P.LIFETIME_MAX, R.FBU_LIFETIME_OVER_LIMIT)}

# decision D3: the link-layer address length setting.  At least one octet;
# at most what the largest LLA option holds (Length 255 in 8-octet units
# less Type, Length and Option-Code).  The decode and fmip-lint --lla-length
# options, the Scapy layers and the Wireshark preference all use it.
LLA_LENGTH_MIN = 1
LLA_LENGTH_MAX = 255 * P.OPTION_UNIT - 3


def lla_length_problem(n) -> str | None:
    """Why n is not a usable link-layer address length, or None."""
    if isinstance(n, bool) or not isinstance(n, int) \
            or not LLA_LENGTH_MIN <= n <= LLA_LENGTH_MAX:
        return (f"the link-layer address length must be {LLA_LENGTH_MIN} to "
                f"{LLA_LENGTH_MAX} octets, not {n!r}")
    return None


# --- Exemptions ------------------------------------------------------------------

# mip-extension-unknown: Mobile IPv4 extension types 0-127 may not be skipped (RFC 3344
# 1.9); the authentication extensions of RFC 3344 3.5 (32-34) and RFC 4721
# (36) are known to every Mobile IPv4 receiver and are not reported.
KNOWN_MIP_EXTENSIONS = frozenset(P.MIP_EXTENSION_NAMES)

# hack-ncoa-option-missing (RFC 4988 5.6): a HAck answering an HI with S set MUST carry the
# NCoA option -- except with the codes by which NAR says it supplies none:
# 4 "NCoA not assigned" and the refusals (128 and above).
HACK_NCOA_WHEN_HI_S = _need(P.OPT_IPV4_ADDR, (P.ADDR_NCOA,),
                            "New IPv4 Address option (NCoA)",
                            R.HACK_NCOA_OPTION_MISSING)
HACK_CODES_WITHOUT_NCOA = frozenset(
    {4} | {c for c in P.HACK_CODES if c >= 128})


# --- Request/reply pairs (decisions D9, D11) ------------------------------------

class Pair(Frozen):
    """A request/reply pair and how its messages are matched.

    A key part is a message field name, "src" / "dst" (the IP source or
    destination) or "routers" (the two IP addresses, in either order).  The
    last part of a key is the identifier the reply copies.  The scope
    (decision D11) is what a reply and the requests it may answer have in
    common without the identifier: a reply whose key matches no request
    while a request of its scope is outstanding is an identifier mismatch
    (mismatch_rule, an error naming that request); with no request of its
    scope seen at all it is an observation (orphan_rule).  A scope of
    "routers" (decision D9: the two routers' addresses) also catches a HAck
    sent back the wrong way.  distinct_by: the New IPv4 Address Option-Code
    that tells distinct requests under one key apart (decision D17); None:
    a request seen again under its key is the same request.
    """
    request: str
    response: str
    request_key: tuple[str, ...]
    response_key: tuple[str, ...]
    request_scope: tuple[str, ...]
    response_scope: tuple[str, ...]
    distinct_by: int | None
    orphan_rule: str
    mismatch_rule: str
    unanswered_rule: str
    what: str          # the scope, in words, for messages


PAIRS = (
    Pair("fbu", "fback", ("homeaddr", "ident"), ("homeaddr", "ident"),
         ("homeaddr",), ("homeaddr",), None,
         R.FBACK_WITHOUT_FBU, R.FBACK_IDENTIFICATION_MISMATCH,
         R.FBU_UNACKNOWLEDGED, "Home Address"),
    # HI goes PAR -> NAR, HAck NAR -> PAR (RFC 4988 5.6: addresses copied).
    Pair("hi", "hack", ("src", "dst", "identifier"),
         ("dst", "src", "identifier"), ("routers",), ("routers",),
         P.ADDR_PCOA,
         R.HACK_WITHOUT_HI, R.HACK_IDENTIFIER_MISMATCH, R.HI_UNANSWERED,
         "routers"),
    # RtSolPr goes MN -> PAR, PrRtAdv PAR -> MN.
    Pair("rtsolpr", "prrtadv", ("src", "identifier"), ("dst", "identifier"),
         ("src",), ("dst",), None,
         R.PRRTADV_WITHOUT_RTSOLPR, R.PRRTADV_IDENTIFIER_MISMATCH,
         R.RTSOLPR_UNANSWERED, "MN"),
)
PAIR_OF = {k: p for p in PAIRS for k in (p.request, p.response)}


# --- Correlation: what matching keeps, and for how long (decisions D9, D13) --

# State is forgotten this long (capture seconds) after the last message that
# touched it.  Handover signalling is over within a few FBU Lifetimes (at
# most 10 s each, RFC 4988 5.1); state is not dropped at the first FBAck,
# because its copies (decision D8) and the FBU sent again from the new link
# (RFC 4988 4) still need it.
EXPIRY_SECONDS = 60.0
SWEEP_INTERVAL = 1.0          # capture seconds between expiry sweeps
MAX_ENTRIES = 65536           # per table: MNs, HIs, RtSolPrs, router pairs
REQUESTS_PER_KEY = 8          # distinct requests held under one key (D17)
FBUS_PER_MN = 8               # FBUs (and NARs) kept per MN, newest first
ADDRESSES_PER_MN = 16         # NAR addresses and NCoAs kept per MN
SHOWN_IN_MESSAGE = 3          # addresses a finding names before "N more"

# decision D13: the mode of a handover follows the HI's Code (PAR says how
# the FBU reached it); without an HI, the role of its first FBU (D7).
HANDOVER_MODE_OF_HI_CODE = {P.HI_CODE_PREDICTIVE: "predictive",
                            P.HI_CODE_REACTIVE: "reactive"}
HANDOVER_MODES = ("predictive", "reactive", "unknown")

# RFC 4988 7: IPsec ESP SHOULD protect HI and HAck; reported once per
# router pair (decision D10: info).
IPSEC_RECOMMENDED = {"hi": R.HI_HACK_WITHOUT_IPSEC,
                     "hack": R.HI_HACK_WITHOUT_IPSEC}
