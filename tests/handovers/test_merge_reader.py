"""The merge's reader of every IPv4 datagram (capture/sightings.py): the
FMIPv4 datagrams exactly as the ordinary reader makes them, the sieve (C
and pure Python) and the in-place path against the full parser, tunnels,
and what identifies one datagram across captures (decision D18)."""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest

from fmipdissect.capture import sightings
from fmipdissect.capture.reader import CaptureReader
from fmipdissect.capture.sightings import (SightingReader, Sighting,
                                           sample_hash)
from fmipdissect.records import Datagram
from fmipdissect.wire import testflow

REPO = Path(__file__).resolve().parents[2]
SAMPLES = sorted((REPO / "samples").glob("*.pcap"))


def _aton(a):
    return bytes(int(x) for x in a.split("."))


def _number(a):
    return int.from_bytes(_aton(a), "big")


def _ip(src, dst, proto, payload, ident=7, ttl=64):
    ip = dpkt.ip.IP(src=_aton(src), dst=_aton(dst), p=proto, id=ident,
                    ttl=ttl, data=payload)
    ip.len = 20 + len(payload)
    return ip


def _udp(sport, dport, body=b"x" * 20):
    u = dpkt.udp.UDP(sport=sport, dport=dport, data=body)
    u.ulen = 8 + len(body)
    return bytes(u)


def _eth(ip, ethertype=0x0800):
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6,
                                       type=ethertype, data=bytes(ip)))


FBU = (REPO / "samples" / "predictive.pcap")


def _fmip_frames():
    with open(FBU, "rb") as f:
        return [buf for _, buf in dpkt.pcap.Reader(f)]


def _mixed(path: Path) -> None:
    """Frames of every kind the reader meets."""
    frames = []
    mn, cn, other = "10.1.0.10", "10.3.0.10", "192.0.2.7"
    frames.append(_eth(_ip(cn, mn, 17, _udp(9434, 9434))))        # MN's
    frames.append(_eth(_ip(other, "192.0.2.8", 17, _udp(5000, 80))))  # not
    frames.append(_eth(_ip(mn, cn, 6, b"\0" * 20)))                # TCP
    frames.append(_eth(_ip(other, mn, 1, b"\x08\0" + b"\0" * 10)))  # ICMP
    tunnelled = _ip(cn, mn, 17, _udp(9434, 9434, testflow.build(1, 5, 0)),
                    ident=9)
    frames.append(_eth(_ip("10.1.0.1", "10.2.0.1", 4, bytes(tunnelled))))
    gre = b"\0\0\x08\0" + bytes(tunnelled)
    frames.append(_eth(_ip("10.1.0.1", "10.2.0.1", 47, gre)))
    frag = _ip(mn, cn, 17, b"f" * 24, ident=11)
    frag.mf = 1
    frames.append(_eth(frag))
    vlan = b"\x00\x05\x08\x00" + bytes(_ip(mn, cn, 17, _udp(1, 2)))
    frames.append(_eth(vlan, ethertype=0x8100)[:14] + vlan)
    opts = dpkt.ip.IP(src=_aton(mn), dst=_aton(cn), p=17, id=12, ttl=64,
                      opts=b"\x01\x01\x01\x00", data=_udp(3, 4))
    opts.len = 24 + 8 + 20
    opts.hl = 6
    frames.append(_eth(opts))
    frames.append(_eth(_ip(other, "192.0.2.9", 17, _udp(434, 434))))
    frames.extend(_fmip_frames())
    frames.append(b"\x02" * 12 + b"\x86\xdd" + b"\0" * 40)         # IPv6
    with open(path, "wb") as f:
        w = dpkt.pcap.Writer(f)
        for n, frame in enumerate(frames):
            w.writepkt(frame, ts=1_700_000_000 + n * 0.001)


def _read(path, addresses=None, **kw):
    with SightingReader(str(path), addresses=addresses, **kw) as r:
        return [s for s in r if s.__class__ is Sighting], r.frames


@pytest.mark.parametrize("path", SAMPLES, ids=[p.name for p in SAMPLES])
def test_fmip_datagrams_as_the_ordinary_reader_makes_them(path):
    with CaptureReader(str(path)) as r:
        want = [d for d in r if d.__class__ is Datagram]
    got, _ = _read(path)
    assert [d for s in got for d in s.datagrams] == want
    sieved, _ = _read(path, addresses=set())
    assert [d for s in sieved for d in s.datagrams] == want


