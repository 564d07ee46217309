"""FMIPv4 through encapsulations (capture/linklayer.py): IP-in-IP, IPv4 in
IPv6, GRE (with checksum, key, sequence number; Ethernet bridging), MPLS
label stacks, PPPoE sessions, VXLAN, 802.3 with LLC/SNAP, the PPP link
types, and tunnels in tunnels.

Each capture is built with Scapy and holds one FBU (UDP port 434) and one
HI (ICMP type 41) inside the encapsulation, plus background traffic through
the same encapsulation.  The fast path, the reference path and real tshark
with the generated dissector must agree on the FMIPv4 message count; the
decode output names the path.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.contrib.mpls import MPLS
from scapy.layers.inet import GRE, IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import LLC, SNAP, Dot1Q, Dot3, Ether
from scapy.layers.ppp import PPP, PPPoE
from scapy.layers.vxlan import VXLAN
from scapy.packet import Raw
from scapy.utils import wrpcap

from fmipdissect.capture.linklayer import MAX_LAYERS
from fmipdissect.capture.reader import CaptureReader
from fmipdissect.records import CaptureNote, Datagram
from fmipdissect.wireshark import tshark as T
from wireshark_common import require_tool

from test_capture import FBU, HI

FMIPDISSECT = str(Path(sys.executable).with_name("fmipdissect"))
OUTER = dict(src="192.0.2.1", dst="192.0.2.2")


def fbu():
    return IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=49152, dport=434) / Raw(FBU)


def hi():
    return IP(src="10.0.0.1", dst="10.1.0.1", proto=1) / Raw(HI)


def background():
    return [IP(src="10.9.0.1", dst="10.9.0.2") / UDP(sport=53, dport=5353) / Raw(b"q" * 30),
            IP(src="10.9.0.1", dst="10.9.0.2") / TCP(sport=443, dport=50000)]


def _eth(payload, **kw):
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02", **kw) / payload


# name: (linktype, wrap(inner IPv4 packet) -> frame bytes, expected path prefix)
CASES = {
    "ipip": (1, lambda p: _eth(IP(**OUTER) / p), "eth/ip/ip"),
    "ipv4-in-ipv6": (1, lambda p: _eth(IPv6(src="2001:db8::1", dst="2001:db8::2",
                                            nh=4) / p), "eth/ipv6/ip"),
    "gre": (1, lambda p: _eth(IP(**OUTER) / GRE(proto=0x0800) / p), "eth/ip/gre/ip"),
    "gre-key-seq": (1, lambda p: _eth(IP(**OUTER) / GRE(
        proto=0x0800, key_present=1, key=0x1234, seqnum_present=1,
        sequence_number=9) / p), "eth/ip/gre/ip"),
    "gre-checksum": (1, lambda p: _eth(IP(**OUTER) / GRE(
        proto=0x0800, chksum_present=1) / p), "eth/ip/gre/ip"),
    "gre-ethernet": (1, lambda p: _eth(IP(**OUTER) / GRE(proto=0x6558) / _eth(p)),
                     "eth/ip/gre/eth/ip"),
    "mpls-1": (1, lambda p: _eth(MPLS(label=100, s=1, ttl=64) / p, type=0x8847),
               "eth/mpls/ip"),
    "mpls-3": (1, lambda p: _eth(MPLS(label=100, s=0) / MPLS(label=200, s=0)
                                 / MPLS(label=300, s=1) / p, type=0x8847),
               "eth/mpls/ip"),
    "pppoe": (1, lambda p: _eth(PPPoE(sessionid=7) / PPP(proto=0x0021) / p),
              "eth/pppoe/ip"),
    "vxlan": (1, lambda p: _eth(IP(**OUTER) / UDP(sport=40000, dport=4789)
                                / VXLAN(vni=42) / _eth(p)), "eth/ip/vxlan/eth/ip"),
    "llc-snap": (1, lambda p: Dot3(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
                 / LLC(dsap=0xAA, ssap=0xAA, ctrl=3) / SNAP(OUI=0, code=0x0800) / p,
                 "eth/llc/ip"),
    "ppp": (9, lambda p: b"\xff\x03\x00\x21" + bytes(p), "ppp/ip"),
    "ppp-hdlc": (50, lambda p: b"\xff\x03\x00\x21" + bytes(p), "ppp/ip"),
    "nested": (1, lambda p: _eth(Dot1Q(vlan=5) / MPLS(label=16, s=1) / IP(**OUTER)
                                 / GRE(proto=0x0800, key_present=1, key=1) / IP(**OUTER)
                                 / UDP(sport=1, dport=4789) / VXLAN(vni=1)
                                 / _eth(IP(**OUTER) / p)),
               "eth/vlan/mpls/ip/gre/ip/vxlan/eth/ip/ip"),
}


def write_case(path: Path, name: str) -> str:
    linktype, wrap, _ = CASES[name]
    packets = [wrap(p) for p in background()] + [wrap(fbu())] \
        + [wrap(p) for p in background()] + [wrap(hi())]
    frames = [bytes(p) if not isinstance(p, bytes) else p for p in packets]
    wrpcap(str(path), [Raw(f) for f in frames], linktype=linktype)
    return str(path)


def read(path, prefilter):
    with CaptureReader(path, prefilter=prefilter) as reader:
        return list(reader)


def tshark_fmip_frames(path) -> int:
    """Frames with an FMIPv4 message in tshark with the dissector, run
    with a personal configuration of its own (not the user's)."""
    require_tool("tshark")
    home = Path(path).parent / "wireshark-home"
    home.mkdir(exist_ok=True)
    env = dict(os.environ, HOME=str(home), XDG_CONFIG_HOME=str(home),
               WIRESHARK_CONFIG_DIR=str(home))
    cmd = T.command(path, "-Y", "fmip", "-T", "fields", "-e", "frame.number")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    return len(proc.stdout.split())


@pytest.mark.parametrize("name", sorted(CASES))
def test_encapsulation_fast_reference_and_tshark_agree(tmp_path, name):
    path = write_case(tmp_path / f"{name}.pcap", name)
    fast, slow = read(path, True), read(path, False)
    assert fast == slow
    found = [d for d in fast if isinstance(d, Datagram)]
    assert [(d.frame, d.proto) for d in found] == [(3, 17), (6, 1)]
    assert found[0].payload == FBU and found[1].payload == HI
    assert (found[0].src, found[0].dst, found[0].dport) == ("10.0.0.5", "10.0.0.1", 434)
    prefix = CASES[name][2]
    assert [d.encapsulation for d in found] == [prefix + "/udp", prefix + "/icmp"]
    assert tshark_fmip_frames(path) == len(found)


def test_decode_names_the_path(tmp_path):
    path = write_case(tmp_path / "gre.pcap", "gre-key-seq")
    text = subprocess.run([FMIPDISSECT, "decode", path], capture_output=True,
                          text=True, check=True).stdout
    assert "[through eth/ip/gre/ip/udp]" in text
    lines = subprocess.run([FMIPDISSECT, "decode", "--format", "jsonl", path],
                           capture_output=True, text=True, check=True).stdout
    records = [json.loads(line) for line in lines.splitlines()]
    assert [r["encapsulation"] for r in records] == ["eth/ip/gre/ip/udp",
                                                      "eth/ip/gre/ip/icmp"]
    plain = tmp_path / "plain.pcap"
    wrpcap(str(plain), [_eth(fbu())])
    text = subprocess.run([FMIPDISSECT, "decode", str(plain)], capture_output=True,
                          text=True, check=True).stdout
    assert "through" not in text               # a plain frame: nothing to say


def test_nesting_deeper_than_the_limit_is_a_note(tmp_path):
    """Deeper than the walk follows: the frame gets a tunnel-too-deep note
    (nothing is dropped silently); the next frame is read as usual."""
    inner = bytes(fbu())
    for _ in range(MAX_LAYERS + 2):      # octet by octet: Scapy's nesting
        inner = bytes(IP(proto=4, **OUTER) / Raw(inner))   # quadratic here
    path = tmp_path / "deep.pcap"
    wrpcap(str(path), [Ether(type=0x0800) / Raw(inner),
                       _eth(IP(**OUTER) / IP(**OUTER) / fbu())])
    fast, slow = read(str(path), True), read(str(path), False)
    assert fast == slow
    assert [d.frame for d in fast if isinstance(d, Datagram)] == [2]
    assert [(n.frame, n.rule) for n in fast if isinstance(n, CaptureNote)] \
        == [(1, "FM905")]


def test_tunnel_headers_cut_short(tmp_path):
    """Frames cut inside each tunnel header: no datagram, no exception,
    the frames after them still read."""
    frames = []
    for name in ("gre-key-seq", "mpls-3", "pppoe", "vxlan", "ipv4-in-ipv6", "llc-snap"):
        linktype, wrap, _ = CASES[name]
        if linktype != 1:
            continue
        whole = bytes(wrap(fbu()))
        frames += [whole[:n] for n in range(0, len(whole) - len(bytes(fbu())) + 4)]
    frames.append(bytes(_eth(fbu())))
    path = tmp_path / "cut.pcap"
    wrpcap(str(path), [Raw(f) for f in frames], linktype=1)
    fast, slow = read(str(path), True), read(str(path), False)
    assert fast == slow
    assert [d.frame for d in fast if isinstance(d, Datagram)] == [len(frames)]


def test_other_traffic_in_tunnels_is_skipped(tmp_path):
    frames = [_eth(IP(**OUTER) / GRE(proto=0x86DD) / IPv6() / UDP(dport=434)),  # IPv6
              _eth(IP(**OUTER) / GRE(proto=0x0800, version=1) / fbu()),       # PPTP GRE
              _eth(MPLS(label=1, s=1) / Raw(b"\x00\x00" + bytes(fbu())), type=0x8847),
              _eth(IP(**OUTER) / UDP(dport=4789) / Raw(b"\x00" * 8) / _eth(fbu())),
              _eth(PPPoE(sessionid=1) / PPP(proto=0xC021) / Raw(bytes(20)))]
    path = tmp_path / "other.pcap"
    wrpcap(str(path), frames)
    assert read(str(path), True) == read(str(path), False) == []
