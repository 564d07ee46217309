"""The exchanges the probe cases judge (cases.py): what the prober sends.

Each function runs one exchange against the router under test and returns
it; several cases may judge the same exchange.  The order in EXCHANGES is
the order they run: the ones that expect silence first, so that a late
reply of a slow router cannot be taken for a broken promise there.
"""

from __future__ import annotations

from scapy.layers.inet import IP, UDP

from ..gen import flows as S
from ..layers import LLAOption, MNPARAuth, RtSolPr
from ..spec import protocol as P
from .roles import spoil_checksum, without_auth, udp
from .exchange import reply

WILDCARD_LLA = "00:00:00:00:00:00"     # RFC 4988 6.1, decision D3
REQUESTED_LIFETIME = 4                 # s, below the 10 s limit (5.1)


def _fbu(pr, x, ident, *, src=None, dst=None, sport=P.MIP_UDP_PORT,
         lifetime=P.LIFETIME_MAX, auth=None, homeaddr=None, strip=False,
         coa=None, **params):
    p = pr.params(**({"mn": homeaddr} if homeaddr else {}), **params)
    body = S.fbu_message(p, ident, lifetime=lifetime, auth=auth, coa=coa)
    if strip:
        body = without_auth(body)
    pkt = udp(src or p.mn, dst or pr.cfg.router) / body
    pkt[UDP].sport = sport
    x.ctx.setdefault("fbus", []).append(bytes(body))
    pr.send(x, pkt)
    pr.last_sent = pkt


def _fback_to(pr, ident, dst, homeaddr=None):
    """done(): an FBAck for this exchange's FBU has come to dst."""
    home = homeaddr or pr.cfg.mn
    return lambda x: reply(x, "fback", "ident", ident, pr.used_idents,
                           dst=dst, homeaddr=home)[1] is not None


# --- PAR -----------------------------------------------------------------

def par_auth(kind):
    def run(pr):
        x = pr.begin(f"par-auth-{kind}")
        x.ctx["ident"] = ident = pr.ident()
        key = pr.cfg.key
        if kind == "bad":
            auth = MNPARAuth(key=key.secret + b"?", spi=key.spi,
                             algorithm=key.algorithm)
        elif kind == "spi":
            spi = next(s for s in range(key.spi + 1, key.spi + 1000)
                       if s not in pr.cfg.keys)
            auth = MNPARAuth(key=key.secret, spi=spi, algorithm=key.algorithm)
        else:
            auth = None
        _fbu(pr, x, ident, auth=auth, strip=kind == "none")
        pr.wait(x)                   # silence is the right answer
        return pr.end(x)
    return run


def _request(pr, x, pkt, answer, spoil: bool):
    """Send an ICMP request and wait for answer(pr, x); with spoil, its
    checksum is spoiled and silence is the right answer."""
    if spoil:
        pkt = spoil_checksum(pkt)
    pr.send(x, pkt)
    if spoil:
        pr.wait(x)
    else:
        pr.wait(x, lambda x: answer(pr, x)[1] is not None)
    return pr.end(x)


def _rtsolpr(pr, name, lla=None, code=P.LLA_NEW_AP, spoil=False,
             also=None):
    """RtSolPr for one AP, or (also) for two: RFC 4988 5.3 allows more
    than one New AP LLA option."""
    x = pr.begin(name)
    x.ctx["identifier"] = ident = pr.identifier()
    pkt = IP(src=pr.cfg.mn, dst=pr.cfg.router) / RtSolPr(identifier=ident) \
        / LLAOption(code=code, lla=lla or pr.cfg.ap)
    if also:
        pkt = pkt / LLAOption(code=P.LLA_NEW_AP, lla=also)
    return _request(pr, x, pkt, prrtadv, spoil)


def prrtadv(pr, x):
    """The PrRtAdv answering this exchange's RtSolPr (decision D9)."""
    return reply(x, "prrtadv", "identifier", x.ctx["identifier"],
                 pr.used_identifiers, dst=pr.cfg.mn)


def par_bad_checksum(pr):
    return _rtsolpr(pr, "par-rtsolpr-bad-checksum", spoil=True)


def par_solicited(pr):
    return _rtsolpr(pr, "par-rtsolpr")


