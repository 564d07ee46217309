"""The probe cases, judged on exchanges with real emulators over an
in-memory wire (memwire.py): the conformant PAR and NAR pass every case;
each fault fails exactly the cases that name it, with the rules it names;
and every case fails on an exchange broken in its own way."""

from __future__ import annotations

import copy
import re

import pytest
from scapy.layers.inet import IP, UDP

import memwire
from faultcheck import check_fault
from fmipdissect.active.cases import (CASES, CASES_BY_ID, Inconclusive,
                                      catching)
from fmipdissect.active.exchanges import EXCHANGES
from fmipdissect.active.faults import FAULTS, FAULTS_BY_NAME
from fmipdissect.layers import (HI, FBAck, HAck, IPv4AddrOption, LLAOption,
                                PrRtAdv)

ELSEWHERE = "198.18.1.99"      # an address no router of the test has
from fmipdissect.spec.rules import RULES_BY_ID

TARGETS = ("par", "nar")


def test_the_table():
    assert len(CASES) >= 45
    assert len(CASES_BY_ID) == len(CASES), "case ids are unique"
    for c in CASES:
        assert re.fullmatch(r"(PAR|NAR)-[A-Z]+-\d\d", c.id), c.id
        assert c.id.lower().startswith(c.target)
        assert re.fullmatch(r"\d(\.\d)?", c.section), c.id
        assert c.exchange in dict(EXCHANGES[c.target]), c.id
        assert c.title and c.sends and c.passes
        for fault in c.catches:
            assert c.target in FAULTS_BY_NAME[fault].roles, (c.id, fault)
    # every fault a router can have is caught by some case
    for f in FAULTS:
        for role in TARGETS:
            if role in f.roles:
                assert any(c.target == role and f.name in c.catches
                           for c in CASES), (role, f.name)
    assert set(catching()) <= set(FAULTS_BY_NAME)


@pytest.mark.parametrize("target", TARGETS)
def test_conformant_router_passes_every_case(target):
    results = memwire.probe(target)
    bad = [(r["id"], r["verdict"], r["reason"]) for r in results
           if r["verdict"] != "pass"]
    assert bad == []
    errors = [f for r in results for f in r["findings"]
              if f["severity"] != "info"]
    assert errors == []


def fault_params():
    for f in FAULTS:
        for role in TARGETS:
            if role in f.roles:
                name = f"{f.name}=1000" if f.value else f.name
                yield pytest.param(role, name, id=f"{role}:{name}")


@pytest.mark.parametrize("role,fault", list(fault_params()))
def test_each_fault_fails_exactly_its_cases_and_rules(role, fault):
    results = memwire.probe(role, [fault])
    assert check_fault(results, role, fault), "a fault fails some case"


# --- every case on an exchange broken its own way -------------------------

def _rebuild(seen, edit):
    pkt = IP(seen.frame[14:])
    layers = [pkt[c] for c in (HI, HAck, PrRtAdv) if pkt.haslayer(c)]
    sums = [layer.chksum for layer in layers]
    edit(pkt)
    for layer, before in zip(layers, sums):
        if layer.chksum == before:      # recomputed unless set on purpose
            layer.chksum = None
    if pkt.haslayer(UDP):
        pkt[UDP].chksum = None
    del pkt[IP].len, pkt[IP].chksum
    return memwire.seen_of(IP(bytes(pkt)), seen.outgoing)


def edit(key, change, **where):
    """Change every received message `key` matching where."""
    def mutate(frames, prober):
        out = []
        for seen in frames:
            msg = seen.message()
            if (not seen.outgoing and msg and msg.key == key and all(
                    getattr(seen, k, getattr(msg, k, None)) == v
                    for k, v in where.items())):
                seen = _rebuild(seen, change)
            out.append(seen)
        return out
    return mutate


def drop(key, **where):
    def mutate(frames, prober):
        return [s for s in frames if s.outgoing or not (
            s.message() and s.message().key == key
            and all(getattr(s, k) == v for k, v in where.items()))]
    return mutate


def add_reply(kind):
    """A reply the router must not send: FBAck Code 0 for the exchange's
    FBU, PrRtAdv or HAck with its identifier."""
    def mutate(frames, prober):
        x = prober._current
        if kind == "fback":
            body = FBAck(code=0, homeaddr=memwire.MN, haaddr=memwire.PAR_ADDR,
                         ident=x.ctx["ident"])
            pkt = IP(src=memwire.PAR_ADDR, dst=memwire.MN) / UDP(
                sport=434, dport=434) / body
        elif kind == "prrtadv":
            pkt = IP(src=memwire.PAR_ADDR, dst=memwire.MN) / PrRtAdv(
                code=2, identifier=x.ctx["identifier"])
        else:
            pkt = IP(src=memwire.NAR_ADDR, dst=memwire.PEER_PAR) / HAck(
                identifier=x.ctx["identifier"])
        return frames + [memwire.seen_of(pkt)]
    return mutate


def _bad_checksum(cls):
    def change(pkt):
        pkt[cls].chksum ^= 0x0101
    return change


def _set_ncoa(pkt):
    pkt[IPv4AddrOption].addr = "198.18.2.100"


def _flip_forwarded(pkt):
    pkt[UDP].payload = type(pkt[UDP].payload)(
        bytes(pkt[UDP].payload)[:-1] + b"\x00")


