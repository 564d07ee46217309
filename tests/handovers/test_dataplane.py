"""The data plane on hand-built datagrams (tests/handovers/dataplane_scenes.py
works out every time): the interruption, lost, tunnelled, buffered,
reordered and duplicated counts per direction, from all four captures and
from fewer (decisions D20 and D21)."""

from __future__ import annotations

import pytest

import dataplane_scenes as S

from fmipdissect.handovers.dataplane import DataPlane

ALL = ("mn", "par", "nar", "cn")


def _data(keep=ALL, record=None, roles=None, **scene):
    plane = DataPlane(S.roles(keep) if roles is None else roles)
    for d in S.scene(keep, **scene):
        plane.observe(d)
    return plane, plane.data(record or S.Record())


def test_every_capture_predictive_with_buffering():
    _, data = _data()
    assert data["flows"] == 2
    assert data["down"] == {
        "packets": 150, "interruption_ms": 154.0,
        "last_old": 100.297, "first_new": 100.451,
        "lost": 0, "tunnelled": 90, "buffered": 30, "reordered": 0,
        "duplicated": 0, "lost_last_seen": {}}
    assert data["up"] == {
        "packets": 140, "interruption_ms": 55.0,
        "last_old": 100.3975, "first_new": 100.4525,
        "lost": 0, "tunnelled": 60, "buffered": 0, "reordered": 0,
        "duplicated": 0, "lost_last_seen": {}}


def test_without_buffering_nar_drops_what_came_before_the_mn():
    _, data = _data(buffering=False)
    down = data["down"]
    assert (down["interruption_ms"], down["lost"], down["buffered"]) == (
        157.0, 30, 0)
    assert down["lost_last_seen"] == {"nar": 30}
    assert down["tunnelled"] == 90


def _edit(direction, number, change):
    def edit(d, n, seen):
        return change(seen) if (d, n) == (direction, number) else seen
    return edit


def test_a_packet_lost_on_the_old_link_was_last_seen_at_par():
    _, data = _data(edit=_edit("down", 10, lambda seen: [
        s for s in seen if s[0] != "mn"]))
    assert data["down"]["lost"] == 1
    assert data["down"]["lost_last_seen"] == {"par": 1}
    assert data["down"]["interruption_ms"] == 154.0


def test_an_uplink_packet_lost_before_the_cn():
    _, data = _data(edit=_edit("up", 100, lambda seen: [
        s for s in seen if s[0] != "cn"]))
    assert (data["up"]["lost"], data["up"]["lost_last_seen"]) == (
        1, {"par": 1})


def test_two_copies_at_the_mn_are_one_duplicate():
    _, data = _data(edit=_edit("down", 100, lambda seen: seen + [
        ("mn", seen[-1][1] + 0.0001, None)]))
    assert data["down"]["duplicated"] == 1
    assert data["down"]["lost"] == 0


def test_a_routers_incoming_and_outgoing_copies_are_one_delivery():
    """PAR and NAR each see most datagrams twice: no duplicate."""
    _, data = _data(keep=("par", "nar", "cn"))
    assert data["down"]["duplicated"] == data["up"]["duplicated"] == 0


def test_a_packet_overtaken_is_reordered():
    def late(seen):
        return seen[:-1] + [("mn", seen[-1][1] + 0.0055, None)]
    _, data = _data(edit=_edit("down", 120, late))
    assert data["down"]["reordered"] == 1
    assert data["down"]["duplicated"] == data["down"]["lost"] == 0


def test_routers_only_measure_where_they_hand_over():
    """No MN capture: the interruption at the capture nearest the MN: PAR
    onto the old link, NAR onto the new one (D20)."""
    _, data = _data(keep=("par", "nar", "cn"))
    down, up = data["down"], data["up"]
    assert (down["last_old"], down["first_new"]) == (100.296, 100.45)
    assert down["interruption_ms"] == 154.0
    assert (down["buffered"], down["lost"], down["tunnelled"]) == (30, 0, 90)
    assert (up["last_old"], up["first_new"]) == (100.3985, 100.4535)
    assert (up["interruption_ms"], up["lost"]) == (55.0, 0)


def test_routers_only_without_buffering():
    _, data = _data(keep=("par", "nar", "cn"), buffering=False)
    assert data["down"]["lost"] == 30
    assert data["down"]["lost_last_seen"] == {"nar": 30}
    assert data["down"]["buffered"] == 0


def test_the_mn_alone_finds_the_longest_pause():
    _, data = _data(keep=("mn",))
    assert data["down"]["interruption_ms"] == 154.0
    assert data["up"]["interruption_ms"] == 55.0
    assert data["down"]["lost"] == data["up"]["lost"] == 0
    # the MN's capture alone cannot tell a held datagram from a slow one
    assert data["down"]["buffered"] == 0


