"""The verdict model (verdicts.py) and the profile (profile.py), on real
emulators over the in-memory wire: findings decide verdicts, SHOULD-level
checks warn, a policy refusal and an IPsec-only NAR are judged by the
profile, and the reports (text, JSON, JUnit) carry every verdict."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from scapy.layers.inet import IP

import memwire
from fmipdissect.active.cases import CASES_BY_ID
from fmipdissect.active.probe import junit, text
from fmipdissect.active.profile import Profile, load_profile
from fmipdissect.active.roles import NAR, PAR
from fmipdissect.active.verdicts import summary
from fmipdissect.errors import InputError
from fmipdissect.layers import LLAOption, PrRtAdv


def by_id(results):
    return {r["id"]: r for r in results}


def report(results, target="par"):
    return {"target": target, "router": memwire.PAR_ADDR, "cases": results,
            "summary": summary(results)}


class Pad1PAR(PAR):
    """Pads the New AP LLA with seven Pad1 octets: RFC 4988 6.1 says PadN
    MUST be used (an error finding, FM304), no case checks it itself."""

    def _tuple(self, n):
        tup = super()._tuple(n)
        tup[LLAOption].padding = b"\x00" * 7
        return tup


class ReservedPAR(PAR):
    """Sets PrRtAdv's Reserved field (RFC 4988 5.4: MUST be zero; sent as
    zero, ignored on reception: a warning, decision D10)."""

    def send(self, packet):
        if packet.haslayer(PrRtAdv):
            packet = IP(bytes(packet))
            packet[PrRtAdv].reserved = 1
            packet[PrRtAdv].chksum = None
        super().send(packet)


class PolicyPAR(PAR):
    """Refuses every FBU by policy: FBAck Code 129 (RFC 4988 5.2)."""

    def fbu(self, seen, msg):
        if "reject" not in self.faults:
            self.faults = type(self.faults)(self.faults.names | {"reject"})
        super().fbu(seen, msg)

    def fback(self, f, code, ncoa=None):
        super().fback(f, 129 if code >= 128 else code, ncoa)


class IpsecNAR(NAR):
    """Takes HI only under IPsec ESP (RFC 4988 7): a clear HI is dropped."""

    def hi(self, seen, msg):
        self.handled += 1


def test_an_error_finding_fails_the_exchanges_first_case():
    results = by_id(memwire.probe("par", cls=Pad1PAR))
    first = results["PAR-RTS-01"]
    assert first["verdict"] == "fail"
    assert "FM304" in first["reason"]
    # the other cases of the exchange keep their own verdicts
    assert results["PAR-RTS-02"]["verdict"] == "pass"
    xml = ET.fromstring(junit(report(list(results.values()))))
    failure = [t for t in xml.iter("testcase")
               if t.get("name").startswith("PAR-RTS-01 ")][0].find("failure")
    assert failure is not None and "FM304" in failure.get("message")


def test_warnings_make_warn_and_are_listed():
    results = memwire.probe("par", cls=ReservedPAR)
    warned = [r for r in results if r["verdict"] == "warn"]
    assert warned and all(r["warnings"] for r in warned)
    assert all("FM203" in w for r in warned for w in r["warnings"])
    assert not [r for r in results if r["verdict"] == "fail"]
    out = text(report(results))
    assert "WARN  PAR-RTS-01" in out and "FM203 warning" in out
    xml = ET.fromstring(junit(report(results)))
    outs = [t.find("system-out") for t in xml.iter("testcase")
            if t.get("name").startswith("PAR-RTS-01 ")]
    assert outs[0] is not None and "FM203" in outs[0].text
    assert xml.get("failures") == "0"


def test_a_should_level_check_warns():
    case = CASES_BY_ID["PAR-FBU-06"]
    assert case.level == "SHOULD"
    results = by_id(memwire.probe("par", ["long-lifetime"]))
    assert results["PAR-FBU-06"]["verdict"] == "warn"
    assert "grants 30 s" in results["PAR-FBU-06"]["reason"]
    assert results["PAR-FBU-11"]["verdict"] == "fail"


def test_policy_refusal_is_inconclusive_or_allowed_by_the_profile():
    plain = memwire.probe("par", cls=PolicyPAR)
    verdicts = {r["verdict"] for r in plain}
    assert "fail" not in verdicts, [r for r in plain if r["verdict"] ==
                                    "fail"]
    assert by_id(plain)["PAR-FBU-01"]["verdict"] == "inconclusive"
    assert "policy_rejections" in by_id(plain)["PAR-FBU-01"]["reason"]
    allowed = by_id(memwire.probe("par", cls=PolicyPAR,
                                  profile=Profile(policy_rejections=True)))
    assert allowed["PAR-FBU-01"]["verdict"] == "pass"
    assert allowed["PAR-FBU-04"]["verdict"] == "skip"
    assert allowed["PAR-HI-01"]["verdict"] == "skip"
    assert not [r for r in allowed.values()
                if r["verdict"] in ("fail", "inconclusive")]


def test_ipsec_profile_skips_what_needs_clear_hi():
    plain = by_id(memwire.probe("nar", cls=IpsecNAR))
    assert plain["NAR-HI-01"]["verdict"] == "fail"
    ipsec = memwire.probe("nar", cls=IpsecNAR,
                          profile=Profile(ipsec_hi_hack=True))
    for r in ipsec:
        want = "skip" if r["id"].startswith("NAR-HI") else "pass"
        assert r["verdict"] == want, r
        if want == "skip":
            assert "IPsec" in r["reason"]


def test_profile_without_the_fback_copy_skips_its_case():
    results = by_id(memwire.probe("par", profile=Profile(
        fback_copy_to_nar=False, mn_ephemeral_port=False)))
    for case_id in ("PAR-FBU-05", "PAR-FBU-07"):
        assert results[case_id]["verdict"] == "skip"
    assert CASES_BY_ID["PAR-FBU-05"].section == "4.2"


def test_profile_file(tmp_path):
    path = tmp_path / "router.toml"
    path.write_text("# lab router\nipsec_hi_hack = true\n"
                    "policy_rejections = true\n")
    assert load_profile(str(path)) == Profile(ipsec_hi_hack=True,
                                              policy_rejections=True)
    path.write_text("[profile]\nfback_copy_to_nar = false\n")
    assert load_profile(str(path)) == Profile(fback_copy_to_nar=False)
    assert load_profile(None) == Profile()
    for bad, words in (("ipsec = true\n", "unknown profile key"),
                       ("ipsec_hi_hack = 1\n", "true or false"),
                       ("ipsec_hi_hack = \n", "not TOML")):
        path.write_text(bad)
        with pytest.raises(InputError, match=words):
            load_profile(str(path))


def test_emulators_rate_limit_their_replies():
    """A flood of RtSolPr gets at most a burst of PrRtAdv back."""
    mine, theirs = memwire.wire()
    par = memwire.make_router("par", theirs)
    from fmipdissect.gen import flows as S
    p = S.Params(mn=memwire.MN, par=memwire.PAR_ADDR, ap_mac=memwire.AP)
    for i in range(400):
        mine.send(S.rtsolpr(p, identifier=i + 1))
    import time
    start = time.monotonic()
    par.step(0)
    took = time.monotonic() - start
    answers = [s for s in mine.inbox if not s.outgoing]
    from fmipdissect.active.roles import BURST, RATE
    assert BURST <= len(answers) <= BURST + RATE * took + 1
    if took < 1.0:      # (a loaded machine refills the bucket meanwhile)
        assert len(answers) < 400 / 2
    assert par.dropped >= 400 - len(answers)
