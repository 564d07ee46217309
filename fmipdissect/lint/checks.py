"""Per-message rules: one decoded FMIPv4 message (and its datagram) at a time.

check_message(msg, datagram, keys) returns a list of (rule_id, text) pairs.
Everything it compares against comes from spec/protocol.py (flags with their
rule ids, code tables) and the rulebook spec/constraints.py (required options
with their Option-Codes, the PrRtAdv option order, limits), compiled once
at import into small lookup tables, so a conformant message costs a few dict
and attribute look-ups and one empty list.

Framing problems (options and extensions, unknown Mobile IPv4 extensions)
are found by the decoder and passed on unchanged; when the decoder had to
stop parsing (a rule whose registry row has stops_parsing: header cut,
Length 0, past the end) the checks that depend on the options seen
(required options, order, authentication) are skipped, since what is
"missing" may only be unread.

Cross-packet rules live in session.py.
"""

from __future__ import annotations

from ..spec import constraints as K
from ..spec import protocol as P
from ..spec import rules as R
from ..spec.rules import say
from ..wire.checksum import (CHECKSUM_BAD, CHECKSUM_PLAIN_SUM,
                             authenticator_matches, fmip_icmp_checksum,
                             mn_par_authenticator)

# Decoder problems after which the element list is incomplete.
PARSING_STOPPED = frozenset(r.id for r in R.RULES if r.stops_parsing)

# --- Tables compiled from the rulebook (spec/constraints.py) ----------------

_KIND_OF_OPTION = {t: o.key for t, o in P.OPTIONS.items()}   # 21 -> "ipv4addr"


def _flag_groups(flags):
    """rule id -> (mask, names) for the flags a rule reports when set."""
    groups: dict[str, tuple[int, tuple]] = {}
    for flag in flags:
        if flag.rule:
            mask, bits = groups.get(flag.rule, (0, ()))
            groups[flag.rule] = (mask | flag.mask,
                                 bits + ((flag.mask, flag.letter),))
    return tuple((rule, mask, bits) for rule, (mask, bits) in groups.items())


_FBU_FLAG_RULES = _flag_groups(P.FBU_FLAGS)
_HI_FLAG_MASKS = {f.name: f.mask for f in P.HI_FLAGS}

# (message key, code) -> ((kind, Option-Codes, rule, label), ...); the
# Option-Codes decide (decision D12).
_REQUIRED: dict[tuple[str, int | None], tuple] = {}
for _key, _by_code in K.REQUIRED_OPTIONS.items():
    for _code in _by_code:
        _REQUIRED[(_key, _code)] = tuple(
            (_KIND_OF_OPTION[r.option], frozenset(r.codes), r.rule, r.label)
            for r in K.required_options(_key, _code))

# (option type, Option-Code) -> position in RFC 4988 5.4's order.
_ORDER_SLOTS, _ORDER_RULE = K.OPTION_ORDER["prrtadv"]
_PRRTADV_RANK: dict[int, dict[int, int]] = {}    # type -> code -> rank
for _rank, _slot in enumerate(_ORDER_SLOTS):
    for _c in _slot.codes:
        _PRRTADV_RANK.setdefault(_slot.option, {}).setdefault(_c, _rank)
_NO_RANKS: dict = {}

_REASON_MESSAGE_CODES, _LLA_REASON_CODES, _REASON_RULE = \
    K.REASON_CODES["prrtadv"]
_LLA_REASONS = frozenset(_LLA_REASON_CODES)
_MN_PAR = P.AUTH_SUBTYPE_MN_PAR
_NCOA_LENGTH_UNITS = P.OPTIONS[P.OPT_IPV4_ADDR].fixed_len // P.OPTION_UNIT
_LIFETIME_MAX, _LIFETIME_RULE = K.LIFETIME_LIMIT["fbu"]
_HI_CODE_FLAG_RULES = K.CODE_FLAG_RULES["hi"]
_TUPLES = K.PRRTADV_TUPLES
_SPI_RESERVED_MAX = P.SPI_RESERVED_MAX
_PREFIX_MAX = P.IPV4_PREFIX_MAX


