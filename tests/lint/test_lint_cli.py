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
    (tmp_path / "no-captures").mkdir()     # a folder is walked: none here
    (tmp_path / "no-captures" / "notes.txt").write_text("no capture\n")
    return {
        "missing": [str(tmp_path / "nonexistent.pcap")],
        "empty": [str(empty)],
        "text": [str(text)],
        "directory": [str(tmp_path / "no-captures")],
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


# --- CI options -------------------------------------------------------------

def test_version(capsys):
    from fmipdissect import __version__
    status, out, err = run(capsys, "--version")
    from fmipdissect.capture import accel
    assert status == 0
    assert out.strip() == (f"fmip-lint {__version__} "
                           f"(record walk: {accel.describe()})")


@pytest.mark.parametrize("fail_on, statuses", [
    ("error", (0, 0, 1)), ("warning", (0, 1, 1)), ("info", (1, 1, 1))])
def test_fail_on(capsys, caps, fail_on, statuses):
    got = tuple(run(capsys, "--fail-on", fail_on, caps[k])[0]
                for k in ("clean", "warning", "error"))
    assert got == statuses


def test_exit_zero(capsys, caps, tmp_path):
    assert run(capsys, "--exit-zero", caps["error"])[0] == 0
    assert run(capsys, "--exit-zero", "--fail-on", "info", caps["clean"])[0] == 0
    # still 2 when the command could not do its job
    assert run(capsys, "--exit-zero", str(tmp_path / "gone.pcap"))[0] == 2


@pytest.mark.parametrize("fmt", ["text", "json", "sarif", "junit", "github"])
def test_output_file(capsys, caps, tmp_path, fmt):
    report = tmp_path / f"report.{fmt}"
    status, out, err = run(capsys, "--format", fmt, "-o", str(report),
                           caps["error"])
    assert status == 1 and out == "" and err == ""
    assert report.read_text() == run(capsys, "--format", fmt,
                                     caps["error"])[1]
    assert [p.name for p in tmp_path.iterdir()
            if p.name.startswith(".")] == []          # no temporary left


def test_output_file_is_replaced_only_at_the_end(capsys, caps, tmp_path):
    report = tmp_path / "report.txt"
    report.write_text("previous\n")
    os.chmod(report, 0o640)
    status, _, err = run(capsys, "-o", str(report), "--keys",
                         str(tmp_path / "nokeys"), caps["error"])
    assert status == 2 and report.read_text() == "previous\n"
    run(capsys, "-o", str(report), caps["error"])
    assert "FM101" in report.read_text()
    assert os.stat(report).st_mode & 0o777 == 0o640


def test_output_refuses_the_input_and_directories(capsys, caps, tmp_path):
    before = Path(caps["error"]).read_bytes()
    status, _, err = run(capsys, "-o", caps["error"], caps["error"])
    assert status == 2 and "refusing" in err and len(err.splitlines()) == 1
    assert Path(caps["error"]).read_bytes() == before
    status, _, err = run(capsys, "-o", str(tmp_path), caps["error"])
    assert status == 2 and "directory" in err
    status, _, err = run(capsys, "-o", str(tmp_path / "no" / "r.txt"),
                         caps["error"])
    assert status == 2 and len(err.splitlines()) == 1


def test_json_lists_failed_files(capsys, caps, tmp_path):
    gone = str(tmp_path / "gone.pcap")
    status, out, err = run(capsys, "--format", "json", caps["error"], gone,
                           caps["clean"])
    assert status == 2
    doc = json.loads(out)
    s = doc["summary"]
    assert s["files"] == 2
    assert [f["file"] for f in s["failed"]] == [gone]
    assert "no such file" in s["failed"][0]["message"]
    assert {f["file"] for f in doc["findings"]} == {caps["error"],
                                                    caps["clean"]}
    assert len(err.splitlines()) == 1 and gone in err
    ok = json.loads(run(capsys, "--format", "json", caps["clean"])[1])
    assert ok["summary"]["failed"] == []
    # every file failed: still one valid JSON document
    status, out, _ = run(capsys, "--format", "json", gone)
    assert status == 2 and json.loads(out)["summary"]["failed"][0]["file"] == gone


@pytest.mark.parametrize("selector", ["", ",", " , "])
def test_empty_select_is_an_error(capsys, caps, selector):
    status, out, err = run(capsys, "--select", selector, caps["error"])
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and "names no rule" in err


def test_note_when_no_fmipv4_message(capsys, tmp_path):
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    other = lintcaps.write(tmp_path / "dns.pcap", [
        Ether() / IP(dst="10.0.0.53") / UDP(sport=5353, dport=53)] * 3)
    status, out, err = run(capsys, str(other))
    assert status == 0
    assert err == (f"fmip-lint: note: {other}: no FMIPv4 message in 3 "
                   f"packets; may be the wrong capture (FMIPv4 is UDP port "
                   f"434 and ICMP type 41)\n")
    status, out, err = run(capsys, "--format", "json", str(other))
    assert json.loads(out)["summary"]["messages"] == 0 and "note" in err


def test_path_with_a_newline_is_one_line_everywhere(capsys, tmp_path):
    odd = tmp_path / "two\nlines.pcap"
    status, _, err = run(capsys, str(odd))              # missing
    assert status == 2 and len(err.splitlines()) == 1
    assert "two\\nlines.pcap" in err
    odd.write_text("not a capture\n")
    for argv in ([str(odd)], ["--keys", str(odd), str(odd)],
                 ["-o", str(odd), str(odd)]):
        status, _, err = run(capsys, *argv)
        assert status == 2 and len(err.splitlines()) == 1, (argv, err)
    good = lintcaps.write(tmp_path / "a\nb.pcap", lintcaps.CASES["FM101"][0])
    status, out, _ = run(capsys, str(good))
    assert status == 1
    assert all(l.startswith(str(tmp_path)) for l in out.splitlines())
    assert "a\\nb.pcap:1: error FM101" in out


def test_parallel_output_equals_serial_with_many_findings(capsys, tmp_path):
    """-j streams spooled findings back: same report, byte for byte, with
    more findings than one spool batch."""
    from fmipdissect.lint.engine import SPOOL_BATCH
    bad = lintcaps.fbu(lifetime=11)
    files = []
    for i in range(3):
        n = SPOOL_BATCH + 100 if i == 1 else 50
        files.append(str(lintcaps.write(tmp_path / f"many{i}.pcap",
                                        [bad] * n)))
    files.insert(2, str(tmp_path / "gone.pcap"))
    for fmt in ("text", "json", "junit"):
        one = run(capsys, "--format", fmt, "--statistics", *files)
        two = run(capsys, "-j", "2", "--format", fmt, "--statistics", *files)
        assert one == two and one[0] == 2
    doc = json.loads(run(capsys, "-j", "2", "--format", "json", *files)[1])
    assert doc["summary"]["errors"] >= SPOOL_BATCH + 200
