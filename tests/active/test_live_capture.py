"""`fmip-lint -i IFACE` and `fmipdissect handovers -i IFACE` with the real
dumpcap, on a veth pair inside a network namespace this test creates and
always removes: nothing is sent from the machine's own namespace."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

import lintcaps
from conftest import require_netns
from fmipdissect.active.netns import Namespaces
from test_workflow_config import error_flow

PYTHON = [sys.executable, "-m", "fmipdissect"]
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(
    [os.path.dirname(os.path.dirname(os.path.dirname(__file__)))]
    + sys.path))


@pytest.fixture
def veth():
    """(Namespaces, namespace name): v0 and v1 joined, both in it."""
    require_netns()
    with Namespaces(tag=f"flow{os.getpid() % 10000}") as nets:
        ns = nets.add("live")
        nets.link(ns, "v0", "02:00:00:aa:00:01", ns, "v1",
                  "02:00:00:aa:00:02")
        yield nets, ns
    assert ns not in subprocess.run(["ip", "netns", "list"],
                                    capture_output=True, text=True).stdout


def _send(nets, ns, path) -> None:
    """The packets of a capture out of v0, from inside the namespace."""
    sender = nets.start(ns, [sys.executable, "-c",
                             "import sys; from scapy.all import rdpcap, sendp;"
                             " sendp(rdpcap(sys.argv[1]), iface='v0', "
                             "verbose=0)", str(path)], env=ENV)
    assert sender.wait(30) == 0


def _wait_for(path, proc, timeout=15.0) -> None:
    """Until dumpcap has begun (the --save file appears)."""
    end = time.monotonic() + timeout
    while not os.path.exists(path):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < end, "dumpcap did not start"
        time.sleep(0.05)


def test_fmip_lint_live_prints_findings_and_saves_the_capture(veth,
                                                              tmp_path):
    nets, ns = veth
    flow = lintcaps.write(tmp_path / "flow.pcap", error_flow())
    saved = tmp_path / "live.pcapng"
    lint = nets.start(ns, [*PYTHON, "lint", "--isolated", "-i", "v1",
                           "--duration", "4", "--save", str(saved)],
                      env=ENV, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)
    _wait_for(saved, lint)
    _send(nets, ns, flow)
    out, err = lint.communicate(timeout=30)
    assert lint.returncode == 1, err                 # the FM101 error
    assert "v1:1: error FM101 fbu-lifetime-over-limit" in out
    assert "v1:3: warning FM102" in out
    assert "v1: 4 packets, 4 FMIPv4 messages" in out
    again = subprocess.run([*PYTHON, "lint", "--isolated", str(saved)],
                           env=ENV, capture_output=True, text=True)
    assert again.returncode == 1 and "FM101" in again.stdout
    assert "4 packets" in again.stdout


def test_handovers_live(veth, tmp_path):
    nets, ns = veth
    flow = lintcaps.write(tmp_path / "flow.pcap", lintcaps.predictive_flow())
    saved = tmp_path / "live.pcapng"
    proc = nets.start(ns, [*PYTHON, "handovers", "-i", "v1", "--duration",
                           "4", "--save", str(saved)],
                      env=ENV, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)
    _wait_for(saved, proc)
    _send(nets, ns, flow)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    assert "predictive  mn       completed" in out
    assert "1 handover in 1 file: 1 completed" in out


def test_live_mistakes_are_one_line(tmp_path):
    for argv, words in (
            (["lint", "-i", "no-such-if0"], "no such network interface"),
            (["lint", "--duration", "3", str(tmp_path)], "go with -i"),
            (["lint", "-i", "lo", "x.pcap"], "give no CAPTURE files"),
            (["handovers", "-i", "lo", "--duration", "0"], "more than 0")):
        done = subprocess.run([*PYTHON, *argv], env=ENV, capture_output=True,
                              text=True)
        assert done.returncode == 2 and words in done.stderr, done.stderr
        assert len(done.stderr.splitlines()) == 1


def test_findings_print_as_they_happen_and_ctrl_c_ends_it(veth, tmp_path):
    import signal
    nets, ns = veth
    flow = lintcaps.write(tmp_path / "flow.pcap", error_flow())
    saved = tmp_path / "live.pcapng"
    lint = nets.start(ns, [*PYTHON, "lint", "--isolated", "-i", "v1",
                           "--save", str(saved)],
                      env=ENV, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)
    _wait_for(saved, lint)
    _send(nets, ns, flow)
    first = lint.stdout.readline()            # while it still runs
    assert "v1:1: error FM101" in first and lint.poll() is None
    os.kill(lint.pid, signal.SIGINT)          # our own process, by its id
    out, err = lint.communicate(timeout=30)
    assert lint.returncode == 130 and "interrupted" in err
    assert "v1: 4 packets, 4 FMIPv4 messages" in out


def test_an_unanswered_request_is_reported_when_its_expiry_passes(
        veth, tmp_path):
    """An FBU that no FBAck answers, then a quiet link: fmip-lint reports
    FM403 once EXPIRY_SECONDS have passed on the wall clock, while still
    capturing (the clock ticks live.py sends), not only at the end."""
    from fmipdissect.spec.constraints import EXPIRY_SECONDS
    nets, ns = veth
    saved = tmp_path / "live.pcapng"
    alone = lintcaps.write(tmp_path / "fbu.pcap", [lintcaps.fbu()])
    lint = nets.start(ns, [*PYTHON, "lint", "--isolated", "-i", "v1",
                           "--duration", str(EXPIRY_SECONDS + 30),
                           "--save", str(saved)],
                      env=ENV, stdout=subprocess.PIPE,
                      stderr=subprocess.PIPE, text=True)
    try:
        _wait_for(saved, lint)
        sent = time.monotonic()
        _send(nets, ns, alone)
        os.set_blocking(lint.stdout.fileno(), True)
        line = lint.stdout.readline()        # the first line of the report
        waited = time.monotonic() - sent
        assert "FM403" in line and "within 60 s" in line, line
        assert EXPIRY_SECONDS - 1 <= waited < EXPIRY_SECONDS + 10, waited
        assert lint.poll() is None           # still capturing
    finally:
        lint.terminate()
        lint.communicate(timeout=30)
