"""The Wireshark Lua dissector rendered from fmipdissect/spec.

Every field, code table, flag mask and reserved mask of lua/fmip.lua comes
from fmipdissect/spec/protocol.py; every required option (with its
Option-Codes), option order, exemption, limit and matching key from the
rulebook fmipdissect/spec/constraints.py; every expert info, with its
message template, from the rule registry fmipdissect/spec/rules.py; the
jinja2 template (templates/fmip.lua.j2) holds only the generic dissection
logic that walks those tables.  `fmipdissect lua` (plugin.py) prints the
dissector, writes it or installs it.
"""

from __future__ import annotations

import hashlib

import jinja2

from .. import __version__
from ..spec import constraints as K
from ..spec import protocol as P
from ..spec import rules as R
from . import luafields as LF
from .luafields import LLA_OTHER_FIELD

REGENERATE_COMMAND = "fmipdissect lua -o lua/fmip.lua"   # or `make lua`
PLUGIN_FILE_NAME = "fmip.lua"

# Display-filter prefix of the single-bit fields of each flags octet
# (stable display-filter names: fmip.flags.s ... fmip.flags.x for FBU, fmip.hi.s and
# fmip.hi.u for HI).
FLAG_BIT_PREFIX = {"fmip.flags": "fmip.flags", "fmip.hi.flags": "fmip.hi"}

# The rules the dissector reports: the registry's rows marked wireshark.
# Most come with the rulebook's tables; the template reports the others
# itself (body parsing, checksum, codes, the authentication extension), by
# the registry's constant names (ID.NAME in the template).
WIRESHARK_RULES = tuple(r.id for r in R.RULES if r.wireshark)

# Short labels of the Info column, in the spirit of Wireshark's own
# "Reg Request: HoA=... HA=... CoA=...".
INFO_LABELS = (("homeaddr", "HoA"), ("coa", "CoA"), ("ident", "ID"),
               ("identifier", "ID"), ("lifetime", "Lifetime"))

# The ProtoField constructor and display base of each Field.kind and size.
_UINT_CTOR = {1: "uint8", 2: "uint16", 3: "uint24", 4: "uint32", 8: "uint64"}


_LUA_KEYWORDS = frozenset(
    "and break do else elseif end false for function goto if in local nil "
    "not or repeat return then true until while".split())


def to_lua(value, indent: int = 0) -> str:
    """A Python value (dict, list/tuple, str, int, bool, None) as Lua source.

    Short tables stay on one line; longer ones get one entry per line so the
    generated file reads well and diffs well.
    """
    if value is None:
        return "nil"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        out = value.replace("\\", "\\\\").replace('"', '\\"')
        out = out.replace("\n", "\\n")
        return f'"{out}"'
    if isinstance(value, dict):
        items = []
        for k, v in value.items():
            key = k if isinstance(k, str) and k.isidentifier() \
                and k not in _LUA_KEYWORDS else f"[{to_lua(k)}]"
            items.append((key + " = ", v))
    elif isinstance(value, (list, tuple)):
        items = [("", v) for v in value]
    else:
        raise TypeError(f"no Lua form for {type(value).__name__}")
    flat = "{" + ", ".join(k + to_lua(v) for k, v in items) + "}"
    if len(flat) + indent <= 96 or not items:
        return flat
    pad = " " * (indent + 2)
    body = ",\n".join(pad + k + to_lua(v, indent + 2) for k, v in items)
    return "{\n" + body + ",\n" + " " * indent + "}"


# Units of the fields that have one (Wireshark's UNIT_STRING display).
FIELD_UNITS = {"fmip.lifetime": (" second", " seconds")}   # RFC 4988 5.1

# A flag bit shows as Wireshark's own flags do: "1... .... = S: Set".
FLAG_TEXT = ("Set", "Not set")

# The link-layer address of the LLA option (RFC 4988 6.1): a MAC address
# when it has the 6 octets of IEEE 802 (the default length, decision D3),
# else colon-separated octets under a second name.
LLA_MAC_LENGTH = 6



SHARED_WIDTH_FIELDS = {"fmip.opt.reserved"}



def field_key(f: P.Field) -> str | None:
    """The Lua table key of a field's ProtoField.  Usually its display-filter
    name; a name used with two widths (the 1-octet Reserved of option 21
    and the 4-octet one of option 22) has one ProtoField per width, so that
    each shows as many bits as it has."""
    if f.wsfield in SHARED_WIDTH_FIELDS:
        return f"{f.wsfield}/{8 * f.size}"
    return f.wsfield



