"""How each probe case judges its exchange (the table is cases.py).

A judge takes the prober and the exchange and returns None (its check
passed) or why the router failed it.  It raises Inconclusive when the
exchange gives nothing to judge (usually: an earlier case of the exchange
failed, so one broken promise fails one case), NotApplicable when the
router's answer shows the case does not apply, and Declined when the router
refused by policy (Code 129 or 130, RFC 4988 5.2, 5.6), which the profile
may allow (profile.py).
"""

from __future__ import annotations

from ..spec import constraints as K
from ..spec import protocol as P
from ..wire.checksum import CHECKSUM_OK
from .exchange import reply
from .exchanges import REQUESTED_LIFETIME, hack, prrtadv
from .profile import POLICY_CODES
from .roles import REJECT, addr_option, lla_option, mac_text, verify_auth


class Inconclusive(Exception):
    """Nothing to judge; the message says why."""


class NotApplicable(Exception):
    """The case does not apply to this router; the message says why."""


class Declined(Exception):
    """The router refused by policy (Code 129/130).  final: the case asks
    whether the request is answered, and a refusal answers it."""

    def __init__(self, text: str, final: bool = False):
        super().__init__(text)
        self.final = final


def declined(msg, what: str, final: bool = False) -> None:
    """Raise Declined when msg refuses by policy (RFC 4988 5.2, 5.6)."""
    if msg is not None and msg.code in POLICY_CODES:
        raise Declined(f"{what} Code {msg.code}: refused by policy", final)


# --- helpers ---------------------------------------------------------------

def _need(found, what):
    if found[1] is None:
        raise Inconclusive(f"no {what} to judge")
    return found


def _fback(pr, x, dst=None, homeaddr=None):
    return reply(x, "fback", "ident", x.ctx["ident"], pr.used_idents,
                 dst=dst or pr.cfg.mn, homeaddr=homeaddr or pr.cfg.mn)


def _hi_for(pr, x, pcoa):
    for seen, msg in x.received("hi", dst=pr.cfg.peer):
        if addr_option(msg, P.ADDR_PCOA) in (pcoa, None):
            return seen, msg
    return None, None


def _checksum(msg, what):
    if msg.checksum_verdict != CHECKSUM_OK:
        return (f"{what} checksum {msg.checksum:#06x} is "
                f"{msg.checksum_verdict}"
                f" (decision D2: Checksum and Reserved zeroed)")
    return None


def _accepted(found, what):
    if found[1] is None:
        return f"no {what} within the timeout"
    declined(found[1], what, final=True)
    if (found[1].code or 0) >= REJECT:
        return f"{what} Code {found[1].code}: not accepted"
    return None


def silent(x, key, what):
    """None unless a reply with the request's identifier came."""
    for seen, msg in x.received(key):
        if msg.identifier == x.ctx["identifier"]:
            return f"{what} answered although the checksum is wrong"
    return None


def silent_prrtadv(pr, x):
    return silent(x, "prrtadv", "PrRtAdv")


def silent_hack(pr, x):
    return silent(x, "hack", "HAck")


def _hi_needed(pr, x, pcoa):
    """PAR's HI for pcoa; Declined when PAR refused the FBU by policy
    instead of sending one, Inconclusive when there is none."""
    found = _hi_for(pr, x, pcoa)
    if found[1] is None:
        declined(_fback(pr, x, dst=_fback_dst(pr, pcoa), homeaddr=pcoa)[1],
                 "FBAck")
        raise Inconclusive("no HI to judge")
    return found


def _fback_dst(pr, pcoa):
    return pr.cfg.mn if pcoa == pr.cfg.mn else pr.cfg.peer


# --- PAR judges ------------------------------------------------------------

def not_accepted(pr, x):
    for seen, msg in x.received("fback", homeaddr=pr.cfg.mn):
        if msg.ident == x.ctx["ident"] and (msg.code or 0) < REJECT:
            return f"FBAck Code {msg.code}: PAR accepted the FBU"
    if _hi_for(pr, x, pr.cfg.mn)[1] is not None:
        return "PAR sent HI for it"
    return None


