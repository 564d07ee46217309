"""`fmipdissect gen --vantage`: one capture per node, and truth.json.

The captures are written by the real generator and read back with dpkt
(checksums recomputed here with an independent RFC 1071 sum) and with
tshark (the project's dissector, isolated configuration); the truth file's
figures are recomputed from the captures themselves, so that a truth that
does not match its captures fails here.
"""

from __future__ import annotations

import json
import socket
import struct
from collections import Counter, defaultdict
from pathlib import Path

import dpkt
import pytest

from fmipdissect import cli
from fmipdissect.gen import topology as T
from fmipdissect.wire import testflow
from fmipdissect.wireshark import tshark as TS
from tests.unit.test_generate import ones_complement
from tests.wireshark_common import require_tool

MAC = {(link, end.node): bytes.fromhex(end.mac.replace(":", ""))
       for link, l in T.LINKS.items() for end in (l.a, l.b)}
OLD_PAR, NEW_NAR = MAC["mn-par", "par"], MAC["mn-nar", "nar"]
MN_OLD, MN_NEW = MAC["mn-par", "mn"], MAC["mn-nar", "mn"]


def gen(folder: Path, *args: str) -> dict:
    assert cli.main(["gen", *args, "--vantage", "all", "-o",
                     str(folder)]) == 0
    return json.loads((folder / "truth.json").read_text())


class Frame:
    """One frame of a capture: time (µs), MACs, the IPv4 datagram, the
    datagram inside an IP-in-IP tunnel (else None) and its test-flow
    (flow, seq) (else None)."""

    def __init__(self, number: int, ts: float, raw: bytes):
        self.number, self.time = number, round(ts * 1e6)
        eth = dpkt.ethernet.Ethernet(raw)
        self.src, self.dst = eth.src, eth.dst
        self.ip = eth.data
        assert isinstance(self.ip, dpkt.ip.IP), number
        assert ones_complement(bytes(raw[14:34])) == 0, f"IP checksum {number}"
        self.inner = self.ip.data if self.ip.p == 4 else None
        user = self.inner or self.ip
        self.flow = None
        if isinstance(user.data, dpkt.udp.UDP):
            udp = user.data
            pseudo = user.src + user.dst + struct.pack("!BBH", 0, 17,
                                                       len(bytes(udp)))
            if udp.sum:
                assert ones_complement(pseudo + bytes(udp)) == 0, number
            parsed = testflow.parse(bytes(udp.data))
            if parsed is not None:
                self.flow = parsed[:2]


def read(path: Path) -> list[Frame]:
    with open(path, "rb") as f:
        frames = [Frame(i, ts, raw)
                  for i, (ts, raw) in enumerate(dpkt.pcap.Reader(f), 1)]
    times = [f.time for f in frames]
    assert times == sorted(times), f"{path.name}: time goes back"
    return frames


@pytest.fixture(scope="module")
def lossy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("vantage")
    truth = gen(folder, "all", "--handovers", "4", "--loss", "0.03",
                "--clock-offset", "par=+1.5s,nar=-2s", "--clock-offset",
                "cn=+250.5ms", "--link-delay", "3", "--link-delay",
                "par-nar=17.5,par-cn=1", "--seed", "7")
    return folder, truth, {node: read(folder / f"{node}.pcap")
                           for node in T.NODES}


def test_truth_lists_what_was_asked(lossy):
    _, truth, caps = lossy
    assert truth["summary"]["handovers"] == 4
    assert [h["mode"] for h in truth["handovers"]] == [
        "predictive", "reactive", "baseline", "predictive"]
    points = truth["vantage_points"]
    assert {n: p["offset_ms"] for n, p in points.items()} == {
        "mn": 0.0, "par": -1500.0, "nar": 2000.0, "cn": -250.5}
    assert truth["link_delay_ms"] == {"mn-par": 3.0, "mn-nar": 3.0,
                                      "par-nar": 17.5, "par-cn": 1.0}
    for node, frames in caps.items():
        assert points[node]["packets"] == len(frames)


