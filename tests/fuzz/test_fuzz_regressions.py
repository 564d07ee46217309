"""Replay every input a fuzzer ever broke something with (tests/regressions/).

tests/regressions/captures/*.pcap, *.pcapng: captures that made tshark with
lua/fmip.lua show a Lua error, or fmip-lint crash; each has a .txt beside it
saying how it was made and what failed.  They go through the same checks as
`make fuzz` (bench/fuzz.py): real tshark with the real dissector, the real
fmip-lint script, the checker in process.

tests/regressions/decoder/*.bin: messages that broke an invariant of the
fast decoder / checker (bench/fuzz.py exercise_message, atheris's target).

A last test proves the tshark check can fail: a dissector that raises a Lua
error is caught by it.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from test_fuzz_messages import FUZZ

REGRESSIONS = Path(__file__).resolve().parent / "regressions"
CAPTURES = sorted(p for p in (REGRESSIONS / "captures").glob("*")
                  if p.suffix in (".pcap", ".pcapng"))
DECODER_INPUTS = sorted((REGRESSIONS / "decoder").glob("*.bin"))


def require_tool(name: str) -> None:
    if shutil.which(name) is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI and is not installed")
        pytest.skip(f"{name} is not installed")


def test_regression_inputs_are_described():
    assert CAPTURES, "tests/regressions/captures/ is empty"
    for path in CAPTURES:
        note = path.with_name(path.name + ".txt")
        assert note.is_file(), f"{path.name} has no .txt saying what it is"
        assert "failure:" in note.read_text()


@pytest.mark.parametrize("path", CAPTURES, ids=lambda p: p.name)
def test_capture_regression_tshark(path):
    require_tool("tshark")
    assert FUZZ.check_tshark(path) is None


def test_capture_regressions_fmip_lint():
    """The real script over all of them at once, and each in process."""
    assert FUZZ.check_lint_batch(CAPTURES) is None
    for path in CAPTURES:
        assert FUZZ.check_lint_inprocess(path) is None, path.name


def test_decoder_regressions():
    """Every kept decoder input (none so far: atheris and the hypothesis
    tests found no decoder crash) passes the fuzz target's invariants."""
    for path in DECODER_INPUTS:
        FUZZ.exercise_message(path.read_bytes())


def test_tshark_check_catches_a_lua_error(tmp_path):
    """check_tshark reports a dissector that raises (the check can fail)."""
    require_tool("tshark")
    broken = tmp_path / "broken.lua"
    broken.write_text(
        'local p = Proto("fuzzbroken", "broken on purpose")\n'
        'function p.dissector(tvb, pinfo, tree) error("on purpose") end\n'
        'DissectorTable.get("udp.port"):add(434, p)\n')
    problem = FUZZ.check_tshark(REGRESSIONS / "captures"
                                / "cut-registration-request.pcap",
                                lua=broken)
    assert problem is not None and "Lua Error" in problem


def test_lint_check_catches_a_traceback(tmp_path):
    """check_lint_batch reports a program that dies with a traceback (the
    check can fail), and accepts the real script's status 2 on a file that
    is not a capture."""
    crashing = (sys.executable, "-c", "import sys; sys.argv[99]")
    problem = FUZZ.check_lint_batch([tmp_path], command=crashing)
    assert problem is not None and "traceback" in problem
    not_capture = tmp_path / "x.pcap"
    not_capture.write_bytes(b"not a capture")
    assert FUZZ.check_lint_batch([not_capture]) is None
    assert FUZZ.check_lint_inprocess(not_capture) is None
