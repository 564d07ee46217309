"""The clock estimate of decision D19 on hand-made sightings: bounds from
both directions, the orientation read from a flow and its reverse, chains
through other captures, captures with nothing in common."""

from __future__ import annotations

import pytest

from fmipdissect.correlate.clocks import ClockEstimator

AB, BA = b"\x0a\0\0\x01\x0a\0\0\x02", b"\x0a\0\0\x02\x0a\0\0\x01"
BC, CB = b"\x0a\0\0\x02\x0a\0\0\x03", b"\x0a\0\0\x03\x0a\0\0\x02"


def _send(est, flow, a, b, t, offset_b, delay, router_b=0.0):
    """A datagram sent at true time t from capture a's node to b's; b's
    clock reads true time - offset_b (a is the reference here)."""
    arrive = t + delay - offset_b
    est.add(flow, [[a, t, t], [b, arrive, arrive + router_b]])


def test_offset_is_the_midpoint_of_the_two_ways():
    est = ClockEstimator(2)
    for k in range(50):
        _send(est, AB, 0, 1, k * 0.1, offset_b=-0.7, delay=0.002 + k * 1e-4)
        # the other way: sent by b at its time, arrives at a
        t = k * 0.1 + 0.05
        est.add(BA, [[1, t + 0.7, t + 0.7], [0, t + 0.004, t + 0.004]])
    _, clock = est.solve()
    # a -> b least delay 2 ms, b -> a 4 ms: offset within +/- 3 ms, off by
    # half the asymmetry (1 ms, towards the slower way)
    assert clock.offset == pytest.approx(-0.7 + 0.001, abs=1e-9)
    assert clock.uncertainty == pytest.approx(0.003, abs=1e-9)
    assert clock.pairs == 100
    assert clock.drift is None


def test_orientation_comes_from_the_flows_not_their_order():
    """Whichever flow is fed first, the same answer."""
    answers = []
    for first, second in ((AB, BA), (BA, AB)):
        est = ClockEstimator(2)
        for flow in (first, second):
            for k in range(10):
                t = k * 0.2
                if flow == AB:
                    _send(est, AB, 0, 1, t, offset_b=1.5, delay=0.005)
                else:
                    est.add(BA, [[1, t - 1.5, t - 1.5],
                                 [0, t + 0.005, t + 0.005]])
        answers.append(est.solve()[1].offset)
    assert answers[0] == answers[1] == pytest.approx(1.5, abs=1e-9)


def test_one_way_traffic_alone_gives_no_offset():
    est = ClockEstimator(2)
    for k in range(10):
        _send(est, AB, 0, 1, k * 0.1, offset_b=0.3, delay=0.001)
    assert est.solve()[1] is None


def test_a_capture_is_reached_through_another():
    est = ClockEstimator(3)
    for k in range(10):
        t = k * 0.1
        _send(est, AB, 0, 1, t, offset_b=0.5, delay=0.001)
        est.add(BA, [[1, t - 0.5, t - 0.5], [0, t + 0.001, t + 0.001]])
        # b and c: c's clock 1 s behind the reference (0.5 behind b's)
        est.add(BC, [[1, t - 0.5, t - 0.5], [2, t + 0.003 - 1.0,
                                              t + 0.003 - 1.0]])
        est.add(CB, [[2, t - 1.0, t - 1.0], [1, t + 0.003 - 0.5,
                                              t + 0.003 - 0.5]])
    clocks = est.solve()
    assert clocks[1].offset == pytest.approx(0.5, abs=1e-9)
    assert clocks[2].offset == pytest.approx(1.0, abs=1e-9)
    assert clocks[2].uncertainty == pytest.approx(0.004, abs=1e-9)


def test_a_router_leaves_after_it_arrives():
    """b a router: its first sighting is the arrival, its last the
    departure; a 0.3 ms stay does not widen the bounds."""
    est = ClockEstimator(2)
    for k in range(10):
        t = k * 0.1
        _send(est, AB, 0, 1, t, offset_b=0.0, delay=0.002, router_b=0.0003)
        # b forwards towards a: arrives at b, leaves 0.3 ms later
        est.add(BA, [[1, t - 0.0003, t], [0, t + 0.002, t + 0.002]])
    clock = est.solve()[1]
    assert clock.offset == pytest.approx(0.0, abs=1e-9)
    assert clock.uncertainty == pytest.approx(0.002, abs=1e-9)