def test_same_datagram_end_to_end_and_the_clocks(lossy):
    """A downlink packet keeps its IP Identification from CN to MN; each
    router takes one from the TTL; a capture's time minus the previous one's
    is the link's delay (+20 µs forwarding) plus the clock offsets."""
    _, truth, caps = lossy
    offset = {n: round(p["offset_ms"] * 1000)
              for n, p in truth["vantage_points"].items()}
    seen = defaultdict(dict)        # (flow, seq) -> node -> [(time, ip)]
    for node, frames in caps.items():
        for f in frames:
            if f.flow is not None:
                user = f.inner or f.ip
                seen[f.flow].setdefault(node, []).append(
                    (f.time + offset[node], user))
    checked = 0
    for (flow, _), where in seen.items():
        if flow != testflow.FLOW_DOWN or "mn" not in where:
            continue
        idents = {ip.id for sightings in where.values()
                  for _, ip in sightings}
        assert len(idents) == 1
        (t_cn, ip_cn), = where["cn"]
        t_in = where["par"][0][0]
        assert t_in - t_cn == 1000
        (t_mn, ip_mn), = where["mn"]
        assert ip_cn.ttl == 64
        assert ip_mn.ttl == (62 if "nar" in where else 63)
        checked += 1
    assert checked > 500


def _window(truth, t_s: float) -> int:
    index = 1
    for h in truth["handovers"]:
        if t_s >= h["window"][0]:
            index = h["index"]
    return index


def _recount(truth, caps):
    """The data figures of every handover recomputed from the captures."""
    offset = {n: p["offset_ms"] / 1000
              for n, p in truth["vantage_points"].items()}
    sent, seen, delivered = {}, defaultdict(list), {}
    tunnelled = set()
    for node, frames in caps.items():
        for f in frames:
            if f.flow is None:
                continue
            t = f.time / 1e6 + offset[node]
            seen[f.flow].append((t, node))
            flow, _ = f.flow
            origin = ("cn", T.LINKS["par-cn"].b.mac) if \
                flow == testflow.FLOW_DOWN else ("mn", None)
            if node == origin[0] and f.flow not in sent:
                sent[f.flow] = t
            if f.inner is not None:
                tunnelled.add(f.flow)
            to_mn = node == "mn" and f.dst in (MN_OLD, MN_NEW)
            to_cn = node == "cn" and f.dst == MAC["par-cn", "cn"]
            if to_mn or to_cn:
                delivered[f.flow] = (t, f.src)
    counts = defaultdict(Counter)
    where = defaultdict(Counter)
    for key, t in sent.items():
        name = "down" if key[0] == testflow.FLOW_DOWN else "up"
        k = _window(truth, t)
        counts[k, name]["packets"] += 1
        counts[k, name]["tunnelled"] += key in tunnelled
        if key not in delivered:
            counts[k, name]["lost"] += 1
            where[k, name][max(seen[key])[1]] += 1
    return counts, where, delivered, sent


def test_truth_matches_the_captures(lossy):
    _, truth, caps = lossy
    counts, where, delivered, sent = _recount(truth, caps)
    total = Counter()
    for h in truth["handovers"]:
        for name in ("down", "up"):
            d = h["data"][name]
            mine = counts[h["index"], name]
            for key in ("packets", "lost", "tunnelled"):
                assert d[key] == mine[key], (h["index"], name, key)
            assert d["lost_last_seen"] == dict(where[h["index"], name])
            total[name] += d["lost"]
    assert total["down"] > 0 and total["up"] > 0
    for name, number in (("down", testflow.FLOW_DOWN),
                         ("up", testflow.FLOW_UP)):
        assert truth["flow"][name] == {
            "sent": sum(k[0] == number for k in sent),
            "received": sum(k[0] == number for k in delivered)}


