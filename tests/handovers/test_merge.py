"""`fmipdissect handovers --merge`: hand-built captures of one network from
several nodes (multicap.py), with known clock offsets and link delays."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

import multicap
from fmipdissect.handovers.dataplane import DataPlane

REPO = Path(__file__).resolve().parents[2]
OFFSETS = {"par": 0.7, "nar": -1.3, "cn": 1.9}      # seconds, to the MN's


def _tool(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "fmipdissect", "handovers",
                           *map(str, args)], capture_output=True, text=True,
                          cwd=cwd)


def _json(*args, cwd=None):
    run = _tool("--format", "json", *args, cwd=cwd)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


@pytest.fixture(scope="module")
def network(tmp_path_factory):
    folder = tmp_path_factory.mktemp("net")
    return multicap.scenario(folder, OFFSETS)


def _merge(paths, *extra):
    return _json("--merge", *(f"{n}={p}" for n, p in paths.items()), *extra)


def test_offsets_are_recovered_within_their_uncertainty(network):
    got = _merge(network)["summary"]["vantage_points"]
    assert list(got) == ["mn", "par", "nar", "cn"]
    assert got["mn"]["offset_ms"] == 0.0
    for name, offset in OFFSETS.items():
        v = got[name]
        error = abs(v["offset_ms"] - offset * 1000.0)
        assert error <= v["uncertainty_ms"] + 1e-3, (name, v)
        assert error <= 1.0, (name, v)
        assert v["pairs"] > 0
        assert v["file"] == str(network[name])


def test_asymmetric_delays_stay_within_the_stated_uncertainty(tmp_path):
    delays = {("mn", "par"): 0.001, ("par", "nar"): 0.020,
              ("par", "cn"): 0.004, ("mn", "nar"): 0.001}
    paths = multicap.scenario(tmp_path, OFFSETS, delays)
    got = _merge(paths)["summary"]["vantage_points"]
    for name, offset in OFFSETS.items():
        v = got[name]
        assert abs(v["offset_ms"] - offset * 1000.0) <= v["uncertainty_ms"] \
            + 1e-3, (name, v)


def test_each_handover_once_with_where_each_message_was_seen(network):
    doc = _merge(network)
    records = doc["handovers"]
    assert len(records) == 2
    for r in records:
        assert r["mode"] == "predictive"
        assert r["vantage_points"] == ["mn", "par", "nar"]
        kinds = [m["type"] for m in r["messages"]]
        assert kinds == ["RtSolPr", "PrRtAdv", "FBU", "HI", "HAck", "FBAck",
                         "FBAck"]
        for m in r["messages"]:
            assert len(m["seen"]) == 2        # sender's and receiver's
            times = [s["time"] for s in m["seen"]]
            assert times == sorted(times)
            assert m["lost_after"] is None
        fbu = r["messages"][2]
        assert [s["vantage"] for s in fbu["seen"]] == ["mn", "par"]
        assert fbu["one_way_ms"] == pytest.approx(2.0, abs=1e-3)
        hi = r["messages"][3]
        assert hi["one_way_ms"] == pytest.approx(5.0, abs=1e-3)
        # the aligned times: the HI leaves PAR 1 ms after the MN sends
        # the FBU (the sample's timing), whatever PAR's clock says
        assert hi["seen"][0]["time"] - fbu["seen"][0]["time"] == \
            pytest.approx(0.001, abs=1e-6)


def test_mergecap_alone_counts_more(network, tmp_path):
    """The baseline the merge fixes: the same captures concatenated."""
    merged = tmp_path / "all.pcap"
    subprocess.run(["mergecap", "-F", "pcap", "-w", str(merged),
                    *map(str, network.values())], check=True)
    plain = _json(merged)
    assert plain["summary"]["handovers"] != 2 or any(
        r["messages"] != 7 for r in plain["handovers"])


def test_nar_view_does_not_turn_predictive_into_reactive(network):
    doc = _merge({"par": network["par"], "nar": network["nar"]})
    assert [r["mode"] for r in doc["handovers"]] == ["predictive"] * 2


def test_processing_times_at_the_routers(tmp_path):
    # delays short enough for the sample's timing (HI 1 ms after the FBU)
    delays = {("mn", "par"): 0.0004, ("par", "nar"): 0.0003,
              ("par", "cn"): 0.001, ("mn", "nar"): 0.0004}
    paths = multicap.scenario(tmp_path, OFFSETS, delays, handovers=1)
    r = _merge(paths)["handovers"][0]
    # the sample: FBU 0.400, HI 0.401, HAck 0.4035, FBAck 0.404 (sent)
    assert r["processing_ms"] == {
        "par_fbu_hi": pytest.approx(1.0 - 0.4, abs=1e-3),
        "nar_hi_hack": pytest.approx(2.5 - 0.3, abs=1e-3),
        "par_hack_fback": pytest.approx(0.5 - 0.3, abs=1e-3)}


def test_lost_after_names_the_last_capture_that_saw_it(tmp_path):
    paths = multicap.scenario(tmp_path, OFFSETS, handovers=1,
                              drop=("nar", 3))       # the HI
    r = _merge(paths)["handovers"][0]
    hi = next(m for m in r["messages"] if m["type"] == "HI")
    assert [s["vantage"] for s in hi["seen"]] == ["par"]
    assert hi["one_way_ms"] is None
    assert hi["lost_after"] == "par"


def test_one_capture_with_merge(network):
    doc = _json("--merge", network["par"])
    assert doc["summary"]["vantage_points"] == {"par": {
        "file": str(network["par"]), "offset_ms": 0.0,
        "uncertainty_ms": 0.0, "drift_ppm": None, "pairs": 0}}
    assert len(doc["handovers"]) == 2
    assert doc["handovers"][0]["vantage_points"] == ["par"]


def test_single_capture_json_keeps_its_message_count(network):
    doc = _json(network["par"])
    assert isinstance(doc["handovers"][0]["messages"], int)
    assert "vantage_points" not in doc["handovers"][0]


def test_clock_by_hand(network):
    doc = _merge(network, "--clock", "cn=+1900.5ms", "--clock", "nar=-1.3s")
    v = doc["summary"]["vantage_points"]
    assert v["cn"]["offset_ms"] == 1900.5
    assert v["nar"]["offset_ms"] == -1300.0
    assert v["cn"]["uncertainty_ms"] == 0.0
    assert abs(v["par"]["offset_ms"] - 700.0) <= 1.0


def test_names_default_to_the_file_stems(network):
    doc = _json("--merge", *network.values())
    assert list(doc["summary"]["vantage_points"]) == ["mn", "par", "nar",
                                                      "cn"]


def test_csv_and_text(network):
    args = ["--merge", *(f"{n}={p}" for n, p in network.items())]
    run = _tool("--format", "csv", *args)
    assert run.returncode == 0, run.stderr
    rows = list(csv.DictReader(io.StringIO(run.stdout)))
    assert len(rows) == 2
    assert rows[0]["vantage_points"] == "mn par nar"
    assert rows[0]["messages"] == "7"
    for column in ("down_interruption_ms", "down_lost", "up_tunnelled",
                   "processing_par_fbu_hi_ms", "flows"):
        assert column in rows[0]
    text = _tool(*args).stdout
    assert "SEEN BY" in text and "vantage point" in text
    assert "+700.000" in text.replace(" ", "") or "+700.000" in text


@pytest.mark.parametrize("args, message", [
    (["--merge", "-"], "not standard input"),
    (["--merge", "-i", "lo"], "not a live capture"),
    (["--merge", "a=x.pcap", "a=y.pcap"], "given twice"),
    (["--clock", "a=1ms", "x.pcap"], "--clock is for --merge"),
])
def test_refusals(args, message):
    run = _tool(*args)
    assert run.returncode == 2
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("clock, message", [
    ("cn=fast", "give NAME=OFFSET"),
    ("xx=+1ms", "no vantage point 'xx'"),
    ("mn=+1ms", "reference clock"),
])
def test_bad_clocks(network, clock, message):
    run = _tool("--merge", *(f"{n}={p}" for n, p in network.items()),
                "--clock", clock)
    assert run.returncode == 2
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


def test_unreadable_capture_is_one_line(tmp_path, network):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"not a capture at all")
    run = _tool("--merge", network["mn"], bad)
    assert run.returncode == 2
    assert "not a pcap or pcapng" in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert bad.read_bytes() == b"not a capture at all"


def test_python_api_gives_the_same_records(network):
    import fmipdissect
    records, summary = fmipdissect.merged_handovers(
        {n: str(p) for n, p in network.items()})
    doc = _merge(network)
    assert [r.to_dict() for r in records] == doc["handovers"]
    assert summary["vantage_points"] == doc["summary"]["vantage_points"]
    assert summary["roles"] == {"mn": "mn", "par": "par", "nar": "nar",
                                "cn": "cn"}
    stems, _ = fmipdissect.merged_handovers(list(network.values()),
                                            clocks={"cn": 1.9})
    assert len(stems) == 2
    with pytest.raises(fmipdissect.InputError):
        fmipdissect.merged_handovers(list(network.values()),
                                     clocks={"xx": 1.0})


def test_drift_over_a_long_capture(tmp_path):
    """Clocks that run at other rates (50 ppm, -20 ppm), over 140 s."""
    paths = multicap.scenario(tmp_path, OFFSETS, handovers=3,
                              drifts={"par": 50e-6, "cn": -20e-6})
    doc = _merge(paths)
    v = doc["summary"]["vantage_points"]
    assert v["par"]["drift_ppm"] == pytest.approx(50.0, abs=0.5)
    assert v["cn"]["drift_ppm"] == pytest.approx(-20.0, abs=0.5)
    for name, offset in OFFSETS.items():
        error = abs(v[name]["offset_ms"] - offset * 1000.0)
        assert error <= min(1.0, v[name]["uncertainty_ms"]), (name, v)
    # aligned all along: the MN-PAR link takes 2 ms both ways, from the
    # first handover to the last (140 s: 7 ms of drift if not applied)
    for record in doc["handovers"]:
        fbu = record["messages"][2]
        assert fbu["one_way_ms"] == pytest.approx(2.0, abs=0.1)


def test_no_drift_on_a_short_capture(network):
    v = _merge(network)["summary"]["vantage_points"]
    assert all(x["drift_ppm"] is None for x in v.values())


def test_a_capture_with_nothing_in_common(network):
    """An unrelated capture: no offset to find, said so (null)."""
    other = REPO / "samples" / "violations.pcap"
    doc = _json("--merge", f"mn={network['mn']}", f"other={other}")
    v = doc["summary"]["vantage_points"]["other"]
    assert v == {"file": str(other), "offset_ms": 0.0,
                 "uncertainty_ms": None, "drift_ppm": None, "pairs": 0}


def test_compressed_captures(network, tmp_path):
    import gzip
    packed = {}
    for name, path in network.items():
        packed[name] = tmp_path / f"{name}.pcap.gz"
        packed[name].write_bytes(gzip.compress(path.read_bytes()))
    got = _merge(packed)
    want = _merge(network)
    assert got["handovers"] == want["handovers"]
    assert list(got["summary"]["vantage_points"]) == list(network)
    for name in network:
        assert got["summary"]["vantage_points"][name]["offset_ms"] == \
            want["summary"]["vantage_points"][name]["offset_ms"]


class _RecordingPlane(DataPlane):
    """The real data plane, recording how the merge drives it."""

    def __init__(self, roles, *args, **kwargs):
        super().__init__(roles, *args, **kwargs)
        self.roles = roles
        self.seen = []
        self.asked = []            # (record end, datagrams seen by then)

    def observe(self, seen):
        self.seen.append(seen)
        super().observe(seen)

    def data(self, record):
        self.asked.append((record.end, len(self.seen)))
        return super().data(record)


def _record_planes(monkeypatch) -> list:
    """The merge's data planes, each a _RecordingPlane, as it makes them."""
    from fmipdissect import analysis
    planes = []

    def plane(roles, *args, **kwargs):
        planes.append(_RecordingPlane(roles, *args, **kwargs))
        return planes[-1]
    monkeypatch.setattr(analysis, "_data_plane", lambda: plane)
    return planes


