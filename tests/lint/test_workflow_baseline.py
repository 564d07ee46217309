"""fmip-lint --write-baseline / --baseline (lint/baseline.py) and folders
as CAPTURE arguments (walk.py)."""

from __future__ import annotations

import bz2
import gzip
import json
import os

import pytest

import lintcaps
from fmipdissect.lint.baseline import message_key
from test_lint_cli import run          # lint_main in-process
from test_workflow_config import error_flow


def test_frame_numbers_leave_the_identity():
    assert message_key("HAck Code 128 answers the HI of frame 12, not the "
                       "FBU of frame 3") == \
        "HAck Code 128 answers the HI of frame #, not the FBU of frame #"
    assert message_key("datagram 10.0.0.1 -> 10.0.0.2 id 0x0001 (frames 3, "
                       "4 and 2 more) not reassembled") == \
        "datagram 10.0.0.1 -> 10.0.0.2 id 0x0001 (frames #) not reassembled"
    assert message_key("Lifetime 11 s exceeds 10 s") == \
        "Lifetime 11 s exceeds 10 s"


def test_a_baseline_hides_known_findings_even_when_packets_move(
        tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    lintcaps.write(tmp_path / "bed.pcap", error_flow())
    status, out, err = run(capsys, "--write-baseline", "known.json",
                           "bed.pcap")
    assert status == 0                       # the baseline is written: 0
    assert "2 findings recorded in known.json" in err
    rows = json.loads((tmp_path / "known.json").read_text())["findings"]
    assert [(r["file"], r["rule"], r["count"]) for r in rows] == \
        [("bed.pcap", "FM101", 1), ("bed.pcap", "FM102", 1)]
    # unrelated packets first, the same flow, then a new violation: only
    # the new one is reported, counted and fails the run
    extra = lintcaps.raw_udp(lintcaps.MN, lintcaps.PAR, b"x", 9, 9)
    third = lintcaps.IDENT + 2
    lintcaps.write(tmp_path / "bed.pcap", [extra, extra] + error_flow() + [
        lintcaps.fbu(lifetime=12, ident=third), lintcaps.fback(ident=third)])
    status, out, _ = run(capsys, "--baseline", "known.json", "--format",
                         "json", "bed.pcap")
    report = json.loads(out)
    assert [(f["rule"], f["frame"]) for f in report["findings"]] == \
        [("FM101", 7)]
    assert report["summary"]["errors"] == 1 and status == 1
    assert report["summary"]["warnings"] == 0
    # from another folder, through a relative path: the same identities
    os.mkdir(tmp_path / "sub")
    monkeypatch.chdir(tmp_path / "sub")
    status, out, _ = run(capsys, "--baseline", "../known.json", "--format",
                         "json", "../bed.pcap")
    assert [f["frame"] for f in json.loads(out)["findings"]] == [7]


@pytest.mark.parametrize("content, words", [
    ("{", "not JSON"), ('{"findings": []}', "not an fmip-lint baseline"),
    ('{"fmip-lint-baseline": 1, "findings": [{"rule": "FM101"}]}',
     "a finding without file"),
])
def test_a_bad_baseline_is_one_line_and_status_2(tmp_path, capsys, content,
                                                  words):
    (tmp_path / "b.json").write_text(content)
    capture = lintcaps.write(tmp_path / "c.pcap", error_flow())
    status, out, err = run(capsys, "--baseline", str(tmp_path / "b.json"),
                           str(capture))
    assert status == 2 and out == "" and words in err
    assert len(err.splitlines()) == 1


def _tree(root):
    """Captures recognised by content whatever their names, others not."""
    flow = lintcaps.write(root / "a.pcap", error_flow()).read_bytes()
    (root / "b").mkdir()
    (root / "b" / "trace.bin").write_bytes(flow)              # by content
    (root / "b" / "z.gz").write_bytes(gzip.compress(flow))
    (root / "b" / "old").mkdir()
    (root / "b" / "old" / "c.pcap").write_bytes(bz2.compress(flow))
    (root / "b" / "notes.pcap").write_text("not a capture\n")  # by content
    (root / "b" / "text.gz").write_bytes(gzip.compress(b"hello"))


def test_a_folder_is_walked_in_a_stable_order(tmp_path, monkeypatch, capsys):
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    status, out, _ = run(capsys, "--format", "json", ".")
    files = list(dict.fromkeys(f["file"] for f in json.loads(out)[
        "findings"]))
    # a folder's files (sorted), then its folders (sorted)
    assert files == ["./a.pcap", "./b/trace.bin", "./b/z.gz",
                     "./b/old/c.pcap"]
    assert status == 1
    status, out, _ = run(capsys, "--format", "json", "--exclude", "old,*.gz",
                         "b")
    assert list(dict.fromkeys(f["file"] for f in json.loads(out)[
        "findings"])) == ["b/trace.bin"]
    (tmp_path / "fmip-lint.toml").write_text('exclude = ["trace.*"]\n')
    status, out, _ = run(capsys, "--format", "json", "b")
    assert list(dict.fromkeys(f["file"] for f in json.loads(out)[
        "findings"])) == ["b/z.gz", "b/old/c.pcap"]


def test_a_folder_without_captures_is_an_error(tmp_path, capsys):
    (tmp_path / "x.txt").write_text("no\n")
    status, out, err = run(capsys, str(tmp_path))
    assert status == 2 and "no pcap or pcapng capture in this folder" in err
