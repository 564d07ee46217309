"""The hard cases of D13: each message lands in the right handover record.

Captures are built with tests/lintcaps.py (the project's Scapy layers) with
one message every STEP seconds, so every expected latency is a multiple of
STEP: computed from the positions of the messages, not from the tool."""

from __future__ import annotations

import subprocess
import sys

import lintcaps as L
import pytest

from fmipdissect import handovers
from fmipdissect.handovers.builder import STEPS_PER_HANDOVER

STEP = 0.01
MS = STEP * 1000
OTHER = 0xE1A2B3C400000002     # a second Identification


def _run(tmp_path, packets, name="case.pcap", step=STEP):
    path = L.write(tmp_path / name, packets, step=step)
    return handovers(path)


def _shape(records):
    return [(r.mode, r.initiated_by, r.outcome, r.frames) for r in records]


def test_fbacks_to_both_mn_and_nar_are_one_handover(tmp_path):
    [r] = _run(tmp_path, L.predictive_flow())
    assert _shape([r]) == [("predictive", "mn", "completed",
                            [1, 2, 3, 4, 5, 6, 7])]
    assert r.latency_ms == {"rtsolpr_prrtadv": MS, "hi_hack": MS,
                            "fbu_fback": 3 * MS, "total": 6 * MS}
    assert (r.par, r.nar, r.codes) == (L.PAR, L.NAR, {
        "prrtadv": 0, "hi": 0, "hack": 0, "fback": 0})


def test_forwarded_fbu_belongs_to_the_reactive_handover(tmp_path):
    [r] = _run(tmp_path, L.CONFORMANT_FLOWS["reactive"]())
    assert _shape([r]) == [("reactive", "mn", "completed", list(range(1, 9)))]
    assert r.latency_ms["fbu_fback"] == 4 * MS     # frame 3 -> frame 7
    assert r.latency_ms["hi_hack"] == MS


def test_retransmitted_fbu_with_a_new_identification(tmp_path):
    packets = [L.rtsolpr(), L.prrtadv(), L.fbu(), L.fbu(ident=OTHER),
               L.hi(), L.hack(), L.fback(ident=OTHER),
               L.fback(dst=L.NAR, ident=OTHER)]
    [r] = _run(tmp_path, packets)
    assert _shape([r]) == [("predictive", "mn", "completed",
                            list(range(1, 9)))]
    # from the first FBU (frame 3): the time the MN waited
    assert r.latency_ms["fbu_fback"] == 4 * MS


def test_rejected_fbu_then_a_retry_is_two_handovers(tmp_path):
    packets = [L.rtsolpr(), L.prrtadv(), L.fbu(), L.hi(), L.hack(code=128),
               L.fback(code=128, lifetime=0),
               L.fbu(ident=OTHER), L.hi(identifier=10), L.hack(identifier=10),
               L.fback(ident=OTHER), L.fback(dst=L.NAR, ident=OTHER)]
    first, retry = _run(tmp_path, packets)
    assert _shape([first, retry]) == [
        ("predictive", "mn", "rejected", [1, 2, 3, 4, 5, 6]),
        ("predictive", "mn", "completed", [7, 8, 9, 10, 11])]
    assert first.codes["fback"] == 128 and first.codes["hack"] == 128
    assert retry.latency_ms == {"rtsolpr_prrtadv": None, "hi_hack": MS,
                                "fbu_fback": 3 * MS, "total": 4 * MS}


def test_predictive_then_the_same_fbu_from_the_new_link(tmp_path):
    # RFC 4988 4: the FBU sent again from the new link, then forwarded.
    packets = L.CONFORMANT_FLOWS["ncoa"]()
    [r] = _run(tmp_path, packets)
    assert r.frames == list(range(1, 10))
    assert (r.mode, r.outcome, r.ncoa) == ("predictive", "completed", L.NCOA)


def test_predictive_then_a_new_fbu_through_the_new_link(tmp_path):
    packets = L.predictive_flow() + [
        L.fbu(dst=L.NAR, ident=OTHER), L.fbu(src=L.NAR, dst=L.PAR,
                                             ident=OTHER),
        L.hi(code=1, identifier=10), L.hack(identifier=10),
        L.fback(dst=L.NAR, ident=OTHER), L.fback(src=L.NAR, ident=OTHER),
        # and then a new handover of the same MN
        L.rtsolpr(identifier=8), L.prrtadv(identifier=8)]
    first, second = _run(tmp_path, packets)
    assert first.frames == list(range(1, 14))
    assert (first.mode, first.outcome) == ("predictive", "completed")
    assert second.frames == [14, 15]
    assert (second.mode, second.outcome) == ("unknown", "incomplete")