def par_wildcard(pr):
    return _rtsolpr(pr, "par-rtsolpr-wildcard", WILDCARD_LLA, P.LLA_WILDCARD)


def par_unknown_ap(pr):
    return _rtsolpr(pr, "par-rtsolpr-unknown-ap", pr.cfg.unknown_ap)


def par_two_aps(pr):
    return _rtsolpr(pr, "par-rtsolpr-two-aps", also=pr.cfg.unknown_ap)


def par_predictive(pr):
    """RFC 4988 Figure 1 from the MN's side, port and Lifetime chosen so
    that copying and granting show."""
    x = pr.begin("par-fbu-predictive")
    x.ctx["ident"] = ident = pr.ident()
    _fbu(pr, x, ident, sport=pr.cfg.sport, lifetime=REQUESTED_LIFETIME)
    to_mn = _fback_to(pr, ident, pr.cfg.mn)
    to_nar = _fback_to(pr, ident, pr.cfg.peer)
    pr.wait(x, lambda x: to_mn(x) and to_nar(x))
    return pr.end(x)


def par_reactive(pr):
    """RFC 4988 Figure 2 from NAR's side: the FBU of another MN, forwarded
    by the prober's NAR (source = the FBU's Care-of Address, decision D7)."""
    x = pr.begin("par-fbu-forwarded")
    x.ctx["ident"] = ident = pr.ident()
    _fbu(pr, x, ident, src=pr.cfg.peer, homeaddr=pr.cfg.other_mn)
    pr.wait(x, _fback_to(pr, ident, pr.cfg.peer, pr.cfg.other_mn))
    return pr.end(x)


def _par_fbu_nar_plays(name, hack_mode, nar_did):
    """A predictive FBU while the prober's NAR answers the HI its own way
    (exchange.Prober._respond): PAR's answer to a refusal (HAck Code 128),
    to a HAck without NCoA (Code 4) or to silence (RFC 4988 4.2, 5.6)."""
    def run(pr):
        x = pr.begin(name)
        x.ctx.update(hack=hack_mode, nar_did=nar_did)
        x.ctx["ident"] = ident = pr.ident()
        _fbu(pr, x, ident)
        if hack_mode == "silent":
            pr.wait(x)              # no accepting FBAck is the answer
        else:
            pr.wait(x, _fback_to(pr, ident, pr.cfg.mn))
        return pr.end(x)
    return run


def par_replay(pr):
    """An FBU, then the very same octets again once it was answered: RFC
    3344's Identification is there to refuse a replay (RFC 4988 5.1)."""
    x = pr.begin("par-fbu-replayed")
    x.ctx["ident"] = ident = pr.ident()
    _fbu(pr, x, ident)
    pr.wait(x, _fback_to(pr, ident, pr.cfg.mn))
    x.ctx["first_answered"] = reply(x, "fback", "ident", ident,
                                    pr.used_idents, dst=pr.cfg.mn,
                                    homeaddr=pr.cfg.mn)[1]
    x.ctx["replayed_at"] = pr.now()
    pr.send(x, pr.last_sent)
    pr.wait(x)
    return pr.end(x)


def par_long_lifetime(pr):
    """An FBU asking for 11 s, more than RFC 4988 5.1 allows."""
    x = pr.begin("par-fbu-long-lifetime")
    x.ctx["ident"] = ident = pr.ident()
    _fbu(pr, x, ident, lifetime=P.LIFETIME_MAX + 1)
    pr.wait(x, _fback_to(pr, ident, pr.cfg.mn))
    return pr.end(x)


def par_not_a_nar(pr):
    """An FBU binding the PCoA to an address that is no NAR of PAR's
    neighbourhood: the redirection RFC 4988 7 guards against."""
    x = pr.begin("par-fbu-not-a-nar")
    x.ctx["ident"] = ident = pr.ident()
    _fbu(pr, x, ident, coa=pr.cfg.not_a_nar)
    pr.wait(x)                       # silence or a refusal
    return pr.end(x)


