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


@pytest.fixture(scope="module", params=["steady", "jitter"])
def lossy(request, tmp_path_factory):
    """Four handovers of every mode with loss, clock offsets and delays;
    "jitter" adds up to 2.5 ms to every frame's delay."""
    folder = tmp_path_factory.mktemp(request.param)
    jitter = ("--jitter", "2.5") if request.param == "jitter" else ()
    truth = gen(folder, "all", "--handovers", "4", "--loss", "0.03",
                "--clock-offset", "par=+1.5s,nar=-2s", "--clock-offset",
                "cn=+250.5ms", "--link-delay", "3", "--link-delay",
                "par-nar=17.5,par-cn=1", "--seed", "7", "--duplicate",
                "0.03", *jitter)
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
        jitter = round(truth["jitter_ms"] * 1000)
        assert 1000 <= t_in - t_cn <= 1000 + jitter
        if not jitter:
            assert t_in - t_cn == 1000
        assert len(where["mn"]) in (1, 2)        # 2: --duplicate
        _, ip_mn = where["mn"][0]
        assert ip_cn.ttl == 64
        assert ip_mn.ttl == (62 if "nar" in where else 63)
        checked += 1
    assert checked > 500


def _window(truth, t_s: float) -> int:
    """The handover whose window holds t_s; the windows tile the capture
    (what arrives after the last one's end, in flight, is the last's)."""
    windows = [h["window"] for h in truth["handovers"]]
    assert all(a[1] == b[0] for a, b in zip(windows, windows[1:]))
    t_s = min(t_s, windows[-1][1] - 1e-6)
    found = [h["index"] for h in truth["handovers"]
             if h["window"][0] <= t_s < h["window"][1]]
    assert len(found) == 1, t_s
    return found[0]


def _recount(truth, caps):
    """The data figures of every handover recomputed from the captures."""
    offset = {n: p["offset_ms"] / 1000
              for n, p in truth["vantage_points"].items()}
    sent, seen, delivered = {}, defaultdict(list), {}
    copies = Counter()
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
                copies[f.flow] += 1
    reached_nar = {f.flow: f.time / 1e6 + offset["nar"] for f in caps["nar"]
                   if f.flow is not None and f.inner is not None
                   and f.dst == MAC["par-nar", "nar"]}
    nar_sent = {f.flow for f in caps["nar"] if f.dst == MN_NEW}
    reordered, highest = set(), {}
    for node in ("mn", "cn"):
        for f in caps[node]:
            if f.flow is not None and f.flow in delivered and \
                    delivered[f.flow][0] == f.time / 1e6 + offset[node]:
                flow, seq = f.flow
                if seq < highest.get(flow, -1):
                    reordered.add(f.flow)
                highest[flow] = max(seq, highest.get(flow, -1))
    counts = defaultdict(Counter)
    where = defaultdict(Counter)
    for key, t in sent.items():
        name = "down" if key[0] == testflow.FLOW_DOWN else "up"
        k = _window(truth, t)
        counts[k, name]["packets"] += 1
        counts[k, name]["tunnelled"] += key in tunnelled
        counts[k, name]["reordered"] += key in reordered
        counts[k, name]["duplicated"] += copies[key] > 1
        attached = truth["handovers"][k - 1]["attached_new"]
        # buffered: NAR sent it on, whether the new link lost it or not
        counts[k, name]["buffered"] += key in nar_sent and \
            reached_nar.get(key, attached) < attached
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
            for key in ("packets", "lost", "tunnelled", "buffered",
                        "reordered", "duplicated"):
                assert d[key] == mine[key], (h["index"], name, key)
            assert d["lost_last_seen"] == dict(where[h["index"], name])
            total[name, "lost"] += d["lost"]
            total[name, "buffered"] += d["buffered"]
            total[name, "reordered"] += d["reordered"]
            total[name, "duplicated"] += d["duplicated"]
    assert total["down", "lost"] > 0 and total["up", "lost"] > 0
    assert total["down", "buffered"] > 0 and total["up", "reordered"] > 0
    assert total["down", "duplicated"] > 0 and total["up", "duplicated"] > 0
    for name, number in (("down", testflow.FLOW_DOWN),
                         ("up", testflow.FLOW_UP)):
        numbers = {seq for flow, seq in sent if flow == number}
        unsent = set(range(max(numbers) + 1)) - numbers
        assert truth["flow"][name] == {
            "sent": len(numbers) + len(unsent), "unsent": len(unsent),
            "received": sum(k[0] == number for k in delivered)}
        assert sum(h["data"][name]["unsent"]
                   for h in truth["handovers"]) == len(unsent)
        assert bool(unsent) == (name == "up")