def test_the_mn_alone_counts_losses_by_sequence_gaps():
    _, data = _data(keep=("mn",), buffering=False)
    assert data["down"]["interruption_ms"] == 157.0
    assert data["down"]["lost"] == 30
    assert data["down"]["lost_last_seen"] == {}     # seen nowhere


def test_cn_and_mn_tell_buffering_by_one_way_delay():
    _, data = _data(keep=("mn", "cn"))
    assert data["down"]["buffered"] == 30
    assert data["down"]["interruption_ms"] == 154.0


def test_par_alone_sees_no_pause_downlink_and_no_loss_uplink():
    """From PAR the downlink never stopped: it went into the tunnel 5 ms
    after the last packet onto the old link.  The uplink numbers the MN
    used while detached never went on the wire: not lost (D20)."""
    _, data = _data(keep=("par",))
    assert data["down"]["interruption_ms"] == 5.0
    assert data["up"]["lost"] == 0
    assert data["up"]["interruption_ms"] == 57.0
    assert data["down"]["lost"] == 0


def test_an_unnamed_capture_is_everything():
    _, data = _data(keep=("mn",), roles={"mn": None})
    assert data["down"]["interruption_ms"] == 154.0
    assert data["down"]["lost"] == 0


def test_no_traffic_of_the_mn_is_none():
    plane = DataPlane(S.roles())
    for d in S.scene():
        plane.observe(d)
    assert plane.data(S.Record(start=500.0, end=500.1)) is None
    other = S.Record()
    other.mn = other.pcoa = other.ncoa = "198.18.1.99"
    assert plane.data(other) is None


def test_forget_before_drops_history():
    plane = DataPlane(S.roles())
    for d in S.scene():
        plane.observe(d)
    plane.forget_before(100.5)
    data = plane.data(S.Record())
    assert data["down"]["packets"] == 50      # n = 100..149 left
    assert data["down"]["interruption_ms"] is None
    plane.forget_before(1000.0)
    assert plane._seen == [] and plane._times == []


def test_a_second_handover_does_not_count_the_firsts_traffic():
    plane = DataPlane(S.roles())
    for d in S.scene():
        plane.observe(d)
    first = plane.data(S.Record())
    again = plane.data(S.Record(start=100.95, end=100.96))
    assert first["down"]["packets"] == 150
    assert again is None          # its window starts where the first's ended


def test_summary_totals_and_interruption_statistics():
    plane, _ = _data(buffering=False)
    summary = plane.summary()
    assert summary["down"] == {
        "interruption_ms": {"count": 1, "min": 157.0, "p50": 157.0,
                            "p95": 157.0, "max": 157.0},
        "lost": 30, "tunnelled": 90, "buffered": 0}
    assert summary["up"]["interruption_ms"]["max"] == 55.0
    assert DataPlane({}).summary()["up"]["interruption_ms"]["count"] == 0


@pytest.mark.parametrize("keep", [ALL, ("par", "nar", "cn"), ("mn", "cn")])
def test_the_counts_can_fail(keep):
    """A changed scene changes the reading: the tests above are not
    satisfied by any input."""
    _, with_buffer = _data(keep=keep)
    _, without = _data(keep=keep, buffering=False)
    assert with_buffer["down"] != without["down"]


def test_the_old_path_after_the_new_one_does_not_end_the_interruption():
    """The binding ends and the MN is back on its old link later in the
    window: the interruption is still from the last old delivery before
    the first new one."""
    back = S._datagram(S.CN, S.MN, 1, 500, [
        ("cn", 100.78, None), ("par", 100.781, None), ("par", 100.781, None),
        ("mn", 100.782, None)])
    plane = DataPlane(S.roles())
    for d in S.scene() + [back]:
        plane.observe(d)
    data = plane.data(S.Record())
    assert data["down"]["interruption_ms"] == 154.0
    assert data["down"]["last_old"] == 100.297


def test_data_writes_as_the_contracts_object_and_keeps_marks_aside():
    import json
    _, data = _data(buffering=False)
    text = json.dumps(data)
    assert "marks" not in text and json.loads(text) == data
    kinds = [k for _, k in data.marks["down"]]
    assert kinds.count("lost") == 30 and kinds.count("buffered") == 0
    _, buffered = _data()
    kinds = [k for _, k in buffered.marks["down"]]
    assert kinds.count("buffered") == 30 and "lost" not in kinds
    times = [t for t, _ in buffered.marks["down"]]
    assert times == sorted(times)