# message key (every one) -> {code: requirements}, the code-independent
# ones (or none: ()) under None and under each of the message's own Codes
# that has none of its own: one lookup by code per message, no key tuple
# to build and hash, no second lookup under None for a known Code
_REQUIRED_BY_CODE: dict[str, dict] = {m.key: {} for m in P.MESSAGES}
for (_key, _code), _reqs in _REQUIRED.items():
    _REQUIRED_BY_CODE[_key][_code] = _reqs
for _m in P.MESSAGES:
    _by_code = _REQUIRED_BY_CODE[_m.key]
    _by_code.setdefault(None, ())
    for _c in _m.codes:
        _by_code.setdefault(_c, _by_code[None])


def _missing_options(msg, spec, out):
    by_code = _REQUIRED_BY_CODE[spec.key]
    reqs = by_code.get(msg.code)
    if reqs is None:
        reqs = by_code[None]
    # decision D12: only an option with a named Option-Code satisfies it.
    elements = msg.elements
    for kind, codes, rule, label in reqs:
        for e in elements:
            if e.kind == kind and (codes is None or e.code in codes):
                break
        else:
            with_code = (f" Code {msg.code}" if msg.code is not None
                         and len(spec.codes) > 1 else "")
            out.append((rule, say(rule, abbrev=spec.abbrev,
                                  with_code=with_code, label=label)))


def _mn_par_extensions(msg, spec, stopped, out):
    """RFC 4988 5.1, 5.2, 7, 8: the MN-PAR extension, present and of its subtype."""
    # one plain loop: the common case (an MN-PAR extension) returns early
    auth = False
    for e in msg.elements:
        if e.kind == "auth":
            if e.code == _MN_PAR:
                return
            auth = True
    if not auth:
        if not stopped:
            out.append((R.AUTH_EXTENSION_MISSING,
                        say(R.AUTH_EXTENSION_MISSING, abbrev=spec.abbrev)))
        return
    # auth extensions, none of subtype MN-PAR
    subtypes = ", ".join(str(e.code) for e in msg.elements if e.kind == "auth")
    out.append((R.AUTH_EXTENSION_WRONG_SUBTYPE,
                say(R.AUTH_EXTENSION_WRONG_SUBTYPE, abbrev=spec.abbrev,
                    subtypes=subtypes, mn_par=_MN_PAR)))


def _reserved_spis(msg, spec, out):
    """Decision D14: an MN-PAR SPI 0-255 is reserved (RFC 3344 1.6, 3.5)."""
    for e in msg.elements:
        if (e.kind == "auth" and e.code == _MN_PAR and e.spi is not None
                and e.spi <= _SPI_RESERVED_MAX):
            out.append((R.AUTH_SPI_RESERVED, say(
                R.AUTH_SPI_RESERVED, abbrev=spec.abbrev, spi=e.spi)))


def _authenticators(msg, spec, keys, out):
    """Decision D5: verify authenticators with the configured keys (not
    those of a reserved SPI, decision D14)."""
    for e in msg.elements:
        if (e.kind != "auth" or e.code != P.AUTH_SUBTYPE_MN_PAR
                or e.spi is None or e.spi <= _SPI_RESERVED_MAX):
            continue
        key = keys.get(e.spi)
        if key is None:
            out.append((R.AUTH_UNKNOWN_SPI, say(
                R.AUTH_UNKNOWN_SPI, abbrev=spec.abbrev, spi=e.spi,
                spi_hex=f"{e.spi:#x}")))
            continue
        covered = msg.raw[:e.offset + P.AUTH_HEADER_LEN]
        expected = mn_par_authenticator(covered, key.secret, key.algorithm)
        if not authenticator_matches(e.authenticator, expected):
            out.append((R.AUTH_AUTHENTICATOR_BAD, say(
                R.AUTH_AUTHENTICATOR_BAD, abbrev=spec.abbrev,
                authenticator=e.authenticator.hex(),
                algorithm=key.algorithm, spi=e.spi,
                expected=expected.hex())))