class _ProtoFields:
    """Collects ProtoField declarations, one per Lua key (see field_key)."""

    def __init__(self):
        self.decls: dict[str, dict] = {}

    def add(self, abbr: str, label: str, ctor: str, base: str = "nil",
            valuestring: str = "nil", mask: int | None = None,
            key: str | None = None, bits: int | None = None):
        key = key or abbr
        if key in self.decls:
            old = self.decls[key]
            if old["ctor"] != ctor:
                # One display-filter name must keep one type across messages.
                if ctor.startswith("uint") and old["ctor"].startswith("uint"):
                    widest = max(ctor, old["ctor"], key=lambda c: int(c[4:]))
                    old["ctor"] = widest
                else:
                    raise ValueError(f"{abbr}: {old['ctor']} vs {ctor}")
            return
        args = [to_lua(abbr), to_lua(label)]
        if ctor.startswith("uint"):
            args += [base, valuestring, "nil" if mask is None else hex(mask)]
        elif ctor == "bool":
            args += [str(bits), to_lua(list(FLAG_TEXT)), hex(mask)]
        elif ctor in ("bytes", "string", "framenum", "absolute_time"):
            args += [base]
        self.decls[key] = {"abbr": abbr, "key": key, "ctor": ctor,
                           "args": args}

    def render(self, descriptions: dict[str, str]) -> list[dict]:
        """The declarations, each with its description (the last argument
        of every ProtoField constructor)."""
        out = []
        for d in self.decls.values():
            desc = descriptions.get(d.get("key", d["abbr"]))
            if not desc:
                raise ValueError(f"{d['abbr']}: no description")
            # framenum takes the integers' arguments: frametype, mask, desc
            args = d["args"] + (["nil", "nil"] if d["ctor"] == "framenum"
                                else [])
            # ctor may have widened after the arguments were recorded
            out.append({"abbr": d["abbr"], "key": d.get("key", d["abbr"]),
                        "ctor": d["ctor"],
                        "args": ", ".join(args + [to_lua(desc)])})
        return out


def _field_ctor(f: P.Field) -> tuple[str, str]:
    if f.kind == "ipv4":
        return "ipv4", "nil"
    if f.kind == "bytes":
        if f.wsfield == "fmip.opt.lla" and f.size == LLA_MAC_LENGTH:
            return "ether", "nil"
        return "bytes", "base.NONE"
    base = "base.DEC" if f.kind in ("uint", "type", "code", "subtype") \
        else "base.HEX"
    if f.wsfield in FIELD_UNITS:
        base += " + base.UNIT_STRING"
    return _UINT_CTOR[f.size], base


def _field_data(f: P.Field) -> dict:
    d = {"name": f.name, "offset": f.offset, "size": f.size, "kind": f.kind,
         "label": f.label, "pf": field_key(f)}
    if f.flags:
        prefix = FLAG_BIT_PREFIX[f.wsfield]
        d["flags"] = [{"name": b.name, "mask": b.mask, "label": b.label,
                       "letter": b.letter, "policy": b.policy,
                       "rule": b.rule, "pf": f"{prefix}.{b.name}"}
                      for b in f.flags]
        d["flag_mask"] = sum(b.mask for b in f.flags)
        if f.reserved_mask:
            d["reserved_pf"] = f"{prefix}.reserved"
    if f.reserved_mask:
        d["reserved_mask"] = f.reserved_mask
        d["reserved_rule"] = f.reserved_rule
    return d


def _requirements(reqs) -> list[dict]:
    # decision D12: the Option-Codes decide
    return [{"option": r.option, "codes": list(r.codes), "label": r.label,
             "rule": r.rule} for r in reqs]


def _option_order(m: P.MessageSpec) -> dict | None:
    """RFC 4988 5.4 option order of PrRtAdv: (type, Option-Code) -> rank."""
    if m.key not in K.OPTION_ORDER:
        return None
    slots, rule = K.OPTION_ORDER[m.key]
    ranks = {}
    for rank, slot in enumerate(slots):
        for code in slot.codes:
            ranks.setdefault(f"{slot.option}:{code}", rank + 1)   # 1-based
    return {"ranks": ranks, "labels": [slot.label for slot in slots],
            "rule": rule}


