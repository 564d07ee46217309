"""`make stress`: hostile captures at growing sizes.

    .venv/bin/python bench/stress.py [--sizes 10000,100000,1000000]
                                     [--family NAME]... [--quick] [--list]

A script, not a test.  FAMILIES is the registry: each family is a row (a
name and a function writing a capture of size N), run as `fmip-lint
--format json` in a process of its own; the table shows, per size, wall
time, peak RSS, output size and the growth factor from the previous size,
then PASS / FAIL against the targets (peak RSS < 150 MB at the largest
size, output linear in the input, time growth per 10x input under 12x).

The reader's families are here; the checker's session families come from
bench/stress_session.py (its FAMILIES), which also does the measuring.

  interfaces      a pcapng file with N Interface Description Blocks, then
                  one packet on the last interface
  reversed-frags  one FBU cut into N 8-octet fragments, last one first
  fragmented-bg   N packets: fragmented DNS-like UDP (three fragments a
                  datagram) with a predictive handover among them
  gzip-bomb       N full-size background frames, gzip-compressed (about
                  1,000 to 1 compressed: the reader must stream it)
"""

from __future__ import annotations

import argparse
import os
import struct
import sys
import zlib
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stress_session as S  # noqa: E402  (the measuring and the session rows)

ETH = S.ETH
T0 = 1_700_000_000
MAX_FRAGMENTS = 8000           # 8-octet pieces of one datagram (13-bit offset)


def _ip(proto: int, body: bytes, ident: int = 1, frag: int = 0,
        src: bytes = b"\x0a\x00\x00\x05", dst: bytes = b"\x0a\x00\x00\x01") -> bytes:
    return struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(body), ident, frag,
                       64, proto, 0, src, dst) + body


def _udp(sport: int, dport: int, payload: bytes) -> bytes:
    return struct.pack("!HHHH", sport, dport, 8 + len(payload), 0) + payload


def _pcap(path: Path, frames, linktype: int = 1, compress=None) -> None:
    packer = compress() if compress else None
    with open(path, "wb", buffering=1 << 20) as f:
        def put(data: bytes) -> None:
            f.write(packer.compress(data) if packer else data)
        put(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 262144, linktype))
        chunk = []
        for i, frame in enumerate(frames):
            chunk.append(struct.pack("<IIII", T0 + i // 1000, i % 1000 * 1000,
                                     len(frame), len(frame)) + frame)
            if len(chunk) >= 4096:
                put(b"".join(chunk))
                chunk.clear()
        put(b"".join(chunk))
        if packer:
            f.write(packer.flush())


def _fbu() -> bytes:
    return S.fbu_template()


# --- the reader's families ----------------------------------------------------

def build_interfaces(path: Path, n: int) -> None:
    block = lambda btype, body: struct.pack("<II", btype, 12 + len(body)) \
        + body + struct.pack("<I", 12 + len(body))            # noqa: E731
    frame = ETH + _ip(17, _udp(434, 434, _fbu()))
    frame += bytes(-len(frame) % 4)
    with open(path, "wb", buffering=1 << 20) as f:
        f.write(block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)))
        idb = block(1, struct.pack("<HHI", 1, 0, 65535))
        for _ in range(n):
            f.write(idb)
        f.write(block(6, struct.pack("<IIIII", n - 1, 0, 0, len(frame),
                                     len(frame)) + frame))


def _padding(size: int) -> bytes:
    """Skippable Mobile IPv4 extensions (type 200, RFC 5944 1.9) filling
    size octets: a long FBU that breaks no rule per extension."""
    out = b""
    while size - len(out) >= 2:
        length = min(255, size - len(out) - 2)
        out += bytes([200, length]) + bytes(length)
    return out + bytes(size - len(out))


