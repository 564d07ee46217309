"""The live link's frame filter: FMIPv4 frames are kept, others are not."""

from __future__ import annotations

from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from fmipdissect.active.live import parse_fmip_frame
from fmipdissect.gen import flows as S

P = S.Params()


def frame(pkt) -> bytes:
    return bytes(Ether(src="02:00:00:aa:00:01", dst="02:00:00:bb:00:01")
                 / pkt)


def test_fmip_frames_are_parsed():
    src, dst, proto, sport, dport, payload = parse_fmip_frame(
        frame(S.rtsolpr(P)))
    assert (src, dst, proto, sport, dport) == (P.mn, P.par, 1, None, None)
    assert payload[0] == 41 and payload[4] == 6
    fbu = IP(src=P.mn, dst=P.par) / UDP(sport=5000, dport=434) \
        / S.fbu_message(P, 1)
    parsed = parse_fmip_frame(frame(fbu))
    assert parsed[2:5] == (17, 5000, 434) and parsed[5][0] == 20


def test_other_frames_are_not():
    for pkt in (IP(src=P.mn, dst=P.par) / ICMP(),             # echo
                IP(src=P.mn, dst=P.par) / UDP(sport=53, dport=53) / Raw(b"x"),
                IP(src=P.mn, dst=P.par, flags="MF") / UDP(dport=434),
                ARP()):
        assert parse_fmip_frame(frame(pkt)) is None
    assert parse_fmip_frame(b"\x00" * 10) is None


def test_trailing_ethernet_padding_is_cut():
    pkt = S.rtsolpr(P)
    data = frame(pkt) + b"\x00" * 8            # padding to 60 octets
    assert parse_fmip_frame(data)[5] == bytes(pkt[IP].payload)
