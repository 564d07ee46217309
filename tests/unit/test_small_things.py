"""What people expect of a command line: suggestions for mistakes, colour
on demand, `probe --list` alone, gen saying (and refusing) what is huge,
dates and a time-zone choice in the handovers table."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLE = str(ROOT / "samples" / "violations.pcap")
ENV = dict(os.environ, PYTHONPATH=str(ROOT))


def fmipdissect(*argv, **env):
    return subprocess.run([sys.executable, "-m", "fmipdissect", *argv],
                          capture_output=True, text=True, cwd=ROOT,
                          env={**ENV, **env})


@pytest.mark.parametrize("argv, hint", [
    (["decod", SAMPLE], "(did you mean decode?)"),
    (["lint", "--selct", "FM1", SAMPLE], "(did you mean --select?)"),
    (["handovers", "--formt", "json", SAMPLE], "(did you mean --format?)"),
    (["lint", "--format", "jsn", SAMPLE], "(did you mean json?)"),
])
def test_mistakes_get_a_suggestion(argv, hint):
    done = fmipdissect(*argv)
    assert done.returncode == 2 and hint in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_colour_on_demand():
    escape = "\033["
    assert escape not in fmipdissect("lint", SAMPLE).stdout     # a pipe
    assert escape in fmipdissect("lint", "--color", "always", SAMPLE).stdout
    assert escape in fmipdissect("lint", SAMPLE, FORCE_COLOR="1").stdout
    assert escape not in fmipdissect("lint", "--color", "never", SAMPLE,
                                     FORCE_COLOR="1").stdout


def test_probe_list_needs_no_target():
    done = fmipdissect("probe", "--list")
    assert done.returncode == 0
    ids = [line.split()[0] for line in done.stdout.splitlines()]
    assert any(i.startswith("PAR-") for i in ids)
    assert any(i.startswith("NAR-") for i in ids)
    nar = fmipdissect("probe", "--list", "--target", "nar").stdout
    assert all(line.startswith("NAR-") for line in nar.splitlines())


def test_gen_says_and_refuses_huge_outputs(tmp_path):
    out = tmp_path / "big.pcap"
    done = fmipdissect("gen", "predictive", "--handovers", "5000",
                       "--background", "0.99", "-o", str(out))
    assert done.returncode == 2 and not out.exists()
    assert "about 1.9 GB" in done.stderr and "--force" in done.stderr
    done = fmipdissect("gen", "predictive", "--handovers", "50",
                       "--background", "0.99", "-o", str(out))
    assert done.returncode == 0 and "writing about 19" in done.stderr
    said = float(done.stderr.split("about ")[1].split()[0]) * 1e6
    assert abs(out.stat().st_size - said) < 0.02 * said


def test_handovers_table_dates_and_time_zone():
    sample = str(ROOT / "samples" / "predictive.pcap")
    utc = fmipdissect("handovers", sample).stdout.splitlines()
    assert "START (UTC)" in utc[0] and "2026-01-01 00:00:00.000000" in utc[1]
    local = fmipdissect("handovers", "--time", "local", sample,
                        TZ="Asia/Kolkata").stdout.splitlines()
    assert "START (IST)" in local[0]
    assert "2026-01-01 05:30:00.000000" in local[1]


def _stderr_on_a_terminal(argv, capture: Path) -> str:
    """Run with the capture piped to standard input and standard error on
    a pseudo-terminal; what appeared there."""
    import pty
    import threading
    main, side = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "fmipdissect", *argv],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                            stderr=side, cwd=ROOT, env=ENV)
    os.close(side)

    def feed():
        with proc.stdin:
            proc.stdin.write(capture.read_bytes())
    threading.Thread(target=feed, daemon=True).start()
    seen = b""
    while True:
        try:
            chunk = os.read(main, 4096)
        except OSError:           # the terminal closed: the command ended
            break
        if not chunk:
            break
        seen += chunk
    proc.wait(60)
    os.close(main)
    return seen.decode("utf-8", "replace")


@pytest.mark.parametrize("command", ["lint", "handovers"])
def test_progress_on_standard_input(tmp_path, command):
    capture = tmp_path / "many.pcap"
    assert fmipdissect("gen", "predictive", "--handovers", "300", "-o",
                       str(capture)).returncode == 0
    seen = _stderr_on_a_terminal([command, "-"], capture)
    assert "-: " in seen and " MB, " in seen and "packets so far" in seen
    assert seen.rstrip().endswith("\x1b[K")        # the line is erased
    quiet = _stderr_on_a_terminal([command, "--no-progress", "-"], capture)
    assert "so far" not in quiet


@pytest.mark.parametrize("argv", [
    ["handovers", "--html", "{tmp}"],
    ["handovers", "--html", "{tmp}/no/such/report.html"],
    ["lint", "--write-baseline", "{tmp}"],
])
def test_output_paths_are_refused_before_the_work(tmp_path, argv):
    sample = str(ROOT / "samples" / "predictive.pcap")
    done = fmipdissect(*[a.format(tmp=tmp_path) for a in argv], sample)
    assert done.returncode == 2 and done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
