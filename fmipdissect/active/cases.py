"""The probe cases: one table row per case (docs/active-testing.md).

Each case names the exchange it judges (exchanges.py), the RFC 4988 section
it checks, what the prober sends and what passes, a judge, and the faults of
the emulators (faults.py) it catches.  A judge returns None (pass) or why
the router failed, and raises Skip when the exchange gives nothing to judge
(usually because an earlier case of the same exchange already failed: one
broken promise fails one case).
"""

from __future__ import annotations

from dataclasses import dataclass

from ..spec import protocol as P
from ..wire.checksum import CHECKSUM_OK
from .exchanges import hack, prrtadv, REQUESTED_LIFETIME
from .exchange import reply
from .roles import REJECT, addr_option, lla_option, mac_text, verify_auth

SILENT = ("no-reply", "delay")     # faults that leave a request unanswered


class Skip(Exception):
    """Nothing to judge; the message says why."""


@dataclass(frozen=True)
class Case:
    id: str
    target: str
    section: str
    title: str
    exchange: str
    sends: str
    passes: str
    judge: object
    catches: tuple[str, ...] = ()


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


def _answered(found, what):
    if found[1] is None:
        return f"no {what} within the timeout"
    return None


def _accepted(found, what):
    if found[1] is None:
        return f"no {what} within the timeout"
    if (found[1].code or 0) >= REJECT:
        return f"{what} Code {found[1].code}: not accepted"
    return None


def _silent(x, key, what):
    """None unless a reply with the request's identifier came."""
    for seen, msg in x.received(key):
        if msg.identifier == x.ctx["identifier"]:
            return f"{what} answered although the checksum is wrong"
    return None


# --- PAR judges ------------------------------------------------------------

def _not_accepted(pr, x):
    for seen, msg in x.received("fback", homeaddr=pr.cfg.mn):
        if msg.ident == x.ctx["ident"] and (msg.code or 0) < REJECT:
            return f"FBAck Code {msg.code}: PAR accepted the FBU"
    if _hi_for(pr, x, pr.cfg.mn)[1] is not None:
        return "PAR sent HI for it"
    return None


def _prrtadv_code0(pr, x):
    found = prrtadv(pr, x)
    if found[1] is None:
        return "no PrRtAdv within the timeout"
    if found[1].code != 0:
        return f"PrRtAdv Code {found[1].code}, not 0"
    return None


def _prrtadv_identifier(pr, x):
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


def _prrtadv_tuple(pr, x):
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


def _prrtadv_checksum(pr, x):
    return _checksum(_need(prrtadv(pr, x), "PrRtAdv")[1], "PrRtAdv")


def _wildcard(pr, x):
    _, msg = prrtadv(pr, x)
    if msg is None:
        return "no PrRtAdv within the timeout"
    if (pr.cfg.ap, pr.cfg.peer) not in _tuples(msg):
        return (f"no tuple for AP {pr.cfg.ap} with NAR {pr.cfg.peer} "
                f"(got {_tuples(msg) or 'none'})")
    return None


def _unknown_ap(pr, x):
    _, msg = prrtadv(pr, x)
    if msg is None:
        return "no PrRtAdv within the timeout"
    if msg.code != 2:
        return f"PrRtAdv Code {msg.code}, not 2 (no new router information)"
    if lla_option(msg, P.LLA_REASON_CODES) is None:
        return "no LLA option with a reason Option-Code (5, 6 or 7)"
    return None


def _hi_predictive(pr, x):
    _, msg = _hi_for(pr, x, pr.cfg.mn)
    if msg is None:
        return f"no HI to NAR {pr.cfg.peer} within the timeout"
    if msg.code != P.HI_CODE_PREDICTIVE:
        return f"HI Code {msg.code}, not 0 for an FBU from the PCoA"
    return None


