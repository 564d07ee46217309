"""Benchmark of the capture reader (a script, not a test).

Writes a 1,000,000-packet Ethernet capture (fixed seed) with 1% UDP port 434
packets among realistic TCP/UDP background traffic, once as pcap and once as
pcapng, into a temporary directory.  Then times, best of 3 runs each:

- raw file read (1 MiB readinto loop: the floor),
- fmipdissect CaptureReader iteration (prefilter on, the default),
- dpkt.pcap.Reader / dpkt.pcapng.Reader iteration (records only),
- dpkt Reader iteration plus a full dpkt.ethernet.Ethernet parse per frame,

and prints packets per second side by side (best of the runs: the least disturbed
by other processes on a shared machine).

    .venv/bin/python bench/bench_reader.py [--packets N] [--runs R]
"""

from __future__ import annotations

import argparse
import os
import random
import struct
import sys
import tempfile
import time

import dpkt

from fmipdissect.spec import protocol
from fmipdissect.capture.reader import CaptureReader

SEED = 4988


def _checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def _ipv4(src: bytes, dst: bytes, proto: int, body: bytes, ident: int) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, 0x4000,
                         64, proto, 0, src, dst)
    header = header[:10] + struct.pack("!H", _checksum(header)) + header[12:]
    return header + body


def _ethernet(ip: bytes) -> bytes:
    frame = b"\x00\x11\x22\x33\x44\x55\x66\x77\x88\x99\xaa\xbb\x08\x00" + ip
    return frame + bytes(max(0, 60 - len(frame)))     # Ethernet minimum size


def make_frames(rng: random.Random, count: int) -> list[bytes]:
    """A pool of distinct frames; the capture draws from it."""
    pool = []
    # an FBU (RFC 4988 5.1) with an MN-PAR Authentication Extension
    fbu = (struct.pack("!BBH4s4s4sQ", 20, 0, 5, b"\x0a\0\0\x05", b"\x0a\0\0\x01",
                       b"\x0a\0\1\x01", 0x1234)
           + struct.pack("!BBHI", protocol.AUTH_EXT_TYPE, protocol.AUTH_SUBTYPE_MN_PAR,
                         20, 256) + bytes(16))
    for i in range(count):
        src = bytes([10, rng.randrange(256), rng.randrange(256), rng.randrange(1, 255)])
        dst = bytes([192, 168, rng.randrange(256), rng.randrange(1, 255)])
        kind = rng.random()
        if kind < 0.70:        # TCP: ACKs and full-size segments
            size = rng.choice((0, 0, 0, 1448, 1448, rng.randrange(1, 1448)))
            tcp = struct.pack("!HHIIBBHHH", rng.choice((443, 80, 22)),
                              rng.randrange(1024, 65536), i, 0, 0x50, 0x10,
                              65535, 0, 0) + bytes(size)
            pool.append(_ethernet(_ipv4(src, dst, 6, tcp, i & 0xFFFF)))
        else:                  # UDP: DNS, QUIC, NTP, syslog sized
            sport, size = rng.choice(((53, rng.randrange(40, 512)),
                                      (443, rng.randrange(40, 1350)),
                                      (123, 48), (514, rng.randrange(60, 300))))
            body = bytes(size)
            udp = struct.pack("!HHHH", sport, rng.randrange(1024, 65536),
                              8 + len(body), 0) + body
            pool.append(_ethernet(_ipv4(src, dst, 17, udp, i & 0xFFFF)))
    udp = struct.pack("!HHHH", 49152, protocol.MIP_UDP_PORT, 8 + len(fbu), 0) + fbu
    fmip = _ethernet(_ipv4(b"\x0a\0\0\x05", b"\x0a\0\0\x01", 17, udp, 7))
    return pool, fmip