def test_interruptions_at_the_mn(lossy):
    """down: the MN's capture, last packet from PAR on the old link before
    the first from NAR on the new one; up: what the MN sent likewise."""
    _, truth, caps = lossy
    down, up = defaultdict(list), defaultdict(list)
    for f in caps["mn"]:
        if f.flow is None:
            continue
        t = f.time / 1e6
        if f.flow[0] == testflow.FLOW_DOWN:
            down[_window(truth, t)].append((t, f.src == NEW_NAR))
        else:
            up[_window(truth, t)].append((t, f.src == MN_NEW))
    for h in truth["handovers"]:
        for name, seen in (("down", down), ("up", up)):
            first_new = min(t for t, new in seen[h["index"]] if new)
            last_old = max(t for t, new in seen[h["index"]]
                           if not new and t < first_new)
            d = h["data"][name]
            assert d["first_new"] == pytest.approx(first_new, abs=1e-6)
            assert d["last_old"] == pytest.approx(last_old, abs=1e-6)
            assert d["interruption_ms"] == pytest.approx(
                (first_new - last_old) * 1000, abs=1e-3)
        assert h["data"]["down"]["interruption_ms"] > 50   # the l2 gap


def test_buffering_and_its_absence(tmp_path):
    on = gen(tmp_path / "on", "predictive", "--handovers", "2")
    off = gen(tmp_path / "off", "predictive", "--handovers", "2",
              "--no-buffer")
    for h_on, h_off in zip(on["handovers"], off["handovers"]):
        down_on, down_off = h_on["data"]["down"], h_off["data"]["down"]
        assert down_on["buffered"] >= 9       # 50 ms gap at 200/s
        assert down_on["lost"] == 0
        assert down_off["buffered"] == 0
        assert down_off["lost"] == down_on["buffered"]
        assert down_off["lost_last_seen"] == {"nar": down_off["lost"]}
        # held packets come out when the MN attaches: the interruption is
        # the gap and a little
        assert down_on["interruption_ms"] < down_off["interruption_ms"]
    hi = [m for m in off["handovers"][0]["messages"] if m["type"] == "HI"]
    assert [s["vantage"] for s in hi[0]["seen"]] == ["par", "nar"]


def test_messages_each_sent_once_and_seen_on_their_path(lossy):
    folder, truth, caps = lossy
    paths = {"predictive": [("RtSolPr", "mn par"), ("PrRtAdv", "par mn"),
                            ("FBU", "mn par"), ("HI", "par nar"),
                            ("HAck", "nar par"), ("FBAck", "par mn"),
                            ("FBAck", "par nar")],
             "reactive": [("RtSolPr", "mn par"), ("PrRtAdv", "par mn"),
                          ("FBU", "mn nar"), ("FBU", "nar par"),
                          ("HI", "par nar"), ("HAck", "nar par"),
                          ("FBAck", "par nar"), ("FBAck", "nar mn")],
             "baseline": [("RegistrationRequest", "mn nar nar par"),
                          ("RegistrationReply", "par nar nar mn")]}
    for h in truth["handovers"]:
        got = [(m["type"], " ".join(s["vantage"] for s in m["seen"]))
               for m in h["messages"]]
        assert got == paths[h["mode"]]
        for m in h["messages"]:
            for s in m["seen"]:
                frame = caps[s["vantage"]][s["frame"] - 1]
                user = frame.ip
                assert socket.inet_ntoa(user.src) == m["src"]
                assert socket.inet_ntoa(user.dst) == m["dst"]


def test_handovers_on_the_par_capture(lossy, capsys):
    folder, truth, _ = lossy
    assert cli.main(["handovers", str(folder / "par.pcap"), "--format",
                     "json"]) == 0
    got = json.loads(capsys.readouterr().out)
    fast = [h["mode"] for h in truth["handovers"] if h["mode"] != "baseline"]
    assert got["summary"]["handovers"] == len(fast)
    assert [h["mode"] for h in got["handovers"]] == fast