def prrtadv_code0(pr, x):
    found = prrtadv(pr, x)
    if found[1] is None:
        return "no PrRtAdv within the timeout"
    if found[1].code != 0:
        return f"PrRtAdv Code {found[1].code}, not 0"
    return None


def prrtadv_identifier(pr, x):
    _, msg = _need(prrtadv(pr, x), "PrRtAdv")
    sent = x.ctx["identifier"]
    if msg.identifier != sent:
        return f"Identifier {msg.identifier}, the RtSolPr had {sent}"
    return None


def _tuples(msg):
    """(New AP LLA, NAR's IP address) of each [AP-ID, AR-Info] tuple."""
    out, ap = [], None
    for e in msg.elements:
        if e.kind == "lla" and e.code == P.LLA_NEW_AP:
            ap = mac_text(e.lla or b"")
        elif e.kind == "ipv4addr" and e.code == P.ADDR_NAR_IP:
            out.append((ap, e.addr))
    return out


def prrtadv_tuple(pr, x):
    _, msg = _need(prrtadv(pr, x), "PrRtAdv")
    if msg.code != 0:
        raise Inconclusive(f"PrRtAdv Code {msg.code}")
    for codes, label in (((P.LLA_NEW_AP,), "New AP LLA (Option-Code 1)"),
                         ((P.LLA_NAR,), "New Router's LLA (Option-Code 3)")):
        if lla_option(msg, codes) is None:
            return f"no {label} option"
    nar = addr_option(msg, P.ADDR_NAR_IP)
    if nar is None:
        return "no New Router's IP Address option (Option-Code 3)"
    if (pr.cfg.ap, pr.cfg.peer) not in _tuples(msg):
        return (f"AP {pr.cfg.ap} maps to {nar}, not to the NAR "
                f"{pr.cfg.peer} (--peer)")
    return None


def prrtadv_checksum(pr, x):
    return _checksum(_need(prrtadv(pr, x), "PrRtAdv")[1], "PrRtAdv")


def wildcard(pr, x):
    _, msg = prrtadv(pr, x)
    if msg is None:
        return "no PrRtAdv within the timeout"
    if (pr.cfg.ap, pr.cfg.peer) not in _tuples(msg):
        return (f"no tuple for AP {pr.cfg.ap} with NAR {pr.cfg.peer} "
                f"(got {_tuples(msg) or 'none'})")
    return None


def unknown_ap(pr, x):
    _, msg = prrtadv(pr, x)
    if msg is None:
        return "no PrRtAdv within the timeout"
    if msg.code != 2:
        return f"PrRtAdv Code {msg.code}, not 2 (no new router information)"
    if lla_option(msg, P.LLA_REASON_CODES) is None:
        return "no LLA option with a reason Option-Code (5, 6 or 7)"
    return None


def _hi_code(pr, x, pcoa, code, why):
    """PAR's HI for pcoa came, with Code code (RFC 4988 5.5)."""
    _, msg = _hi_for(pr, x, pcoa)
    if msg is None:
        declined(_fback(pr, x, dst=_fback_dst(pr, pcoa), homeaddr=pcoa)[1],
                 "FBAck")
        return f"no HI to NAR {pr.cfg.peer} within the timeout"
    if msg.code != code:
        return f"HI Code {msg.code}, not {code} for {why}"
    return None


def hi_predictive(pr, x):
    return _hi_code(pr, x, pr.cfg.mn, P.HI_CODE_PREDICTIVE,
                    "an FBU from the PCoA")


def hi_options(pr, x):
    _, msg = _hi_needed(pr, x, pr.cfg.mn)
    if lla_option(msg, (P.LLA_MN,)) is None:
        return "no MN's LLA option (Option-Code 2)"
    pcoa = addr_option(msg, P.ADDR_PCOA)
    if pcoa is None:
        return "no Previous CoA option (Option-Code 1)"
    if pcoa != pr.cfg.mn:
        return f"Previous CoA {pcoa}, the FBU's Home Address is {pr.cfg.mn}"
    return None


def hi_checksum(pr, x):
    return _checksum(_hi_needed(pr, x, pr.cfg.mn)[1], "HI")


def hi_reactive(pr, x):
    return _hi_code(pr, x, pr.cfg.other_mn, P.HI_CODE_REACTIVE,
                    "an FBU forwarded by NAR")


