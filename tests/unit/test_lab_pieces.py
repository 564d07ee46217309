"""The lab's pieces that need no namespace: Mobile IPv4 registration and
agent advertisement octets (RFC 5944), the test flow's rate, the lab's
reading of a capture, percentiles and per-mode summaries."""

from __future__ import annotations

import socket
import struct

import pytest

from fmipdissect.active import registration as R
from fmipdissect.active.labflow import (FlowPacket, percentile, read_flow,
                                        summary, totals)
from fmipdissect.active.traffic import parse_rate
from fmipdissect.lint.keys import Key
from fmipdissect.wire import testflow as T

KEY = Key(spi=0x100, secret=b"fmipdissect-lab-mn-par-key",
          algorithm="hmac-md5")


def test_registration_request_layout_and_authenticator():
    body = R.request("198.18.1.10", "198.18.1.1", "198.18.2.1", 10,
                     0x1122334455667788, KEY)
    # RFC 5944 3.3: 24 octets, then the Mobile-Home Authentication
    # Extension (Type 32, Length 4 + 16, SPI, HMAC-MD5)
    assert len(body) == 24 + 2 + 4 + 16
    assert body[0] == R.REQUEST and body[1] == R.FLAG_T
    assert struct.unpack_from("!H", body, 2)[0] == 10
    assert body[24:26] == bytes([R.MN_HA_AUTH, 20])
    got = R.parse(body, {KEY.spi: KEY})
    assert (got.home, got.agent, got.coa, got.ident, got.verified,
            got.spi) == ("198.18.1.10", "198.18.1.1", "198.18.2.1",
                         0x1122334455667788, True, KEY.spi)


def test_a_spoilt_registration_does_not_verify():
    body = bytearray(R.request("198.18.1.10", "198.18.1.1", "198.18.2.1",
                               10, 1, KEY))
    body[3] ^= 1                    # the Lifetime, after signing
    assert R.parse(bytes(body), {KEY.spi: KEY}).verified is False
    other = Key(spi=KEY.spi, secret=b"another", algorithm="hmac-md5")
    assert R.parse(R.request("198.18.1.10", "198.18.1.1", "198.18.2.1", 10,
                             1, KEY), {KEY.spi: other}).verified is False
    assert R.parse(b"\x14" + bytes(40)) is None      # an FBU is none
    assert R.parse(b"\x01" + bytes(10)) is None      # too short


def test_registration_reply():
    body = R.reply(R.ACCEPTED, 10, "198.18.1.10", "198.18.1.1", 7, KEY)
    got = R.parse(body, {KEY.spi: KEY})
    assert (got.kind, got.code, got.lifetime, got.ident, got.coa,
            got.verified) == (R.REPLY, 0, 10, 7, None, True)


def test_agent_advertisement_round_trip_and_checksum():
    icmp = R.advertisement("198.18.2.1", 5, 10)
    assert icmp[0] == R.AGENT_ADVERTISEMENT
    total = sum(struct.unpack(f"!{len(icmp) // 2}H", icmp))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    assert total == 0xFFFF                    # the ICMP checksum holds
    assert R.advertised_coa(icmp) == "198.18.2.1"
    home_agent_only = bytearray(icmp)
    home_agent_only[8 + 8 + 6] = 0x20         # H, not F: no care-of offer
    assert R.advertised_coa(bytes(home_agent_only)) is None
    assert R.advertised_coa(icmp[:20]) is None
    assert R.advertised_coa(b"\x08" + icmp[1:]) is None


@pytest.mark.parametrize("text,rate", [("200/s", 200.0), ("50", 50.0),
                                       ("0.5/s", 0.5)])
def test_rates(text, rate):
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["fast", "0/s", "-3/s", "20001/s", "/s"])
def test_bad_rates(text):
    with pytest.raises(ValueError, match="bad rate"):
        parse_rate(text)


def test_percentile_is_nearest_rank():
    assert percentile([], 50) is None
    assert percentile([3.0], 95) == 3.0
    values = list(range(1, 21))
    assert percentile(values, 50) == 10
    assert percentile(values, 95) == 19
    assert percentile(values, 100) == 20


def _sll(outgoing: bool, ip: bytes) -> bytes:
    """A Linux cooked (SLL) frame as `dumpcap -i any` writes it."""
    return struct.pack("!HHH8sH", 4 if outgoing else 0, 1, 6, bytes(8),
                       0x0800) + ip


def _ipv4(src, dst, proto, payload) -> bytes:
    head = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(payload), 0, 0,
                       64, proto, 0, socket.inet_aton(src),
                       socket.inet_aton(dst))
    return head + payload


def _flow(flow, seq) -> bytes:
    data = T.build(flow, seq, 0)
    return struct.pack("!HHHH", T.DEFAULT_PORT, T.DEFAULT_PORT,
                       8 + len(data), 0) + data


def test_read_flow_sees_plain_and_tunnelled_packets(tmp_path):
    import dpkt
    path = tmp_path / "nar.pcapng"
    inner = _ipv4("198.18.3.10", "198.18.1.10", 17, _flow(T.FLOW_DOWN, 7))
    with open(path, "wb") as f:
        w = dpkt.pcapng.Writer(f, linktype=113)
        w.writepkt(_sll(False, _ipv4("198.18.0.1", "198.18.0.2", 4, inner)),
                   ts=1.0)
        w.writepkt(_sll(True, inner), ts=1.5)
        w.writepkt(_sll(True, _ipv4("198.18.1.10", "198.18.3.10", 17,
                                    b"\x00" * 8 + b"not a test flow")),
                   ts=2.0)
    got = read_flow(str(path))
    assert got == [FlowPacket(1.0, T.FLOW_DOWN, 7, False, True),
                   FlowPacket(1.5, T.FLOW_DOWN, 7, True, False)]


def test_totals_and_summary():
    cn = [FlowPacket(t, T.FLOW_DOWN, t, True, False) for t in range(10)]
    mn = [FlowPacket(t + 0.5, T.FLOW_DOWN, t, False, False)
          for t in range(10) if t not in (4, 5)]
    mn += [FlowPacket(t, T.FLOW_UP, t, True, False) for t in range(3)]
    cn += [FlowPacket(t + 0.5, T.FLOW_UP, t, False, False) for t in range(3)]
    assert totals({"cn": cn, "mn": mn}) == {
        "down": {"sent": 10, "received": 8}, "up": {"sent": 3, "received": 3}}
    rows = [{"mode": "reactive",
             "down": {"lost": 2, "interruption_ms": 30.0, "buffered": 0},
             "up": {"lost": 0, "interruption_ms": 20.0}},
            {"mode": "reactive",
             "down": {"lost": 1, "interruption_ms": 10.0, "buffered": 0},
             "up": {"lost": 0, "interruption_ms": None}}]
    got = summary(rows, ["predictive", "reactive"])
    assert list(got) == ["reactive"]
    assert got["reactive"]["handovers"] == 2 and got["reactive"]["lost"] == 3
    assert got["reactive"]["down_interruption_ms"] == {
        "p50": 10.0, "p95": 30.0, "max": 30.0}
