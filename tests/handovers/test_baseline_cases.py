"""Moves without a fast handover (decision D25), corner by corner, on
captures built here from real Mobile IPv4 registrations (RFC 5944 3.3,
3.4; the generator's builder, with its Mobile-Home authenticator)."""

from __future__ import annotations

import json
import subprocess
import sys

from scapy.layers.l2 import Ether
from scapy.layers.mobileip import MobileIPRRP, MobileIPRRQ
from scapy.utils import rdpcap, wrpcap

import fmipdissect
from fmipdissect.gen.vantage import base_params, registration

T0 = 1767225600.0
HOME, HA, NAR = "198.18.1.10", "198.18.1.1", "198.18.2.1"
POOL = "198.18.2.1%02d"     # co-located care-of addresses .100, .101, ...
P0 = base_params()


def request(t, coa, ident, lifetime=10, src=None, home=HOME, agent=HA):
    """(t, frame) of a Registration Request sent from src (default: the
    care-of address, co-located) to the home agent (PAR)."""
    return t, Ether() / registration(P0, src or coa, agent, MobileIPRRQ(
        flags=0x02, lifetime=lifetime, homeaddr=home, haaddr=agent,
        coaddr=coa, id=ident))


def reply(t, ident, to, code=0, lifetime=10, home=HOME, agent=HA):
    return t, Ether() / registration(P0, agent, to, MobileIPRRP(
        code=code, lifetime=lifetime, homeaddr=home, haaddr=agent, id=ident))


def exchange(t, coa, ident, code=0, lifetime=10, src=None):
    """A Request and its Reply 10 ms later."""
    return [request(t, coa, ident, lifetime, src),
            reply(t + 0.01, ident, src or coa, code, lifetime)]


def write(path, items, frames=()):
    out = list(frames)
    for t, frame in items:
        frame.time = t
        out.append(frame)
    out.sort(key=lambda f: float(f.time))
    wrpcap(str(path), out)
    return path


def merged(path) -> list:
    records, _ = fmipdissect.merged_handovers({"mn": str(path)})
    return [r.to_dict() for r in records]


def test_reply_missing_is_incomplete(tmp_path):
    got = merged(write(tmp_path / "c.pcap",
                       [request(T0 + 1, POOL % 0, 1)]))
    assert len(got) == 1
    record = got[0]
    assert (record["mode"], record["outcome"]) == ("baseline", "incomplete")
    assert record["latency_ms"]["total"] is None
    assert record["start"] == record["end"] == T0 + 1
    assert [m["type"] for m in record["messages"]] == ["RegistrationRequest"]


def test_reply_rejecting_is_rejected_and_moves_nothing(tmp_path):
    """A denied registration (RFC 5944 3.4: Code 131) leaves the MN's
    binding as it was: the same care-of address again is still a move."""
    got = merged(write(tmp_path / "c.pcap",
                       exchange(T0 + 1, POOL % 0, 1, code=131)
                       + exchange(T0 + 2, POOL % 0, 2, code=1)))
    assert [(r["outcome"], r["messages"][-1]["code"]) for r in got] == \
        [("rejected", 131), ("completed", 1)]
    assert got[0]["latency_ms"]["total"] == 10.0
    assert "Code 131" in got[0]["notes"][0]


def test_same_care_of_address_is_no_move_until_the_mn_went_home(tmp_path):
    """A second registration from the same care-of address renews the
    binding; after a deregistration (Lifetime 0, RFC 5944 3.3) the same
    address again is a move."""
    items = (exchange(T0 + 1, POOL % 0, 1) + exchange(T0 + 2, POOL % 0, 2)
             + exchange(T0 + 3, HOME, 3, lifetime=0)
             + exchange(T0 + 4, POOL % 0, 4))
    got = merged(write(tmp_path / "c.pcap", items))
    assert [r["start"] for r in got] == [T0 + 1, T0 + 4]
    assert all(r["outcome"] == "completed" for r in got)


def test_a_new_care_of_address_is_a_move(tmp_path):
    got = merged(write(tmp_path / "c.pcap", exchange(T0 + 1, POOL % 0, 1)
                       + exchange(T0 + 2, POOL % 1, 2)))
    assert [r["ncoa"] for r in got] == [POOL % 0, POOL % 1]


def test_request_sent_again_is_one_move(tmp_path):
    """No Reply to the first Request; the second (same care-of address,
    new Identification) is answered: one record, latency from the first."""
    items = [request(T0 + 1, POOL % 0, 1), request(T0 + 1.5, POOL % 0, 2),
             reply(T0 + 1.51, 2, POOL % 0)]
    got = merged(write(tmp_path / "c.pcap", items))
    assert len(got) == 1
    assert [m["type"] for m in got[0]["messages"]] == [
        "RegistrationRequest", "RegistrationRequest", "RegistrationReply"]
    assert got[0]["outcome"] == "completed"
    assert got[0]["latency_ms"]["total"] == 510.0


def test_a_reply_to_another_request_decides_nothing(tmp_path):
    items = [request(T0 + 1, POOL % 0, 1), reply(T0 + 1.01, 99, POOL % 0)]
    got = merged(write(tmp_path / "c.pcap", items))
    assert [r["outcome"] for r in got] == ["incomplete"]


