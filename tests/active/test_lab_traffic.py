"""`fmipdissect lab --traffic`: a test flow through real kernel forwarding,
the PAR-NAR tunnel and NAR's buffer, while the MN moves.  One run of every
mode (the expensive part) serves the checks; the numbers come from the
four captures, and the test flow's own counters must agree with them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import require_netns
from fmipdissect.active.labflow import read_flow, totals
from fmipdissect.active.netns import lab_namespaces
from fmipdissect.wire import testflow as T

pytestmark = pytest.mark.netns

GAP_MS = 50
RATE = 200                   # packets a second each way
MARGIN_MS = 30               # predictive: interruption <= gap + this (p50)
MARGIN_MAX_MS = 60           # ... and its max (two shared cores)


def run_lab(*args, out=None, timeout=180):
    """(exit status, stdout, stderr, namespaces of this run left)."""
    require_netns()
    argv = [sys.executable, "-m", "fmipdissect", "lab", "--format", "json",
            *args] + (["--out", str(out)] if out else [])
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate(timeout=timeout)
    mine = f"fmip{proc.pid % 100000}-"
    return (proc.returncode, stdout, stderr,
            [n for n in lab_namespaces() if n.startswith(mine)])


@pytest.fixture(scope="module")
def traffic(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab-traffic")
    status, stdout, stderr, left = run_lab(
        "--traffic", f"{RATE}/s", "--handovers", "2", "--l2-gap",
        str(GAP_MS), out=out)
    assert status == 0, stderr
    assert left == []
    return json.loads(stdout), out


def test_four_captures_and_the_probes(traffic):
    result, out = traffic
    assert sorted(result["captures"]) == ["cn", "mn", "nar", "par"]
    for node, path in result["captures"].items():
        assert path == str(out / f"{node}.pcapng")
    for target in ("par", "nar"):
        summary = result["probe"][target]["summary"]
        assert summary["pass"] == len(result["probe"][target]["cases"])
    moves = result["mn"]
    assert [m["mode"] for m in moves] == ["predictive"] * 2 + \
        ["reactive"] * 2 + ["baseline"] * 2
    assert all(m["outcome"] == "completed" for m in moves), moves


def test_predictive_with_buffering_loses_nothing(traffic):
    result, _ = traffic
    mode = result["summary"]["mode"]["predictive"]
    assert mode["handovers"] == 2
    assert mode["lost"] == 0 and mode["up_lost"] == 0
    # NAR held what came through the tunnel before the MN attached
    assert mode["buffered"] >= 2 * GAP_MS * RATE // 1000 // 2
    assert mode["down_interruption_ms"]["p50"] <= GAP_MS + MARGIN_MS
    assert mode["down_interruption_ms"]["max"] <= GAP_MS + MARGIN_MAX_MS
    # the interruption is the gap at least: the MN really was away
    assert mode["down_interruption_ms"]["p50"] >= GAP_MS


def test_reactive_loses_about_the_gap(traffic):
    result, _ = traffic
    mode = result["summary"]["mode"]["reactive"]
    gap_packets = GAP_MS * RATE // 1000          # 10 at 200/s
    for row in result["lab_reading"]["handovers"]:
        if row["mode"] == "reactive":
            assert gap_packets // 2 <= row["down"]["lost"] \
                <= 3 * gap_packets, row
            assert row["down"]["tunnelled"] > 0
    assert mode["buffered"] == 0


def test_baseline_is_worse_than_both(traffic):
    modes = traffic[0]["summary"]["mode"]
    base = modes["baseline"]
    for other in ("predictive", "reactive"):
        assert base["lost"] > modes[other]["lost"], modes
        assert base["down_interruption_ms"]["p50"] > \
            modes[other]["down_interruption_ms"]["p50"], modes


def test_the_counters_agree_with_the_captures(traffic):
    """The flow's own counters against a reading of the captures: what
    left the sender (sent less refused) and what arrived, each way."""
    result, _ = traffic
    packets = {node: read_flow(result["captures"][node])
               for node in ("mn", "cn")}
    seen = totals(packets)
    assert seen == result["lab_reading"]["totals"]
    for direction in ("down", "up"):
        counted = result["flow"][direction]
        assert counted["sent"] - counted["unsent"] == \
            seen[direction]["sent"], direction
        assert counted["received"] == seen[direction]["received"], direction
    assert result["flow"]["down"]["unsent"] == 0
    # the MN's uplink has no way out while it is between links
    assert result["flow"]["up"]["unsent"] > 0


def test_the_tunnel_is_ip_in_ip_between_the_routers(traffic):
    """NAR's capture: the downlink arrives inside IP in IP (protocol 4)."""
    result, _ = traffic
    nar = read_flow(result["captures"]["nar"])
    inside = [p for p in nar if p.tunnelled and p.flow == T.FLOW_DOWN]
    assert inside
    mn = read_flow(result["captures"]["mn"])
    assert not [p for p in mn if p.tunnelled]