def _fbu(msg, spec, stopped, keys, out):
    lifetime = msg.lifetime
    if lifetime > _LIFETIME_MAX:
        out.append((_LIFETIME_RULE, say(
            _LIFETIME_RULE, lifetime=lifetime, limit=_LIFETIME_MAX,
            note=R.D1_NOTE if lifetime >= P.LIFETIME_HIGH_OCTET_FROM else "")))
    flags = msg.flags
    if flags:
        for rule, mask, bits in _FBU_FLAG_RULES:
            if flags & mask:
                set_names = [name for bit, name in bits if flags & bit]
                out.append((rule, say(
                    rule, abbrev=spec.abbrev,
                    plural="s" if len(set_names) > 1 else "",
                    names=" and ".join(set_names), flags=f"{flags:#04x}")))
    _mn_par_extensions(msg, spec, stopped, out)
    _reserved_spis(msg, spec, out)
    if keys is not None:
        _authenticators(msg, spec, keys, out)


def _fback(msg, spec, stopped, keys, out):
    if msg.code not in spec.codes:
        _unknown_code(msg, spec, out)
    if not stopped:
        _missing_options(msg, spec, out)
    _mn_par_extensions(msg, spec, stopped, out)
    _reserved_spis(msg, spec, out)
    # decision D4: the NCoA option's framing and place.
    auth_at = None
    for e in msg.elements:
        if e.kind == "auth" and e.code == P.AUTH_SUBTYPE_MN_PAR:
            auth_at = e.offset
            break
    for e in msg.elements:
        if e.kind == "ipv4addr" and e.code == P.ADDR_NCOA:
            if e.length != _NCOA_LENGTH_UNITS and e.length in \
                    P.NCOA_IN_FBACK_LENGTHS:
                out.append((R.FBACK_NCOA_OCTET_LENGTH, say(
                    R.FBACK_NCOA_OCTET_LENGTH, offset=e.offset,
                    length=e.length, units=_NCOA_LENGTH_UNITS)))
            if auth_at is not None and e.offset > auth_at:
                out.append((R.FBACK_NCOA_AFTER_AUTH, say(
                    R.FBACK_NCOA_AFTER_AUTH, offset=e.offset,
                    auth_offset=auth_at)))
    if keys is not None:
        _authenticators(msg, spec, keys, out)


def _icmp_common(msg, spec, out):
    verdict = msg.checksum_verdict
    if verdict == CHECKSUM_BAD:
        out.append((R.ICMP_CHECKSUM_BAD, say(
            R.ICMP_CHECKSUM_BAD, abbrev=spec.abbrev,
            checksum=f"{msg.checksum:#06x}",
            expected=f"{fmip_icmp_checksum(msg.raw):#06x}")))
    elif verdict == CHECKSUM_PLAIN_SUM:
        out.append((R.ICMP_CHECKSUM_PLAIN_SUM, say(
            R.ICMP_CHECKSUM_PLAIN_SUM, abbrev=spec.abbrev,
            checksum=f"{msg.checksum:#06x}",
            expected=f"{fmip_icmp_checksum(msg.raw):#06x}")))
    if msg.reserved:
        out.append((R.ICMP_RESERVED_NOT_ZERO, say(
            R.ICMP_RESERVED_NOT_ZERO, abbrev=spec.abbrev,
            reserved=f"{msg.reserved:#04x}")))
    if msg.code not in spec.codes:
        _unknown_code(msg, spec, out)
    for e in msg.elements:     # RFC 4988 6.3: an IPv4 prefix
        if e.kind == "prefix" and e.prefixlen is not None \
                and e.prefixlen > _PREFIX_MAX:
            out.append((R.PREFIX_LENGTH_OVER_32, say(
                R.PREFIX_LENGTH_OVER_32, offset=e.offset,
                prefixlen=e.prefixlen)))


def _unknown_code(msg, spec, out):
    out.append((R.UNKNOWN_CODE, say(
        R.UNKNOWN_CODE, abbrev=spec.abbrev, code=msg.code,
        section=spec.section, codes=", ".join(map(str, spec.codes)))))


def _rtsolpr(msg, spec, stopped, keys, out):
    _icmp_common(msg, spec, out)
    if not stopped:
        _missing_options(msg, spec, out)


