"""How each NAR probe case judges its exchange (the table is cases.py;
the rules of judging are in judges.py)."""

from __future__ import annotations

from ..spec import protocol as P
from .exchanges import hack
from .judges import (Inconclusive, _accepted, _checksum, _fback, _need,
                     declined)
from .roles import addr_option



def hack_accepted(pr, x):
    return _accepted(hack(pr, x), "HAck")


def hack_identifier(pr, x):
    _, msg = _need(hack(pr, x), "HAck")
    if msg.identifier != x.ctx["identifier"]:
        return f"Identifier {msg.identifier}, the HI had {x.ctx['identifier']}"
    return None


def hack_ncoa(pr, x):
    _, msg = _need(hack(pr, x), "HAck")
    declined(msg, "HAck")
    if msg.code not in (0, 3):
        raise Inconclusive(f"HAck Code {msg.code}")
    if addr_option(msg, P.ADDR_NCOA) is None:
        return (f"HAck Code {msg.code} without the New CoA option "
                f"(Option-Code 2)")
    return None


def hack_checksum(pr, x):
    return _checksum(_need(hack(pr, x), "HAck")[1], "HAck")


def ncoa_unique(pr, x):
    first = pr.results.get("nar-hi-s")
    declined(hack(pr, x)[1], "HAck")
    ncoas = [addr_option(m, P.ADDR_NCOA) if m else None
             for m in (hack(pr, first)[1] if first else None, hack(pr, x)[1])]
    if None in ncoas:
        raise Inconclusive("two NCoAs are needed")
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


def _passed_on(pr, x):
    """NAR's FBAck to the MN for the forwarded FBU: (seen, None), or
    (None, why not)."""
    _need(_forwarded(pr, x), "forwarded FBU")
    seen, msg = _fback(pr, x)
    if msg is None:
        return None, "PAR's FBAck was not passed on to the MN"
    if seen.src != pr.cfg.router:
        return None, f"FBAck came from {seen.src}, not NAR"
    return seen, None


def fback_passed_on(pr, x):
    return _passed_on(pr, x)[1]


def hack_addresses(pr, x):
    """RFC 4988 5.6: source copied from the HI's destination, destination
    from its source."""
    seen, _ = _need(hack(pr, x), "HAck")
    if seen.src != pr.cfg.router:
        return (f"HAck from {seen.src}, the HI went to {pr.cfg.router}")
    return None


def hack_codes_defined(pr, x):
    """Every HAck of every HI exchange has a Code of RFC 4988 5.6."""
    for name, other in sorted({**pr.results, x.name: x}.items()):
        if not name.startswith("nar-hi"):
            continue
        for _, msg in other.received("hack"):
            if msg.code not in P.HACK_CODES:
                return f"HAck Code {msg.code} ({name}) is not defined"
    return None


def ncoa_not_pcoa(pr, x):
    _, msg = _need(hack(pr, x), "HAck")
    declined(msg, "HAck")
    ncoa = addr_option(msg, P.ADDR_NCOA)
    if ncoa is None:
        raise Inconclusive("no NCoA to judge")
    if ncoa == pr.cfg.mn:
        return f"NCoA {ncoa} is the MN's PCoA"
    return None


def fback_passed_on_port(pr, x):
    """RFC 4988 5.2: to the FBU's source port (decision D8)."""
    seen, why = _passed_on(pr, x)
    if seen is not None and seen.dport != pr.cfg.sport:
        return (f"FBAck passed on to port {seen.dport}, the MN sent its FBU "
                f"from port {pr.cfg.sport}")
    return why