def test_per_mode_summary_has_the_contract_keys(traffic):
    for mode in traffic[0]["summary"]["mode"].values():
        assert {"handovers", "down_interruption_ms", "lost",
                "buffered"} <= set(mode)
        assert set(mode["down_interruption_ms"]) == {"p50", "p95", "max"}


def test_traffic_options_without_traffic_are_refused():
    status, _, stderr, left = run_lab("--l2-gap", "20")
    assert status == 2 and "--l2-gap needs --traffic" in stderr
    assert "Traceback" not in stderr and left == []
    status, _, stderr, _ = run_lab("--traffic", "fast")
    assert status == 2 and "bad rate" in stderr


def test_netem_missing_is_one_line():
    """--loss needs tc netem: without it in this kernel, exit 2 and one
    line; with it, the lab runs.  Either way no namespace is left."""
    status, stdout, stderr, left = run_lab(
        "--traffic", "100/s", "--mode", "baseline", "--loss", "0.5",
        timeout=120)
    assert left == []
    if status == 2:
        assert "netem" in stderr and len(stderr.strip().splitlines()) == 1
    else:
        assert status == 0, stderr
        assert json.loads(stdout)["summary"]["mode"]["baseline"]


USER_PAR = (sys.executable + " -m fmipdissect emulate par -v --address "
            "\"$FMIP_ADDRESS\" --keys \"$FMIP_KEYS\" --fault wrong-identifier "
            "$(for n in $FMIP_PEERS; do printf -- '--neighbour %s ' \"$n\"; "
            "done)")


def test_a_users_par_is_probed_in_place_of_the_emulator(tmp_path):
    """--par-cmd: the user's process (here fmipdissect's own PAR with a
    fault the lab's would not have) answers, and the probe judges it."""
    cmd = 'echo "$FMIP_ROLE $FMIP_IFACE $FMIP_ADDRESS" >&2; exec ' + USER_PAR
    status, stdout, stderr, left = run_lab("--par-cmd", cmd, out=tmp_path)
    assert status == 0, stderr
    assert left == []
    result = json.loads(stdout)
    log = (tmp_path / "user-par.log").read_text()
    assert log.startswith("par fmip-mn,fmip-nar 198.18.1.1\n"), log
    assert "fmipdissect emulate par: 198.18.1.1, listening" in log
    assert not (tmp_path / "emulate-par.log").exists()
    cases = {c["id"]: c["verdict"] for c in result["probe"]["par"]["cases"]}
    assert cases["PAR-RTS-02"] == "fail"     # the Identifier, not copied
    assert cases["PAR-RTS-01"] == "pass"
    nar = result["probe"]["nar"]
    assert nar["summary"]["pass"] == len(nar["cases"])


def test_a_user_command_that_fails_is_one_line():
    status, _, stderr, left = run_lab("--nar-cmd", "exit 3")
    assert status == 2 and left == []
    assert "--nar-cmd ended with status 3" in stderr
    assert "Traceback" not in stderr


def test_the_merged_analysis_agrees_with_the_lab(traffic):
    """`handovers --merge`'s handovers are the lab's, and its numbers are
    the lab's reading of the captures."""
    result, _ = traffic
    merged = result["handovers"]
    assert merged is not None
    assert all(h.get("data") for h in merged["handovers"])
    ours = result["lab_reading"]["handovers"]
    theirs = [h for h in merged["handovers"] if h.get("data")]
    assert [h["mode"] for h in theirs] == [r["mode"] for r in ours]
    for mine, h in zip(ours, theirs):
        assert abs(h["data"]["down"]["lost"] - mine["down"]["lost"]) <= 1
        # buffered: D21 reads it from the delay at NAR, the lab from the
        # MN's attachment time: a packet at the edge may go either way
        assert abs(h["data"]["down"]["buffered"]
                   - mine["down"]["buffered"]) <= 2


