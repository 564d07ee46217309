"""fmip-lint --annotate: the findings as packet comments, read back with the
real tshark (no plugin: a stock Wireshark), frames, octets and time stamps
unchanged, the input never written."""

from __future__ import annotations

import hashlib
import json
import os
import struct
from pathlib import Path

import pytest

import lintcaps
from wireshark_common import require_tool
from fmipdissect.cli import lint_main
from fmipdissect.wireshark import tshark as T

pytestmark = pytest.mark.tshark

REPO = Path(__file__).resolve().parents[2]
# What must not change, per frame (frame.interface_id: a pcap has none).
FRAME_FIELDS = ["frame.number", "frame.time_epoch", "frame.len",
                "frame.cap_len", "frame.encap_type"]


def run(capsys, *argv):
    try:
        status = lint_main(list(argv))
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


def frames(capture, extra=()):
    """tshark's view of every frame: the fields above and the octets."""
    rows = T.fields(capture, FRAME_FIELDS + list(extra), lua=False)
    dump = T.run(capture, "-x", "-q", lua=False)
    return rows, dump


def comments(capture) -> dict[int, list[str]]:
    rows = T.fields(capture, ["frame.number", "frame.comment"], lua=False)
    return {int(r["frame.number"][0]): r["frame.comment"] for r in rows
            if r["frame.comment"]}


def expected_comments(capsys, capture, *options) -> dict[int, list[str]]:
    """The comments the JSON report implies, in report order."""
    doc = json.loads(run(capsys, "--format", "json", *options, capture)[1])
    want: dict[int, list[str]] = {}
    for f in doc["findings"]:
        want.setdefault(f["frame"], []).append(
            f"{f['rule']} {f['severity']} {f['name']}: {f['message']}"
            + (f" (RFC 4988 {f['section']})" if f["section"] not in ("", "-")
               else ""))
    return want


def digest(path) -> tuple:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest(), \
        os.stat(path).st_mtime_ns


def annotate_and_compare(capsys, capture, out, *options, same_iface=True):
    require_tool("tshark")
    before = digest(capture)
    status, _, err = run(capsys, "--annotate", str(out), *options,
                         str(capture))
    assert status in (0, 1), err
    assert digest(capture) == before                  # input never written
    want = expected_comments(capsys, str(capture), *options)
    assert comments(out) == want
    extra = ["frame.interface_id"] if same_iface else []
    assert frames(out, extra) == frames(capture, extra)
    return want


def test_samples_violations(capsys, tmp_path):
    """Every finding of the violations sample on its frame; the display
    filter of the README finds the frame."""
    out = tmp_path / "violations-annotated.pcapng"
    keys = str(REPO / "samples" / "keys.txt")
    want = annotate_and_compare(capsys, REPO / "samples" / "violations.pcap",
                                out, "--keys", keys, same_iface=False)
    assert len(want) > 20
    fm402 = sorted(n for n, cs in want.items()
                   if any(c.startswith("FM402 ") for c in cs))
    assert fm402
    rows = T.run(out, "-Y", 'frame.comment contains "FM402"', "-T", "fields",
                 "-e", "frame.number", lua=False).split()
    assert [int(n) for n in rows] == fm402


def test_late_findings_land_on_their_frame(capsys, tmp_path):
    """FM902 names an earlier frame after later frames' findings, and the
    end-of-capture infos come after every frame (two passes)."""
    packets = (lintcaps.CASES["FM902"][0] + [lintcaps.fbu(lifetime=11)]
               + lintcaps.predictive_flow())
    capture = lintcaps.write(tmp_path / "late.pcap", packets)
    want = annotate_and_compare(capsys, capture, tmp_path / "late.pcapng",
                                same_iface=False)
    rules = {c.split()[0] for cs in want.values() for c in cs}
    assert {"FM902", "FM101"} <= rules


@pytest.mark.parametrize("variant", ["ns-big-endian", "cooked", "raw"])
def test_pcap_variants(capsys, tmp_path, variant):
    from scapy.layers.inet import IP
    from scapy.layers.l2 import CookedLinux
    from scapy.utils import wrpcap
    packets = [lintcaps.fbu(lifetime=11, ident=1), lintcaps.fback(ident=1)] \
        + lintcaps.predictive_flow()
    for i, p in enumerate(packets):
        p.time = lintcaps.T0 + i + 0.123456789
    path = tmp_path / f"{variant}.pcap"
    if variant == "ns-big-endian":
        wrpcap(str(path), packets, nano=True, endianness=">")
    elif variant == "cooked":
        wrpcap(str(path), [CookedLinux(proto=0x0800) / p[IP]
                           for p in packets])
    else:
        wrpcap(str(path), [p[IP] for p in packets], linktype=101)
    want = annotate_and_compare(capsys, path, tmp_path / "out.pcapng",
                                same_iface=False)
    assert want


# --- a pcapng built block by block ----------------------------------------

def _opt(endian, code, value: bytes) -> bytes:
    return struct.pack(endian + "HH", code, len(value)) + value \
        + b"\0" * (-len(value) % 4)