def _matching(m: P.MessageSpec) -> dict:
    """Decisions D9, D11: the message's matching key and its pair's rules."""
    pair = K.PAIR_OF[m.key]
    response = m.key == pair.response
    return {"match_key": list(pair.response_key if response
                              else pair.request_key),
            "match_scope": list(pair.response_scope if response
                                else pair.request_scope),
            # decision D17: what tells distinct requests of one key apart
            "distinct_option": pair.distinct_by,
            # only these reply Codes answer a request (PrRtAdv: solicited)
            "solicited_codes": (sorted(set(m.codes) - set(m.unsolicited_codes))
                                if m.unsolicited_codes else None),
            "reply_rules": _reply_rules(m),
            "orphan_rule": pair.orphan_rule if response else None,
            "mismatch_rule": pair.mismatch_rule if response else None,
            "unanswered_rule": None if response else pair.unanswered_rule,
            "scope": pair.what}


def _reply_rules(m: P.MessageSpec) -> dict | None:
    """RFC 4988 4, 5.2: the rules on a matched reply (lint/session.py):
    the HAck supplies an NCoA, the FBAck carries it on and names the PAR."""
    if m is P.HACK:
        return {"hack_ncoa": True}
    if m is P.FBACK:
        return {"home_agent": R.FBACK_HOME_AGENT_NOT_PAR,
                "ncoa_dropped": R.FBACK_NCOA_DROPPED,
                "ncoa_differs": R.FBACK_NCOA_DIFFERS}
    return None


def _valuestrings() -> dict[str, tuple[str, dict]]:
    """Display-filter field -> (Lua table name, value -> name)."""
    return {
        "fmip.type": ("VS_MIP_TYPE", {m.type: m.name for m in P.MESSAGES
                                      if m.transport == "mip"}),
        "fmip.subtype": ("VS_ICMP_SUBTYPE", {m.subtype: m.name
                                             for m in P.MESSAGES
                                             if m.transport == "icmp"}),
        "fmip.opt.type": ("VS_OPTION_TYPE", {o.type: o.name
                                             for o in P.OPTIONS.values()}),
        "fmip.auth.subtype": ("VS_AUTH_SUBTYPE", P.AUTH_SUBTYPES),
        "fmip.ext.type": ("VS_MIP_EXTENSION", P.MIP_EXTENSION_NAMES),
        "fmip.checksum.status": ("VS_CHECKSUM_STATUS",
                                 dict(LF.CHECKSUM_STATUS_NAMES)),
        "fmip.auth.type": ("VS_MIP_EXTENSION", P.MIP_EXTENSION_NAMES),
        "fmip.opt.pad": ("VS_PAD", LF.PAD_NAMES),
    }


def _add_layout_field(pfs: _ProtoFields, valuestrings: dict,
                      f: P.Field) -> None:
    """The ProtoField of a layout field, and of each of its flag bits."""
    if not f.wsfield:
        return   # ICMP Type stays the built-in icmp.type
    ctor, base = _field_ctor(f)
    vs = valuestrings.get(f.wsfield, (None,))[0] or "nil"
    if f.wsfield in FIELD_UNITS:
        vs = to_lua(list(FIELD_UNITS[f.wsfield]))
    pfs.add(f.wsfield, f.label, ctor, base, vs, key=field_key(f))
    for b in f.flags:
        pfs.add(f"{FLAG_BIT_PREFIX[f.wsfield]}.{b.name}", b.label,
                "bool", mask=b.mask, bits=8 * f.size)
    if f.flags and f.reserved_mask:
        pfs.add(f"{FLAG_BIT_PREFIX[f.wsfield]}.reserved", "Reserved bits",
                "uint8", "base.HEX", "nil", f.reserved_mask)


def _add_extra_fields(pfs: _ProtoFields, valuestrings: dict) -> None:
    for abbr, label, ctor, base, _ in LF.EXTRA_FIELDS:
        vs = valuestrings.get(abbr, (None,))[0] or "nil"
        pfs.add(abbr, label, ctor, base, vs)
    pfs.decls["fmip.response_time"] = {
        "abbr": "fmip.response_time", "ctor": "relative_time",
        "args": ['"fmip.response_time"', '"Response time"']}