def par_retransmit(pr):
    """An FBU, then the same FBU again with a new Identification, as an MN
    sends it when no FBAck came (RFC 4988 5.1, decision D6)."""
    x = pr.begin("par-fbu-retransmitted")
    first = pr.ident()
    _fbu(pr, x, first)
    pr.wait(x, _fback_to(pr, first, pr.cfg.mn))
    x.ctx["ident"] = ident = pr.ident()
    _fbu(pr, x, ident)
    pr.wait(x, _fback_to(pr, ident, pr.cfg.mn))
    return pr.end(x)


# --- NAR -----------------------------------------------------------------

def _hi(pr, name, code=P.HI_CODE_PREDICTIVE, s=1, u=1, pcoa=None,
        spoil=False):
    x = pr.begin(name)
    x.ctx["identifier"] = ident = pr.identifier()
    p = pr.params(hi_id=ident, **({"mn": pcoa} if pcoa else {}))
    return _request(pr, x, S.hi(p, code, S=s, U=u), hack, spoil)


def hack(pr, x):
    """The HAck answering this exchange's HI (decision D9)."""
    return reply(x, "hack", "identifier", x.ctx["identifier"],
                 pr.used_identifiers, dst=pr.cfg.peer)


def nar_bad_checksum(pr):
    return _hi(pr, "nar-hi-bad-checksum", spoil=True)


def nar_hi_s(pr):
    return _hi(pr, "nar-hi-s")


def nar_hi_s_other(pr):
    return _hi(pr, "nar-hi-s-other-mn", pcoa=pr.cfg.other_mn)


def nar_hi_no_s(pr):
    return _hi(pr, "nar-hi-no-s", s=0)


def nar_hi_reactive(pr):
    return _hi(pr, "nar-hi-reactive", code=P.HI_CODE_REACTIVE, s=0, u=0)


def nar_reactive_fbu(pr, name="nar-fbu-reactive", sport=P.MIP_UDP_PORT):
    """The MN's FBU from the new link (RFC 4988 Figure 2); the prober's PAR
    answers NAR's forwarded copy."""
    x = pr.begin(name)
    x.ctx["ident"] = ident = pr.ident()
    _fbu(pr, x, ident, dst=pr.cfg.router, sport=sport)
    pr.wait(x, _fback_to(pr, ident, pr.cfg.mn))
    return pr.end(x)


def nar_reactive_fbu_port(pr):
    """The same from an ephemeral source port (RFC 4988 5.1: variable):
    the FBAck is due at that port (5.2, decision D8)."""
    return nar_reactive_fbu(pr, "nar-fbu-reactive-port", pr.cfg.sport)


EXCHANGES = {
    "par": (("par-auth-bad", par_auth("bad")),
            ("par-auth-none", par_auth("none")),
            ("par-auth-spi", par_auth("spi")),
            ("par-fbu-not-a-nar", par_not_a_nar),
            ("par-rtsolpr-bad-checksum", par_bad_checksum),
            ("par-rtsolpr", par_solicited),
            ("par-rtsolpr-wildcard", par_wildcard),
            ("par-rtsolpr-unknown-ap", par_unknown_ap),
            ("par-rtsolpr-two-aps", par_two_aps),
            ("par-fbu-predictive", par_predictive),
            ("par-fbu-forwarded", par_reactive),
            ("par-fbu-retransmitted", par_retransmit),
            ("par-fbu-replayed", par_replay),
            ("par-fbu-long-lifetime", par_long_lifetime),
            ("par-fbu-hack-rejected", _par_fbu_nar_plays(
                "par-fbu-hack-rejected", "reject",
                "refused the HI (HAck Code 128)")),
            ("par-fbu-hack-no-ncoa", _par_fbu_nar_plays(
                "par-fbu-hack-no-ncoa", "no-ncoa", "supplied no NCoA")),
            ("par-fbu-no-hack", _par_fbu_nar_plays(
                "par-fbu-no-hack", "silent", "never answered the HI"))),
    "nar": (("nar-hi-bad-checksum", nar_bad_checksum),
            ("nar-hi-s", nar_hi_s),
            ("nar-hi-s-other-mn", nar_hi_s_other),
            ("nar-hi-no-s", nar_hi_no_s),
            ("nar-hi-reactive", nar_hi_reactive),
            ("nar-fbu-reactive", nar_reactive_fbu),
            ("nar-fbu-reactive-port", nar_reactive_fbu_port)),
}