def hi_reactive_flags(pr, x):
    _, msg = _hi_needed(pr, x, pr.cfg.other_mn)
    if msg.code != P.HI_CODE_REACTIVE:
        raise Inconclusive(f"HI Code {msg.code}")
    if (msg.flags or 0) & 0x80:
        return "S set (MUST be 0 with Code 1)"
    return None            # U set: the checker warns (a SHOULD, 5.5)


def fback_accepted(pr, x):
    return _accepted(_fback(pr, x), "FBAck")


def fback_ident(pr, x):
    _, msg = _need(_fback(pr, x), "FBAck")
    if msg.ident != x.ctx["ident"]:
        return (f"Identification {msg.ident:#018x}, the FBU had "
                f"{x.ctx['ident']:#018x}")
    return None


def fback_auth(pr, x):
    _, msg = _need(_fback(pr, x), "FBAck")
    return verify_auth(msg, pr.cfg.keys)


def fback_ncoa(pr, x):
    _, msg = _need(_fback(pr, x), "FBAck")
    declined(msg, "FBAck")
    if (msg.code or 0) >= REJECT:
        raise Inconclusive(f"FBAck Code {msg.code}")
    _, hi = _hi_for(pr, x, pr.cfg.mn)
    if hi is None or not (hi.flags or 0) & 0x80:
        raise Inconclusive("PAR did not ask NAR for an NCoA (no HI with S set)")
    ncoa = addr_option(msg, P.ADDR_NCOA)
    if ncoa is None:
        return (f"FBAck Code {msg.code} without the NCoA {pr.cfg.ncoa} that "
                f"NAR assigned")
    if ncoa != pr.cfg.ncoa or msg.code != P.FBACK_CODE_NCOA_SUPPLIED:
        return (f"FBAck Code {msg.code} with NCoA {ncoa}, NAR gave "
                f"{pr.cfg.ncoa}")
    return None


def fback_copy(pr, x):
    _, msg = _fback(pr, x)
    declined(msg, "FBAck")
    if msg is None or (msg.code or 0) >= REJECT:
        raise Inconclusive("no accepted FBAck to the MN")
    if _fback(pr, x, dst=pr.cfg.peer)[1] is None:
        return f"no FBAck to NAR {pr.cfg.peer}"
    return None


def fback_lifetime(pr, x):
    _, msg = _need(_fback(pr, x), "FBAck")
    declined(msg, "FBAck")
    if (msg.code or 0) >= REJECT:     # RFC 3344 3.4: a denial's Lifetime
        raise Inconclusive(f"FBAck Code {msg.code}: no Lifetime granted")
    if (msg.lifetime or 0) > REQUESTED_LIFETIME:
        return (f"grants {msg.lifetime} s, the FBU asked for "
                f"{REQUESTED_LIFETIME} s")
    return None


def fback_port(pr, x):
    seen, _ = _need(_fback(pr, x), "FBAck")
    if seen.dport != pr.cfg.sport:
        return f"to port {seen.dport}, the FBU came from port {pr.cfg.sport}"
    return None


def fback_forwarded(pr, x):
    return _accepted(_fback(pr, x, dst=pr.cfg.peer,
                            homeaddr=pr.cfg.other_mn), "FBAck to NAR")


def fback_retransmitted(pr, x):
    _, msg = _fback(pr, x)
    if msg is None:
        return "no FBAck for the retransmitted FBU within the timeout"
    return fback_ident(pr, x)


def _tuple_of(msg, ap):
    """The elements of the [AP-ID, AR-Info] tuple of ap, its New AP LLA
    option first (decision D15, read as the checker reads it)."""
    starts = {e.offset: e for e in msg.elements}
    for offset, members in K.prrtadv_tuples(msg.elements):
        if mac_text(starts[offset].lla or b"") == ap:
            return [starts[offset]] + members
    return []


def prrtadv_prefix(pr, x):
    _, msg = _need(prrtadv(pr, x), "PrRtAdv")
    if msg.code != 0:
        raise Inconclusive(f"PrRtAdv Code {msg.code}")
    tup = _tuple_of(msg, pr.cfg.ap)
    if not tup:
        raise Inconclusive(f"no tuple for AP {pr.cfg.ap}")
    if not any(e.kind == "prefix" for e in tup):
        return (f"the tuple of AP {pr.cfg.ap} has no New Router Prefix "
                f"Information option")
    return None