def build_reversed_fragments(path: Path, n: int) -> None:
    """FBUs of MAX_FRAGMENTS fragments each (one when n is smaller), every
    datagram's fragments last one first."""
    per = min(n, MAX_FRAGMENTS)

    def frames():
        for ident in range(max(1, n // per)):
            body = _udp(49152, 434, _fbu() + _padding(8 * per - 8 - len(_fbu())))
            count = len(body) // 8
            for i in reversed(range(count)):
                last = i == count - 1
                part = body[i * 8:] if last else body[i * 8:i * 8 + 8]
                yield ETH + _ip(17, part, ident=ident,
                                frag=(0 if last else 0x2000) | i)
    _pcap(path, frames())


def build_fragmented_background(path: Path, n: int) -> None:
    def frames():
        fbu = _udp(49152, 434, _fbu())
        for i in range(n // 3):
            ident = i & 0xFFFF
            src = bytes([10, 8, i >> 8 & 0xFF, i & 0xFF])
            body = _udp(53, 5353, bytes(40))
            yield ETH + _ip(17, body[:16], ident, 0x2000, src)
            yield ETH + _ip(17, body[16:32], ident, 0x2002, src)
            yield ETH + _ip(17, body[32:], ident, 0x0004, src)
            if i % 100 == 0:
                yield ETH + _ip(17, fbu, i & 0xFFFF)
    _pcap(path, frames())


def build_gzip_bomb(path: Path, n: int) -> None:
    frame = ETH + _ip(6, bytes(1480))
    _pcap(path, (frame for _ in range(n)),
          compress=lambda: zlib.compressobj(9, zlib.DEFLATED, 31))


def build_deep_tunnels(path: Path, n: int) -> None:
    """FBUs each inside IP-in-IP headers as deep as the walk follows, plus
    one frame deeper than that (a tunnel-too-deep note): time per frame
    grows with the depth, memory must not."""
    fbu = _ip(17, _udp(434, 434, _fbu()))
    deep = fbu
    for _ in range(200):
        deep = _ip(4, deep)
    deeper = deep
    for _ in range(100):
        deeper = _ip(4, deeper)
    _pcap(path, (ETH + (deeper if i == 0 else deep) for i in range(n)))


def build_custom_blocks(path: Path, n: int) -> None:
    """A pcapng of n Custom Blocks (each a Wireshark frame number) with an
    FBU every 100th: frame counting and the block walk at size."""
    custom = struct.pack("<II", 0x00000BAD, 20) + struct.pack("<I", 32473) \
        + b"abcd" + struct.pack("<I", 20)
    fbu = ETH + _ip(17, _udp(434, 434, _fbu()))
    pad = bytes(-len(fbu) % 4)
    epb = struct.pack("<IIIIIII", 6, 32 + len(fbu) + len(pad), 0, 0, 0,
                      len(fbu), len(fbu)) + fbu + pad \
        + struct.pack("<I", 32 + len(fbu) + len(pad))
    shb = struct.pack("<IIIHHqI", 0x0A0D0D0A, 28, 0x1A2B3C4D, 1, 0, -1, 28)
    idb = struct.pack("<IIHHII", 1, 20, 1, 0, 65535, 20)
    with open(path, "wb") as f:
        f.write(shb + idb)
        for i in range(n):
            f.write(epb if i % 100 == 0 else custom)


FAMILIES = {f.name: f for f in (
    S.Family("interfaces", build_interfaces, unit="interfaces"),
    S.Family("reversed-frags", build_reversed_fragments, unit="fragments"),
    S.Family("fragmented-bg", build_fragmented_background, unit="packets"),
    S.Family("gzip-bomb", build_gzip_bomb, unit="packets"),
    S.Family("deep-tunnels", build_deep_tunnels, unit="packets"),
    S.Family("custom-blocks", build_custom_blocks, unit="blocks"),
)}
READER_FAMILIES = list(FAMILIES)
FAMILIES.update(S.FAMILIES)      # the checker's session families


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    S.add_size_arguments(ap, FAMILIES)
    ap.add_argument("--list", action="store_true", help="list the families")
    args = ap.parse_args(argv)
    if args.list:
        for name, family in FAMILIES.items():
            print(f"{name:<16} N = {family.unit}")
        return 0
    sizes, names = S.sizes_and_names(args, FAMILIES)
    mine = Path(__file__).stat().st_mtime
    for name in READER_FAMILIES:          # captures of an older builder
        for old in S.CACHE.glob(f"{name}-*"):
            if old.stat().st_mtime < mine:
                old.unlink()
    print(f"stress (bench/stress.py), sizes {', '.join(f'{s:,}' for s in sizes)}"
          f"; fmip-lint --format json; {os.cpu_count()} cores, load "
          f"{os.getloadavg()[0]:.2f}")
    return S.run_families(FAMILIES, names, sizes)


if __name__ == "__main__":
    sys.exit(main())
