"""The C accelerator of the fast path (capture/_skip.c, capture/accel.py).

It only steps over records the pure-Python loops would step over, so the
records a CaptureReader yields must be identical with and without it: on
generated captures of every link type and both formats, on fragmented
background traffic (first fragments rejected, later ones dropped), on
big-endian pcap, and on a few hundred randomly mutated captures.  Under
CI the accelerator must be built (a silent fallback would leave the C path
untested); FMIPDISSECT_PURE=1 forces the pure path (CI runs the suite both
ways: Makefile `test`).
"""

from __future__ import annotations

import os
import random
import struct
import subprocess
import sys
from pathlib import Path

import pytest
from scapy.layers.inet import ICMP, IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from fmipdissect.capture import accel
from fmipdissect.capture.reader import CaptureReader
from fmipdissect.gen.generate import GenOptions, generate_file

# Skipped when the pure path is asked for (the C walk is then not loaded,
# and comparing it would compare the pure walk with itself), or when the
# accelerator was not built outside CI (in CI, test_accelerator_is_built_under_ci
# fails).
needs_c = pytest.mark.skipif(
    accel.SKIP is None and (accel.PURE or not os.environ.get("CI")),
    reason=(f"pure path asked for ({accel.PURE_ENV}=1)" if accel.PURE
            else "C accelerator not built (no compiler)"))


def _records(source, monkeypatch, skip) -> tuple[list, int]:
    monkeypatch.setattr(accel, "SKIP", skip)
    reader = CaptureReader(source)
    with reader:
        return list(reader), reader.frames


def _same_both_ways(source, monkeypatch) -> list:
    c_path = _records(source, monkeypatch, accel.SKIP)
    python = _records(source, monkeypatch, None)
    assert c_path == python
    return c_path[0]


def test_accelerator_is_built_under_ci():
    if os.environ.get("CI") and not accel.PURE:
        assert accel.SKIP is not None, (
            "CI=true but the C accelerator was not built (setup.py)")
    assert accel.describe().startswith("C" if accel.SKIP else "pure")


def test_pure_environment_variable_forces_the_python_loop():
    env = dict(os.environ, **{accel.PURE_ENV: "1"})
    out = subprocess.run(
        [sys.executable, "-c", "from fmipdissect.capture import accel; "
         "print(accel.SKIP is None, accel.describe())"],
        env=env, capture_output=True, text=True, check=True).stdout
    assert out.startswith("True pure Python (FMIPDISSECT_PURE is set)")
    version = subprocess.run(
        [str(Path(sys.executable).with_name("fmip-lint")), "--version"],
        env=env, capture_output=True, text=True, check=True).stdout
    assert "pure Python" in version


def _background_with_fragments(seed: int) -> list:
    """Ethernet frames: FMIPv4-port UDP and ICMP type 41 datagrams, other
    UDP and ICMP, each sometimes fragmented, in order or reversed."""
    rnd = random.Random(seed)
    frames = []
    for i in range(120):
        port = rnd.choice((434, 53, 4789, 9999))
        if rnd.random() < 0.3:
            l4 = ICMP(type=rnd.choice((41, 8, 3)), code=rnd.choice((0, 1)))
        else:
            l4 = UDP(sport=rnd.choice((port, 5353)), dport=port)
        ip = IP(src=f"10.0.{i % 7}.1", dst="10.9.0.2", id=i,
                proto=1 if isinstance(l4, ICMP) else 17)
        pkt = ip / l4 / Raw(bytes(rnd.randrange(256)
                                  for _ in range(rnd.randrange(8, 90))))
        parts = fragment(pkt, fragsize=rnd.choice((8, 16, 24))) \
            if rnd.random() < 0.5 else [pkt]
        if rnd.random() < 0.3:
            parts = parts[::-1]
        frames += [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / p
                   for p in parts]
    return frames


@needs_c
@pytest.mark.parametrize("linktype", ["ethernet", "cooked", "raw"])
@pytest.mark.parametrize("ext", ["pcap", "pcapng"])
def test_same_records_on_generated_captures(tmp_path, monkeypatch, linktype,
                                            ext):
    path = tmp_path / f"bg.{ext}"
    generate_file(GenOptions(scenario="predictive", packets=2000,
                             background=0.9, linktype=linktype, seed=3), path)
    assert len(_same_both_ways(str(path), monkeypatch)) > 100


@needs_c
def test_same_records_with_fragmented_background(tmp_path, monkeypatch):
    path = tmp_path / "frag.pcap"
    wrpcap(str(path), _background_with_fragments(1))
    records = _same_both_ways(str(path), monkeypatch)
    assert any(getattr(r, "fragments", ()) for r in records)


