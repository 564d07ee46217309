"""The correlation stage: one matcher for fmip-lint and the handover records.

Each test here failed before matching was written once (fmipdissect/
correlate/): the copies in lint/session.py and handovers/tracker.py went
wrong in these ways.
"""

from __future__ import annotations

import json
import struct

import lintcaps as L
from fmipdissect.api import handovers
from fmipdissect.lint.engine import CaptureLint, LintConfig
from fmipdissect.lint.session import Session

OTHER_MN = "10.0.0.6"


def findings(path):
    return [(f.frame, f.rule, f.message)
            for f in CaptureLint(str(path), LintConfig())]


def _hi_for(pcoa, identifier=L.HI_ID, src=L.PAR, dst=L.NAR, code=0):
    return L.hi(src=src, dst=dst, code=code, identifier=identifier,
                options=[L.LLAOption(code=2, lla=L.MN_LLA),
                         L.IPv4AddrOption(code=1, addr=pcoa)])


# --- HI Identifiers repeated for another MN (decision D17) -------------------

def test_an_hi_repeating_an_identifier_for_another_mn_does_not_hide_the_first(
        tmp_path):
    """Two HIs PAR -> NAR with one Identifier for two MNs, one HAck: the
    first HI is answered, the second reported unanswered on its frame."""
    path = L.write(tmp_path / "dup.pcap",
                   [_hi_for(L.MN), _hi_for(OTHER_MN), L.hack()])
    got = [(frame, rule) for frame, rule, _ in findings(path)]
    assert (2, "FM405") in got
    assert (1, "FM405") not in got
    assert not [r for _, r in got if r in ("FM404", "FM419")]


def test_two_hacks_answer_both_his_of_one_identifier(tmp_path):
    path = L.write(tmp_path / "dup2.pcap",
                   [_hi_for(L.MN), _hi_for(OTHER_MN), L.hack(), L.hack()])
    assert not [f for f in findings(path) if f[1] == "FM405"]
    first, second = handovers(path)
    assert (first.pcoa, first.codes["hack"]) == (L.MN, 0)
    assert (second.pcoa, second.codes["hack"]) == (OTHER_MN, 0)
    assert first.frames == [1, 3] and second.frames == [2, 4]


def test_the_same_hi_sent_again_is_one_request(tmp_path):
    path = L.write(tmp_path / "again.pcap",
                   [_hi_for(L.MN), _hi_for(L.MN), L.hack()])
    assert not [f for f in findings(path) if f[1] == "FM405"]


# --- a HAck sent back the wrong way (decisions D9, D11) -----------------------

def test_a_hack_sent_the_wrong_way_is_a_mismatch_not_an_orphan(tmp_path):
    path = L.write(tmp_path / "wrongway.pcap",
                   [_hi_for(L.MN), L.hack(src=L.PAR, dst=L.NAR)])
    got = findings(path)
    rules = [(frame, rule) for frame, rule, _ in got]
    assert (2, "FM419") in rules and not [r for r in rules if r[1] == "FM404"]
    text = next(t for _, r, t in got if r == "FM419")
    assert text == (f"HAck from {L.PAR} to {L.NAR} (Identifier {L.HI_ID}) "
                    f"does not answer the outstanding HI of frame 1 from "
                    f"{L.PAR} to {L.NAR} (Identifier {L.HI_ID})")
    assert (1, "FM405") in rules          # the HI is still unanswered


# --- mode from NAR's capture (decision D13) ------------------------------------

def test_a_predictive_handover_seen_from_nar_is_predictive(tmp_path):
    """NAR sees HI Code 0, its HAck, PAR's copy of the FBAck and then the
    MN's FBU from the new link: one completed predictive handover."""
    packets = [_hi_for(L.MN), L.hack(),
               L.fback(src=L.PAR, dst=L.NAR),
               L.fbu(src=L.MN, dst=L.NAR)]
    [record] = handovers(L.write(tmp_path / "nar.pcap", packets))
    assert (record.mode, record.outcome, record.frames) == (
        "predictive", "completed", [1, 2, 3, 4])


def test_a_reactive_handover_seen_from_nar_stays_reactive(tmp_path):
    packets = [L.fbu(src=L.MN, dst=L.NAR),
               L.fbu(src=L.NAR, dst=L.PAR, homeaddr=L.MN, coa=L.NAR),
               _hi_for(L.MN, code=1), L.hack(),
               L.fback(src=L.PAR, dst=L.NAR)]
    [record] = handovers(L.write(tmp_path / "reactive.pcap", packets))
    assert (record.mode, record.outcome) == ("reactive", "completed")


# --- a replayed Identification begins a new handover (D13) ---------------------

def test_an_fbu_replaying_a_completed_handovers_identification_is_new(
        tmp_path):
    packets = [L.fbu(), L.fback(), L.fbu()]
    first, second = handovers(L.write(tmp_path / "replay.pcap", packets))
    assert (first.frames, first.outcome) == ([1, 2], "completed")
    assert (second.frames, second.outcome) == ([3], "incomplete")


