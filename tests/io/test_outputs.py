"""The one output rule (fmipdissect/output.py) in every command: devices
and FIFOs written directly, regular files replaced only once complete,
never an input, a full disk as one line with the old file kept."""

from __future__ import annotations

import os
import stat
import subprocess
import threading

import pytest

from iohelp import PREDICTIVE, VIOLATIONS, copy, one_error_line, run


def _fifo_reader(path):
    """Read a FIFO in a thread: (thread, list that receives the octets)."""
    got = []

    def read():
        with open(path, "rb") as f:
            got.append(f.read())
    t = threading.Thread(target=read, daemon=True)
    t.start()
    return t, got


@pytest.mark.parametrize("option", ["-o", "--annotate"])
def test_a_fifo_is_written_not_replaced(tmp_path, option):
    capture = copy(VIOLATIONS, tmp_path / "v.pcap")
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    thread, got = _fifo_reader(fifo)
    result = run("lint", option, fifo, capture)
    thread.join(10)
    assert result.returncode == 1, result.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode)      # still a FIFO
    if option == "-o":
        assert b"FM101" in got[0]
    else:
        assert got[0][:4] == b"\x0a\x0d\x0d\x0a"     # a pcapng section


def test_a_character_device_is_written_not_replaced(tmp_path):
    """`fmip-lint -o /dev/null` as root once replaced /dev/null; a device
    node of our own (mknod, as root) stands in for it."""
    if os.geteuid() != 0:
        pytest.skip("mknod needs root")
    node = tmp_path / "null"
    os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    capture = copy(VIOLATIONS, tmp_path / "v.pcap")
    for argv in (["lint", "-o", node, capture],
                 ["lint", "--annotate", node, capture],
                 ["handovers", "--html", node, capture]):
        result = run(*argv)
        assert result.returncode in (0, 1), result.stderr
        assert stat.S_ISCHR(os.stat(node).st_mode), argv
    assert [p.name for p in tmp_path.iterdir()] == ["null", "v.pcap"] or \
        sorted(p.name for p in tmp_path.iterdir()) == ["null", "v.pcap"]


def test_html_refuses_a_hard_link_to_the_capture(tmp_path):
    capture = copy(VIOLATIONS, tmp_path / "v.pcap")
    link = tmp_path / "report.html"
    os.link(capture, link)
    before = capture.read_bytes()
    result = run("handovers", "--html", link, capture)
    assert result.returncode == 2
    assert "refusing" in one_error_line(result)
    assert capture.read_bytes() == before


@pytest.mark.parametrize("argv", [
    ["lint", "-o", "{dir}", "{cap}"],
    ["lint", "--annotate", "{dir}", "{cap}"],
    ["handovers", "--html", "{dir}", "{cap}"],
    ["handovers", "--html", "{dir}/missing/r.html", "{cap}"],
])
def test_a_folder_or_missing_folder_is_one_line_before_the_work(tmp_path,
                                                                argv):
    capture = copy(VIOLATIONS, tmp_path / "v.pcap")
    argv = [a.format(dir=tmp_path, cap=capture) for a in argv]
    result = run(*argv)
    assert result.returncode == 2
    one_error_line(result)
    assert result.stdout == b""          # checked before the work started


def test_a_read_only_folder_is_one_line(tmp_path):
    if os.geteuid() == 0:
        pytest.skip("root writes in a read-only folder")
    folder = tmp_path / "ro"
    folder.mkdir(mode=0o555)
    result = run("handovers", "--html", folder / "r.html", VIOLATIONS)
    assert result.returncode == 2 and result.stdout == b""
    one_error_line(result)


@pytest.mark.parametrize("argv", [
    ["lint", "-o", "{out}", "{cap}"],
    ["lint", "--format", "json", "-o", "{out}", "{cap}"],
    ["lint", "--annotate", "{out}", "{cap}"],
    ["handovers", "--html", "{out}", "{cap}"],
])
def test_a_full_disk_keeps_the_old_file_and_says_so_in_one_line(tmp_path,
                                                                 argv):
    """RLIMIT_FSIZE stands for a full disk: the write fails (EFBIG)."""
    capture = copy(VIOLATIONS, tmp_path / "v.pcap")
    out = tmp_path / "out"
    out.write_bytes(b"the old report\n")
    argv = [a.format(out=out, cap=capture) for a in argv]
    result = run(*argv, file_limit=2000)
    assert result.returncode == 2, result.stderr
    line = one_error_line(result)
    assert "cannot write" in line or "too large" in line.lower(), line
    assert out.read_bytes() == b"the old report\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "v.pcap"]


def test_a_full_tmpfs_keeps_the_old_report(tmp_path):
    """A real full file system: a 64 KiB tmpfs (as root)."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs",
                    str(disk)], check=True)
    try:
        report = disk / "report.html"
        report.write_bytes(b"old")
        (disk / "filler").write_bytes(b"x" * 60_000)
        result = run("handovers", "--html", report, VIOLATIONS, PREDICTIVE)
        assert result.returncode == 2
        assert "No space left" in one_error_line(result)
        assert report.read_bytes() == b"old"
        assert sorted(p.name for p in disk.iterdir()) == ["filler",
                                                          "report.html"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_annotate_refuses_a_pipe_as_input(tmp_path):
    """The capture is read twice: a pipe would give an empty copy."""
    out = tmp_path / "a.pcapng"
    with open(VIOLATIONS, "rb") as f:
        cat = subprocess.Popen(["cat"], stdin=f, stdout=subprocess.PIPE)
        result = run("lint", "--annotate", out, "/dev/stdin",
                     stdin=cat.stdout)
        cat.stdout.close()
        cat.wait()
    assert result.returncode == 2
    assert "pipe" in one_error_line(result)
    assert not out.exists()
