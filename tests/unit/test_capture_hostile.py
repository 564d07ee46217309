"""Captures built to stress the reader (issue: bounded under attack):
many pcapng interfaces, fragments in reverse order, fragmented background
traffic, pcapng sections of an unknown version, undefined interfaces.

Correctness at moderate sizes here; the growth with size is measured by
bench/stress.py (`make stress`), not by timed tests.
"""

from __future__ import annotations

import random
import struct

from fmipdissect.capture import fragments as F
from fmipdissect.capture.reader import CaptureReader
from fmipdissect.records import CaptureNote, Datagram

from test_capture import (FBU, T0, block, epb, ethernet, fbu_ip, fragments, idb,
                          ipv4, pcap, shb, udp, write)

PORT = 434


def read(path, prefilter=True):
    with CaptureReader(path, prefilter=prefilter) as reader:
        return list(reader), reader


def both(path):
    fast, reader = read(path, True)
    slow, _ = read(path, False)
    assert fast == slow
    return fast, reader


def shb_version(major: int, minor: int = 0, endian="<") -> bytes:
    return block(endian, 0x0A0D0D0A,
                 struct.pack(endian + "IHHq", 0x1A2B3C4D, major,
                                           minor, -1))


def test_many_interfaces(tmp_path):
    n = 20_000
    content = (shb() + b"".join(idb("<", 1) for _ in range(n))
               + epb("<", n - 1, T0 * 10**6, ethernet(fbu_ip()))
               + epb("<", 0, T0 * 10**6, ethernet(fbu_ip(ident=2))))
    items, reader = both(write(tmp_path, "ifaces.pcapng", content))
    assert [d.frame for d in items] == [1, 2] and reader.linktypes == {1}


def test_interfaces_of_several_link_types_keep_the_prefilter(tmp_path):
    content = shb() + b"".join(idb("<", lt) for lt in (1, 101) * 500) \
        + epb("<", 999, 0, fbu_ip()) + epb("<", 998, 0, ethernet(fbu_ip()))
    items, _ = both(write(tmp_path, "mixed.pcapng", content))
    assert [d.frame for d in items] == [1, 2]