def test_unsent_uplink_is_the_gap_and_no_loss(tmp_path):
    """The MN's sender uses up the numbers of what it cannot send (as the
    lab's does): a gap in the MN's capture, neither packets nor lost."""
    truth = gen(tmp_path, "predictive", "--l2-gap", "100")
    up = truth["handovers"][0]["data"]["up"]
    seqs = sorted(f.flow[1] for f in read(tmp_path / "mn.pcap")
                  if f.flow is not None and f.flow[0] == testflow.FLOW_UP)
    gaps = [b - a - 1 for a, b in zip(seqs, seqs[1:]) if b - a > 1]
    assert gaps == [up["unsent"]] and up["unsent"] in (19, 20)  # 100 ms
    assert up["lost"] == 0 and up["packets"] == len(seqs)


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
    for name in ("down", "up"):
        values = sorted(h["data"][name]["interruption_ms"]
                        for h in truth["handovers"])
        assert truth["summary"]["data"][name]["interruption_ms"] == {
            "count": 4, "min": values[0], "p50": values[1],
            "p95": values[3], "max": values[3]}


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
        one_way = {m["type"]: m["one_way_ms"] for m in h["messages"]}
        jitter = truth["jitter_ms"]
        if h["mode"] == "predictive":
            assert 3.0 <= one_way["RtSolPr"] <= 3.0 + jitter
            assert 17.5 <= one_way["HI"] <= 17.5 + jitter
        if h["mode"] == "baseline":      # NAR forwards it after 20 µs
            assert 20.52 <= one_way["RegistrationRequest"] <= \
                20.52 + 2 * jitter
        assert all(m["lost_after"] is None for m in h["messages"])
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
    (["--clock-offset", "cn=-100000s"], "more than a day"),
    (["--clock-offset", "xx=+1s"], "NODE=OFFSET"),
    (["--link-delay", "moon=3"], "unknown link"),
    (["--link-delay", "0"], "between"),
    (["--loss", "1.5"], "fraction"),
    (["--duplicate", "-0.1"], "fraction"),
    (["--traffic", "fast"], "not a rate"),
    (["--traffic-size", "8"], "--traffic-size"),
    (["--l2-gap", "900"], "interval"),
    (["--vantage", "mn,moon"], "nodes are"),
    (["--lose", "hack"], "TYPE is one of"),
    (["--lose", "fbu@2"], "does not exist"),
    (["--lose", "fbu@x"], "handover number"),
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


def test_a_lost_fbu_and_a_lost_hi_are_sent_again(tmp_path):
    truth = gen(tmp_path, "predictive,reactive", "--handovers", "2",
                "--lose", "fbu@1,hi@2")
    one, two = truth["handovers"]
    fbus = [m for m in one["messages"] if m["type"] == "FBU"]
    assert [[s["vantage"] for s in m["seen"]] for m in fbus] == [
        ["mn"], ["mn", "par"]]
    assert [m["lost_after"] for m in fbus] == ["mn", None]
    assert fbus[1]["seen"][0]["time"] - fbus[0]["seen"][0]["time"] == \
        pytest.approx(0.1)
    his = [m for m in two["messages"] if m["type"] == "HI"]
    assert [m["lost_after"] for m in his] == ["par", None]
    # PAR tunnelled from its first HI; NAR, without one, dropped those
    assert two["data"]["down"]["lost_last_seen"]["nar"] > 0
    assert all(m["lost_after"] is None for h in truth["handovers"]
               for m in h["messages"] if m["type"] not in ("FBU", "HI"))


def test_background_crosses_the_par_nar_link(tmp_path):
    """PAR's background is in NAR's capture too, one link delay (and the
    clocks' difference) later or earlier, by direction; the MN's is its
    own."""
    assert cli.main(["gen", "predictive", "--vantage", "mn,par,nar",
                     "--packets", "6000", "--link-delay", "par-nar=12",
                     "--clock-offset", "nar=-2s", "-o", str(tmp_path)]) == 0

    def background(node):
        out = {}
        for f in read(tmp_path / f"{node}.pcap"):
            if f.ip.src[:2] != b"\xc6\x12":       # not 198.18/16
                key = (f.ip.src, f.ip.dst, f.ip.id, bytes(f.ip.data))
                out[key] = f.time
        return out
    par, nar, mn = background("par"), background("nar"), background("mn")
    assert len(par) > 5000 and set(par) <= set(nar)
    assert not set(mn) & set(par)
    shifts = Counter(nar[k] - par[k] + 2_000_000 for k in par)
    assert set(shifts) == {12_000, -12_000}
    assert min(shifts.values()) > len(par) / 4


def test_pcapng_has_one_interface_per_link(tmp_path):
    """--pcapng: each capture's frames on interfaces named as in the lab;
    the MN's frames from PAR on fmip-old, from NAR on fmip-new."""
    require_tool("tshark")
    assert cli.main(["gen", "predictive", "--vantage", "mn,par",
                     "--pcapng", "--packets", "3000", "-o",
                     str(tmp_path)]) == 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    assert truth["vantage_points"]["mn"]["file"] == "mn.pcapng"
    rows = TS.fields(tmp_path / "mn.pcapng", ["frame.interface_name",
                                               "eth.src"], lua=False)
    assert len(rows) == 3000
    where = Counter((r["frame.interface_name"][0], r["eth.src"][0])
                    for r in rows)
    assert where[("fmip-old", T.LINKS["mn-par"].b.mac)] > 0
    assert where[("fmip-new", T.LINKS["mn-nar"].b.mac)] > 0
    assert not [k for k in where if k[0] == "fmip-old"
                and k[1] == T.LINKS["mn-nar"].b.mac]
    names = {r["frame.interface_name"][0] for r in TS.fields(
        tmp_path / "par.pcapng", ["frame.interface_name"], lua=False)}
    assert names == {"fmip-mn", "fmip-nar", "fmip-cn"}


def test_packets_exact_with_loss_and_jitter(tmp_path):
    assert cli.main(["gen", "all", "--vantage", "all", "--handovers", "3",
                     "--packets", "8000", "--loss", "0.05", "--jitter", "1",
                     "-o", str(tmp_path)]) == 0
    truth = json.loads((tmp_path / "truth.json").read_text())
    for node in T.NODES:
        assert len(read(tmp_path / f"{node}.pcap")) == 8000
        assert truth["vantage_points"][node]["packets"] == 8000


def test_a_folder_that_cannot_be_made_is_one_line_exit_2(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["gen", "predictive", "--vantage", "all", "-o",
                     str(blocker / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "cannot create" in err
