"""A lab killed with SIGKILL: its emulators and dumpcap end with it, and
the next run removes its namespaces and its key folder (and says so).
Needs root (network namespaces); every namespace made here is removed."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess

import pytest

from fmipdissect.active.netns import lab_namespaces
from iohelp import command, env
from test_processes import alive, wait_until

pytestmark = pytest.mark.netns


def require_netns() -> None:
    """As tests/active/conftest.py: root, ip and dumpcap (CI must have them)."""
    if os.geteuid() == 0 and shutil.which("ip") and shutil.which("dumpcap"):
        return
    if os.environ.get("CI") == "true":
        pytest.fail("network namespaces need root, ip and dumpcap")
    pytest.skip("network namespaces need root, ip and dumpcap")


def _pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True,
                         text=True).stdout
    return [int(p) for p in out.split()]


# the lab with traffic is killed while its test flow runs (two processes
# in the CN's namespace: dumpcap and the flow's end)
RUNS = {"signalling": ([], 3, None), "traffic": (
    ["--traffic", "200/s", "--handovers", "5", "--mode", "predictive"], 4,
    "cn")}


@pytest.mark.parametrize("kind", sorted(RUNS))
def test_a_killed_lab_leaves_nothing_the_next_run_does_not_remove(tmp_path,
                                                                  kind):
    require_netns()
    spool = tmp_path / "tmp"
    spool.mkdir()
    extra, count, flowing = RUNS[kind]
    proc = subprocess.Popen(command("lab", "--format", "json", *extra),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env(TMPDIR=str(spool)))
    mine = f"fmip{proc.pid % 100000}-"
    try:
        def started():
            names = [n for n in lab_namespaces() if n.startswith(mine)]
            return len(names) == count and all(
                _pids(n) for n in names[1:]) and (
                flowing is None or len(_pids(mine + flowing)) >= 2)
        assert wait_until(started, 60), proc.stderr.read1(4096)
        inside = [p for n in lab_namespaces() if n.startswith(mine)
                  for p in _pids(n)]
        assert len(list(spool.iterdir())) == 1     # the key folder
        os.kill(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)
        # the emulators and dumpcap died with the lab
        assert wait_until(lambda: not any(alive(p) for p in inside), 10), \
            [p for p in inside if alive(p)]
        # the next run removes the namespaces and the key folder, and says
        # so (unless a lab of another test, running meanwhile, removed the
        # namespaces first: any lab run removes what a killed one left)
        left = [n for n in lab_namespaces() if n.startswith(mine)]
        again = subprocess.run(command("lab", "--format", "json"),
                               capture_output=True, timeout=180,
                               env=env(TMPDIR=str(spool)))
        assert again.returncode == 0, again.stderr
        # it says which it removed (under pytest -n, another lab test's run
        # may have removed them before this one started: nothing to say)
        said = mine.encode() in again.stderr and b"removed" in again.stderr
        assert said or not left, again.stderr
        assert not [n for n in lab_namespaces() if n.startswith(mine)]
        assert list(spool.iterdir()) == []
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for ns in lab_namespaces():
            if ns.startswith(mine):
                for pid in _pids(ns):
                    os.kill(pid, signal.SIGKILL)
                subprocess.run(["ip", "netns", "del", ns])