def test_the_forwarded_copy_still_joins_its_decided_handover(tmp_path):
    packets = [L.fbu(src=L.MN, dst=L.NAR),
               L.fbu(src=L.NAR, dst=L.PAR), L.fback(src=L.PAR, dst=L.NAR),
               L.fback(src=L.NAR, dst=L.MN), L.fbu(src=L.NAR, dst=L.PAR)]
    [record] = handovers(L.write(tmp_path / "copies.pcap", packets))
    assert record.frames == [1, 2, 3, 4, 5]


# --- a clock going back never gives a negative latency --------------------------

def _retimed(path, times):
    """Rewrite the pcap's record time stamps (seconds) in place."""
    data = bytearray(path.read_bytes())
    pos = 24
    for t in times:
        sec = int(t)
        struct.pack_into("<II", data, pos, sec, round((t - sec) * 1e6))
        caplen = struct.unpack_from("<I", data, pos + 8)[0]
        pos += 16 + caplen
    path.write_bytes(bytes(data))


def test_a_reply_stamped_before_its_request_gives_null_and_a_note(tmp_path):
    path = L.write(tmp_path / "back.pcap",
                   [L.rtsolpr(), L.prrtadv(), L.fbu(), L.fback()])
    _retimed(path, [L.T0 + 10, L.T0 + 9.5, L.T0 + 10.1, L.T0 + 0.1])
    [record] = handovers(path)
    assert record.latency_ms == {"rtsolpr_prrtadv": None, "hi_hack": None,
                                 "fbu_fback": None, "total": None}
    assert len(record.notes) == 3
    assert record.notes[0] == (
        "RtSolPr-PrRtAdv latency not computed: the reply of frame 2 is "
        "stamped 500.000 ms before its request")
    assert record.to_dict()["notes"] == record.notes


def test_a_wrapped_timestamp_keeps_the_table_in_columns(tmp_path, capsys):
    from fmipdissect.cli import main
    path = L.write(tmp_path / "wrap.pcap", [L.fbu(), L.fback()])
    _retimed(path, [4_000_000_000.0, 1.0])
    assert main(["handovers", "--format", "json", str(path)]) == 0
    record = json.loads(capsys.readouterr().out)["handovers"][0]
    assert record["latency_ms"]["fbu_fback"] is None
    assert all(v is None or v >= 0 for v in record["latency_ms"].values())
    assert main(["handovers", str(path)]) == 0
    table = capsys.readouterr().out
    assert "-40000" not in table and "e+" not in table


# --- a finding about a request is on the request's frame ------------------------

def test_an_unanswered_request_is_reported_on_its_frame():
    session = Session()
    from fmipdissect.decode.decoder import decode_datagram
    from fmipdissect.records import Datagram
    from scapy.layers.inet import IP, UDP
    for frame, p in enumerate([L.fbu(), L.rtsolpr()], 1):
        ip = p[IP]
        if ip.proto == 17:
            d = Datagram(frame, float(frame), ip.src, ip.dst, 17, 64, 434, 434,
                         bytes(ip[UDP].payload))
        else:
            d = Datagram(frame, float(frame), ip.src, ip.dst, 1, 64, None,
                         None, bytes(ip.payload))
        session.observe(decode_datagram(d), d)
    out = session.finish()
    assert [r for r, _ in out] == ["FM407", "FM403"]
    assert session.frames == [2, 1]


# --- a reply once every request of its scope is answered (decision D11) -------

ANSWERED_THEN_OTHER = {
    # NAR's capture: a reactive handover it forwarded, then PAR's FBAck copy
    # (decision D8) of a predictive one whose FBU only PAR saw
    "fback": [L.fbu(), L.fback(), L.fback(ident=L.IDENT + 1)],
    "hack": [L.hi(), L.hack(), L.hack(identifier=L.HI_ID + 1)],
    "prrtadv": [L.rtsolpr(), L.prrtadv(), L.prrtadv(identifier=L.RT_ID + 1)],
}


def test_a_reply_after_its_scope_was_answered_is_an_orphan_not_a_mismatch(
        tmp_path):
    for pair, packets in ANSWERED_THEN_OTHER.items():
        got = [(frame, rule) for frame, rule, _ in
               findings(L.write(tmp_path / f"{pair}.pcap", packets))]
        orphan = {"fback": "FM401", "hack": "FM404", "prrtadv": "FM406"}[pair]
        mismatch = {"fback": "FM402", "hack": "FM419", "prrtadv": "FM420"}
        assert (3, orphan) in got, (pair, got)
        assert (3, mismatch[pair]) not in got, (pair, got)


def test_an_hi_after_the_fbu_was_answered_is_not_judged_against_it(tmp_path):
    """RFC 4988 5.5: the HI's Code says how the FBU that caused it reached
    PAR; an FBU already answered caused an earlier HI, not this one."""
    forwarded = L.fbu(src=L.NAR, dst=L.PAR, coa=L.NAR)
    packets = [forwarded, _hi_for(L.MN, code=1), L.hack(),
               L.fback(dst=L.NAR), _hi_for(L.MN, identifier=L.HI_ID + 1)]
    got = [rule for _, rule, _ in
           findings(L.write(tmp_path / "later.pcap", packets))]
    assert "FM412" not in got