def test_concurrent_handovers_of_many_mns_through_the_same_routers(tmp_path):
    """`fmipdissect gen predictive --handovers 60`: interleaved flows."""
    path = tmp_path / "many.pcap"
    subprocess.run([sys.executable, "-m", "fmipdissect", "gen", "predictive",
                    "--handovers", "60", "-o", str(path)], check=True,
                   capture_output=True)
    records = handovers(path)
    assert len(records) == 60
    assert len({r.mn for r in records}) == 60
    frames = [f for r in records for f in r.frames]
    assert sorted(frames) == list(range(1, 60 * 7 + 1))
    assert [r.first_frame for r in records] == sorted(
        r.first_frame for r in records)
    # the flows overlap in time: some handover starts before another ends
    assert any(b.start < a.end for a, b in zip(records, records[1:]))
    for r in records:
        assert (r.mode, r.outcome, r.par, r.nar) == (
            "predictive", "completed", "10.1.0.1", "10.2.0.1")
        assert r.latency_ms == {"rtsolpr_prrtadv": 2.5, "hi_hack": 2.5,
                                "fbu_fback": 4.0, "total": 404.2}


def test_two_mns_interleaved_message_by_message(tmp_path):
    other = "10.0.0.6"
    a = L.predictive_flow()
    b = [L.rtsolpr(src=other, identifier=70),
         L.prrtadv(dst=other, identifier=70),
         L.fbu(src=other, homeaddr=other, ident=OTHER),
         L.hi(identifier=90, options=[L.LLAOption(code=2, lla=L.MN_LLA),
                                      L.IPv4AddrOption(code=1, addr=other)]),
         L.hack(identifier=90),
         L.fback(dst=other, homeaddr=other, ident=OTHER),
         L.fback(dst=L.NAR, homeaddr=other, ident=OTHER)]
    packets = [p for pair in zip(a, b) for p in pair]
    ra, rb = _run(tmp_path, packets)
    assert ra.frames == list(range(1, 15, 2))
    assert rb.frames == list(range(2, 15, 2))
    assert ra.mn == L.MN and rb.mn == other


def test_a_handover_expires_after_the_checkers_expiry_time(tmp_path):
    from fmipdissect.spec.constraints import EXPIRY_SECONDS
    packets = [L.rtsolpr(), L.prrtadv(), L.fbu()]
    later = [L.rtsolpr(identifier=8)]
    path = tmp_path / "gap.pcap"
    from scapy.utils import wrpcap
    pkts = []
    for i, p in enumerate(packets + later):
        p = p.copy()
        p.time = L.T0 + i * STEP + (EXPIRY_SECONDS + 5 if i == 3 else 0)
        pkts.append(p)
    wrpcap(str(path), pkts)
    first, second = handovers(path)
    assert (first.outcome, first.frames) == ("incomplete", [1, 2, 3])
    assert second.frames == [4]


def test_network_initiated_and_unsolicited_to_a_group_address(tmp_path):
    packets = [L.prrtadv(dst="255.255.255.255", code=4, identifier=0),
               L.prrtadv(code=1, identifier=0,
                         options=L.prrtadv_options(ncoa=L.NCOA)),
               L.fbu(), L.fback()]
    [r] = _run(tmp_path, packets)
    assert (r.initiated_by, r.frames, r.ncoa) == ("network", [2, 3, 4],
                                                  L.NCOA)
    assert r.latency_ms["rtsolpr_prrtadv"] is None


def test_orphan_replies_belong_to_no_handover(tmp_path):
    assert _run(tmp_path, [L.fback(), L.hack()]) == []


def test_diagram_steps_are_capped_but_messages_counted(tmp_path):
    packets = [L.rtsolpr()] * (STEPS_PER_HANDOVER + 20)
    from fmipdissect.analysis import CaptureHandovers
    path = L.write(tmp_path / "many.pcap", packets, step=STEP)
    [r] = list(CaptureHandovers(str(path), diagrams=1))
    assert r.messages == STEPS_PER_HANDOVER + 20
    assert len(r.steps) == STEPS_PER_HANDOVER
    assert r.steps_dropped == 20