def _block(endian, btype, body: bytes) -> bytes:
    total = 12 + len(body)
    return struct.pack(endian + "II", btype, total) + body \
        + struct.pack(endian + "I", total)


def _epb(endian, iface, stamp, data, origlen=None, options=b""):
    if options:
        options += b"\0\0\0\0"
    return _block(endian, 6, struct.pack(
        endian + "IIIII", iface, stamp >> 32, stamp & 0xFFFFFFFF, len(data),
        origlen or len(data)) + data + b"\0" * (-len(data) % 4) + options)


def build_pcapng(path, endian="<"):
    """Two sections; Ethernet with nanosecond stamps and raw IPv4 in the
    first; an existing comment, a clipped frame, a Simple Packet Block, an
    unsupported link type and a Name Resolution Block in the way."""
    from scapy.layers.inet import IP
    bom = struct.pack(endian + "I", 0x1A2B3C4D)
    shb = _block(endian, 0x0A0D0D0A, bom + struct.pack(endian + "HHq", 1, 0, -1)
                 + _opt(endian, 4, b"test") + b"\0\0\0\0")
    eth = _block(endian, 1, struct.pack(endian + "HHI", 1, 0, 0)
                 + _opt(endian, 9, b"\x09") + b"\0\0\0\0")
    raw = _block(endian, 1, struct.pack(endian + "HHI", 228, 0, 0))
    odd = _block(endian, 1, struct.pack(endian + "HHI", 147, 0, 0))
    nrb = _block(endian, 4, struct.pack(endian + "HH", 0, 0))
    t = int(lintcaps.T0) * 10**9 + 123456789
    bad = bytes(lintcaps.fbu(lifetime=11, ident=1))
    flow = [bytes(p) for p in lintcaps.predictive_flow()]
    blocks = [shb, eth, raw, odd,
              _epb(endian, 0, t, bad, options=_opt(endian, 1, b"kept")),
              nrb,
              _epb(endian, 1, t // 1000 + 1, bytes(lintcaps.fback(ident=1)[IP])),
              _epb(endian, 2, t // 1000 + 2, b"\x01\x02\x03"),
              _block(endian, 3, struct.pack(endian + "I", len(bad)) + bad
                     + b"\0" * (-len(bad) % 4)),
              _epb(endian, 0, t + 3, bad[:60], origlen=len(bad))]
    blocks.append(shb + eth)                     # a second section
    blocks += [_epb(endian, 0, t + 10 + i, p) for i, p in enumerate(flow)]
    Path(path).write_bytes(b"".join(blocks))
    return path


@pytest.mark.parametrize("endian", ["<", ">"])
def test_pcapng_blocks_kept(capsys, tmp_path, endian):
    capture = build_pcapng(tmp_path / "in.pcapng", endian)
    require_tool("tshark")
    before = comments(capture)
    assert before == {1: ["kept"]}
    out = tmp_path / "out.pcapng"
    status, _, err = run(capsys, "--annotate", str(out), str(capture))
    assert status == 1, err
    got = comments(out)
    want = expected_comments(capsys, str(capture))
    assert got[1][0] == "kept" and got[1][1:] == want.pop(1)
    assert {n: c for n, c in got.items() if n != 1} == want
    assert 4 in want and 5 in want          # the SPB and the clipped frame
    extra = ["frame.interface_id"]
    rows_out, dump_out = frames(out, extra)
    rows_in, dump_in = frames(capture, extra)
    assert dump_out == dump_in
    for n, (a, b) in enumerate(zip(rows_out, rows_in), 1):
        if n == 4:   # the SPB: now an EPB of interface 0, time stamp 0
            assert a["frame.len"] == b["frame.len"]
            continue
        assert a == b


# --- refusals --------------------------------------------------------------

def test_refuses_to_overwrite_the_input(capsys, tmp_path):
    capture = lintcaps.write(tmp_path / "in.pcap", lintcaps.CASES["FM101"][0])
    link = tmp_path / "link.pcap"
    link.symlink_to(capture)
    hard = tmp_path / "hard.pcap"
    os.link(capture, hard)
    before = digest(capture)
    for target in (capture, link, hard, tmp_path / "." / "in.pcap"):
        status, out, err = run(capsys, "--annotate", str(target),
                               str(capture))
        assert status == 2 and out == ""
        assert len(err.splitlines()) == 1 and "refusing" in err
    assert digest(capture) == before


@pytest.mark.parametrize("argv", [["A", "B"], ["-"], []])
def test_one_capture_file_only(capsys, tmp_path, argv):
    status, out, err = run(capsys, "--annotate", str(tmp_path / "o.pcapng"),
                           *argv)
    assert status == 2 and len(err.splitlines()) == 1
    assert not (tmp_path / "o.pcapng").exists()


def test_unreadable_capture_writes_nothing(capsys, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not a capture\n")
    out = tmp_path / "o.pcapng"
    status, _, err = run(capsys, "--annotate", str(out), str(text))
    assert status == 2 and len(err.splitlines()) == 1
    assert not out.exists() and os.listdir(tmp_path) == ["notes.txt"]


@pytest.mark.parametrize("codec", ["gzip", "xz", "zstd"])
def test_compressed_input(capsys, tmp_path, codec):
    """A compressed capture is annotated like its plain content."""
    import gzip
    import lzma
    import zstandard
    plain = REPO / "samples" / "violations.pcap"
    pack = {"gzip": gzip.compress, "xz": lzma.compress,
            "zstd": zstandard.ZstdCompressor().compress}[codec]
    packed = tmp_path / f"violations.pcap.{codec}"
    packed.write_bytes(pack(plain.read_bytes()))
    want, got = tmp_path / "plain.pcapng", tmp_path / "packed.pcapng"
    assert run(capsys, "--annotate", str(want), str(plain))[0] == 1
    assert run(capsys, "--annotate", str(got), str(packed))[0] == 1
    assert got.read_bytes() == want.read_bytes()


def test_cut_gzip_stream(capsys, tmp_path):
    """A gzip stream cut short: the frames read before the cut, with their
    comments; tshark reads the result."""
    import gzip
    require_tool("tshark")
    data = gzip.compress((REPO / "samples" / "violations.pcap").read_bytes())
    cut = tmp_path / "cut.pcap.gz"
    cut.write_bytes(data[:len(data) // 2])
    out = tmp_path / "cut.pcapng"
    status, _, err = run(capsys, "--annotate", str(out), str(cut))
    assert status == 1 and len(err.splitlines()) <= 1
    want = expected_comments(capsys, str(cut))
    assert comments(out) == {n: c for n, c in want.items()
                             if n <= len(T.fields(out, ["frame.number"],
                                                  lua=False))}
    assert 5 < len(T.fields(out, ["frame.number"], lua=False)) < 118


def test_section_of_another_version_left_out(capsys, tmp_path):
    """The reader skips a pcapng section of major version 9 (with a note)
    and numbers frames without it: so does the annotated copy, which tshark
    can then read (it refuses the input)."""
    require_tool("tshark")
    good = build_pcapng(tmp_path / "good.pcapng").read_bytes()
    odd = bytearray(good)
    odd[12:14] = struct.pack("<H", 9)               # first section: 9.0
    second = odd.index(bytes.fromhex("0a0d0d0a"), 4)
    capture = tmp_path / "two-versions.pcapng"
    capture.write_bytes(bytes(odd))
    out = tmp_path / "out.pcapng"
    status, _, err = run(capsys, "--annotate", str(out), str(capture))
    want = expected_comments(capsys, str(capture))
    tail = tmp_path / "tail.pcapng"
    tail.write_bytes(good[second:])
    rows = T.fields(out, ["frame.number"], lua=False)
    assert len(rows) == len(T.fields(tail, ["frame.number"], lua=False))
    assert comments(out) == {n: c for n, c in want.items()
                             if 0 < n <= len(rows)}
    assert frames(out) == frames(tail)
    # the note about the skipped section: a comment of the section header
    (note,) = want[0]
    assert note.startswith("FM901 ") and "version 9.0" in note
    import subprocess
    info = subprocess.run([require_tool("capinfos"), str(out)],
                          capture_output=True, text=True, check=True).stdout
    assert f"Capture comment:     {note}" in info


def test_unanswered_requests_are_annotated_on_the_request(capsys, tmp_path):
    """FM403, FM405 and FM407 of samples/violations.pcap sit on the FBU, HI
    and RtSolPr they are about, not on the capture's last frame; the other
    outputs say the same frame."""
    out = tmp_path / "requests.pcapng"
    want = annotate_and_compare(capsys, REPO / "samples" / "violations.pcap",
                                out, same_iface=False)
    on = {c.split()[0]: n for n, cs in want.items() for c in cs
          if c.split()[0] in ("FM403", "FM405", "FM407")}
    assert on == {"FM403": 73, "FM405": 75, "FM407": 77}
    sample = str(REPO / "samples" / "violations.pcap")
    _, text, _ = run(capsys, sample)
    assert "violations.pcap:73: info FM403 " in text
    _, github, _ = run(capsys, "--format", "github", sample)
    assert any(line.startswith("::notice") and "title=FM403" in line
               and "::frame 73: " in line for line in github.splitlines())
    _, sarif, _ = run(capsys, "--format", "sarif", sample)
    results = json.loads(sarif)["runs"][0]["results"]
    assert {r["ruleId"]: r["properties"]["frame"] for r in results
            if r["ruleId"] in on} == on
    from fmipdissect.analysis import CaptureHandovers
    records = {r.first_frame: r for r in CaptureHandovers(sample,
                                                          diagrams=100)}
    for rule, frame in on.items():     # counted and drawn on the request
        record = records[frame]
        assert record.findings["infos"] >= 1
        [step] = [s for s in record.steps if s.frame == frame]
        assert rule in [f[0] for f in step.findings]
