"""`fmipdissect lab` for real: namespaces, veth links, the emulators, the
probes, captures on every node.  One lab run per fault pair (a PAR fault
and a NAR fault can share a run: each probe talks to one router), and every
run must leave no namespace behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from conftest import require_netns
from faultcheck import check_fault
from fmipdissect.active.faults import FAULTS_BY_NAME
from fmipdissect.active.netns import lab_namespaces
from fmipdissect.lint.engine import LintConfig, lint_file
from fmipdissect.lint.keys import load_keys

pytestmark = pytest.mark.netns


def lab(*args, out=None):
    """Run the lab; (its JSON, the namespaces it left behind)."""
    require_netns()
    argv = [sys.executable, "-m", "fmipdissect", "lab", "--format", "json"]
    if out:
        argv += ["--out", str(out)]
    for spec in args:
        argv += ["--fault", spec]
    before = set(lab_namespaces())
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    mine = f"fmip{proc.pid % 100000}-"
    left = [n for n in set(lab_namespaces()) - before if n.startswith(mine)]
    return json.loads(stdout), left


def test_conformant_lab(tmp_path):
    """One run (the checks share it: a lab run is the expensive part)."""
    result, left = lab(out=tmp_path)
    assert left == []
    check_probes_pass(result)
    check_captures_lint_clean(result, tmp_path)
    check_captures_in_tshark(result)
    check_handovers(result)


def check_probes_pass(result):
    for target in ("par", "nar"):
        summary = result["probe"][target]["summary"]
        assert summary["pass"] == len(result["probe"][target]["cases"]), \
            [c for c in result["probe"][target]["cases"]
             if c["verdict"] != "pass"]
        assert summary["pass"] == len(result["probe"][target]["cases"])
    assert [h["mode"] for h in result["mn"]] == ["predictive", "reactive"]
    assert all(h["outcome"] == "completed" for h in result["mn"])
    assert result["mn"][0]["ncoa"], "NAR assigned an NCoA (predictive)"
    assert result["seconds"] < 60


def check_captures_lint_clean(result, out):
    config = LintConfig(keys=load_keys(str(out / "keys.txt")))
    for node in ("mn", "par", "nar"):
        path = result["captures"][node]
        assert path == str(out / f"{node}.pcapng")
        with open(path, "rb") as f:
            assert f.read(4) == b"\x0a\x0d\x0d\x0a", "pcapng"
        findings, stats = lint_file(path, config)
        assert [f for f in findings if f.severity != "info"] == [], node
        # predictive and reactive: RtSolPr, PrRtAdv, FBU, FBAck at least
        assert stats.messages >= 8, node


def check_handovers(result):
    rows = result["handovers"]["handovers"]
    assert result["handovers"]["summary"]["completed"] == 2
    assert sorted(r["mode"] for r in rows) == ["predictive", "reactive"]
    assert all(r["outcome"] == "completed" for r in rows)


def check_captures_in_tshark(result):
    """Each node's capture in tshark with the plugin: every FMIPv4 message
    dissected, no Lua error, no malformed packet (one tshark run each)."""
    from wireshark_common import require_tool
    from fmipdissect.wireshark import tshark as T
    require_tool("tshark")
    for node in ("mn", "par", "nar"):
        tree = T.verbose(result["captures"][node])
        dissected = sum(1 for line in tree.splitlines() if line.startswith(
            "Mobile IPv4 Fast Handovers (RFC 4988), "))
        assert dissected == result["lint"][node]["messages"], node
        assert T.lua_error_marks(tree) == [], node


# PAR and NAR faults paired into one run each; the MN's faults ride along
# (the MN runs before the probes and only its own capture judges it).
# delay=60000: later than the whole probe, so that no delayed reply to the
# MN emulator (which shares the prober's PCoA) lands in a probe exchange.
RUNS = [
    ("par:wrong-identifier", "nar:wrong-identifier", "mn:bad-checksum"),
    ("par:missing-option", "nar:missing-option", "mn:missing-option"),
    ("par:bad-checksum", "nar:bad-checksum", "mn:long-lifetime"),
    ("par:bad-auth", "nar:reject", "mn:bad-auth"),
    ("par:no-auth", "nar:no-reply", "mn:no-auth"),
    ("par:long-lifetime", "nar:delay=60000"),
    ("par:reject", "mn:delay=100"),
    ("par:no-reply",),
    ("par:delay=60000",),
]


def test_every_fault_has_a_run():
    named = {s.split(":")[1].split("=")[0] + "@" + s.split(":")[0]
             for run in RUNS for s in run}
    wanted = {f"{f.name}@{role}" for f in FAULTS_BY_NAME.values()
              for role in f.roles}
    assert named == wanted


@pytest.mark.parametrize("specs", RUNS, ids=["+".join(r) for r in RUNS])
def test_fault_fails_exactly_its_cases_and_rules(specs):
    result, left = lab(*specs)
    assert left == []
    for spec in specs:
        role, fault = spec.split(":")
        if role == "mn":
            rules = set(FAULTS_BY_NAME[fault.split("=")[0]].rule_ids("mn"))
            assert rules <= set(result["lint"]["mn"]["rules"]), spec
            continue
        check_fault(result["probe"][role]["cases"], role, fault)
    for role in ("par", "nar"):
        if not any(s.startswith(role + ":") for s in specs):
            assert result["probe"][role]["summary"]["fail"] == 0


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM],
                         ids=["ctrl-c", "sigterm"])
def test_interrupted_lab_removes_every_namespace(sig):
    require_netns()
    before = set(lab_namespaces())
    proc = subprocess.Popen([sys.executable, "-m", "fmipdissect", "lab"],
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)
    mine = f"fmip{proc.pid % 100000}-"
    end = time.monotonic() + 30
    while time.monotonic() < end:
        if len([n for n in lab_namespaces() if n.startswith(mine)]) == 3:
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("the lab made no namespaces")
    time.sleep(1.0)                  # the emulators are starting
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    assert err.strip().count("\n") == 0, "one line"
    left = [n for n in set(lab_namespaces()) - before if n.startswith(mine)]
    assert left == []
    ps = subprocess.run(["ps", "-eo", "args"], capture_output=True,
                        text=True).stdout
    assert mine not in ps, "no process of the lab is left"


def test_needs_root_one_line():
    if os.geteuid() != 0:
        argv = [sys.executable, "-m", "fmipdissect", "lab"]
        kw = {}
    else:
        argv = [sys.executable, "-m", "fmipdissect", "lab"]
        kw = {"user": 65534, "group": 65534}
    try:
        done = subprocess.run(argv, capture_output=True, text=True,
                              timeout=60, cwd="/", env=_env(), **kw)
    except PermissionError:
        pytest.skip("cannot run as nobody here")
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and "root" in done.stderr
    assert "Traceback" not in done.stderr


def _env():
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    env["PYTHONPATH"] = root
    return env


def test_not_root_is_one_line_and_status_2(monkeypatch, capsys):
    """The same check in-process, for machines where the test cannot drop
    root (no CAP_SETUID): the lab refuses before it makes anything."""
    from fmipdissect.cli import main
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    assert main(["lab"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "needs root" in err


def test_probe_without_such_interface_is_one_line(tmp_path):
    """Inside a namespace of the test's own (nothing leaves it)."""
    require_netns()
    from fmipdissect.active.netns import Namespaces
    keys = tmp_path / "keys.txt"
    keys.write_text("0x100 00112233445566778899aabbccddeeff\n")
    with Namespaces(f"t{os.getpid() % 100000}") as lab:
        ns = lab.add("probe")
        lab.address(ns, "lo", "198.18.9.1/32")
        base = ["ip", "netns", "exec", ns, sys.executable, "-m",
                "fmipdissect", "probe", "--target", "nar", "--router",
                "198.18.9.9", "--peer", "198.18.9.1", "--keys", str(keys)]
        for extra, words in (
                (["-i", "fmip-nope", "--mn", "198.18.9.1"],
                 "no such interface: fmip-nope"),
                (["-i", "lo", "--mn", "198.18.9.2"],
                 "198.18.9.2 is not an address of this host")):
            done = subprocess.run(base + extra, capture_output=True,
                                  text=True, timeout=60, env=_env())
            assert done.returncode == 2, done.stderr
            assert done.stderr.count("\n") == 1 and words in done.stderr
    mine = f"fmipt{os.getpid() % 100000}-"
    assert not [n for n in lab_namespaces() if n.startswith(mine)]