def _prrtadv(msg, spec, stopped, keys, out):
    _icmp_common(msg, spec, out)
    code = msg.code
    if code in spec.unsolicited_codes and msg.identifier:
        rule = K.UNSOLICITED_IDENTIFIER_RULE["prrtadv"]
        out.append((rule, say(rule, code=code, identifier=msg.identifier)))
    if stopped:
        return
    _missing_options(msg, spec, out)
    _tuples(msg, spec, out)
    if code in _REASON_MESSAGE_CODES:
        for e in msg.elements:
            if e.kind == "lla" and e.code in _LLA_REASONS:
                break
        else:
            out.append((_REASON_RULE, say(
                _REASON_RULE, code=code,
                reasons=", ".join(map(str, _LLA_REASON_CODES)))))
    # RFC 4988 5.4 order; a New AP LLA (rank 0) starts the next tuple.
    previous = -1
    for e in msg.elements:
        rank = _PRRTADV_RANK.get(e.type, _NO_RANKS).get(e.code)
        if rank is None:
            continue
        if rank < previous and rank != 0:
            out.append((_ORDER_RULE, say(
                _ORDER_RULE, later=_ORDER_SLOTS[rank].label, offset=e.offset,
                earlier=_ORDER_SLOTS[previous].label)))
            return
        previous = rank


# decision D15's requirements per PrRtAdv Code as (kind, Option-Codes,
# requirement): satisfied_by's test, inline (every PrRtAdv, every tuple)
_TUPLE_REQUIRED = {
    code: tuple((_KIND_OF_OPTION[r.option], frozenset(r.codes), r)
                for r in reqs)
    for code, reqs in _TUPLES.required.items()}
_PREFIX_KIND = _KIND_OF_OPTION[P.OPT_PREFIX]


def _tuples(msg, spec, out):
    """Decision D15: each [AP-ID, AR-Info] tuple of a PrRtAdv on its own."""
    code = msg.code
    required = _TUPLE_REQUIRED.get(code, ())
    wants_prefix = code in _TUPLES.prefix_codes
    if not required and not wants_prefix:
        return
    tuples = K.prrtadv_tuples(msg.elements)
    many = len(tuples) > 1
    for offset, members in tuples:
        for kind, codes, r in required:
            for e in members:
                if e.kind == kind and e.code in codes:
                    break
            else:
                label = r.label + (f" in the tuple at offset {offset}"
                                   if many else "")
                out.append((r.rule, say(r.rule, abbrev=spec.abbrev,
                                        with_code=f" Code {code}",
                                        label=label)))
        if wants_prefix:
            for e in members:
                if e.kind == _PREFIX_KIND:
                    break
            else:
                out.append((_TUPLES.prefix_rule, say(
                    _TUPLES.prefix_rule, code=code, offset=offset)))


def _hi(msg, spec, stopped, keys, out):
    _icmp_common(msg, spec, out)
    flag_rules = _HI_CODE_FLAG_RULES.get(msg.code)
    if flag_rules and msg.flags:
        for name, rule in flag_rules:
            if msg.flags & _HI_FLAG_MASKS[name]:
                out.append((rule, say(rule, code=msg.code)))
    if not stopped:
        _missing_options(msg, spec, out)


def _hack(msg, spec, stopped, keys, out):
    _icmp_common(msg, spec, out)


_CHECKS = {
    "fbu": _fbu, "fback": _fback, "rtsolpr": _rtsolpr, "prrtadv": _prrtadv,
    "hi": _hi, "hack": _hack,
}


_SPECS = {m.key: (m, _CHECKS[m.key]) for m in P.MESSAGES}


def check_message(msg, datagram, keys=None):
    """[(rule_id, text), ...] for every per-message rule msg breaks.

    A list, not a generator: most messages break nothing, and appending to
    one list is cheaper than a chain of generators (the checker must keep
    up with 100,000 messages a second).  keys: SPI -> keys.Key, or None when
    no key file was given (authenticators are then not verified: decision D5).
    """
    out = []
    problems = msg.problems
    stopped = False
    spec, check = _SPECS[msg.key]
    if datagram.ttl == 0 and spec.transport == "icmp":
        # RFC 4988 5.3-5.6: "Time-to-Live: At least 1"
        out.append((R.ICMP_TTL_ZERO, say(R.ICMP_TTL_ZERO,
                                         abbrev=spec.abbrev)))
    if problems:
        for p in problems:
            out.append((p.rule, p.message))
            if p.rule in PARSING_STOPPED:
                stopped = True
        if len(msg.raw) < spec.header_len:
            return out   # the fixed header itself is cut: nothing to read
    check(msg, spec, stopped, keys, out)
    return out
