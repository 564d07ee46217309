"""fmip-lint's command line: output formats, options, exit status, bad input."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import lintcaps
from fmipdissect.cli import lint_main, main
from fmipdissect.spec.rules import RULES, RULES_BY_ID

FMIP_LINT = str(Path(sys.executable).with_name("fmip-lint"))
LINE = re.compile(r"^(?P<file>.+):(?P<frame>\d+): (?P<sev>error|warning|info) "
                  r"(?P<rule>FM\d{3}) (?P<name>[a-z0-9-]+): (?P<msg>.+)$")
SUMMARY = re.compile(r"^(?P<file>.+): (?P<packets>[\d,]+) packets?, "
                     r"(?P<messages>[\d,]+) FMIPv4 messages?: (?P<e>\d+) "
                     r"errors?, (?P<w>\d+) warnings?, (?P<i>\d+) infos?$")


def run(capsys, *argv):
    """lint_main in-process: (status, stdout, stderr)."""
    try:
        status = lint_main(list(argv))
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    return status, out, err


@pytest.fixture
def caps(tmp_path):
    """Captures: clean flow, one error (FM101), truncated error flow."""
    d = {}
    d["clean"] = lintcaps.write(tmp_path / "clean.pcap",
                                lintcaps.predictive_flow())
    d["error"] = lintcaps.write(tmp_path / "error.pcap",
                                lintcaps.CASES["FM101"][0])
    d["warning"] = lintcaps.write(tmp_path / "warning.pcap",
                                  lintcaps.CASES["FM203"][0])
    return {k: str(v) for k, v in d.items()}


def test_text_output_like_a_compiler(capsys, caps):
    status, out, err = run(capsys, caps["error"])
    assert status == 1 and err == ""
    lines = out.splitlines()
    m = LINE.match(lines[0])
    assert m, lines[0]
    assert (m["file"], m["frame"], m["sev"], m["rule"], m["name"]) == (
        caps["error"], "1", "error", "FM101", "fbu-lifetime-over-limit")
    assert m["msg"] == "Lifetime 11 s exceeds 10 s (RFC 4988 5.1)"
    s = SUMMARY.match(lines[-1])
    assert s, lines[-1]
    assert (s["packets"], s["messages"], s["e"], s["w"], s["i"]) == (
        "2", "2", "1", "0", "0")
    assert "\033[" not in out     # not a terminal: no colour


def test_exit_status_per_severity(capsys, caps):
    assert run(capsys, caps["clean"])[0] == 0      # infos only
    assert run(capsys, caps["warning"])[0] == 0    # warnings only
    assert run(capsys, caps["error"])[0] == 1
    assert run(capsys, caps["clean"], caps["error"])[0] == 1


def test_json_shape(capsys, caps):
    status, out, _ = run(capsys, "--format", "json", caps["error"],
                         caps["clean"])
    assert status == 1
    doc = json.loads(out)
    assert set(doc) >= {"findings", "summary"}
    for f in doc["findings"]:
        assert set(f) >= {"file", "frame", "time", "rule", "name", "severity",
                          "section", "message"}
        assert isinstance(f["frame"], int) and f["frame"] >= 1
        assert isinstance(f["time"], float)
        r = RULES_BY_ID[f["rule"]]
        assert (f["name"], f["severity"], f["section"]) == (
            r.name, r.severity, r.section)
    s = doc["summary"]
    assert set(s) >= {"files", "packets", "messages", "errors", "warnings",
                      "infos"}
    assert (s["files"], s["packets"], s["messages"]) == (2, 9, 9)
    assert (s["errors"], s["warnings"], s["infos"]) == (1, 0, 1)
    assert [f["file"] for f in doc["findings"]] == [caps["error"],
                                                    caps["clean"]]


def test_json_with_no_findings_is_valid(capsys, caps):
    status, out, _ = run(capsys, "--format", "json", "--select", "FM101",
                         caps["clean"])
    assert status == 0
    assert json.loads(out)["findings"] == []


@pytest.mark.parametrize("selector", ["FM101", "fbu-lifetime-over-limit",
                                      "FM1", "fm10", "FM101,"])
def test_select(capsys, caps, selector):
    status, out, _ = run(capsys, "--select", selector, caps["error"],
                         caps["clean"])
    rules = {LINE.match(l)["rule"] for l in out.splitlines() if LINE.match(l)}
    assert rules == {"FM101"} and status == 1


def test_ignore(capsys, caps):
    status, out, _ = run(capsys, "--ignore", "FM1", "--ignore",
                         "hi-hack-without-ipsec", caps["error"], caps["clean"])
    assert status == 0
    assert not [l for l in out.splitlines() if LINE.match(l)]


def test_unknown_selector_is_exit_2(capsys, caps):
    status, out, err = run(capsys, "--select", "FM999", caps["error"])
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and "FM999" in err


def test_statistics(capsys, caps):
    status, out, _ = run(capsys, "--statistics", caps["error"], caps["clean"])
    tail = out.splitlines()[-2:]
    assert re.match(r"^1\s+FM101\s+error\s+fbu-lifetime-over-limit$", tail[0])
    assert re.match(r"^1\s+FM418\s+info\s+hi-hack-without-ipsec$", tail[1])
    status, out, _ = run(capsys, "--statistics", "--format", "json",
                         caps["error"], caps["clean"])
    stats = json.loads(out)["statistics"]
    assert {(s["rule"], s["count"]) for s in stats} == {("FM101", 1),
                                                        ("FM418", 1)}


def test_list_rules(capsys):
    status, out, _ = run(capsys, "--list-rules")
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == len(RULES)
    for line, r in zip(lines, RULES):
        assert line.split()[:2] == [r.id, r.severity] and r.name in line
    status, out, _ = run(capsys, "--list-rules", "--format", "json")
    rules = json.loads(out)["rules"]
    assert [r["rule"] for r in rules] == [r.id for r in RULES]
    assert set(rules[0]) >= {"rule", "name", "severity", "section",
                             "summary", "why"}
    status, out, _ = run(capsys, "--list-rules", "--select", "FM4",
                         "--ignore", "FM418")
    assert [l.split()[0] for l in out.splitlines()] == [
        r.id for r in RULES if r.id.startswith("FM4") and r.id != "FM418"]


def test_parallel_jobs_give_the_same_report(capsys, caps):
    files = [caps["warning"], caps["error"], caps["clean"]]
    one = run(capsys, "--format", "json", *files)
    many = run(capsys, "-j", "3", "--format", "json", *files)
    assert one == many
    assert run(capsys, *files) == run(capsys, "-j", "2", *files)


def test_fmipdissect_lint_is_fmip_lint(capsys, caps):
    a = run(capsys, caps["error"])
    try:
        status = main(["lint", caps["error"]])
    except SystemExit as exc:
        status = exc.code
    out, err = capsys.readouterr()
    assert (status, out, err) == a


def test_colour_only_when_asked(caps):
    import io
    from fmipdissect.lint.engine import CaptureLint, LintConfig
    from fmipdissect.lint.report import TextReport
    buf = io.StringIO()
    report = TextReport(buf, colour=True)
    for f in CaptureLint(caps["error"], LintConfig()):
        report.finding(f)
    assert "\033[1;31merror\033[0m" in buf.getvalue()


def test_keys_option(capsys, caps, tmp_path):
    keys = tmp_path / "keys.txt"
    keys.write_text(lintcaps.keys_text())
    status, out, _ = run(capsys, "--keys", str(keys), caps["clean"])
    assert status == 0 and "FM501" not in out and "FM502" not in out
    keys.write_text(lintcaps.keys_text(key=b"wrong"))
    status, out, _ = run(capsys, "--keys", str(keys), caps["clean"])
    assert status == 1 and "FM501" in out


def test_lla_length_option(capsys, caps):
    assert run(capsys, "--lla-length", "6", caps["clean"])[0] == 0
    status, out, _ = run(capsys, "--lla-length", "8", caps["clean"])
    assert "FM304" in out


# --- bad input -------------------------------------------------------------

def _bad_inputs(tmp_path):
    empty = tmp_path / "empty.pcap"
    empty.write_bytes(b"")
    text = tmp_path / "notes.txt"
    text.write_text("this is not a capture\n")
    badkeys = tmp_path / "bad-keys.txt"
    badkeys.write_text("# keys\n256 00112233 hmac-md5\nnot-an-spi 0011\n")
    good = lintcaps.write(tmp_path / "ok.pcap", lintcaps.predictive_flow())
    return {
        "missing": [str(tmp_path / "nonexistent.pcap")],
        "empty": [str(empty)],
        "text": [str(text)],
        "directory": [str(tmp_path)],
        "bad-keys": ["--keys", str(badkeys), str(good)],
        "missing-keys": ["--keys", str(tmp_path / "nokeys"), str(good)],
        "bad-option": ["--bogus", str(good)],
        "bad-format": ["--format", "xml", str(good)],
        "bad-lla": ["--lla-length", "0", str(good)],
        "bad-jobs": ["-j", "0", str(good)],
        "no-file": [],
    }


@pytest.mark.parametrize("case", ["missing", "empty", "text", "directory",
                                  "bad-keys", "missing-keys", "bad-option",
                                  "bad-format", "bad-lla", "bad-jobs",
                                  "no-file"])
def test_bad_input_is_one_line_and_exit_2(capsys, tmp_path, case):
    argv = _bad_inputs(tmp_path)[case]
    status, out, err = run(capsys, *argv)
    assert status == 2
    assert len(err.splitlines()) == 1, err
    assert err.startswith("fmip-lint: error: ")
    assert "Traceback" not in err
    if case == "bad-keys":
        assert "bad-keys.txt:3:" in err


def test_bad_input_subprocess_has_no_traceback(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    p = subprocess.run([FMIP_LINT, str(text)], capture_output=True, text=True)
    assert p.returncode == 2 and p.stdout == ""
    assert len(p.stderr.splitlines()) == 1 and "Traceback" not in p.stderr


def test_one_bad_file_among_good_ones(capsys, caps, tmp_path):
    status, out, err = run(capsys, caps["clean"], str(tmp_path / "gone.pcap"),
                           caps["error"])
    assert status == 2
    assert len(err.splitlines()) == 1 and "gone.pcap" in err
    assert "FM101" in out     # the good files were still checked


def test_truncated_capture(capsys, tmp_path):
    path = lintcaps.write(tmp_path / "cut.pcap", [
        lintcaps.fbu(lifetime=11, ident=1), lintcaps.fback(ident=1)]
        + lintcaps.predictive_flow())
    data = path.read_bytes()
    path.write_bytes(data[:-7])
    status, out, err = run(capsys, "--format", "json", str(path))
    assert status == 1 and err == ""
    rules = [f["rule"] for f in json.loads(out)["findings"]]
    assert "FM101" in rules and "FM901" in rules
    # only a warning for the cut: exit 0 when nothing else is wrong
    clean = lintcaps.write(tmp_path / "cut2.pcap", lintcaps.predictive_flow())
    clean.write_bytes(clean.read_bytes()[:-7])
    status, out, err = run(capsys, str(clean))
    assert status == 0 and "FM901" in out and "Traceback" not in err


def test_input_is_never_written(capsys, caps, tmp_path):
    paths = [caps["clean"], caps["error"]]
    before = [(hashlib.sha256(Path(p).read_bytes()).hexdigest(),
               os.stat(p).st_mtime_ns) for p in paths]
    run(capsys, *paths)
    run(capsys, "-j", "2", "--format", "json", *paths)
    after = [(hashlib.sha256(Path(p).read_bytes()).hexdigest(),
              os.stat(p).st_mtime_ns) for p in paths]
    assert before == after


@pytest.mark.parametrize("fmt", ["pcapng", "raw", "cooked"])
def test_other_formats_and_link_types(capsys, tmp_path, fmt):
    """The whole pipeline on pcapng, raw IPv4 and Linux cooked captures."""
    from scapy.layers.inet import IP
    from scapy.layers.l2 import CookedLinux
    from scapy.utils import wrpcap, wrpcapng
    packets = [lintcaps.fbu(lifetime=11, ident=1), lintcaps.fback(ident=1)] \
        + lintcaps.predictive_flow()
    for i, p in enumerate(packets):
        p.time = lintcaps.T0 + i
    path = tmp_path / f"flow.{fmt}"
    if fmt == "pcapng":
        wrpcapng(str(path), packets)
    elif fmt == "raw":
        wrpcap(str(path), [p[IP] for p in packets], linktype=101)
    else:
        wrpcap(str(path), [CookedLinux(proto=0x0800) / p[IP]
                           for p in packets])
    status, out, _ = run(capsys, "--format", "json", str(path))
    doc = json.loads(out)
    assert status == 1
    assert doc["summary"]["messages"] == len(packets)
    assert {f["rule"] for f in doc["findings"]} == {"FM101", "FM418"}


def test_progress_bar_draws_and_clears():
    import io
    from fmipdissect.lint.report import Progress
    stream = io.StringIO()
    bar = Progress("big.pcap", stream, interval=0.0)
    bar(50, 100)
    assert "big.pcap [###############" in stream.getvalue()
    assert "50%" in stream.getvalue()
    bar.clear()
    assert stream.getvalue().endswith("\r\033[K")
    bar(100, 100)                 # finished: nothing more to erase
    assert stream.getvalue().count("\033[K") == 1


def test_no_progress_bar_when_stderr_is_not_a_terminal(tmp_path):
    path = lintcaps.write(tmp_path / "flow.pcap", lintcaps.predictive_flow())
    p = subprocess.run([FMIP_LINT, str(path)], capture_output=True, text=True)
    assert p.returncode == 0 and p.stderr == ""