BROKEN = {
    "PAR-RTS-01": drop("prrtadv"),
    "PAR-RTS-02": edit("prrtadv", lambda p: setattr(
        p[PrRtAdv], "identifier", p[PrRtAdv].identifier ^ 2)),
    "PAR-RTS-03": edit("prrtadv", lambda p: setattr(
        p[IPv4AddrOption], "addr", "198.18.9.9")),
    "PAR-RTS-04": edit("prrtadv", _bad_checksum(PrRtAdv)),
    "PAR-RTS-05": drop("prrtadv"),
    "PAR-RTS-06": edit("prrtadv", lambda p: setattr(p[PrRtAdv], "code", 0)),
    "PAR-RTS-07": add_reply("prrtadv"),
    "PAR-HI-01": edit("hi", lambda p: setattr(p[HI], "code", 1)),
    "PAR-HI-02": edit("hi", lambda p: setattr(p[LLAOption], "code", 4)),
    "PAR-HI-03": edit("hi", _bad_checksum(HI)),
    "PAR-HI-04": drop("hi"),
    "PAR-HI-05": edit("hi", lambda p: setattr(p[HI], "S", 1)),
    "PAR-FBU-01": edit("fback", lambda p: setattr(p[FBAck], "code", 128)),
    "PAR-FBU-02": edit("fback", lambda p: setattr(p[FBAck], "ident",
                                                  p[FBAck].ident ^ 4)),
    "PAR-FBU-03": edit("fback", lambda p: setattr(p[FBAck], "lifetime", 3)),
    "PAR-FBU-04": edit("fback", lambda p: setattr(p[IPv4AddrOption], "addr",
                                                  "198.18.9.9")),
    "PAR-FBU-05": drop("fback", dst=memwire.PEER_NAR),
    "PAR-FBU-06": edit("fback", lambda p: setattr(p[FBAck], "lifetime", 5)),
    "PAR-FBU-07": edit("fback", lambda p: setattr(p[UDP], "dport", 434)),
    "PAR-FBU-08": drop("fback", dst=memwire.PEER_NAR),
    "PAR-FBU-09": edit("fback", lambda p: setattr(p[FBAck], "ident",
                                                  p[FBAck].ident ^ 4)),
    "PAR-AUTH-01": add_reply("fback"),
    "PAR-AUTH-02": add_reply("fback"),
    "PAR-AUTH-03": add_reply("fback"),
    "NAR-HI-01": drop("hack"),
    "NAR-HI-02": edit("hack", lambda p: setattr(p[HAck], "identifier",
                                                p[HAck].identifier ^ 2)),
    "NAR-HI-03": edit("hack", lambda p: p[HAck].remove_payload()),
    "NAR-HI-04": edit("hack", _bad_checksum(HAck)),
    "NAR-HI-05": edit("hack", lambda p: setattr(p[HAck], "code", 128)),
    "NAR-HI-06": edit("hack", lambda p: setattr(p[HAck], "code", 131)),
    "NAR-HI-07": edit("hack", _set_ncoa),
    "NAR-HI-08": add_reply("hack"),
    "NAR-FBU-01": drop("fbu"),
    "NAR-FBU-02": edit("fbu", _flip_forwarded),
    "NAR-FBU-03": drop("fback"),
    "PAR-RTS-08": edit("prrtadv", lambda p: p[IPv4AddrOption].remove_payload()),
    "PAR-RTS-09": edit("prrtadv", lambda p: setattr(p[IP], "src", ELSEWHERE)),
    "PAR-RTS-10": edit("prrtadv", lambda p: setattr(p[PrRtAdv], "code", 0)),
    "PAR-HI-06": edit("hi", lambda p: setattr(p[IP], "src", ELSEWHERE)),
    "PAR-FBU-10": add_reply("fback"),
    "PAR-FBU-11": edit("fback", lambda p: setattr(p[FBAck], "lifetime", 11)),
    "PAR-FBU-12": edit("fback", lambda p: setattr(p[FBAck], "code", 0)),
    "PAR-FBU-13": edit("fback", lambda p: setattr(p[FBAck], "code", 1)),
    "PAR-FBU-14": add_reply("fback"),
    "PAR-FBU-15": add_reply("fback"),
    "PAR-FBU-16": edit("fback", lambda p: setattr(p[FBAck], "haaddr",
                                                  ELSEWHERE)),
    "NAR-HI-09": edit("hack", lambda p: setattr(p[IP], "src", ELSEWHERE)),
    "NAR-HI-10": edit("hack", lambda p: setattr(p[HAck], "code", 5)),
    "NAR-HI-11": edit("hack", lambda p: setattr(p[IPv4AddrOption], "addr",
                                                memwire.MN)),
    "NAR-FBU-04": edit("fback", lambda p: setattr(p[UDP], "dport", 434),
                       dst=memwire.MN),
}


def test_every_case_has_a_broken_exchange():
    assert set(BROKEN) == set(CASES_BY_ID)


@pytest.fixture(scope="module")
def conformant():
    return {t: memwire.probe_with(t)[1] for t in TARGETS}


@pytest.mark.parametrize("case_id", sorted(BROKEN))
def test_each_case_fails_on_its_broken_exchange(case_id, conformant):
    case = CASES_BY_ID[case_id]
    prober = conformant[case.target]
    x = copy.copy(prober.results[case.exchange])
    assert case.judge(prober, x) is None, "passes as the emulator sent it"
    prober._current = x
    x.frames = BROKEN[case_id](list(x.frames), prober)
    try:
        reason = case.judge(prober, x)
    except Inconclusive as why:
        pytest.fail(f"skipped instead of failing: {why}")
    assert reason, f"{case_id} passes a broken exchange"


def test_inconclusive_cases_say_why():
    results = memwire.probe("par", ["no-reply"])
    left = [r for r in results if r["verdict"] == "inconclusive"]
    assert left and all(r["reason"].startswith("no ") for r in left)
    assert not [r for r in results if r["verdict"] == "skip"]