@pytest.fixture(scope="module")
def mixed(tmp_path_factory):
    path = tmp_path_factory.mktemp("mixed") / "mixed.pcap"
    _mixed(path)
    return path


ADDRESSES = {_number("10.1.0.10"), _number("10.1.0.1"), _number("10.2.0.1")}


def _shown(items):
    return [tuple(s) for s in items]


@pytest.mark.parametrize("accelerated", [True, False])
def test_the_sieve_keeps_what_the_full_parser_finds(mixed, monkeypatch,
                                                    accelerated):
    full, frames = _read(mixed)            # no sieve: every frame parsed
    if not accelerated:
        monkeypatch.setattr(sightings, "SIEVE", None)
    elif sightings.SIEVE is None:
        pytest.skip("the C sieve is not built")
    got, sieved_frames = _read(mixed, addresses=ADDRESSES)
    assert sieved_frames == frames
    # the sieve drops plain datagrams of other addresses only (frame 2);
    # fragments, tunnels, VLAN, IP options and FMIPv4 (frame 10: port 434
    # between other addresses) always reach the parser, and what it reads
    # in place is what the full parser reads
    assert [s.frame for s in full if s not in got] == [2]
    assert _shown(got) == _shown(s for s in full if s.frame != 2)


def test_tunnelled_datagram_is_the_inner_one(mixed):
    got, _ = _read(mixed)
    inner = [s for s in got if s.tunnel]
    assert len(inner) == 2                 # IP-in-IP and GRE
    assert {s.tunnel for s in inner} == {("10.1.0.1", "10.2.0.1")}
    assert inner[0].key == inner[1].key    # the same datagram
    assert (inner[0].src, inner[0].dst) == ("10.3.0.10", "10.1.0.10")
    assert inner[0].seq == (testflow.FLOW_DOWN, 5)


def test_identity_ignores_ttl_but_not_the_payload(tmp_path):
    path = tmp_path / "ttl.pcap"
    a = _ip("10.3.0.10", "10.1.0.10", 17, _udp(9434, 9434), ttl=64)
    b = _ip("10.3.0.10", "10.1.0.10", 17, _udp(9434, 9434), ttl=61)
    c = _ip("10.3.0.10", "10.1.0.10", 17, _udp(9434, 9434, b"y" * 20))
    with open(path, "wb") as f:
        w = dpkt.pcap.Writer(f)
        for n, ip in enumerate((a, b, c)):
            w.writepkt(_eth(ip), ts=1_700_000_000 + n)
    got, _ = _read(path)
    assert got[0].key == got[1].key
    assert got[0].ttl == 64 and got[1].ttl == 61
    assert got[2].key != got[0].key


def test_sample_hash_is_the_same_in_c_and_python(mixed, monkeypatch):
    """Pass 1's sample: the C sieve and the Python test keep the same."""
    if sightings.SIEVE is None:
        pytest.skip("the C sieve is not built")
    kept = {}
    for accelerated in (True, False):
        if not accelerated:
            monkeypatch.setattr(sightings, "SIEVE", None)
        with SightingReader(str(mixed), addresses=ADDRESSES) as r:
            r.sample = 3
            kept[accelerated] = _shown(s for s in r
                                       if s.__class__ is Sighting)
    assert kept[True] == kept[False]
    full, _ = _read(mixed, addresses=ADDRESSES)
    for s in full:
        if s.frame in (1, 3, 4):          # plain, of known addresses
            assert (tuple(s) in kept[True]) == \
                (sample_hash(*s.key[:3]) % 3 == 0)


def test_pcapng_is_sieved_as_pcap(mixed, tmp_path):
    """pcapng goes through the full parser, which applies the same test."""
    import subprocess
    ng = tmp_path / "mixed.pcapng"
    subprocess.run(["editcap", "-F", "pcapng", str(mixed), str(ng)],
                   check=True)
    for addresses in (None, ADDRESSES):
        pcap, frames = _read(mixed, addresses=addresses)
        got, ng_frames = _read(ng, addresses=addresses)
        assert ng_frames == frames
        assert _shown(got) == _shown(pcap)


def test_the_sieve_is_built_under_ci():
    """CI builds the C sieve (setup.py): the tests above that need it must
    not be skipped there (FMIPDISSECT_PURE=1 asks for the Python twin)."""
    import os
    from fmipdissect.capture import accel
    if os.environ.get("CI") and not accel.PURE:
        assert sightings.SIEVE is not None, (
            "CI=true but the C sieve was not built (setup.py)")
