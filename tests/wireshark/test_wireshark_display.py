"""The tree reads like Wireshark's own: checked through real tshark
(-T json, -T pdml, -T fields) and pyshark on the predictive sample plus a
truncated FBU, a snap-clipped FBU and an FBU quoted in an ICMP error."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from scapy.utils import rdpcap, wrpcap
from wireshark_common import ICMP, IP, Ether, require_tool

from fmipdissect.wireshark import tshark as T

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = ROOT / "samples" / "predictive.pcap"
FBU_FRAME, HI_FRAME = 3, 4
TRUNCATED, CLIPPED, QUOTED = 8, 9, 10     # frames appended to the sample


@pytest.fixture(scope="module")
def capture(tmp_path_factory):
    require_tool("tshark")
    packets = list(rdpcap(str(SAMPLE)))
    fbu = packets[FBU_FRAME - 1]
    ip = IP(bytes(fbu[IP]))
    # an FBU cut after 10 octets, with headers that agree (FM301)
    cut = Ether(bytes(fbu)[:14]) / IP(bytes(ip)[:20 + 8 + 10])
    cut[IP].len, cut[IP].chksum = None, None
    cut = Ether(bytes(cut))
    cut.time = fbu.time + 1
    clipped = fbu.copy()
    clipped.time = fbu.time + 2
    quoted = (Ether(src=fbu.dst, dst=fbu.src)
              / IP(src=ip.dst, dst=ip.src) / ICMP(type=3, code=3)
              / bytes(ip))
    quoted.time = fbu.time + 3
    path = tmp_path_factory.mktemp("display") / "display.pcap"
    wrpcap(str(path), packets + [cut, clipped, quoted])
    # frame 9 clipped by a snap length: captured 60 of its octets
    data = bytearray(path.read_bytes())
    off, frame = 24, 0
    while off < len(data):
        incl = int.from_bytes(data[off + 8:off + 12], "little")
        frame += 1
        if frame == CLIPPED:
            data[off + 8:off + 12] = (60).to_bytes(4, "little")
            del data[off + 16 + 60:off + 16 + incl]
            break
        off += 16 + incl
    path.write_bytes(bytes(data))
    return path


@pytest.fixture(scope="module")
def pdml(capture):
    out = T.run(capture, "-2", "-Y", "frame", "-T", "pdml")
    return re.split(r"<packet>", out)[1:]


def _field(packet: str, name: str) -> list[str]:
    return re.findall(rf'<field name="{re.escape(name)}" ([^>]*)>', packet)


def _attr(attrs: str, key: str) -> str:
    return re.search(rf'{key}="([^"]*)"', attrs).group(1)


def test_lla_is_a_mac_address(capture):
    out = T.run(capture, "-2", "-Y", "frame", "-T", "json",
                "--no-duplicate-keys")
    packets = json.loads(out)
    fmip = packets[HI_FRAME - 1]["_source"]["layers"]["fmip"]
    assert [o["fmip.opt.lla"] for o in fmip["fmip.opt"]
            if "fmip.opt.lla" in o] == ["02:00:00:aa:00:01"]
    rows = T.fields(capture, ["fmip.opt.lla"])
    assert rows[HI_FRAME - 1]["fmip.opt.lla"] == ["02:00:00:aa:00:01"]


def test_flags_are_set_or_not_set_bits(pdml):
    flags = _field(pdml[FBU_FRAME - 1], "fmip.flags.s")
    assert _attr(flags[0], "showname") == \
        "0... .... = Simultaneous bindings: Not set"
    u = _field(pdml[HI_FRAME - 1], "fmip.hi.u")
    assert _attr(u[0], "showname") == ".1.. .... = Buffer (U): Set"


def test_lifetime_in_seconds(pdml):
    life = _field(pdml[FBU_FRAME - 1], "fmip.lifetime")
    assert _attr(life[0], "showname") == "Lifetime: 10 seconds"
    assert _attr(life[0], "show") == "10"


def test_option_21_reserved_is_8_bits(pdml):
    reserved = _field(pdml[HI_FRAME - 1], "fmip.opt.reserved")
    assert [_attr(r, "size") for r in reserved] == ["1"]
    assert _attr(reserved[0], "showname") == "Reserved: 0x00"


def test_truncated_and_clipped_fbus_are_marked_in_the_info_column(capture):
    rows = T.fields(capture, ["_ws.col.Info"], two_pass=True)
    for frame in (TRUNCATED, CLIPPED):
        assert rows[frame - 1]["_ws.col.Info"][0].endswith("[truncated]")
    assert "[truncated]" not in rows[FBU_FRAME - 1]["_ws.col.Info"][0]


def test_an_fbu_quoted_in_an_icmp_error_is_only_shown(capture, pdml):
    rows = T.fields(capture, ["fmip.type", "fmip.homeaddr", "_ws.expert",
                              "fmip.response_in", "fmip.response_to",
                              "icmp.type", "_ws.col.Protocol"],
                    two_pass=True)
    quoted = rows[QUOTED - 1]
    assert quoted["icmp.type"] == ["3"]
    assert quoted["fmip.type"] == ["20"] and quoted["fmip.homeaddr"]
    assert quoted["_ws.expert"] == []
    assert quoted["fmip.response_in"] == quoted["fmip.response_to"] == []
    assert quoted["_ws.col.Protocol"] == ["ICMP"]
    assert "quoted in an ICMP error" in pdml[QUOTED - 1]
    # the original FBU keeps its one response link
    assert rows[FBU_FRAME - 1]["fmip.response_in"] == ["6"]


def test_pyshark_layers_end_with_fmip(capture):
    cap = T.pyshark_capture(capture, display_filter="fmip.type == 20")
    try:
        packets = list(cap)
    finally:
        cap.close()
    first = packets[0]
    assert first.highest_layer == "FMIP"
    assert [layer.layer_name for layer in first.layers] == \
        ["eth", "ip", "udp", "fmip"]
    assert first.fmip.lifetime == "10"


def _plain_pyshark_layers(path, lua: bool) -> list[tuple[str, list[str]]]:
    """(highest_layer, layer names) of every frame, read by pyshark itself
    (no layer filtering), tshark isolated from the user's configuration."""
    import pyshark
    params = ["-X", f"lua_script:{T.dissector_path()}"] if lua else []
    cap = pyshark.FileCapture(str(path), custom_parameters=params,
                              tshark_path=T._wrapper_dir())
    try:
        return [(p.highest_layer, [layer.layer_name for layer in p.layers])
                for p in cap]
    finally:
        cap.close()


