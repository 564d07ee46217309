"""The prober against a reference PAR/NAR of the tests' own
(refresponder.py), in network namespaces this test creates and removes:
every protocol-breaking bug fails at least one case (the one named here),
every conformant variant passes, SHOULD-level slips only warn.  And the
safety rails: an off-link or multicast --router is refused in one line,
and a run that can send nothing exits 2.

One namespace pair holds every instance (two links each: PAR's and
NAR's), one responder process serves them all, and the probes of several
instances run side by side."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import require_netns
from fmipdissect.active.netns import Namespaces, lab_namespaces

pytestmark = pytest.mark.netns

HERE = os.path.dirname(os.path.abspath(__file__))
KEY, SPI = "00112233445566778899aabbccddeeff", 0x100
AP = "02:00:00:cc:00:03"
TIMEOUT = "0.4"

# bug -> the case that must fail (PAR bugs, then NAR bugs)
PAR_BUGS = {
    "prrtadv-id-zero": "PAR-RTS-02", "prrtadv-no-nar-ip": "PAR-RTS-03",
    "prrtadv-pad1": "PAR-RTS-01", "prrtadv-bad-checksum": "PAR-RTS-04",
    "prrtadv-unknown-code0": "PAR-RTS-06",
    "par-no-checksum-check": "PAR-RTS-07",
    "prrtadv-wrong-src": "PAR-RTS-09", "prrtadv-no-code3": "PAR-RTS-10",
    "hi-no-pcoa": "PAR-HI-02", "hi-code0-forwarded": "PAR-HI-04",
    "hi-s-forwarded": "PAR-HI-05", "hi-wrong-src": "PAR-HI-06",
    "fback-wrong-ident": "PAR-FBU-02", "fback-no-auth": "PAR-FBU-03",
    "fback-drops-ncoa": "PAR-FBU-04", "fback-to-434": "PAR-FBU-07",
    "par-no-replay-check": "PAR-FBU-10", "lifetime-unclamped": "PAR-FBU-11",
    "ignore-hack-code": "PAR-FBU-12", "invent-ncoa": "PAR-FBU-13",
    "accept-without-hack": "PAR-FBU-14", "any-coa": "PAR-FBU-15",
    "fback-ha-zero": "PAR-FBU-16", "par-no-auth-check": "PAR-AUTH-01",
}
NAR_BUGS = {
    "hack-wrong-id": "NAR-HI-02", "hack-no-ncoa": "NAR-HI-03",
    "hack-bad-checksum": "NAR-HI-04", "reject-no-s": "NAR-HI-05",
    "reject-reactive": "NAR-HI-06", "same-ncoa": "NAR-HI-07",
    "nar-no-checksum-check": "NAR-HI-08", "hack-wrong-src": "NAR-HI-09",
    "hack-code-5": "NAR-HI-10", "ncoa-is-pcoa": "NAR-HI-11",
    "no-forward": "NAR-FBU-01", "forward-changed": "NAR-FBU-02",
    "fback-not-passed": "NAR-FBU-03", "fback-passed-to-434": "NAR-FBU-04",
}
# SHOULD-level slips: the case warns, nothing fails
SHOULD_SLIPS = {"prrtadv-no-prefix": "PAR-RTS-08",
                "no-fback-copy": "PAR-FBU-05",
                "hi-u-forwarded": "PAR-HI-05"}
# conformant variants: (bugs, profile lines)
VARIANTS = {
    "conformant": ([], ""),
    "ephemeral-ports": (["ephemeral"], ""),
    "policy-129": (["policy-129"], "policy_rejections = true\n"),
    "ipsec": (["ipsec"], "ipsec_hi_hack = true\n"),
    "short-lifetime": (["short-lifetime"], ""),
    "reason-7": (["reason-7"], ""),
}


def _runs():
    """(name, bugs, profile, expectations) of each instance: a PAR bug and
    a NAR bug share one (each probe judges one router)."""
    discovery = [b for b, c in PAR_BUGS.items() if "-RTS-" in c]
    handover = [b for b in PAR_BUGS if b not in discovery]
    nar = list(NAR_BUGS)
    runs = []
    for k in range(max(len(handover), len(nar))):
        # a discovery bug and a handover bug touch different exchanges
        bugs = discovery[k:k + 1] + handover[k:k + 1] + nar[k:k + 1]
        runs.append(("+".join(bugs), bugs, "", "bug"))
    runs.append(("should", list(SHOULD_SLIPS), "", "should"))
    for name, (bugs, profile) in VARIANTS.items():
        runs.append((name, bugs, profile, "pass"))
    return runs


def _addresses(k):
    a, b = f"198.18.{20 + 2 * k}", f"198.18.{21 + 2 * k}"
    return {"par": f"{a}.1", "par_alias": f"{a}.9", "nar": f"{b}.1",
            "nar_alias": f"{b}.9", "mn_a": f"{a}.10", "peer_nar": f"{a}.3",
            "mn_b": f"{b}.10", "peer_par": f"{b}.4", "ncoa": f"{b}.100",
            "ap": AP, "a": a, "b": b}


def _build(lab, runs):
    ref, probe = lab.add("ref"), lab.add("probe")
    for k in range(len(runs)):
        ad = _addresses(k)
        for side, ours, theirs in (("a", ("par", "par_alias"),
                                    ("mn_a", "peer_nar")),
                                   ("b", ("nar", "nar_alias"),
                                    ("mn_b", "peer_par"))):
            lab.link(ref, f"r{side}{k}", f"02:00:00:5{side}:{k:02x}:01",
                     probe, f"p{side}{k}", f"02:00:00:5{side}:{k:02x}:02")
            for name in ours:
                lab.address(ref, f"r{side}{k}", f"{ad[name]}/24")
            for name in theirs:
                lab.address(probe, f"p{side}{k}", f"{ad[name]}/24")
    return ref, probe


def _env():
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(HERE))
    return env


def _probe(probe_ns, k, target, profile_path, tmp):
    ad = _addresses(k)
    side = "a" if target == "par" else "b"
    argv = ["ip", "netns", "exec", probe_ns, sys.executable, "-m",
            "fmipdissect", "probe", "--target", target, "-i", f"p{side}{k}",
            "--keys", str(tmp / "keys.txt"), "--timeout", TIMEOUT,
            "--format", "json"]
    if target == "par":
        argv += ["--router", ad["par"], "--mn", ad["mn_a"], "--peer",
                 ad["peer_nar"], "--ap", AP]
    else:
        argv += ["--router", ad["nar"], "--mn", ad["mn_b"], "--peer",
                 ad["peer_par"]]
    if profile_path:
        argv += ["--profile", profile_path]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=120,
                          env=_env())
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    report["status"] = done.returncode
    return report


def _verdicts(report):
    return {c["id"]: c["verdict"] for c in report["cases"]}


def _check(run, reports):
    name, bugs, _, kind = run
    par, nar = (_verdicts(reports[t]) for t in ("par", "nar"))
    both = {**par, **nar}
    if kind == "bug":
        for bug in bugs:
            case = PAR_BUGS.get(bug) or NAR_BUGS[bug]
            assert both[case] == "fail", (bug, case, [
                c for r in reports.values() for c in r["cases"]
                if c["id"] == case])
        return
    bad = {i: v for i, v in both.items() if v in ("fail", "inconclusive")}
    assert bad == {}, (name, [c for r in reports.values()
                              for c in r["cases"] if c["id"] in bad])
    assert reports["par"]["status"] == reports["nar"]["status"] == 0
    if kind == "should":
        for case in SHOULD_SLIPS.values():
            assert both[case] == "warn", (name, case)


def test_reference_responder_bugs_and_variants(tmp_path):
    require_netns()
    runs = _runs()
    (tmp_path / "keys.txt").write_text(f"{SPI:#x} {KEY}\n")
    config = {"key": KEY, "spi": SPI, "instances": []}
    profiles = {}
    for k, (name, bugs, profile, _) in enumerate(runs):
        ad = _addresses(k)
        config["instances"].append({
            key: ad[key] for key in ("par", "par_alias", "nar", "nar_alias",
                                     "ap", "peer_nar", "ncoa")}
            | {"bugs": bugs})
        if profile:
            path = tmp_path / f"profile-{k}.toml"
            path.write_text(profile)
            profiles[k] = str(path)
    (tmp_path / "ref.json").write_text(json.dumps(config))
    tag = f"r{os.getpid() % 100000}"
    with Namespaces(tag) as lab:
        ref, probe = _build(lab, runs)
        responder = lab.start(ref, [sys.executable, os.path.join(
            HERE, "refresponder.py"), str(tmp_path / "ref.json")],
            stdout=subprocess.PIPE, text=True)
        assert responder.stdout.readline().strip() == "ready"
        jobs = [(k, t) for k in range(len(runs)) for t in ("par", "nar")]
        with ThreadPoolExecutor(12) as pool:
            done = list(pool.map(lambda job: _probe(
                probe, job[0], job[1], profiles.get(job[0]), tmp_path),
                jobs))
        assert responder.poll() is None, "the responder kept running"
    reports = {}
    for (k, target), report in zip(jobs, done):
        reports.setdefault(k, {})[target] = report
    for k, run in enumerate(runs):
        _check(run, reports[k])
    assert not [n for n in lab_namespaces() if n.startswith(f"fmip{tag}-")]


def test_router_off_link_or_multicast_is_refused_and_no_send_is_status_2(
        tmp_path):
    """The prober's namespace: a link to the router's, and a link (d0) to
    a third one, through which the router is not reachable."""
    require_netns()
    keys = tmp_path / "keys.txt"
    keys.write_text(f"{SPI:#x} {KEY}\n")
    tag = f"s{os.getpid() % 100000}"
    with Namespaces(tag) as lab:
        probe, router = lab.add("probe"), lab.add("router")
        lab.link(probe, "pa", "02:00:00:6a:00:01", router, "ra",
                 "02:00:00:6a:00:02")
        lab.address(probe, "pa", "198.18.40.10/24")
        lab.address(router, "ra", "198.18.40.1/24")
        lab.link(probe, "d0", "02:00:00:6b:00:01", lab.add("other"), "o0",
                 "02:00:00:6b:00:02")
        lab.address(probe, "d0", "198.18.41.10/24")
        lab.address(probe, "d0", "198.18.41.3/24")
        lab.route(probe, "198.18.50.0/24", "via", "198.18.40.1")

        def probe_run(iface, router_addr, *extra):
            argv = ["ip", "netns", "exec", probe, sys.executable, "-m",
                    "fmipdissect", "probe", "--target", "par", "-i", iface,
                    "--router", router_addr, "--mn", "198.18.41.10",
                    "--peer", "198.18.41.3", "--ap", AP, "--keys",
                    str(keys), "--timeout", "0.2", "--format", "junit",
                    *extra]
            return subprocess.run(argv, capture_output=True, text=True,
                                  timeout=120, env=_env())

        for iface, addr, words in (
                ("d0", "224.0.0.2", "not a unicast address"),
                ("d0", "198.18.41.255", "broadcast"),
                ("d0", "198.18.40.1", "not on-link through d0"),
                ("pa", "198.18.50.1", "via 198.18.40.1"),
                ("d0", "198.18.41.10", "local")):
            done = probe_run(iface, addr)
            assert done.returncode == 2, (addr, done.stderr)
            assert done.stderr.count("\n") == 1 and words in done.stderr, \
                done.stderr
            assert done.stdout == ""
        # allowed anyway, but the socket is bound to d0: nothing leaves
        done = probe_run("d0", "198.18.40.1", "--allow-any-target")
        assert done.returncode == 2, done.stderr
        assert "nothing could be sent" in done.stderr
        assert 'failures="0"' in done.stdout and 'errors="35"' in \
            done.stdout
    assert not [n for n in lab_namespaces() if n.startswith(f"fmip{tag}-")]