def test_emulators_by_hand_record_and_stop_by_count(tmp_path):
    """emulate par/nar/mn in the lab's namespaces, as a user runs them:
    --count ends the routers, --pcap records what each sent and received,
    and the recordings lint clean."""
    require_netns()
    from fmipdissect.active import lab as L
    from fmipdissect.active.netns import Namespaces
    keys = tmp_path / "keys.txt"
    keys.write_text("0x100 00112233445566778899aabbccddeeff\n")
    py = [sys.executable, "-m", "fmipdissect", "emulate"]
    with Namespaces(f"e{os.getpid() % 100000}") as lab:
        ns = L.build(lab)
        # PAR: one RtSolPr, one FBU; NAR: one HI
        par = lab.start(ns["par"], py + [
            "par", "--address", L.PAR_ADDR, "--keys", str(keys),
            "--neighbour", f"{L.AP_OF_NAR}={L.NAR_ADDR}", "--count", "2",
            "--pcap", str(tmp_path / "par.pcapng"), "--duration", "60"],
            stderr=subprocess.PIPE, text=True, env=_env())
        nar = lab.start(ns["nar"], py + [
            "nar", "--address", L.NAR_ADDR, "--ncoa-pool", L.NCOA_POOL,
            "--count", "1", "--pcap", str(tmp_path / "nar.pcapng"),
            "--duration", "60"], stderr=subprocess.PIPE, text=True,
            env=_env())
        for proc in (par, nar):
            assert "listening" in proc.stderr.readline()
        mn = subprocess.run(["ip", "netns", "exec", ns["mn"], *py, "mn",
                             "--address", L.PCOA, "--par", L.PAR_ADDR,
                             "--ap", L.AP_OF_NAR, "--keys", str(keys)],
                            capture_output=True, text=True, timeout=60,
                            env=_env())
        assert mn.returncode == 0, mn.stderr
        assert mn.stdout.startswith("predictive handover: completed, "
                                    "FBAck Code 1, NCoA 198.18.2.100")
        assert par.wait(30) == 0 and nar.wait(30) == 0
    config = LintConfig(keys=load_keys(str(keys)))
    for node, least in (("par", 7), ("nar", 2)):    # NAR: HI, HAck
        findings, stats = lint_file(str(tmp_path / f"{node}.pcapng"), config)
        assert stats.messages >= least, node
        assert [f for f in findings if f.severity != "info"] == [], node