def test_foreign_agent_care_of_address_names_nar(tmp_path):
    """Sent from the home address with NAR's address as care-of address
    (a foreign agent's, as the lab's MN registers): NAR is that address,
    the MN has no new address of its own."""
    got = merged(write(tmp_path / "c.pcap",
                       exchange(T0 + 1, NAR, 1, src=HOME)))
    assert [(r["nar"], r["ncoa"], r["par"]) for r in got] == \
        [(NAR, None, HA)]


def _fast_handover(tmp_path):
    """A predictive handover of the same MN (gen --vantage mn): its
    frames and its start."""
    folder = tmp_path / "gen"
    run = subprocess.run([sys.executable, "-m", "fmipdissect", "gen",
                          "predictive", "--vantage", "mn", "-o",
                          str(folder)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    truth = json.loads((folder / "truth.json").read_text())
    return list(rdpcap(str(folder / "mn.pcap"))), truth["handovers"][0]


def test_registrations_around_a_fast_handover_make_no_second_record(
        tmp_path):
    frames, fast = _fast_handover(tmp_path)
    start = fast["start"]
    items = (
        # a Request before the RtSolPr, its Reply after: the FMIPv4
        # handover takes the move over
        [request(start - 0.01, POOL % 40, 1),
         reply(start + 0.005, 1, POOL % 40)]
        # during the handover (RtSolPr to FBAck)
        + exchange(start + 0.02, POOL % 50, 2)
        # after it, from NAR's address, where the FBU took the MN
        + exchange(start + 0.5, NAR, 3, src=HOME)
        # then a care-of address of its own: a move without FMIPv4
        + exchange(start + 0.7, POOL % 60, 4))
    got = merged(write(tmp_path / "c.pcap", items, frames))
    assert [r["mode"] for r in got] == ["predictive", "baseline"]
    fmip, baseline = got
    assert not any(m["type"].startswith("Registration")
                   for m in fmip["messages"])
    assert baseline["start"] == start + 0.7
    assert baseline["ncoa"] == POOL % 60


def test_one_capture_without_merge_has_no_baseline_record(tmp_path):
    """fmip-lint's engine (handovers without --merge) stays FMIPv4 only
    (D25)."""
    path = write(tmp_path / "c.pcap", exchange(T0 + 1, POOL % 0, 1))
    assert fmipdissect.handovers(str(path)) == []
    assert len(merged(path)) == 1


def test_a_cut_registration_is_no_move(tmp_path):
    """A Request cut before its Identification ends, and a Mobile IP
    message of another type on port 434: no record, no error."""
    from scapy.layers.inet import IP, UDP
    from scapy.packet import Raw
    t, whole = request(T0 + 1, POOL % 0, 1)
    cut = Ether() / IP(bytes(whole[IP])[:20 + 8 + 20])
    other = Ether() / IP(src=POOL % 0, dst=HA) / UDP(sport=434, dport=434) \
        / Raw(bytes([2]) + bytes(27))
    assert merged(write(tmp_path / "c.pcap",
                        [(t, cut), (t + 1, other)])) == []


def test_registration_from_a_fast_handovers_ncoa_is_no_move(tmp_path):
    """With a co-located care-of address the FBU's Home Address is the
    PCoA, and the MN registers its NCoA under its own home address: within
    the fast binding's longest Lifetime (10 s, RFC 4988 5.1) that is the
    FMIPv4 handover's registration; long after, a move of its own."""
    folder = tmp_path / "ncoa.pcap"
    run = subprocess.run([sys.executable, "-m", "fmipdissect", "gen", "ncoa",
                          "-o", str(folder)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    (fast,) = fmipdissect.handovers(str(folder))
    home, agent = "192.0.2.77", "192.0.2.1"
    items = [request(fast.end + 0.5, fast.ncoa, 1, home=home, agent=agent),
             reply(fast.end + 0.51, 1, fast.ncoa, home=home, agent=agent),
             request(fast.end + 20, fast.ncoa, 2, home="192.0.2.78",
                     agent=agent)]
    got = merged(write(tmp_path / "c.pcap", items, rdpcap(str(folder))))
    assert [(r["mode"], r["mn"]) for r in got] == [
        ("predictive", fast.pcoa), ("baseline", "192.0.2.78")]


def test_the_labs_sequence(tmp_path):
    """As the lab does: a fast handover, the MN home again with a
    deregistration, then moves registering NAR's address as a foreign
    agent's care-of address, each followed by a deregistration: one
    baseline record per move, none for the deregistrations."""
    frames, fast = _fast_handover(tmp_path)
    start = fast["start"]
    home_again = [exchange(start + k, HOME, 10 + i, lifetime=0, src=HOME)
                  for i, k in enumerate((0.8, 1.8, 2.8))]
    moves = [exchange(start + k, NAR, 20 + i, src=HOME)
             for i, k in enumerate((1.2, 2.2))]
    items = [x for pair in home_again + moves for x in pair]
    got = merged(write(tmp_path / "c.pcap", items, frames))
    assert [(r["mode"], r["nar"]) for r in got] == [
        ("predictive", NAR), ("baseline", NAR), ("baseline", NAR)]
    assert [r["start"] for r in got[1:]] == [start + 1.2, start + 2.2]


def test_no_deregistration_after_a_fast_handover_no_move_to_nar(tmp_path):
    """Without the deregistration the MN is still where the FBU took it:
    registering NAR's address then is no move."""
    frames, fast = _fast_handover(tmp_path)
    got = merged(write(tmp_path / "c.pcap",
                       exchange(fast["start"] + 1.2, NAR, 1, src=HOME),
                       frames))
    assert [r["mode"] for r in got] == ["predictive"]