def write_captures(directory: str, packets: int) -> tuple[str, str]:
    rng = random.Random(SEED)
    pool, fmip = make_frames(rng, 4096)
    pcap = os.path.join(directory, "bench.pcap")
    pcapng = os.path.join(directory, "bench.pcapng")
    record = struct.Struct("<IIII")
    epb = struct.Struct("<IIIIIII")
    t0 = 1_700_000_000
    with open(pcap, "wb") as f1, open(pcapng, "wb") as f2:
        f1.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1))
        shb = struct.pack("<IIIHHq", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1) + \
            struct.pack("<I", 28)
        idb = struct.pack("<IIHHI", 1, 20, 1, 0, 65535) + struct.pack("<I", 20)
        f2.write(shb + idb)
        out1, out2 = [], []
        for n in range(packets):
            frame = fmip if rng.random() < 0.01 else pool[rng.randrange(len(pool))]
            usec = n * 137
            sec, frac = t0 + usec // 1_000_000, usec % 1_000_000
            out1.append(record.pack(sec, frac, len(frame), len(frame)))
            out1.append(frame)
            ticks = sec * 1_000_000 + frac
            padded = (len(frame) + 3) & ~3
            blen = 32 + padded
            out2.append(epb.pack(6, blen, 0, ticks >> 32, ticks & 0xFFFFFFFF,
                                 len(frame), len(frame)))
            out2.append(frame + bytes(padded - len(frame)) + struct.pack("<I", blen))
            if len(out1) > 20000:
                f1.write(b"".join(out1))
                f2.write(b"".join(out2))
                out1.clear()
                out2.clear()
        f1.write(b"".join(out1))
        f2.write(b"".join(out2))
    return pcap, pcapng


def raw_read(path: str) -> int:
    buf = bytearray(1 << 20)
    with open(path, "rb", buffering=0) as f:
        while f.readinto(buf):
            pass
    return 0


def ours(path: str) -> int:
    n = 0
    with CaptureReader(path) as reader:
        for _ in reader:
            n += 1
    return n


def dpkt_records(path: str) -> int:
    n = 0
    with open(path, "rb") as f:
        reader = (dpkt.pcapng.Reader if path.endswith("ng") else dpkt.pcap.Reader)(f)
        for _ts, _buf in reader:
            n += 1
    return n


def dpkt_ethernet(path: str) -> int:
    n = 0
    with open(path, "rb") as f:
        reader = (dpkt.pcapng.Reader if path.endswith("ng") else dpkt.pcap.Reader)(f)
        for _ts, buf in reader:
            eth = dpkt.ethernet.Ethernet(buf)
            ip = eth.data
            if isinstance(ip, dpkt.ip.IP) and isinstance(ip.data, dpkt.udp.UDP) \
                    and protocol.MIP_UDP_PORT in (ip.data.sport, ip.data.dport):
                n += 1
    return n


def timed(func, path: str, runs: int) -> tuple[float, float]:
    """Best wall-clock and best CPU seconds of `runs` calls."""
    wall, cpu = [], []
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        func(path)
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return min(wall), min(cpu)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--packets", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--skip-dpkt", action="store_true",
                    help="time only the raw read and CaptureReader")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        pcap, pcapng = write_captures(tmp, args.packets)
        print(f"wrote {args.packets:,} packets (1% UDP {protocol.MIP_UDP_PORT}) "
              f"in {time.perf_counter() - start:.1f} s: pcap "
              f"{os.path.getsize(pcap) / 2**20:.0f} MiB, pcapng "
              f"{os.path.getsize(pcapng) / 2**20:.0f} MiB; best of {args.runs}")
        found = ours(pcap), ours(pcapng)
        print(f"CaptureReader found {found[0]:,} (pcap) / {found[1]:,} (pcapng) "
              f"datagrams")
        rows = [("raw file read (1 MiB readinto)", raw_read),
                ("fmipdissect CaptureReader", ours)]
        if not args.skip_dpkt:
            rows += [("dpkt Reader (records only)", dpkt_records),
                     ("dpkt Reader + Ethernet parse", dpkt_ethernet)]
        # wall clock is what a user sees; CPU time is steadier on a busy
        # machine (the process is single-threaded)
        print(f"{'packets/s':34} {'pcap wall':>12} {'pcap CPU':>12} "
              f"{'pcapng wall':>12} {'pcapng CPU':>12}")
        for name, func in rows:
            cells = []
            for path in (pcap, pcapng):
                wall, cpu = timed(func, path, args.runs)
                cells += [args.packets / wall, args.packets / cpu]
            print(f"{name:34} " + " ".join(f"{c:>12,.0f}" for c in cells))
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