def _tuples(m: P.MessageSpec) -> dict | None:
    """Decision D15: how a PrRtAdv's options group into tuples and what each
    tuple needs."""
    if m is not P.PRRTADV:
        return None
    t = K.PRRTADV_TUPLES
    return {"start_codes": list(t.start_codes),
            "required": {code: _requirements(reqs)
                         for code, reqs in t.required.items()},
            "prefix_codes": list(t.prefix_codes), "prefix_rule": t.prefix_rule,
            "prefix_option": P.OPT_PREFIX}


def _when_request_flag(m: P.MessageSpec) -> dict | None:
    """RFC 4988 5.6: answering an HI with S set, the HAck MUST carry the
    NCoA option, except with the codes that supply none."""
    if m is not P.HACK:
        return None
    return {"flag": "s",
            "exempt_codes": sorted(K.HACK_CODES_WITHOUT_NCOA),
            "requirements": _requirements((K.HACK_NCOA_WHEN_HI_S,))}


def _message_context(m: P.MessageSpec) -> dict:
    """One message type's layout, codes and rules, for the template."""
    # RFC 4988 5.5: with HI Code 1 (reactive) S MUST be 0, U SHOULD be 0.
    code_flag_rules = {code: dict(flags) for code, flags in
                       K.CODE_FLAG_RULES.get(m.key, {}).items()}
    required = {("any" if code is None else code): _requirements(reqs)
                for code, reqs in K.REQUIRED_OPTIONS.get(m.key, {}).items()}
    reason = K.REASON_CODES.get(m.key)
    lifetime = K.LIFETIME_LIMIT.get(m.key)
    return {
        "key": m.key, "abbrev": m.abbrev, "name": m.name,
        "section": m.section, "transport": m.transport, "type": m.type,
        "subtype": m.subtype, "header_len": m.header_len,
        "fields": [_field_data(f) for f in m.fields],
        "codes": m.codes or None, "body": m.body,
        "code_list": ", ".join(map(str, m.codes)),
        "multi_code": len(m.codes) > 1,
        "required": required, "auth_required": m.auth_required,
        "is_response": m.is_response, "request": m.request,
        "unsolicited_codes": list(m.unsolicited_codes),
        "unsolicited_rule": K.UNSOLICITED_IDENTIFIER_RULE.get(m.key),
        **_matching(m),
        "ipsec_rule": K.IPSEC_RECOMMENDED.get(m.key),
        "option_order": _option_order(m),
        "tuples": _tuples(m),
        "reason": ({"codes": list(reason[0]), "lla_codes": list(reason[1]),
                    "rule": reason[2]} if reason else None),
        "lifetime_rule": lifetime[1] if lifetime else None,
        "code_flag_rules": code_flag_rules,
        "when_request_flag": _when_request_flag(m),
        # decision D4: FBAck carries the NCoA option in its extension area.
        "ncoa_extension": m is P.FBACK,
        # decision D2: octets whose reserved bits are zeroed for the checksum
        "checksum_zero": {f.offset: f.reserved_mask for f in m.fields
                          if f.reserved_mask and f.size == 1
                          and m.transport == "icmp"},
    }


def _option_context(o) -> dict:
    return {"type": o.type, "key": o.key, "name": o.name,
            "section": o.section, "codes": o.codes,
            "fixed_len": o.fixed_len,
            "fields": [_field_data(f) for f in o.fields]}


def _message_rules(m: dict) -> set[str]:
    """The rule ids a message's context refers to."""
    used = set()
    for f in m["fields"]:
        used.update(b["rule"] for b in f.get("flags", ()) if b["rule"])
        if f.get("reserved_rule"):
            used.add(f["reserved_rule"])
    for reqs in m["required"].values():
        used.update(r["rule"] for r in reqs)
    if m["option_order"]:
        used.add(m["option_order"]["rule"])
    if m["reason"]:
        used.add(m["reason"]["rule"])
    if m["reply_rules"]:
        used.update(v for v in m["reply_rules"].values() if isinstance(v, str))
    if m["tuples"]:
        used.add(m["tuples"]["prefix_rule"])
        for reqs in m["tuples"]["required"].values():
            used.update(r["rule"] for r in reqs)
    for key in ("orphan_rule", "lifetime_rule", "unsolicited_rule",
                "unanswered_rule", "mismatch_rule", "ipsec_rule"):
        if m[key]:
            used.add(m[key])
    for flags in m["code_flag_rules"].values():
        used.update(flags.values())
    if m["when_request_flag"]:
        used.update(r["rule"] for r in m["when_request_flag"]["requirements"])
    return used


