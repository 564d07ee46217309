"""Hostile file names: no forged lines, no workflow commands, no formulas,
no crash on a name that is not UTF-8, whatever the command and format."""

from __future__ import annotations

import csv
import io
import os

import pytest

from iohelp import VIOLATIONS, copy, one_error_line, run

STRICT = {"PYTHONIOENCODING": "utf-8:strict", "LC_ALL": "C.UTF-8"}


def test_github_summary_cannot_stop_commands(tmp_path):
    """A capture named `::stop-commands::x` once switched off every later
    annotation: no line of the report may start with `::` but ours."""
    capture = copy(VIOLATIONS, tmp_path / "::stop-commands::x")
    forged = copy(VIOLATIONS, tmp_path / "::error title=forged::boom")
    result = run("lint", "--format", "github", capture.name, forged.name,
                 cwd=tmp_path)
    lines = result.stdout.decode().splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert commands and all(line.startswith(("::error file=",
                                             "::warning file=",
                                             "::notice file="))
                            for line in commands)
    assert not any("stop-commands" in line.split(",")[0] for line in lines
                   if line.startswith("::stop"))
    assert sum(line.startswith("fmip-lint: ") for line in lines) == 2


def test_csv_quotes_a_carriage_return_and_defuses_formulas(tmp_path):
    capture = copy(VIOLATIONS, tmp_path / "=HYPERLINK(1)\r+evil.pcap")
    result = run("handovers", "--format", "csv", capture.name,
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    text = result.stdout.decode()
    rows = list(csv.reader(io.StringIO(text)))
    assert len(rows) == text.count("\n")            # no row split
    width = len(rows[0])
    assert all(len(r) == width for r in rows)
    for row in rows[1:]:
        assert all(not cell.startswith(("=", "+", "-", "@")) for cell in row)
        assert row[0].startswith("'=HYPERLINK")


@pytest.mark.parametrize("argv", [["decode", "{cap}"],
                                  ["handovers", "{cap}", "{cap}"]])
def test_text_outputs_escape_control_characters(tmp_path, argv):
    name = "x\x1b]0;owned\x07\x1b[2J\nfmip.pcap"
    capture = copy(VIOLATIONS, tmp_path / name)
    result = run(*[a.format(cap=capture.name) for a in argv], cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert b"\x1b" not in result.stdout and b"\x07" not in result.stdout
    assert b"x\\x1b]0;owned\\x07\\x1b[2J\\nfmip.pcap" in result.stdout


NOT_UTF8 = os.fsdecode(b"caf\xe9.pcap")


@pytest.mark.parametrize("argv", [
    ["lint", "--format", "github", "{cap}"],
    ["lint", "--format", "github", "-o", "out.txt", "{cap}"],
    ["lint", "{cap}"],
    ["handovers", "--format", "csv", "{cap}"],
    ["handovers", "{cap}", "{cap}"],
    ["handovers", "--html", "r.html", "{cap}"],
    ["handovers", "--html", NOT_UTF8 + ".html", "{cap}"],
    ["decode", "{cap}"],
])
def test_a_name_that_is_not_utf8_never_crashes(tmp_path, argv):
    capture = copy(VIOLATIONS, tmp_path / NOT_UTF8)
    result = run(*[a.format(cap=capture.name) for a in argv], cwd=tmp_path,
                 extra_env=STRICT)
    err = result.stderr.decode("utf-8", "replace")
    assert result.returncode in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err
    shown = result.stdout
    for written in ("out.txt", "r.html", NOT_UTF8 + ".html"):
        if (tmp_path / written).exists():
            shown += (tmp_path / written).read_bytes()
    assert b"caf\\xe9.pcap" in shown
    shown.decode("utf-8")                       # valid UTF-8 throughout


def test_an_existing_report_survives_a_name_that_is_not_utf8(tmp_path):
    capture = copy(VIOLATIONS, tmp_path / NOT_UTF8)
    report = tmp_path / "r.html"
    report.write_text("old")
    result = run("handovers", "--html", "r.html", capture.name, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "caf\\xe9.pcap" in report.read_text(encoding="utf-8")


def test_closed_standard_input_is_one_line(tmp_path):
    import subprocess
    import sys
    from iohelp import command, env
    result = subprocess.run(command("lint", "-"), stdin=subprocess.DEVNULL,
                            capture_output=True, env=env(),
                            pass_fds=(), close_fds=True,
                            preexec_fn=lambda: os.close(0))
    assert result.returncode == 2
    assert "standard input is closed" in one_error_line(result)