def test_known_addresses_keep_only_the_mns_traffic():
    other = S._datagram("198.18.3.20", "198.18.3.21", 1, 7, [
        ("cn", 100.5, None)])
    every = DataPlane(S.roles())
    only = DataPlane(S.roles(), addresses={S.MN})
    for d in S.scene() + [other]:
        every.observe(d)
        only.observe(d)
    assert len(only._seen) == len(every._seen) - 1
    assert only.data(S.Record()) == every.data(S.Record())


def _message(src, dst, t):
    """An FMIPv4 message as the merge hands it on (its Datagram set)."""
    d = S._datagram(src, dst, 0, 0, [("mn", t, None)])
    d.seq, d.datagram = None, object()
    return d


def test_the_next_handover_of_the_mn_ends_the_window():
    plane = DataPlane(S.roles())
    stream = S.scene() + [_message(S.MN, S.PAR, 100.6),      # RtSolPr
                          _message(S.PAR, "198.18.2.5", 100.3)]  # another
    stream.sort(key=lambda d: d.observations[0].time)
    for d in stream:
        plane.observe(d)
    first = plane.data(S.Record())
    # down n = 0..119 were sent before 100.6; the messages are not traffic
    assert first["down"]["packets"] == 120
    assert first["down"]["interruption_ms"] == 154.0
    second = plane.data(S.Record(start=100.6, end=100.65))
    assert second["down"]["packets"] == 30 and second["flows"] == 2


def test_without_a_next_handover_the_window_ends_settle_seconds_after():
    plane = DataPlane(S.roles())
    for d in [_message(S.PAR, S.NAR, 90.0)] + S.scene():
        plane.observe(d)
    assert plane.data(S.Record(start=97.0, end=97.99)) is None   # < 99.99
    data = plane.data(S.Record(start=97.0, end=98.0))  # to 100.0, excluded
    assert data is None
    data = plane.data(S.Record(start=98.0, end=98.0026))   # to 100.0026
    assert data["down"]["packets"] == 1 and data["up"]["packets"] == 1


def test_told_no_message_the_window_ends_sooner():
    """A caller that hands over the traffic only: 0.5 s after the end."""
    plane = DataPlane(S.roles())
    for d in S.scene():
        plane.observe(d)
    data = plane.data(S.Record(start=99.4, end=99.5026))     # to 100.0026
    assert data["down"]["packets"] == 1 and data["up"]["packets"] == 1


def _shift_mn(by):
    def change(seen):
        return [(v, t + by if v == "mn" else t, tun) for v, t, tun in seen]
    return change


def test_delay_within_the_margin_is_path_delay_not_buffering():
    """D21: only a hold beyond the new path's least by more than 5 ms is
    buffering; a datagram a loaded NAR kept 4.9 ms is not."""
    _, data = _data(keep=("mn", "cn"), buffering=False,
                    edit=_edit("down", 100, _shift_mn(0.0049)))
    assert data["down"]["buffered"] == 0
    _, data = _data(keep=("mn", "cn"), buffering=False,
                    edit=_edit("down", 100, _shift_mn(0.0051)))
    assert data["down"]["buffered"] == 1

    def slow_nar(seen):
        return [(v, t + 0.0049 if (v == "nar" and tun is None) or v == "mn"
                 else t, tun) for v, t, tun in seen]
    _, data = _data(buffering=False, edit=_edit("down", 100, slow_nar))
    assert data["down"]["buffered"] == 0


def test_a_gre_or_any_tunnel_counts_and_an_unnumbered_flow_reorders():
    """Any tunnel counts as tunnelled; a flow without sequence numbers is
    put in order by its first sightings."""
    def tcp(ident, sent, at_mn):
        d = S._datagram(S.CN, S.MN, 0, 0, [("cn", sent, None),
                                            ("par", sent + 0.001, None),
                                            ("par", sent + 0.001,
                                             ("198.18.0.1", "198.18.0.2")),
                                            ("nar", sent + 0.003,
                                             ("198.18.0.1", "198.18.0.2")),
                                            ("nar", sent + 0.003, None),
                                            ("mn", at_mn, None)])
        d.proto, d.ident, d.sport, d.dport, d.seq = 6, ident, 80, 5000, None
        return d
    plane = DataPlane(S.roles())
    for d in (tcp(1, 100.5, 100.505), tcp(2, 100.501, 100.5045)):
        plane.observe(d)
    data = plane.data(S.Record())
    assert data["flows"] == 1
    assert data["down"]["tunnelled"] == 2
    assert data["down"]["reordered"] == 1
    assert data["down"]["lost"] == data["down"]["duplicated"] == 0


