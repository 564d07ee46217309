"""Live input (a pipe or terminal): each record is checked as soon as it
has arrived, a finding is printed within a second, Ctrl-C keeps what was
found; and the Python API on file objects that fail."""

from __future__ import annotations

import os
import select
import signal
import subprocess
import time

import pytest

import fmipdissect
from fmipdissect.errors import InputError
from iohelp import VIOLATIONS, command, env

DATA = VIOLATIONS.read_bytes()
HEAD = 2000          # the pcap header and the first few records


def read_line_within(stream, seconds: float) -> bytes:
    """A line of `stream` if one comes within `seconds`, else b""."""
    ready, _, _ = select.select([stream], [], [], seconds)
    return stream.readline() if ready else b""


def start(*argv):
    return subprocess.Popen(command(*argv), stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env())


@pytest.mark.parametrize("fmt", ["text", "github"])
def test_a_finding_is_printed_while_the_pipe_stays_open(fmt):
    """`tcpdump -w - | fmip-lint -`: 2,000 octets, then nothing more for a
    while: the first frame's finding must show within a second (it once
    waited for 1 MiB or the end of input)."""
    proc = start("lint", "--format", fmt, "-")
    try:
        proc.stdin.write(DATA[:HEAD])
        proc.stdin.flush()
        time.sleep(0.5)                       # start-up
        line = read_line_within(proc.stdout, 2.0)
        assert b"FM101" in line
    finally:
        proc.kill()
        proc.communicate()


def test_ctrl_c_prints_what_was_found_so_far_and_exits_130():
    proc = start("lint", "--format", "json", "-")
    proc.stdin.write(DATA[:HEAD])
    proc.stdin.flush()
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130, err
    import json
    report = json.loads(out)                   # a complete document
    assert report["findings"][0]["rule"] == "FM101"
    assert b"interrupted" in err and b"Traceback" not in err


def test_ctrl_c_on_text_prints_the_summary():
    proc = start("lint", "-")
    proc.stdin.write(DATA[:HEAD])
    proc.stdin.flush()
    assert b"FM101" in read_line_within(proc.stdout, 3.0)
    os.kill(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=15)
    assert proc.returncode == 130
    assert out.splitlines()[-1].startswith(b"-: ")     # the summary line


# -- the Python API on file objects that fail (docs/api.md) ---------------

class Failing:
    """read() gives `good` octets of the capture, then raises."""

    def __init__(self, data: bytes, good: int):
        self.data, self.good, self.pos = data, good, 0

    def read(self, n=-1):
        if self.pos >= self.good:
            raise OSError(5, "Input/output error")
        chunk = self.data[self.pos:min(self.good, self.pos + n)]
        self.pos += len(chunk)
        return chunk


class TooMuch:
    """read(n) returns more than n octets once past the first 3,000."""

    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def read(self, n=-1):
        start = self.pos
        if start >= 3000:
            return bytes(n + 10)
        self.pos = min(start + n, 3000)
        return self.data[start:self.pos]


def test_a_read_that_fails_mid_stream_keeps_the_findings_so_far():
    expected = fmipdissect.check(DATA[:4000])
    got = fmipdissect.check(Failing(DATA, 4000))
    rules = [f.rule for f in got]
    assert "FM101" in rules
    assert [f.rule for f in got if f.rule != "FM901"][:5] == \
        [f.rule for f in expected if f.rule != "FM901"][:5]
    assert any("reading failed" in f.message for f in got)


def test_a_read_that_returns_too_much_is_a_note_not_a_crash():
    got = fmipdissect.check(TooMuch(DATA))
    assert any("returned" in f.message for f in got)


def test_a_closed_file_object_is_an_input_error():
    f = open(VIOLATIONS, "rb")
    f.close()
    with pytest.raises(InputError, match="closed"):
        fmipdissect.check(f)
