"""Where captures come from: standard input, file objects, bytes, and
gzip / bzip2 / xz / zstd compression recognised by content (capture/source.py,
capture/compressed.py); `gen -o -`.

Every capture is written here for real and read by the real reader and the
real commands; compression by the standard library and the zstandard
package, cut and corrupted at chosen places.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import pty
import subprocess
import sys
import zlib
from pathlib import Path

import pytest
import zstandard

from fmipdissect.capture.reader import CaptureError, CaptureReader
from fmipdissect.gen.generate import GenOptions, generate_file
from fmipdissect.records import CaptureNote, Datagram

BIN = Path(sys.executable).parent
FMIP_LINT = str(BIN / "fmip-lint")
FMIPDISSECT = str(BIN / "fmipdissect")

COMPRESSORS = {
    "gzip": gzip.compress,
    "bzip2": lambda data: bz2.compress(data, 1),    # 100 kB blocks
    "xz": lzma.compress,
    "zstd": lambda data: zstandard.ZstdCompressor().compress(data),
}


@pytest.fixture(scope="module")
def plain(tmp_path_factory):
    """A predictive handover among background traffic, pcap and pcapng."""
    d = tmp_path_factory.mktemp("input")
    out = {}
    for ext in ("pcap", "pcapng"):
        path = d / f"plain.{ext}"
        generate_file(GenOptions(scenario="predictive", packets=2000,
                                 background=0.9, seed=3), path)
        out[ext] = path
    return out


def read(source, **kw):
    with CaptureReader(source, **kw) as reader:
        items = list(reader)
    return items, reader


def notes(items):
    return [x for x in items if isinstance(x, CaptureNote)]


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
@pytest.mark.parametrize("ext", ["pcap", "pcapng"])
def test_compressed_captures_read_like_plain_ones(tmp_path, plain, codec, ext):
    content = plain[ext].read_bytes()
    packed = COMPRESSORS[codec](content)
    path = tmp_path / f"capture.{ext}.bin"        # the name says nothing
    path.write_bytes(packed)
    expected, plain_reader = read(str(plain[ext]))
    for prefilter in (True, False):
        items, reader = read(str(path), prefilter=prefilter)
        assert items == expected
        assert reader.compression == codec and reader.format == ext
        assert reader.frames == plain_reader.frames == 2000
        assert reader.bytes_read == len(packed) == reader.size


def test_gzip_members_and_zstd_frames_concatenated(tmp_path, plain):
    content = plain["pcap"].read_bytes()
    half = len(content) // 2
    expected, _ = read(str(plain["pcap"]))
    for packed in (gzip.compress(content[:half]) + gzip.compress(content[half:]),
                   zstandard.ZstdCompressor().compress(content[:half])
                   + zstandard.ZstdCompressor().compress(content[half:])):
        items, _ = read(packed)
        assert items == expected


def test_file_objects_and_bytes(plain):
    content = plain["pcapng"].read_bytes()
    expected, _ = read(str(plain["pcapng"]))
    with open(plain["pcapng"], "rb") as f:
        assert read(f)[0] == expected
        assert not f.closed                   # the caller's file stays open
    assert read(io.BytesIO(gzip.compress(content)))[0] == expected
    assert read(content)[0] == expected
    _, reader = read(content, name="lab.pcapng")
    assert reader.name == "lab.pcapng"
    with pytest.raises(CaptureError, match="not a binary file object"):
        CaptureReader(io.StringIO("text"))


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_cut_compressed_capture_keeps_what_was_read(tmp_path, plain, codec):
    content = plain["pcap"].read_bytes()
    packed = COMPRESSORS[codec](content)
    expected = [x for x in read(str(plain["pcap"]))[0] if isinstance(x, Datagram)]
    path = tmp_path / "cut.bin"
    path.write_bytes(packed[:len(packed) * 2 // 3])
    for prefilter in (True, False):
        items, reader = read(str(path), prefilter=prefilter)
        found = [x for x in items if isinstance(x, Datagram)]
        assert found and found == expected[:len(found)]
        assert len(found) < len(expected)
        (note,) = [n for n in notes(items) if n.rule == "FM901"]
        assert items[-1] is note
        assert f"{codec} stream cut or corrupt" in note.message
        assert reader.frames < 2000


@pytest.mark.parametrize("codec", sorted(COMPRESSORS))
def test_bad_compressed_inputs_are_one_line_errors(tmp_path, codec):
    html = COMPRESSORS[codec](b"<!DOCTYPE html><html>" + b"x" * 200)
    path = tmp_path / "page.bin"
    path.write_bytes(html)
    with pytest.raises(CaptureError) as info:
        CaptureReader(str(path))
    assert str(info.value) == (f"{path}: {codec}-compressed: not a pcap or "
                               f"pcapng file inside (starts with 3c 21 44 4f)")
    path.write_bytes(html[:8])                # cut before any content
    with pytest.raises(CaptureError) as info:
        CaptureReader(str(path))
    message = str(info.value)
    assert message.startswith(f"{path}: {codec}-compressed") and "\n" not in message
    path.write_bytes(COMPRESSORS[codec](b""))
    with pytest.raises(CaptureError, match="empty"):
        CaptureReader(str(path))


def test_commands_read_standard_input(plain):
    content = plain["pcap"].read_bytes()
    by_path = subprocess.run([FMIP_LINT, "--format", "json", str(plain["pcap"])],
                             capture_output=True, text=True)
    for data in (content, gzip.compress(content),
                 zstandard.ZstdCompressor().compress(content)):
        piped = subprocess.run([FMIP_LINT, "--format", "json", "-"], input=data,
                               capture_output=True)
        assert piped.returncode == by_path.returncode == 0, piped.stderr
        got, want = json.loads(piped.stdout), json.loads(by_path.stdout)
        assert got["summary"]["packets"] == 2000
        assert got["summary"]["messages"] == want["summary"]["messages"] > 0
        assert [f["file"] for f in got["findings"]] == ["-"] * len(got["findings"])
    decoded = subprocess.run([FMIPDISSECT, "decode", "-"], input=content,
                             capture_output=True)
    direct = subprocess.run([FMIPDISSECT, "decode", str(plain["pcap"])],
                            capture_output=True)
    assert decoded.returncode == 0, decoded.stderr
    assert decoded.stdout.replace(b" in -\n", b"") == direct.stdout.replace(
        b" in " + str(plain["pcap"]).encode() + b"\n", b"")
    # -j with "-" among the files: standard input is read here, not in a worker
    both = subprocess.run([FMIP_LINT, "-j", "2", "--format", "json", "-",
                           str(plain["pcapng"])], input=content, capture_output=True)
    assert both.returncode == 0, both.stderr
    files = [f["file"] for f in json.loads(both.stdout)["summary"]["by_file"]]
    assert files == ["-", str(plain["pcapng"])]


def test_bad_standard_input_is_a_one_line_error():
    for data, text in ((b"", "-: empty file"),
                       (gzip.compress(b"hello")[:12], "-: gzip-compressed")):
        proc = subprocess.run([FMIP_LINT, "-"], input=data, capture_output=True,
                              text=False)
        err = proc.stderr.decode()
        assert proc.returncode == 2 and text in err, err
        assert err.count("\n") == 1 and "Traceback" not in err


def test_gen_writes_standard_output(tmp_path):
    path = tmp_path / "file.pcap"
    args = ["gen", "predictive", "--handovers", "3", "--seed", "7"]
    subprocess.run([FMIPDISSECT, *args, "-o", str(path)], check=True)
    piped = subprocess.run([FMIPDISSECT, *args, "-o", "-"], capture_output=True)
    assert piped.returncode == 0 and piped.stdout == path.read_bytes()
    assert not (Path.cwd() / "-").exists()
    # gen | fmip-lint -
    lint = subprocess.run([FMIP_LINT, "-"], input=piped.stdout, capture_output=True)
    assert lint.returncode == 0, lint.stderr


def test_gen_refuses_a_terminal():
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([FMIPDISSECT, "gen", "predictive", "-o", "-"],
                              stdout=follower, stderr=subprocess.PIPE, text=True)
    finally:
        os.close(follower)
        os.close(leader)
    assert proc.returncode == 2
    assert proc.stderr.count("\n") == 1 and "terminal" in proc.stderr


def test_compression_bomb_is_read_in_bounded_memory(tmp_path):
    """256 MiB of frames in a 1 MiB gzip file: peak RSS stays small."""
    record = (b"\0" * 8 + (1514).to_bytes(4, "little") * 2
              + b"\x02" * 12 + b"\x08\x00" + b"\x45" + bytes(1499))
    header = bytes.fromhex("d4c3b2a1020004000000000000000000ffff000001000000")
    path = tmp_path / "bomb.pcap.gz"
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)     # gzip container
    with open(path, "wb") as f:
        f.write(packer.compress(header))
        block = record * 1000
        for _ in range(256 * 2**20 // len(block)):
            f.write(packer.compress(block))
        f.write(packer.flush())
    assert path.stat().st_size < 2 * 2**20
    # GNU time forks the command from a small C process: the peak RSS is
    # fmip-lint's own, not that of a fork of this (large) test process
    rss = tmp_path / "rss.txt"
    proc = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", str(rss),
                           FMIP_LINT, "--format", "json", str(path)],
                          capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["summary"]["packets"] > 170_000
    assert int(rss.read_text().split()[-1]) < 120 * 1024   # KiB: << 256 MiB


def test_zstd_frame_walker_finds_the_end_of_frames():
    """The walker behind a cut zstd stream's note: checksums, several
    frames, skippable frames, fed in pieces of any size."""
    from fmipdissect.capture.compressed import ZstdFrames
    data = os.urandom(3000) * 50
    stream = (zstandard.ZstdCompressor(write_checksum=True).compress(data)
              + (0x184D2A5E).to_bytes(4, "little") + (5).to_bytes(4, "little")
              + b"skip!" + zstandard.ZstdCompressor(level=1).compress(data[:100])
              + zstandard.ZstdCompressor().compress(b""))
    for step in (1, 7, 4096, len(stream)):
        walker = ZstdFrames()
        for at in range(0, len(stream), step):
            walker.feed(stream[at:at + step])
        assert walker.at_boundary()
    for cut in (3, 10, len(stream) // 2, len(stream) - 1):
        walker = ZstdFrames()
        walker.feed(stream[:cut])
        assert not walker.at_boundary(), cut