def test_tshark_reads_every_capture(lossy):
    require_tool("tshark")
    folder, truth, caps = lossy
    bad = ("ip.checksum.status == \"Bad\" || udp.checksum.status == \"Bad\""
           " || _ws.malformed || _ws.lua.error")
    for node in T.NODES:
        path = folder / f"{node}.pcap"
        out = TS.run(path, "-o", "ip.check_checksum:TRUE", "-o",
                     "udp.check_checksum:TRUE", "-Y", bad)
        assert out == "", f"{node}: {out[:500]}"
        rows = TS.fields(path, ["frame.number", "fmip.type"], "-Y", "fmip")
        messages = sum(1 for h in truth["handovers"] for m in h["messages"]
                       for s in m["seen"] if s["vantage"] == node
                       and not m["type"].startswith("Registration"))
        assert len(rows) == messages


def test_same_options_same_bytes_and_the_seed_matters(tmp_path):
    args = ("predictive,reactive", "--handovers", "2", "--loss", "0.05")
    gen(tmp_path / "a", *args)
    gen(tmp_path / "b", *args)
    gen(tmp_path / "c", *args, "--seed", "2")
    for name in ("mn.pcap", "par.pcap", "nar.pcap", "cn.pcap", "truth.json"):
        assert (tmp_path / "a" / name).read_bytes() == \
            (tmp_path / "b" / name).read_bytes()
    assert (tmp_path / "a" / "mn.pcap").read_bytes() != \
        (tmp_path / "c" / "mn.pcap").read_bytes()


def test_background_fills_each_capture(tmp_path):
    assert cli.main(["gen", "reactive", "--vantage", "mn,par",
                     "--packets", "20000", "-o", str(tmp_path)]) == 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "mn.pcap", "par.pcap", "truth.json"]
    for node in ("mn", "par"):
        frames = read(tmp_path / f"{node}.pcap")
        assert len(frames) == truth["vantage_points"][node]["packets"] \
            == 20000
    flow = sum(f.flow is not None for f in frames)
    assert 0 < flow < 5000


@pytest.mark.parametrize("args, words", [
    (["--clock-offset", "par=soon"], "not a time"),
    (["--clock-offset", "mn=+1s"], "reference"),
    (["--clock-offset", "xx=+1s"], "NODE=OFFSET"),
    (["--link-delay", "moon=3"], "unknown link"),
    (["--link-delay", "0"], "between"),
    (["--loss", "1.5"], "fraction"),
    (["--traffic", "fast"], "not a rate"),
    (["--traffic-size", "8"], "--traffic-size"),
    (["--l2-gap", "900"], "interval"),
    (["--vantage", "mn,moon"], "nodes are"),
    (["--linktype", "raw"], "ethernet"),
])
def test_bad_options_one_line_exit_2(tmp_path, capsys, args, words):
    argv = ["gen", "predictive", "--vantage", "all", "-o", str(tmp_path),
            *args]
    if "--vantage" in args:
        argv[2:4] = []
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and words in err and "Traceback" not in err
    assert not (tmp_path / "truth.json").exists()


def test_bad_scenario_with_vantage(tmp_path, capsys):
    assert cli.main(["gen", "ncoa", "--vantage", "all", "-o",
                     str(tmp_path)]) == 2
    assert "predictive, reactive, baseline" in capsys.readouterr().err


def test_nar_view_of_reactive_then_predictive_is_clean(tmp_path, capsys):
    assert cli.main(["gen", "reactive,predictive", "--handovers", "2",
                     "--vantage", "nar", "-o", str(tmp_path)]) == 0
    assert cli.main(["lint", str(tmp_path / "nar.pcap"), "--format",
                     "json"]) == 0


def test_over_a_gibibyte_needs_force(tmp_path, capsys):
    assert cli.main(["gen", "predictive", "--vantage", "mn", "--traffic",
                     "0", "--packets", "3000000", "-o",
                     str(tmp_path / "big")]) == 2
    assert "--force" in capsys.readouterr().err
    assert not (tmp_path / "big").exists()
