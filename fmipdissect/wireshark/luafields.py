"""The Lua dissector's fields that no layout table of fmipdissect/spec
holds (data, links, verdicts, padding, per-option addresses), and the
description of every field (Wireshark's "blurb": the field's RFC section
and the checker rules that judge it, from fmipdissect/spec)."""

from __future__ import annotations

from ..spec import constraints as K
from ..spec import protocol as P
from ..spec import rules as R

LLA_OTHER_FIELD = "fmip.opt.lla.bytes"

# Wireshark's checksum status values (epan/proto.h PROTO_CHECKSUM_E_*,
# proto_checksum_vals), so that `fmip.checksum.status == "Bad"` reads as
# `icmp.checksum.status == "Bad"` does.
CHECKSUM_STATUS_NAMES = ((0, "Bad"), (1, "Good"), (2, "Unverified"))
# decision D2 verdict (fmipdissect/wire/checksum.py's words) -> status
CHECKSUM_STATUS_OF_VERDICT = {"ok": 1, "plain-sum": 0, "bad": 0,
                              "unverified": 2}
# decision D2: shown under the checksum when Wireshark's ICMP dissector
# (the plain sum over the Reserved bits as sent) says the opposite
CHECKSUM_D2_NOTE = ("ICMP's own checksum check says %s, this one %s: RFC "
                    "4988 5.3-5.6 compute the checksum with the Reserved "
                    "bits zeroed, ICMP's check sums them as sent (decision "
                    "D2)")

# decision D3: the padding after a link-layer address, RFC 2460 4.2's
# options as RFC 4988 6.1 uses them
PAD_NAMES = {P.PAD1: "Pad1", P.PADN: "PadN"}

# One filter field per address kind of the New IPv4 Address option (RFC
# 4988 6.2), so that "an NCoA option" is one field, not a combination of
# fields that may come from two different options.
ADDRESS_FIELDS = {P.ADDR_PCOA: "fmip.opt.pcoa", P.ADDR_NCOA: "fmip.opt.ncoa",
                  P.ADDR_NAR_IP: "fmip.opt.nar"}