def _hi_options(pr, x):
    _, msg = _need(_hi_for(pr, x, pr.cfg.mn), "HI")
    if lla_option(msg, (P.LLA_MN,)) is None:
        return "no MN's LLA option (Option-Code 2)"
    pcoa = addr_option(msg, P.ADDR_PCOA)
    if pcoa is None:
        return "no Previous CoA option (Option-Code 1)"
    if pcoa != pr.cfg.mn:
        return f"Previous CoA {pcoa}, the FBU's Home Address is {pr.cfg.mn}"
    return None


def _hi_checksum(pr, x):
    return _checksum(_need(_hi_for(pr, x, pr.cfg.mn), "HI")[1], "HI")


def _hi_reactive(pr, x):
    _, msg = _hi_for(pr, x, pr.cfg.other_mn)
    if msg is None:
        return f"no HI to NAR {pr.cfg.peer} within the timeout"
    if msg.code != P.HI_CODE_REACTIVE:
        return f"HI Code {msg.code}, not 1 for an FBU forwarded by NAR"
    return None


def _hi_reactive_flags(pr, x):
    _, msg = _need(_hi_for(pr, x, pr.cfg.other_mn), "HI")
    if msg.code != P.HI_CODE_REACTIVE:
        raise Skip(f"HI Code {msg.code}")
    if (msg.flags or 0) & 0x80:
        return "S set (MUST be 0 with Code 1)"
    if (msg.flags or 0) & 0x40:
        return "U set (SHOULD be 0 with Code 1)"
    return None


def _fback_accepted(pr, x):
    return _accepted(_fback(pr, x), "FBAck")


def _fback_ident(pr, x):
    _, msg = _need(_fback(pr, x), "FBAck")
    if msg.ident != x.ctx["ident"]:
        return (f"Identification {msg.ident:#018x}, the FBU had "
                f"{x.ctx['ident']:#018x}")
    return None


def _fback_auth(pr, x):
    _, msg = _need(_fback(pr, x), "FBAck")
    return verify_auth(msg, pr.cfg.keys)


def _fback_ncoa(pr, x):
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


def _fback_copy(pr, x):
    _, msg = _fback(pr, x)
    if msg is None or (msg.code or 0) >= REJECT:
        raise Skip("no accepted FBAck to the MN")
    if _fback(pr, x, dst=pr.cfg.peer)[1] is None:
        return f"no FBAck to NAR {pr.cfg.peer}"
    return None


def _fback_lifetime(pr, x):
    _, msg = _need(_fback(pr, x), "FBAck")
    if (msg.lifetime or 0) > REQUESTED_LIFETIME:
        return (f"grants {msg.lifetime} s, the FBU asked for "
                f"{REQUESTED_LIFETIME} s")
    return None


def _fback_port(pr, x):
    seen, _ = _need(_fback(pr, x), "FBAck")
    if seen.dport != pr.cfg.sport:
        return f"to port {seen.dport}, the FBU came from port {pr.cfg.sport}"
    return None


def _fback_forwarded(pr, x):
    return _accepted(_fback(pr, x, dst=pr.cfg.peer,
                            homeaddr=pr.cfg.other_mn), "FBAck to NAR")


def _fback_retransmitted(pr, x):
    _, msg = _fback(pr, x)
    if msg is None:
        return "no FBAck for the retransmitted FBU within the timeout"
    return _fback_ident(pr, x)


# --- NAR judges ------------------------------------------------------------

def _hack_accepted(pr, x):
    return _accepted(hack(pr, x), "HAck")


def _hack_identifier(pr, x):
    _, msg = _need(hack(pr, x), "HAck")
    if msg.identifier != x.ctx["identifier"]:
        return f"Identifier {msg.identifier}, the HI had {x.ctx['identifier']}"
    return None


def _hack_ncoa(pr, x):
    _, msg = _need(hack(pr, x), "HAck")
    if msg.code not in (0, 3):
        raise Skip(f"HAck Code {msg.code}")
    if addr_option(msg, P.ADDR_NCOA) is None:
        return (f"HAck Code {msg.code} without the New CoA option "
                f"(Option-Code 2)")
    return None


