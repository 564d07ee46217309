"""`handovers --merge` on `fmipdissect gen --vantage` captures: what the
generator wrote in truth.json (offsets, handovers, where each message was
seen, the routers' processing times) against what the merge recovers."""

from __future__ import annotations


import pytest

from gencaps import NODES, clock_and_delay_args, generate, merge_json

# (scenario, clock offsets, link delays, loss): offsets up to 2 s either
# way, delays of 1-20 ms, asymmetric between links
CASES = [
    ("predictive", {"par": "+700ms", "nar": "-1300ms", "cn": "+1900ms"},
     {"mn-par": 5, "par-nar": 5, "par-cn": 5, "mn-nar": 5}, 0.0),
    ("predictive", {"par": "-2s", "nar": "+2s", "cn": "-1.25s"},
     {"mn-par": 1, "par-nar": 20, "par-cn": 7, "mn-nar": 3}, 0.02),
    ("reactive", {"par": "+1.5s", "nar": "-0.4s", "cn": "+0.05s"},
     {"mn-par": 2, "par-nar": 13, "par-cn": 20, "mn-nar": 1}, 0.05),
]


@pytest.fixture(scope="module", params=range(len(CASES)),
                ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def generated(request, tmp_path_factory):
    scenario, offsets, delays, loss = CASES[request.param]
    truth, paths = generate(tmp_path_factory.mktemp("gen"), scenario,
                            "--handovers", "3", "--loss", str(loss),
                            *clock_and_delay_args(offsets, delays))
    return truth, merge_json(paths)


def test_offsets_within_their_uncertainty_and_1ms(generated):
    truth, got = generated
    for name, want in truth["vantage_points"].items():
        v = got["summary"]["vantage_points"][name]
        error = abs(v["offset_ms"] - want["offset_ms"])
        assert error <= 1.0, (name, v, want)
        assert error <= v["uncertainty_ms"] + 1e-3, (name, v, want)


def test_handover_count_and_modes(generated):
    truth, got = generated
    assert len(got["handovers"]) == len(truth["handovers"])
    assert [r["mode"] for r in got["handovers"]] == \
        [h["mode"] for h in truth["handovers"]]


def test_sightings_and_processing_times(generated):
    truth, got = generated
    for record, want in zip(got["handovers"], truth["handovers"]):
        seen = [[(s["vantage"], s["frame"], round(s["time"], 6))
                 for s in m["seen"]] for m in record["messages"]]
        wanted = [[(s["vantage"], s["frame"], round(s["time"], 6))
                   for s in m["seen"]] for m in want["messages"]]
        assert seen == wanted
        assert [(m["type"], m["src"], m["dst"]) for m in record["messages"]] \
            == [(m["type"], m["src"], m["dst"]) for m in want["messages"]]
        for key, value in want["processing_ms"].items():
            assert record["processing_ms"][key] == pytest.approx(
                value, abs=1e-3), key


def test_baseline_offsets_from_the_registration_and_the_flow(tmp_path):
    """Without fast handovers the MN re-registers (Mobile IPv4): its
    addresses come from the Registration, its traffic gives the clocks."""
    truth, paths = generate(tmp_path, "baseline", "--handovers", "2",
                            "--clock-offset", "par=+300ms", "--clock-offset",
                            "cn=-1s", "--clock-offset", "nar=+1.8s")
    got = merge_json(paths)["summary"]["vantage_points"]
    for name, want in truth["vantage_points"].items():
        v = got[name]
        assert v["pairs"] > 0 or name == NODES[0], name
        error = abs(v["offset_ms"] - want["offset_ms"])
        assert error <= min(1.0, v["uncertainty_ms"] + 1e-3), (name, v)