# (display-filter name, label, ProtoField constructor, base, description)
EXTRA_FIELDS = (
    ("fmip.opt", "Option", "none", None,
     "An option of an ICMP FMIPv4 message (RFC 4988 6)"),
    ("fmip.ext", "Mobile IPv4 extension", "none", None,
     "An extension of FBU or FBAck (RFC 3344 1.9, decisions D4 and D5)"),
    ("fmip.auth", "MN-PAR Authentication Extension", "none", None,
     "The Generalized Mobile IP Authentication Extension (RFC 4721 5; "
     "RFC 4988 5.1 and 5.2 require subtype MN-PAR)"),
    ("fmip.opt.padding", "Padding", "bytes", "base.NONE",
     "Octets after the link-layer address: nothing, Pad1 or one PadN "
     "(RFC 4988 6.1, decision D3)"),
    ("fmip.opt.pad", "Padding option", "uint8", "base.DEC",
     "Pad1 (0) or PadN (1), RFC 2460 4.2 (decision D3)"),
    ("fmip.opt.padn_len", "PadN length", "uint8", "base.DEC",
     "Octets of zeros after the PadN header (RFC 2460 4.2)"),
    (LLA_OTHER_FIELD, "Link-Layer Address", "bytes", "base.COLON",
     "A link-layer address of a length other than 6 (the fmip.lla_length "
     "preference, decision D3)"),
    ("fmip.opt.data", "Option data", "bytes", "base.NONE",
     "Octets of an option not understood or not framed (RFC 4988 6)"),
    ("fmip.auth.authenticator", "Authenticator", "bytes", "base.NONE",
     "The authenticator of the MN-PAR Authentication Extension (RFC 4721 5)"),
    ("fmip.ext.type", "Extension type", "uint8", "base.DEC",
     "Type of a Mobile IPv4 extension (RFC 3344 1.9)"),
    ("fmip.ext.len", "Extension length", "uint8", "base.DEC",
     "Length of a Mobile IPv4 extension in octets (RFC 3344 1.9)"),
    ("fmip.ext.data", "Extension data", "bytes", "base.NONE",
     "Octets of a Mobile IPv4 extension (RFC 3344 1.9)"),
    ("fmip.checksum.expected", "Checksum expected (RFC 4988, Reserved "
     "zeroed)", "uint16", "base.HEX",
     "The ICMP checksum with Checksum and Reserved zeroed (RFC 4988 5.3, "
     "decision D2)"),
    ("fmip.checksum.status", "Checksum Status", "uint8", "base.DEC",
     "Good, Bad or Unverified, as Wireshark's checksum status fields "
     f"(decision D2; {R.ICMP_CHECKSUM_BAD}, {R.ICMP_CHECKSUM_PLAIN_SUM})"),
    ("fmip.checksum.verdict", "Checksum verdict (decision D2)", "string",
     "base.NONE",
     "ok, plain-sum or bad: the checker's word for the checksum "
     f"(decision D2; {R.ICMP_CHECKSUM_BAD}, {R.ICMP_CHECKSUM_PLAIN_SUM})"),
    ("fmip.ident.time", "Identification as NTP time (decision D6)",
     "absolute_time", "base.UTC",
     "The Identification's high 32 bits as an NTP time, when plausible "
     "(decision D6)"),
    ("fmip.response_in", "Response in frame", "framenum", "base.NONE",
     "The frame of the reply to this request (decision D9)"),
    ("fmip.response_to", "Response to request in frame", "framenum",
     "base.NONE", "The frame of the request this reply answers "
     "(decision D9)"),
) + tuple(
    (field, P.IPV4_ADDR_CODES[code], "ipv4", None,
     f"The address of a New IPv4 Address option with Option-Code {code} "
     f"({P.IPV4_ADDR_CODES[code]}, RFC 4988 6.2)")
    for code, field in ADDRESS_FIELDS.items())

RESPONSE_TIME_DESCRIPTION = ("Time from the request to this reply "
                             "(decision D9)")


def _add(out: dict, key: str, label: str, where: str,
         rule_id: str | None = None) -> None:
    """Record that field `key` (labelled `label`) is defined at `where`
    and judged by rule `rule_id`."""
    d = out.setdefault(key, {"label": label, "where": [], "rules": []})
    if where and where not in d["where"]:
        d["where"].append(where)
    if rule_id:
        words = f"{rule_id} {R.RULES_BY_ID[rule_id].name}"
        if words not in d["rules"]:
            d["rules"].append(words)


def _layout_descriptions(out: dict, fields, where: str, key_of,
                         prefix_of) -> None:
    for f in fields:
        if not f.wsfield:
            continue
        _add(out, key_of(f), f.label, where, f.reserved_rule)
        for b in f.flags:
            _add(out, f"{prefix_of[f.wsfield]}.{b.name}", b.label, where,
                 b.rule)
        if f.flags and f.reserved_mask:
            _add(out, f"{prefix_of[f.wsfield]}.reserved", "Reserved bits",
                 where, f.reserved_rule)