def test_tcp_sequence_numbers_are_octets_not_packets():
    """Bare ACKs repeat a TCP sequence number and segments skip by their
    length: neither a duplicate nor a loss (D20)."""
    def ack(ident, t, number):
        d = S._datagram(S.MN, S.CN, 0, 0, [("mn", t, None),
                                            ("par", t + 0.001, None),
                                            ("par", t + 0.001, None),
                                            ("cn", t + 0.002, None)])
        d.proto, d.ident, d.sport, d.dport = 6, ident, 5000, 80
        d.seq = ("tcp", number)
        return d
    plane = DataPlane({"mn": "mn", "par": "par"})      # no CN capture
    for i, number in enumerate((1000, 1000, 1000, 2460, 5380)):
        plane.observe(ack(i, 100.3 + i * 0.01, number))
    up = plane.data(S.Record())["up"]
    assert (up["lost"], up["duplicated"], up["reordered"]) == (0, 0, 0)


def test_which_mobile_ipv4_messages_begin_the_next_handover():
    """Never traffic; the next handover begins with an FMIPv4 message or a
    Registration Request asking for a binding (D25: a move without a fast
    handover), named by its Home Address even when sent from elsewhere;
    not with a Reply or a deregistration (Lifetime zero, RFC 5944 3.3)."""
    from fmipdissect.records import Datagram
    from fmipdissect.spec import protocol as P

    def mip(kind, lifetime, t):
        d = _message("198.18.2.100", S.PAR, t)          # from an NCoA
        d.datagram = Datagram(1, t, d.src, S.PAR, 17, 64, 434, 434,
                              bytes([kind, 0]) + lifetime.to_bytes(2, "big")
                              + bytes(map(int, S.MN.split("."))) + bytes(16))
        return d
    # a Request at 100.7, 0.39 s after the handover's end: the window ends
    # at the Request (the move it registers may have begun up to 2 s
    # before, but not before the end plus 0.5 s)
    for kind, lifetime, packets in (
            (P.REGISTRATION_REQUEST, 0, 150), (P.REGISTRATION_REPLY, 9, 150),
            (P.REGISTRATION_REQUEST, 9, 140)):
        plane = DataPlane(S.roles())
        stream = S.scene() + [mip(kind, lifetime, 100.7)]
        stream.sort(key=lambda d: d.observations[0].time)
        for d in stream:
            plane.observe(d)
        assert plane.data(S.Record())["down"]["packets"] == packets, kind


def test_a_copy_handed_on_as_a_datagram_of_its_own_is_one_datagram():
    """A merge stage may hand on the destination's second copy apart: it
    is the same datagram (addresses, protocol, Identification, number),
    one packet, delivered twice."""
    stream = S.scene()
    again = next(d for d in stream if d.seq == (1, 100))
    copy = S._datagram(again.src, again.dst, 1, 100, [
        ("mn", again.observations[-1].time + 1e-6, None)])
    plane = DataPlane(S.roles())
    for d in stream + [copy]:
        plane.observe(d)
    down = plane.data(S.Record())["down"]
    assert (down["packets"], down["duplicated"]) == (150, 1)
    assert len(again.observations) == 6          # the input is untouched


def test_a_baseline_record_reaches_back_before_its_registration():
    """D20: a move without a fast handover registers after it: its window
    holds the 2 s before its Request, a fast handover's only 0.5 s."""
    for mode, expected in (("predictive", None), ("baseline", 150)):
        plane = DataPlane(S.roles())
        for d in S.scene():
            plane.observe(d)
        data = plane.data(S.Record(start=101.5, end=101.6, mode=mode))
        assert (data and data["down"]["packets"]) == expected, mode


def test_a_reactive_window_an_earlier_one_holds_still_sees_the_old_path():
    """D20: the lead before a reactive handover's first message, counted by
    an earlier handover's window, still shows where the old path ended
    (the MN left before its FBU): the interruption is found, not null."""
    plane = DataPlane(S.roles())
    stream = S.scene() + [_message(S.MN, S.NAR, 100.46)]    # FBU via NAR
    stream.sort(key=lambda d: d.observations[0].time)
    for d in stream:
        plane.observe(d)
    earlier = plane.data(S.Record(start=99.9, end=99.91))
    reactive = plane.data(S.Record(start=100.46, end=100.5, mode="reactive"))
    assert earlier["down"]["packets"] + reactive["down"]["packets"] == 150
    # from the last old-path delivery (100.297, in the lead) to the first
    # new-path one of its own window (down 92, sent at 100.46, delivered
    # at 100.464: 100.46 + 0.001 to PAR, 0.002 to NAR, 0.001 to the MN)
    assert reactive["down"]["last_old"] == earlier["down"]["last_old"]
    assert reactive["down"]["first_new"] == pytest.approx(100.464)