def test_plain_pyshark_highest_layer_with_the_plugin(tmp_path):
    """Plain pyshark with `-X lua_script:`: ordinary frames read exactly as
    without the plugin, FMIPv4 ones end in fmip with highest_layer FMIP."""
    require_tool("tshark")
    from scapy.layers.inet import TCP, UDP
    from scapy.layers.dns import DNS, DNSQR
    packets = list(rdpcap(str(SAMPLE))) + [
        Ether() / IP() / TCP(sport=40000, dport=80, flags="S"),
        Ether() / IP() / UDP(sport=40000, dport=123) / (b"\x23" + 47 * b"\0"),
        Ether() / IP() / UDP(sport=4343, dport=53)
        / DNS(qd=DNSQR(qname="example.org"))]
    path = tmp_path / "mixed.pcap"
    wrpcap(str(path), packets)
    plain = _plain_pyshark_layers(path, lua=False)
    plugin = _plain_pyshark_layers(path, lua=True)
    for number in range(1, 8):              # the sample's FMIPv4 messages
        highest, layers = plugin[number - 1]
        assert highest == "FMIP" and layers[-1] == "fmip", (number, layers)
    assert plugin[FBU_FRAME - 1][1][:3] == ["eth", "ip", "udp"]
    assert plugin[HI_FRAME - 1][1][-2:] == ["icmp", "fmip"]
    assert plugin[7:] == plain[7:]          # TCP, NTP, DNS: untouched
    assert [h for h, _ in plugin[7:]] == ["TCP", "NTP", "DNS"]