def descriptions(key_of, prefix_of) -> dict[str, str]:
    """Lua key of a ProtoField -> its description: where the RFC defines
    the field and which checker rules judge it (fmipdissect/spec), e.g.
    "Lifetime of FBU (RFC 4988 5.1), FBAck (RFC 4988 5.2); checked by"
    and the Lifetime rule's id and name."""
    out: dict[str, dict] = {}
    for m in P.MESSAGES:
        _layout_descriptions(out, m.fields, f"{m.abbrev} (RFC 4988 "
                             f"{m.section})", key_of, prefix_of)
    for key, (_, rule) in K.LIFETIME_LIMIT.items():
        msg = next(m for m in P.MESSAGES if m.key == key)
        f = msg.field("lifetime")
        _add(out, key_of(f), f.label, "", rule)
    for o in P.OPTIONS.values():
        _layout_descriptions(out, o.fields, f"the {o.name} option (RFC "
                             f"4988 {o.section})", key_of, prefix_of)
    _layout_descriptions(out, P.AUTH_EXTENSION_FIELDS, "the MN-PAR "
                         "Authentication Extension (RFC 4721 5)", key_of,
                         prefix_of)
    text = {}
    for key, d in out.items():
        text[key] = f"{d['label']} of {', '.join(d['where'])}" + (
            f"; checked by {', '.join(d['rules'])}" if d["rules"] else "")
    for abbr, _, _, _, desc in EXTRA_FIELDS:
        text[abbr] = desc
    text["fmip.response_time"] = RESPONSE_TIME_DESCRIPTION
    return text


# --- Colouring rules (`fmipdissect lua --install` / `--uninstall`) --------

COLOUR_RULE_PREFIX = "FMIPv4 "
# (severity of decision D10, rule name, background, foreground): 16-bit
# RGB as Wireshark's colorfilters file writes them; errors as Wireshark's
# own "Bad TCP" (dark background, light red text), warnings yellow.
COLOURS = ((R.ERROR, "errors", (4718, 10030, 11796), (63479, 34695, 34695)),
           (R.WARNING, "warnings", (65535, 64764, 40092), (0, 0, 0)))


def colour_rules(rule_ids) -> list[str]:
    """Wireshark colorfilters lines: an FMIPv4 message with a finding of
    the dissector (rule_ids, the registry's rows marked wireshark) of each
    severity, by the experts' own filter fields (fmip.expert.fm101 ...)."""
    lines = []
    for severity, label, bg, fg in COLOURS:
        fields = [f"fmip.expert.{rid.lower()}" for rid in sorted(rule_ids)
                  if R.RULES_BY_ID[rid].severity == severity]
        rgb = "[{},{},{}]".format
        lines.append(f"@{COLOUR_RULE_PREFIX}{label}@{' || '.join(fields)}"
                     f"@{rgb(*bg)}{rgb(*fg)}")
    return lines


# --- Authenticator verification (decision D5) ------------------------------

def _isqrt_frac(n: int, root: int) -> int:
    """The first 32 bits of the fractional part of n ** (1/root), exactly
    (integer arithmetic): SHA-2's constants (RFC 6234 5.1, 6.1)."""
    scaled = n << (32 * root)
    lo, hi = 0, 1 << (32 + 8)
    while lo < hi:                      # the largest x with x**root <= scaled
        mid = (lo + hi + 1) // 2
        if mid ** root <= scaled:
            lo = mid
        else:
            hi = mid - 1
    return lo & 0xFFFFFFFF


def _primes(count: int) -> list[int]:
    found: list[int] = []
    n = 2
    while len(found) < count:
        if all(n % p for p in found):
            found.append(n)
        n += 1
    return found


def hmac_constants() -> dict:
    """The hash functions' constants for the Lua HMAC code (templates/
    hmac.lua.j2): RFC 1321 3.4 (K[i] = floor(abs(sin(i + 1)) * 2^32)),
    RFC 3174 6.1 and RFC 6234 6.1 initial values, RFC 6234 5.1 K."""
    import math
    return {
        "md5_k": [int(abs(math.sin(i + 1)) * 2 ** 32) for i in range(64)],
        "md5_s": [7, 12, 17, 22] * 4 + [5, 9, 14, 20] * 4
                 + [4, 11, 16, 23] * 4 + [6, 10, 15, 21] * 4,
        "md5_h": [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476],
        "sha1_h": [0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476,
                   0xC3D2E1F0],
        "sha256_k": [_isqrt_frac(p, 3) for p in _primes(64)],
        "sha256_h": [_isqrt_frac(p, 2) for p in _primes(8)],
    }