def test_probe_cli_exit_status_and_formats(tmp_path):
    """probe as a user runs it: exit 0 when its cases pass, 1 when one
    fails (here: told the wrong NAR for the AP), JUnit XML that parses."""
    require_netns()
    import xml.etree.ElementTree as ET
    from fmipdissect.active import lab as L
    from fmipdissect.active.netns import Namespaces
    keys = tmp_path / "keys.txt"
    keys.write_text("0x100 00112233445566778899aabbccddeeff\n")
    with Namespaces(f"p{os.getpid() % 100000}") as lab:
        ns = L.build(lab)
        par = lab.start(ns["par"], [
            sys.executable, "-m", "fmipdissect", "emulate", "par",
            "--address", L.PAR_ADDR, "--keys", str(keys), "--neighbour",
            f"{L.AP_OF_NAR}={L.NAR_ADDR}", "--duration", "60"],
            stderr=subprocess.PIPE, text=True, env=_env())
        assert "listening" in par.stderr.readline()
        base = ["ip", "netns", "exec", ns["mn"], sys.executable, "-m",
                "fmipdissect", "probe", "--target", "par", "-i", "fmip-old",
                "--router", L.PAR_ADDR, "--mn", L.PCOA, "--keys", str(keys),
                "--ap", L.AP_OF_NAR, "--case", "PAR-RTS-01", "--timeout",
                "2"]
        ok = subprocess.run(base + ["--peer", L.NAR_ADDR],
                            capture_output=True, text=True, timeout=60,
                            env=_env())
        assert ok.returncode == 2 and "not an address of this host" \
            in ok.stderr, "the prober must own --peer"
        ok = subprocess.run(base + ["--peer", L.PROBE_NAR, "--format",
                                    "text"], capture_output=True, text=True,
                            timeout=60, env=_env())
        assert ok.returncode == 0, ok.stdout + ok.stderr
        assert "PASS  PAR-RTS-01" in ok.stdout
        bad = subprocess.run(base + ["--peer", L.PROBE_NAR, "--case",
                                     "PAR-RTS-03", "--format", "junit"],
                             capture_output=True, text=True, timeout=60,
                             env=_env())
        assert bad.returncode == 1, bad.stdout + bad.stderr
        suite = ET.fromstring(bad.stdout)
        assert suite.get("tests") == "2" and suite.get("failures") == "1"
        failure = suite.find("testcase/failure")
        assert "not to the NAR 198.18.1.3" in failure.get("message")
