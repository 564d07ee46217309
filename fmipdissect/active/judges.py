"""How each probe case judges its exchange (the table is cases.py).

A judge takes the prober and the exchange and returns None (pass) or why
the router failed, or raises Skip when the exchange gives nothing to judge.
"""

from __future__ import annotations

from ..spec import protocol as P
from ..wire.checksum import CHECKSUM_OK
from .exchange import reply
from .exchanges import REQUESTED_LIFETIME, hack, prrtadv
from .roles import REJECT, addr_option, lla_option, mac_text, verify_auth


class Skip(Exception):
    """Nothing to judge; the message says why."""


# --- helpers ---------------------------------------------------------------

def _need(found, what):
    if found[1] is None:
        raise Skip(f"no {what} to judge")
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
    if (found[1].code or 0) >= REJECT:
        return f"{what} Code {found[1].code}: not accepted"
    return None


def silent(x, key, what):
    """None unless a reply with the request's identifier came."""
    for seen, msg in x.received(key):
        if msg.identifier == x.ctx["identifier"]:
            return f"{what} answered although the checksum is wrong"
    return None


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
        raise Skip(f"PrRtAdv Code {msg.code}")
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
        return f"no HI to NAR {pr.cfg.peer} within the timeout"
    if msg.code != code:
        return f"HI Code {msg.code}, not {code} for {why}"
    return None


def hi_predictive(pr, x):
    return _hi_code(pr, x, pr.cfg.mn, P.HI_CODE_PREDICTIVE,
                    "an FBU from the PCoA")


def hi_options(pr, x):
    _, msg = _need(_hi_for(pr, x, pr.cfg.mn), "HI")
    if lla_option(msg, (P.LLA_MN,)) is None:
        return "no MN's LLA option (Option-Code 2)"
    pcoa = addr_option(msg, P.ADDR_PCOA)
    if pcoa is None:
        return "no Previous CoA option (Option-Code 1)"
    if pcoa != pr.cfg.mn:
        return f"Previous CoA {pcoa}, the FBU's Home Address is {pr.cfg.mn}"
    return None


def hi_checksum(pr, x):
    return _checksum(_need(_hi_for(pr, x, pr.cfg.mn), "HI")[1], "HI")


def hi_reactive(pr, x):
    return _hi_code(pr, x, pr.cfg.other_mn, P.HI_CODE_REACTIVE,
                    "an FBU forwarded by NAR")


def hi_reactive_flags(pr, x):
    _, msg = _need(_hi_for(pr, x, pr.cfg.other_mn), "HI")
    if msg.code != P.HI_CODE_REACTIVE:
        raise Skip(f"HI Code {msg.code}")
    if (msg.flags or 0) & 0x80:
        return "S set (MUST be 0 with Code 1)"
    if (msg.flags or 0) & 0x40:
        return "U set (SHOULD be 0 with Code 1)"
    return None


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
    if (msg.code or 0) >= REJECT:
        raise Skip(f"FBAck Code {msg.code}")
    _, hi = _hi_for(pr, x, pr.cfg.mn)
    if hi is None or not (hi.flags or 0) & 0x80:
        raise Skip("PAR did not ask NAR for an NCoA (no HI with S set)")
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
    if msg is None or (msg.code or 0) >= REJECT:
        raise Skip("no accepted FBAck to the MN")
    if _fback(pr, x, dst=pr.cfg.peer)[1] is None:
        return f"no FBAck to NAR {pr.cfg.peer}"
    return None


def fback_lifetime(pr, x):
    _, msg = _need(_fback(pr, x), "FBAck")
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


# --- NAR judges ------------------------------------------------------------

def hack_accepted(pr, x):
    return _accepted(hack(pr, x), "HAck")


def hack_identifier(pr, x):
    _, msg = _need(hack(pr, x), "HAck")
    if msg.identifier != x.ctx["identifier"]:
        return f"Identifier {msg.identifier}, the HI had {x.ctx['identifier']}"
    return None


def hack_ncoa(pr, x):
    _, msg = _need(hack(pr, x), "HAck")
    if msg.code not in (0, 3):
        raise Skip(f"HAck Code {msg.code}")
    if addr_option(msg, P.ADDR_NCOA) is None:
        return (f"HAck Code {msg.code} without the New CoA option "
                f"(Option-Code 2)")
    return None


def hack_checksum(pr, x):
    return _checksum(_need(hack(pr, x), "HAck")[1], "HAck")


def ncoa_unique(pr, x):
    first = pr.results.get("nar-hi-s")
    ncoas = [addr_option(m, P.ADDR_NCOA) if m else None
             for m in (hack(pr, first)[1] if first else None, hack(pr, x)[1])]
    if None in ncoas:
        raise Skip("two NCoAs are needed")
    if ncoas[0] == ncoas[1]:
        return f"both MNs got NCoA {ncoas[0]}"
    return None


def _forwarded(pr, x):
    for seen, msg in x.received("fbu", dst=pr.cfg.peer):
        if msg.homeaddr == pr.cfg.mn and msg.ident == x.ctx["ident"]:
            return seen, msg
    return None, None


def fbu_forwarded(pr, x):
    seen, _ = _forwarded(pr, x)
    if seen is None:
        return f"no FBU forwarded to PAR {pr.cfg.peer} within the timeout"
    if seen.src != pr.cfg.router:
        return f"forwarded from {seen.src}, not from NAR's {pr.cfg.router}"
    return None


def fbu_unchanged(pr, x):
    seen, _ = _need(_forwarded(pr, x), "forwarded FBU")
    sent = x.ctx["fbus"][0]
    if seen.payload != sent:
        at = next((i for i, (a, b) in enumerate(zip(seen.payload, sent))
                   if a != b), min(len(sent), len(seen.payload)))
        return f"differs from the MN's FBU at octet {at}"
    return None


def fback_passed_on(pr, x):
    _need(_forwarded(pr, x), "forwarded FBU")
    seen, msg = _fback(pr, x)
    if msg is None:
        return "PAR's FBAck was not passed on to the MN"
    if seen.src != pr.cfg.router:
        return f"FBAck came from {seen.src}, not NAR"
    return None