def _used_rules(messages: dict, options: dict) -> set[str]:
    """Every rule id the dissector reports (the rows marked wireshark),
    checked against the rules its tables name."""
    named = set()
    for m in messages.values():
        named |= _message_rules(m)
    for o in options.values():
        named.update(f["reserved_rule"] for f in o["fields"]
                     if f.get("reserved_rule"))
    used = set(WIRESHARK_RULES)
    if not named <= used:
        raise ValueError(f"rules the dissector's tables name but whose "
                         f"registry row is not marked wireshark: "
                         f"{sorted(named - used)}")
    return used


def _rules_context(used_rules: set[str]) -> dict:
    rules = {}
    for rid in sorted(used_rules):
        r = R.RULES_BY_ID[rid]
        rules[rid] = {"name": r.name, "severity": r.severity,
                      "group": r.group, "summary": r.summary,
                      "section": r.section, "message": r.message,
                      "variants": dict(r.variants) or None}
    return rules


# RFC 4721 5: the long-format extension's 16-bit Length field
_AUTH_LENGTH = next(f for f in P.AUTH_EXTENSION_FIELDS if f.name == "length")


def _numbers() -> dict:
    """The protocol's and the decisions' constants the Lua code uses."""
    return {
        "MIP_UDP_PORT": P.MIP_UDP_PORT,
        "ICMP_TYPE": P.ICMP_TYPE_EXPERIMENTAL_MOBILITY,
        "LIFETIME_MAX": P.LIFETIME_MAX,
        "DEFAULT_LLA_LENGTH": P.DEFAULT_LLA_LENGTH,
        "LLA_MAC_LENGTH": LLA_MAC_LENGTH,
        # decision D13: handovers for -z fmip,handovers
        "HANDOVER_EXPIRY_SECONDS": int(K.EXPIRY_SECONDS),
        "REQUESTS_PER_KEY": K.REQUESTS_PER_KEY,
        "HANDOVER_MODE_OF_HI_CODE": dict(K.HANDOVER_MODE_OF_HI_CODE),
        "FBACK_REJECTED_MIN": P.FBACK_CODE_REFUSED_MIN,
        "NETWORK_TRIGGER": P.PRRTADV_CODE_NETWORK_TRIGGER,
        "ADDR_PCOA": P.ADDR_PCOA,
        "HI_CODE_PREDICTIVE": P.HI_CODE_PREDICTIVE,
        "HI_CODE_REACTIVE": P.HI_CODE_REACTIVE,
        "LLA_LENGTH_MIN": K.LLA_LENGTH_MIN,
        "LLA_LENGTH_MAX": K.LLA_LENGTH_MAX,
        "OPTION_UNIT": P.OPTION_UNIT,
        "AUTH_EXT_TYPE": P.AUTH_EXT_TYPE,
        "AUTH_SUBTYPE_MN_PAR": P.AUTH_SUBTYPE_MN_PAR,
        "AUTH_HEADER_LEN": P.AUTH_HEADER_LEN,
        # RFC 4721 5: the long format's 16-bit Length, and where it ends
        "AUTH_LENGTH_AT": _AUTH_LENGTH.offset,
        "AUTH_HEAD": _AUTH_LENGTH.offset + _AUTH_LENGTH.size,
        "ICMP_SUBTYPE_OFFSET": P.ICMP_SUBTYPE_OFFSET,
        # packet-clipped's words without reading the IP header (RFC 791 3.1's
        # header without options, RFC 768's header)
        "IPV4_HEADER_MIN": 20, "UDP_HEADER": 8,
        "LIFETIME_HIGH_OCTET_FROM": P.LIFETIME_HIGH_OCTET_FROM,
        "SPI_RESERVED_MAX": P.SPI_RESERVED_MAX,
        "ADDR_NCOA": P.ADDR_NCOA,
        "FBACK_CODE_NCOA_SUPPLIED": P.FBACK_CODE_NCOA_SUPPLIED,
        "IPV4_PREFIX_MAX": P.IPV4_PREFIX_MAX,
        "PAD1": P.PAD1, "PADN": P.PADN,
        # decisions D5, D14: authenticator algorithms, reserved SPIs
        "AUTH_ALGORITHMS": dict(P.AUTH_ALGORITHMS),
        "DEFAULT_AUTH_ALGORITHM": P.DEFAULT_AUTH_ALGORITHM,
        "SPI_RESERVED_MAX": P.SPI_RESERVED_MAX,
        "LLA_WILDCARD": P.LLA_WILDCARD,
        "OPT_IPV4_ADDR": P.OPT_IPV4_ADDR,
        "SKIPPABLE_EXTENSION_MIN": P.SKIPPABLE_EXTENSION_MIN,
        # decision D6: the plausible range (decode/output.py uses it too)
        "NTP_UNIX_OFFSET": P.NTP_UNIX_OFFSET,
        "NTP_PLAUSIBLE_FROM": P.NTP_PLAUSIBLE_FROM,
        "NTP_ERA0_END": P.NTP_ERA0_END,
    }