def _hack_checksum(pr, x):
    return _checksum(_need(hack(pr, x), "HAck")[1], "HAck")


def _ncoa_unique(pr, x):
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


def _fbu_forwarded(pr, x):
    seen, _ = _forwarded(pr, x)
    if seen is None:
        return f"no FBU forwarded to PAR {pr.cfg.peer} within the timeout"
    if seen.src != pr.cfg.router:
        return f"forwarded from {seen.src}, not from NAR's {pr.cfg.router}"
    return None


def _fbu_unchanged(pr, x):
    seen, _ = _need(_forwarded(pr, x), "forwarded FBU")
    sent = x.ctx["fbus"][0]
    if seen.payload != sent:
        at = next((i for i, (a, b) in enumerate(zip(seen.payload, sent))
                   if a != b), min(len(sent), len(seen.payload)))
        return f"differs from the MN's FBU at octet {at}"
    return None


def _fback_passed_on(pr, x):
    _need(_forwarded(pr, x), "forwarded FBU")
    seen, msg = _fback(pr, x)
    if msg is None:
        return "PAR's FBAck was not passed on to the MN"
    if seen.src != pr.cfg.router:
        return f"FBAck came from {seen.src}, not NAR"
    return None


C = Case
CASES: tuple[Case, ...] = (
    # PAR: discovery (RFC 4988 5.3, 5.4)
    C("PAR-RTS-01", "par", "5.4", "RtSolPr for a known AP is answered with "
      "PrRtAdv Code 0", "par-rtsolpr", "RtSolPr, New AP LLA (Option-Code 1) "
      "= --ap", "PrRtAdv to the MN, Code 0", _prrtadv_code0, SILENT),
    C("PAR-RTS-02", "par", "5.4", "PrRtAdv copies the RtSolPr's Identifier",
      "par-rtsolpr", "(same exchange)", "same Identifier", _prrtadv_identifier,
      ("wrong-identifier",)),
    C("PAR-RTS-03", "par", "5.4", "PrRtAdv Code 0 carries the [AP-ID, "
      "AR-Info] tuple of the AP", "par-rtsolpr", "(same exchange)",
      "New AP LLA (1) = --ap, NAR's LLA (3), NAR's IP address (3) = --peer",
      _prrtadv_tuple, ("missing-option",)),
    C("PAR-RTS-04", "par", "5.4", "PrRtAdv checksum is right", "par-rtsolpr",
      "(same exchange)", "checksum with Reserved zeroed (decision D2)",
      _prrtadv_checksum, ("bad-checksum",)),
    C("PAR-RTS-05", "par", "5.4", "Wildcard RtSolPr is answered with the "
      "neighbourhood", "par-rtsolpr-wildcard", "RtSolPr, LLA Option-Code 0 "
      "(wildcard)", "PrRtAdv with a tuple --ap -> --peer", _wildcard,
      SILENT + ("missing-option",)),
    C("PAR-RTS-06", "par", "5.4", "RtSolPr for an unknown AP gets PrRtAdv "
      "Code 2 with a reason", "par-rtsolpr-unknown-ap", "RtSolPr, New AP "
      "LLA = --unknown-ap", "PrRtAdv Code 2, LLA Option-Code 5, 6 or 7",
      _unknown_ap, SILENT),
    C("PAR-RTS-07", "par", "5.3", "RtSolPr with a wrong checksum is "
      "discarded", "par-rtsolpr-bad-checksum", "RtSolPr, checksum off",
      "no PrRtAdv", lambda pr, x: _silent(x, "prrtadv", "PrRtAdv")),
    # PAR: FBU -> HI (RFC 4988 4, 5.5)
    C("PAR-HI-01", "par", "5.5", "Predictive FBU makes PAR send HI Code 0 to "
      "NAR", "par-fbu-predictive", "FBU from the PCoA, Care-of Address = "
      "--peer, Lifetime 4, from port --sport", "HI Code 0 to --peer",
      _hi_predictive, SILENT + ("reject",)),
    C("PAR-HI-02", "par", "5.5", "HI carries the MN's LLA and the PCoA",
      "par-fbu-predictive", "(same exchange)", "LLA Option-Code 2, New IPv4 "
      "Address Option-Code 1 = the FBU's Home Address", _hi_options,
      ("missing-option",)),
    C("PAR-HI-03", "par", "5.5", "HI checksum is right", "par-fbu-predictive",
      "(same exchange)", "checksum with the reserved bits zeroed (decision "
      "D2)", _hi_checksum, ("bad-checksum",)),
    C("PAR-HI-04", "par", "5.5", "FBU forwarded by NAR makes PAR send HI "
      "Code 1", "par-fbu-forwarded", "FBU of another MN from --peer (NAR) "
      "to PAR", "HI Code 1 to --peer", _hi_reactive, SILENT + ("reject",)),
    C("PAR-HI-05", "par", "5.5", "HI Code 1 has S and U clear",
      "par-fbu-forwarded", "(same exchange)", "S = 0 (MUST), U = 0 (SHOULD)",
      _hi_reactive_flags),
    # PAR: FBAck (RFC 4988 5.1, 5.2, 7)
    C("PAR-FBU-01", "par", "5.2", "Predictive FBU is accepted",
      "par-fbu-predictive", "(same exchange; the prober's NAR answers HI "
      "with HAck Code 3 and --ncoa)", "FBAck to the MN, Code 0 or 1",
      _fback_accepted, SILENT + ("reject",)),
    C("PAR-FBU-02", "par", "5.2", "FBAck copies the FBU's Identification",
      "par-fbu-predictive", "(same exchange)", "same Identification",
      _fback_ident, ("wrong-identifier",)),
    C("PAR-FBU-03", "par", "5.2", "FBAck carries a valid MN-PAR "
      "authenticator", "par-fbu-predictive", "(same exchange)",
      "MN-PAR Authentication Extension that verifies with --keys",
      _fback_auth, ("bad-auth", "no-auth")),
    C("PAR-FBU-04", "par", "5.2", "FBAck Code 1 carries the NCoA NAR "
      "assigned", "par-fbu-predictive", "(same exchange)", "New IPv4 Address "
      "option, Option-Code 2 = --ncoa", _fback_ncoa, ("missing-option",)),
    C("PAR-FBU-05", "par", "4.1", "PAR also sends the FBAck to NAR",
      "par-fbu-predictive", "(same exchange)", "FBAck to --peer (Figure 1, "
      "decision D8)", _fback_copy),
    C("PAR-FBU-06", "par", "5.2", "FBAck grants no more Lifetime than asked",
      "par-fbu-predictive", "(same exchange)", "Lifetime <= 4 s",
      _fback_lifetime, ("long-lifetime",)),
    C("PAR-FBU-07", "par", "5.2", "FBAck goes to the FBU's source port",
      "par-fbu-predictive", "(same exchange)", "destination port = --sport",
      _fback_port),
    C("PAR-FBU-08", "par", "5.2", "FBU forwarded by NAR is accepted, FBAck "
      "to NAR", "par-fbu-forwarded", "(same exchange)", "FBAck to --peer, "
      "Code 0 or 1 (decision D8)", _fback_forwarded, SILENT + ("reject",)),
    C("PAR-FBU-09", "par", "5.1", "Retransmitted FBU with a new "
      "Identification is answered", "par-fbu-retransmitted", "FBU, then the "
      "same FBU with a new Identification", "FBAck copying the new "
      "Identification", _fback_retransmitted, SILENT + ("wrong-identifier",)),
    C("PAR-AUTH-01", "par", "7", "FBU with a wrong authenticator is not "
      "accepted", "par-auth-bad", "FBU, authenticator from another key",
      "no FBAck Code < 128, no HI", _not_accepted),
    C("PAR-AUTH-02", "par", "7", "FBU without the MN-PAR Authentication "
      "Extension is not accepted", "par-auth-none", "FBU without "
      "extensions", "no FBAck Code < 128, no HI", _not_accepted),
    C("PAR-AUTH-03", "par", "7", "FBU with an unknown SPI is not accepted",
      "par-auth-spi", "FBU, SPI not in --keys", "no FBAck Code < 128, no HI",
      _not_accepted),
    # NAR (RFC 4988 4, 5.5, 5.6)
    C("NAR-HI-01", "nar", "5.6", "HI Code 0 with S set is answered and "
      "accepted", "nar-hi-s", "HI Code 0, S and U set, MN's LLA, PCoA = "
      "--mn, from --peer (PAR)", "HAck to --peer, Code < 128",
      _hack_accepted, SILENT + ("reject",)),
    C("NAR-HI-02", "nar", "5.6", "HAck copies the HI's Identifier",
      "nar-hi-s", "(same exchange)", "same Identifier", _hack_identifier,
      ("wrong-identifier",)),
    C("NAR-HI-03", "nar", "5.6", "HAck to an HI with S set carries the "
      "NCoA", "nar-hi-s", "(same exchange)", "New IPv4 Address option, "
      "Option-Code 2", _hack_ncoa, ("missing-option",)),
    C("NAR-HI-04", "nar", "5.6", "HAck checksum is right", "nar-hi-s",
      "(same exchange)", "checksum with Reserved zeroed (decision D2)",
      _hack_checksum, ("bad-checksum",)),
    C("NAR-HI-05", "nar", "5.6", "HI Code 0 without S is accepted",
      "nar-hi-no-s", "HI Code 0, S clear", "HAck, Code < 128",
      _hack_accepted, SILENT + ("reject",)),
    C("NAR-HI-06", "nar", "5.6", "HI Code 1 (reactive) is accepted",
      "nar-hi-reactive", "HI Code 1, S and U clear", "HAck, Code < 128",
      _hack_accepted, SILENT + ("reject",)),
    C("NAR-HI-07", "nar", "5.6", "Two MNs get different NCoAs",
      "nar-hi-s-other-mn", "HI with S set for another PCoA", "an NCoA "
      "other than NAR-HI-01's", _ncoa_unique),
    C("NAR-HI-08", "nar", "5.5", "HI with a wrong checksum is discarded",
      "nar-hi-bad-checksum", "HI, checksum off", "no HAck",
      lambda pr, x: _silent(x, "hack", "HAck")),
    C("NAR-FBU-01", "nar", "4.2", "Reactive FBU is forwarded to PAR",
      "nar-fbu-reactive", "FBU from --mn to NAR, Home Agent = --peer",
      "FBU from NAR to --peer", _fbu_forwarded, SILENT),
    C("NAR-FBU-02", "nar", "4.2", "Forwarded FBU is the MN's, unchanged",
      "nar-fbu-reactive", "(same exchange)", "same octets from the Type "
      "field on (decision D7)", _fbu_unchanged),
    C("NAR-FBU-03", "nar", "5.2", "NAR passes PAR's FBAck on to the MN",
      "nar-fbu-reactive", "(same exchange; the prober's PAR answers)",
      "FBAck from NAR to --mn (Figure 2, decision D8)", _fback_passed_on),
)
del C

CASES_BY_ID = {c.id: c for c in CASES}


def cases_for(target: str) -> list[Case]:
    return [c for c in CASES if c.target == target]


def catching() -> dict[str, list[str]]:
    """fault name -> the ids of the cases that catch it."""
    out: dict[str, list[str]] = {}
    for c in CASES:
        for fault in c.catches:
            out.setdefault(fault, []).append(c.id)
    return out