def test_the_data_plane_is_driven_as_agreed(network, monkeypatch):
    from fmipdissect import analysis
    planes = _record_planes(monkeypatch)
    merged = analysis.MergedHandovers(list(network.values()), list(network))
    records = []
    merged.run(records.append)
    dp = planes[0]
    assert dp.roles == {"mn": "mn", "par": "par", "nar": "nar", "cn": "cn"}
    # every merged datagram but the FMIPv4 ones, once, in time order
    assert dp.seen and all(s.datagram is None for s in dp.seen)
    times = [s.first.time for s in dp.seen]
    assert times == sorted(times)
    assert all(s.seq is not None for s in dp.seen)       # the test flow
    # a record's data is asked for once the stream is past its settling:
    # all the traffic up to then observed, none after it yet
    assert len(dp.asked) == len(records) == 2
    for end, count in dp.asked:
        assert dp.seen[count - 1].first.time > end
        if count < len(dp.seen):
            assert dp.seen[count].first.time > end + dp.SETTLE_SECONDS
    assert all(r.data["down"]["packets"] for r in records)
    assert merged.summary_data()["down"]["interruption_ms"]["count"] == 2


def test_every_clock_by_hand_still_keeps_the_traffic(network, monkeypatch):
    from fmipdissect import analysis
    planes = _record_planes(monkeypatch)
    manual = {name: offset for name, offset in OFFSETS.items()}
    merged = analysis.MergedHandovers(list(network.values()), list(network),
                                      manual=manual)
    records = []
    merged.run(records.append)
    assert len(records) == 2
    assert len(planes[0].seen) > 100
    assert [v["offset_ms"] for v in merged.vantage_points().values()] == \
        [0.0, 700.0, -1300.0, 1900.0]