def test_nar_releases_what_it_held_in_order(traffic):
    """RFC 4988 4.1: the held packets reach the MN in the order they were
    sent, before anything newer; none arrives while the MN is away."""
    result, _ = traffic
    mn = read_flow(result["captures"]["mn"])
    for move in result["mn"]:
        if move["mode"] != "predictive":
            continue
        down = sorted((p.time, p.seq) for p in mn if p.flow == T.FLOW_DOWN
                      and not p.outgoing
                      and move["start"] <= p.time < move["home"])
        seqs = [seq for _, seq in down]
        assert seqs == sorted(seqs), seqs
        first_after = [t for t, _ in down if t > move["left"]]
        # (attached is written once the MN's route is in: the released
        # packets may come a little before that, never within the gap)
        assert first_after and first_after[0] >= move["left"] + GAP_MS / 1000


def test_nar_counts_what_the_captures_show_it_held(traffic):
    """NAR's own count of the packets it held and released (its log)
    against the captures' reading of the buffered packets."""
    import re
    result, out = traffic
    log = (out / "emulate-nar.log").read_text()
    released = [int(n) for n in re.findall(r"(\d+) held packets released",
                                           log)]
    assert len(released) == 2                  # one per predictive handover
    mode = result["summary"]["mode"]["predictive"]
    # at the edges the two may differ by a packet: one that came within a
    # millisecond of the MN's attachment (held, not long), one that waited
    # while NAR released the others (long, not held)
    assert abs(sum(released) - mode["buffered"]) <= 2, (released, mode)


def test_handovers_is_the_merge_of_the_four_captures(traffic):
    """`handovers` is `fmipdissect handovers --merge` over mn, par, nar
    and cn: every handover, seen from every node, on one clock."""
    result, _ = traffic
    merged = result["handovers"]
    assert set(merged["summary"]["vantage_points"]) == {"mn", "par", "nar",
                                                         "cn"}
    # the baseline's registrations too (a move without a fast handover);
    # the deregistrations at home are none
    assert [h["mode"] for h in merged["handovers"]] == \
        ["predictive"] * 2 + ["reactive"] * 2 + ["baseline"] * 2
    assert all(h["outcome"] == "completed" for h in merged["handovers"])
    for point in merged["summary"]["vantage_points"].values():
        # one machine, one clock: the offsets are (about) zero
        assert abs(point["offset_ms"]) < 5


def test_a_users_mn_with_traffic(tmp_path):
    """--mn-cmd with --traffic: the user's MN stays put (it prints a report
    of its own), the lab still runs the flow and the probes."""
    cmd = ('echo "$FMIP_ROLE $FMIP_OLD_LINK $FMIP_AP" >&2; '
           'echo \'{"handovers": [{"mode": "none", "outcome": "stayed"}, 3]}\'')
    status, stdout, stderr, left = run_lab(
        "--traffic", "100/s", "--mode", "predictive", "--mn-cmd", cmd,
        out=tmp_path)
    assert status == 0, stderr
    assert left == []
    result = json.loads(stdout)
    assert result["mn"][0] == {"mode": "none", "outcome": "stayed"}
    assert result["summary"]["mode"] == {}
    assert result["flow"]["down"]["received"] > 0
    assert (tmp_path / "user-mn.log").read_text().startswith(
        "mn fmip-old 02:00:00:cc:00:02")
    status, stdout, _, _ = run_lab("--traffic", "100/s", "--mode",
                                   "predictive", "--mn-cmd", cmd,
                                   "--format", "text")
    assert status == 0 and "none       stayed" in stdout


def test_the_routers_captures_in_tshark(traffic):
    """PAR's and NAR's captures (FMIPv4, registrations, advertisements, IP
    in IP, the flow) in tshark with the plugin: no Lua error, nothing
    malformed."""
    from wireshark_common import require_tool
    from fmipdissect.wireshark import tshark as W
    require_tool("tshark")
    for node in ("par", "nar"):
        tree = W.verbose(traffic[0]["captures"][node])
        assert W.lua_error_marks(tree) == [], node
        assert "Malformed" not in tree, node
        assert "Mobile IPv4 Fast Handovers (RFC 4988), " in tree