def prrtadv_source(pr, x):
    seen, _ = _need(prrtadv(pr, x), "PrRtAdv")
    if seen.src != pr.cfg.router:
        return (f"PrRtAdv from {seen.src}, not from PAR's {pr.cfg.router} "
                f"on the MN's link")
    if seen.dst != pr.cfg.mn:
        return f"PrRtAdv to {seen.dst}, the RtSolPr came from {pr.cfg.mn}"
    return None


def prrtadv_subset(pr, x):
    """RFC 4988 5.4: Code 3, information for a subset of the APs asked."""
    _, msg = prrtadv(pr, x)
    if msg is None:
        return "no PrRtAdv within the timeout"
    if msg.code != 3:
        return (f"PrRtAdv Code {msg.code}, not 3 (information for a subset "
                f"of the access points asked for)")
    if (pr.cfg.ap, pr.cfg.peer) not in _tuples(msg):
        return f"no tuple for AP {pr.cfg.ap} with NAR {pr.cfg.peer}"
    reason = _tuple_of(msg, pr.cfg.unknown_ap)
    if not reason or reason[0].code not in P.LLA_REASON_CODES:
        return (f"no LLA option with a reason (Option-Code 5-7) for AP "
                f"{pr.cfg.unknown_ap}")
    return None


def hi_source(pr, x):
    seen, _ = _hi_needed(pr, x, pr.cfg.mn)
    if seen.src != pr.cfg.router:
        return f"HI from {seen.src}, not from PAR's {pr.cfg.router}"
    return None


def replay_refused(pr, x):
    """RFC 4988 5.1: Identification as RFC 3344 uses it, which protects
    against replay: the FBU sent again unchanged must not be accepted."""
    first = x.ctx["first_answered"]
    if first is None:
        raise Inconclusive("no answer to the first FBU, so no replay to judge")
    after = x.ctx["replayed_at"]
    for seen, msg in x.received("fback", homeaddr=pr.cfg.mn):
        if seen.time >= after and msg.ident == x.ctx["ident"] \
                and (msg.code or 0) < REJECT:
            return f"FBAck Code {msg.code} to the replayed FBU"
    for seen, msg in x.received("hi", dst=pr.cfg.peer):
        if seen.time >= after:
            return "PAR sent HI for the replayed FBU"
    return None


def fback_lifetime_capped(pr, x):
    _, msg = _fback(pr, x)
    if msg is None or (msg.code or 0) >= REJECT:
        return None                   # refused, or left unanswered
    if (msg.lifetime or 0) > P.LIFETIME_MAX:
        return (f"FBAck Code {msg.code} grants {msg.lifetime} s, more than "
                f"the {P.LIFETIME_MAX} s a binding may last")
    return None


def not_accepted_after(pr, x):
    """The FBU must not be accepted: NAR refused it or never answered."""
    for seen, msg in x.received("fback", homeaddr=pr.cfg.mn):
        if msg.ident == x.ctx["ident"] and (msg.code or 0) < REJECT:
            return (f"FBAck Code {msg.code} although NAR "
                    f"{x.ctx['nar_did']}")
    return None


def fback_no_ncoa(pr, x):
    _, msg = _fback(pr, x)
    if msg is None:
        return "no FBAck within the timeout"
    declined(msg, "FBAck", final=True)
    if (msg.code or 0) >= REJECT:
        return f"FBAck Code {msg.code}: not accepted, though NAR accepted"
    ncoa = addr_option(msg, P.ADDR_NCOA)
    if msg.code == P.FBACK_CODE_NCOA_SUPPLIED or ncoa is not None:
        return (f"FBAck Code {msg.code} with NCoA {ncoa}; NAR supplied "
                f"none (HAck Code 4)")
    return None


def fback_home_agent(pr, x):
    _, msg = _need(_fback(pr, x), "FBAck")
    if msg.haaddr != pr.cfg.router:
        return (f"Home Agent field {msg.haaddr}, not PAR's address "
                f"{pr.cfg.router}")
    return None