def _big_endian(little: bytes) -> bytes:
    """The same pcap with its headers in big-endian order."""
    out = bytearray(struct.pack(">IHHiIII", *struct.unpack("<IHHiIII",
                                                            little[:24])))
    pos = 24
    while pos + 16 <= len(little):
        head = struct.unpack("<IIII", little[pos:pos + 16])
        out += struct.pack(">IIII", *head)
        out += little[pos + 16:pos + 16 + head[2]]
        pos += 16 + head[2]
    return bytes(out)


@needs_c
def test_same_records_on_big_endian_pcap(tmp_path, monkeypatch):
    path = tmp_path / "bg.pcap"
    generate_file(GenOptions(scenario="reactive", packets=800,
                             background=0.8, seed=4), path)
    data = _big_endian(path.read_bytes())
    assert data[:4] == b"\xa1\xb2\xc3\xd4"
    assert len(_same_both_ways(data, monkeypatch)) > 20


@needs_c
@pytest.mark.fuzz
def test_same_records_on_mutated_captures(tmp_path, monkeypatch):
    """Random octets changed anywhere after the file header: lengths,
    link types, IP headers, ports, fragment fields."""
    bases = []
    plain = tmp_path / "frag.pcap"
    wrpcap(str(plain), _background_with_fragments(2))
    bases.append(plain.read_bytes())
    for ext in ("pcap", "pcapng"):
        path = tmp_path / f"gen.{ext}"
        generate_file(GenOptions(scenario="predictive", packets=300,
                                 background=0.7, seed=6), path)
        bases.append(path.read_bytes())
    rnd = random.Random(4988)
    for i in range(240):
        data = bytearray(bases[i % len(bases)])
        start = 24 if data[:4] != b"\x0a\x0d\x0d\x0a" else 200
        for _ in range(rnd.choice((1, 3, 10))):
            data[rnd.randrange(start, len(data))] = rnd.randrange(256)
        _same_both_ways(bytes(data), monkeypatch)


def _candidates_from(addresses) -> list:
    """FMIPv4 candidates (UDP port 434 and ICMP type 41) between the
    given addresses, one frame each, with some frames of other traffic."""
    frames = []
    for i, (src, dst) in enumerate(addresses):
        ip = IP(src=src, dst=dst, ttl=i % 256)
        if i % 3 == 0:
            frames.append(Ether() / ip / UDP(sport=434, dport=434)
                          / Raw(bytes([1]) * (8 + i % 40)))
        elif i % 3 == 1:
            frames.append(Ether() / ip / ICMP(type=41, code=0)
                          / Raw(bytes([6, 0, 0, 1]) + bytes(i % 30)))
        else:
            frames.append(Ether() / ip / UDP(sport=5000, dport=6000)
                          / Raw(bytes(20)))
    return frames


@needs_c
def test_take_builds_the_datagrams_of_the_python_loop(tmp_path, monkeypatch):
    """_skip.take builds the usual candidate in C: its fields, the dotted
    quads (octets of one, two and three digits, 0 and 255; more addresses
    than its table of texts keeps, so that entries are replaced) and the
    payload equal what plain_datagram builds on the pure path."""
    edges = ["0.0.0.0", "255.255.255.255", "9.99.100.255", "10.0.0.1",
             "100.10.1.0", "198.18.1.10"]
    rng = random.Random(27)
    many = [".".join(str(rng.randrange(256)) for _ in range(4))
            for _ in range(3000)]
    pairs = [(a, b) for a in edges for b in edges] + list(zip(many,
                                                             many[1:]))
    pairs += pairs[:200]                  # the same addresses again
    path = tmp_path / "addresses.pcap"
    wrpcap(str(path), _candidates_from(pairs))
    records = _same_both_ways(str(path), monkeypatch)
    assert len(records) > 2000
    assert {r.src for r in records} >= set(edges)


def test_inet_ntoa_is_the_socket_module_s():
    import socket
    from fmipdissect.wire import ipv4
    rng = random.Random(4)
    values = [bytes(4), b"\xff" * 4, b"\x09\x63\x64\xff"] + [
        rng.randbytes(4) for _ in range(ipv4.NAMES_KEPT + 500)]
    for packed in values + values[:100]:     # kept and replaced texts
        assert ipv4.inet_ntoa(packed) == socket.inet_ntoa(packed)
        assert ipv4.inet_ntoa(bytearray(packed)) == socket.inet_ntoa(packed)
    with pytest.raises(ValueError):
        ipv4.inet_ntoa(b"\x01\x02\x03")


@needs_c
def test_an_accelerator_without_take_still_steps_over(tmp_path, monkeypatch):
    """An _skip built before take(): skip alone, the same records."""
    path = tmp_path / "bg.pcap"
    generate_file(GenOptions(scenario="predictive", packets=1500,
                             background=0.9, seed=8), path)
    with_take = _records(str(path), monkeypatch, accel.SKIP)
    monkeypatch.setattr(accel, "TAKE", None)
    assert accel.take() is accel._skip_only
    assert _records(str(path), monkeypatch, accel.SKIP) == with_take
    assert _records(str(path), monkeypatch, None) == with_take