def build_context() -> dict:
    """Everything the template needs, derived from protocol.py and rules.py."""
    pfs = _ProtoFields()
    valuestrings = _valuestrings()
    messages = {}
    for m in P.MESSAGES:
        for f in m.fields:
            _add_layout_field(pfs, valuestrings, f)
        messages[m.key] = _message_context(m)
    options = {}
    for o in P.OPTIONS.values():
        for f in o.fields:
            _add_layout_field(pfs, valuestrings, f)
        options[o.type] = _option_context(o)
    for f in P.AUTH_EXTENSION_FIELDS:
        _add_layout_field(pfs, valuestrings, f)
    _add_extra_fields(pfs, valuestrings)
    used_rules = _used_rules(messages, options)
    return {
        "regenerate": REGENERATE_COMMAND,
        "protofields": pfs.render(LF.descriptions(field_key,
                                                  FLAG_BIT_PREFIX)),
        "messages": messages,
        "options": options,
        "rules": _rules_context(used_rules),
        "ids": {R.constant_name(R.RULES_BY_ID[rid]): rid
                for rid in sorted(used_rules)},
        "valuestrings": {name: table for name, table in valuestrings.values()},
        "info_labels": [list(p) for p in INFO_LABELS],
        "d1_note": R.D1_NOTE,
        "checksum_status": LF.CHECKSUM_STATUS_OF_VERDICT,
        "checksum_d2_note": LF.CHECKSUM_D2_NOTE,
        "address_fields": dict(LF.ADDRESS_FIELDS),
        "hmac": LF.hmac_constants(),
        "at_capture_end": R.AT_CAPTURE_END,
        "numbers": _numbers(),
        "lla_type": P.OPT_LLA,
        "lla_other_field": LLA_OTHER_FIELD,
        "ntp_field": "ident",   # decision D6: Identification, often NTP time
        "option_header": {f.name: f.wsfield
                          for f in P.OPTIONS[P.OPT_LLA].fields
                          if f.name in ("type", "length")},
        "auth_fields": [_field_data(f) for f in P.AUTH_EXTENSION_FIELDS],
        "long_format_extensions": sorted(P.LONG_FORMAT_EXTENSIONS),
        "known_extensions": sorted(K.KNOWN_MIP_EXTENSIONS),
        "ncoa_in_fback_lengths": list(P.NCOA_IN_FBACK_LENGTHS),
        "fback_ncoa": {"option": P.OPT_IPV4_ADDR, "code": P.ADDR_NCOA,
                       "octet_length": P.NCOA_IN_FBACK_LENGTHS[-1],
                       "octet_rule": R.FBACK_NCOA_OCTET_LENGTH,
                       "after_auth_rule": R.FBACK_NCOA_AFTER_AUTH},
    }


_VERSION_PLACEHOLDER = "@PLUGIN_VERSION@"


def render() -> str:
    """The dissector's text.  Its version (shown when two copies meet) is
    the package version and a digest of the rest of the text, so two copies
    have the same version exactly when they have the same content."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("fmipdissect.wireshark", "templates"),
        undefined=jinja2.StrictUndefined, keep_trailing_newline=True,
        trim_blocks=True, lstrip_blocks=True)
    env.filters["lua"] = to_lua
    text = env.get_template("fmip.lua.j2").render(
        version=_VERSION_PLACEHOLDER, **build_context())
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]
    return text.replace(_VERSION_PLACEHOLDER, f"{__version__}+{digest}")


# --- Installation ------------------------------------------------------------