def test_reversed_fragments_reassemble(tmp_path):
    body = udp(49152, PORT, FBU + bytes(8 * 2000))
    parts = fragments(body, [8] * (len(body) // 8 - 1) + [0], ident=77)
    assert len(parts) > 2000
    recs = [(T0, ethernet(p)) for p in reversed(parts)]
    items, _ = both(write(tmp_path, "rev.pcap", pcap(recs)))
    (d,) = items
    assert d.payload == FBU + bytes(8 * 2000)
    assert d.fragments == tuple(range(1, len(parts) + 1))


def test_fragment_coverage_intervals():
    entry = F.FragmentSet(0.0)
    rng = random.Random(4)
    spans = [(i * 8, i * 8 + 8) for i in range(200)]
    rng.shuffle(spans)
    for lo, hi in spans[:-1]:
        entry.cover(lo, hi)
    assert len(entry.starts) > 1
    entry.total = 1600
    assert not entry.complete()
    entry.cover(*spans[-1])
    assert entry.starts == [0] and entry.ends == [1600] and entry.complete()
    entry.cover(8, 16)                        # overlaps change nothing
    assert entry.starts == [0] and entry.ends == [1600]


def _background_fragments(n: int, start_ident: int = 1000):
    """n fragmented DNS-like datagrams, three fragments each, in order."""
    out = []
    for i in range(n):
        out += fragments(udp(53, 5353, bytes(40)), [16, 16, 0],
                         ident=start_ident + i, src=f"10.8.{i % 250}.1")
    return out


def test_fragmented_background_never_reaches_the_full_parser(tmp_path, monkeypatch):
    fmip = fragments(udp(49152, PORT, FBU), [16, 0], ident=7)
    frames = _background_fragments(300) + fmip + _background_fragments(50, 5000)
    path = write(tmp_path, "fragbg.pcap", pcap([(T0, ethernet(f)) for f in frames]))
    items, _ = both(path)
    (d,) = items
    assert d.payload == FBU and d.fragments == (901, 902)
    calls = []
    parse = CaptureReader.__init__

    def counting(self, *a, **kw):
        parse(self, *a, **kw)
        inner = self.parser.parse
        self.parser.parse = lambda *p: calls.append(p[0]) or inner(*p)
    monkeypatch.setattr(CaptureReader, "__init__", counting)
    items, _ = read(path)
    assert [x.frame for x in items] == [902]
    assert calls == [901, 902]                # only the FMIPv4 fragments


def test_later_fragments_before_their_first_stay_until_it_shows(tmp_path):
    """Fragments seen before their first fragment are kept (they may be
    FMIPv4); once the first shows other ports, the set goes silently."""
    dns = fragments(udp(53, 53, bytes(40)), [16, 16, 0], ident=3)
    fmip = fragments(udp(49152, PORT, FBU), [16, 0], ident=4)
    order = [dns[2], dns[1], fmip[1], dns[0], fmip[0]]
    items, _ = both(write(tmp_path, "early.pcap", pcap([(T0, ethernet(f)) for f in order])))
    assert [(type(x).__name__, x.frame) for x in items] == [("Datagram", 5)]


def test_rejected_keys_are_bounded():
    table = F.Reassembler()
    for i in range(F.REJECTED_MAX + 100):
        table.reject((i & 0xFFFF, 17, i.to_bytes(8, "big")))
    assert len(table.rejected) == F.REJECTED_MAX


def test_unknown_pcapng_version_section_skipped(tmp_path):
    content = (shb() + idb() + epb("<", 0, T0 * 10**6, ethernet(fbu_ip(ident=1)))
               + shb_version(9) + idb() + epb("<", 0, 0, ethernet(fbu_ip(ident=2)))
               + block("<", 0x1234, b"whatever a version 9 holds")
               + shb() + idb("<", 101)
               + epb("<", 0, (T0 + 5) * 10**6, fbu_ip(ident=3)))
    items, reader = both(write(tmp_path, "v9.pcapng", content))
    got = [(type(x).__name__, x.frame) for x in items]
    assert got == [("Datagram", 1), ("CaptureNote", 1), ("Datagram", 2)]
    note = items[1]
    assert note.rule == "FM901" and "version 9.0" in note.message
    assert "resumes at the next section" in note.message
    assert items[2].time == T0 + 5 and reader.frames == 2


def test_undefined_interface_does_not_stop_reading(tmp_path):
    content = (shb() + idb() + epb("<", 0, 0, ethernet(fbu_ip(ident=1)))
               + epb("<", 5, 0, ethernet(fbu_ip(ident=2)))
               + epb("<", 5, 0, ethernet(fbu_ip(ident=3)))
               + epb("<", 0, 0, ethernet(fbu_ip(ident=4))))
    items, reader = both(write(tmp_path, "undef.pcapng", content))
    got = [(type(x).__name__, x.frame) for x in items]
    assert got == [("Datagram", 1), ("CaptureNote", 2), ("Datagram", 4)]
    assert "undefined interface 5" in items[1].message
    assert reader.frames == 4


def test_tunnelled_fragments(tmp_path):
    """Fragments of an FMIPv4 datagram inside GRE are reassembled; fragments
    of background traffic inside GRE are dropped by the prefilter."""
    gre = b"\x00\x00\x08\x00"

    def tunnel(inner):
        return ethernet(ipv4(47, gre + inner, src="192.0.2.1", dst="192.0.2.2"))
    fmip = fragments(udp(49152, PORT, FBU), [16, 0], ident=9)
    frames = [tunnel(p) for p in _background_fragments(20) + fmip]
    items, _ = both(write(tmp_path, "gref.pcap", pcap([(T0, f) for f in frames])))
    (d,) = [x for x in items if isinstance(x, Datagram)]
    assert d.payload == FBU and d.encapsulation == "eth/ip/gre/ip/udp"
    assert not [x for x in items if isinstance(x, CaptureNote)]
