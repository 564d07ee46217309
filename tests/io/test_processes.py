"""`fmip-lint -j N` and `-o` under signals and vanished readers: workers
end with their parent, the spool folder and the temporary output go.
Signals are sent by process id to processes the test started."""

from __future__ import annotations

import os
import signal
import subprocess
import time

import pytest

from iohelp import VIOLATIONS, command, copy, env


def children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def alive(pid: int) -> bool:
    """Running (a zombie, or a process gone, is not)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def wait_until(test, seconds=10.0) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if test():
            return True
        time.sleep(0.05)
    return test()


def start_blocked_run(tmp_path, *options):
    """fmip-lint -j 2 on two FIFOs that nobody writes: both workers block
    in open() until their parent is gone."""
    fifos = []
    for i in range(2):
        fifo = tmp_path / f"f{i}.pcap"
        os.mkfifo(fifo)
        fifos.append(str(fifo))
    spool = tmp_path / "tmp"
    spool.mkdir()
    proc = subprocess.Popen(command("lint", "-j", "2", *options, *fifos),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env(TMPDIR=str(spool)))
    assert wait_until(lambda: len(children(proc.pid)) >= 2), \
        proc.stderr.read1(4096) if proc.poll() is not None else "no workers"
    workers = children(proc.pid)
    return proc, workers, spool


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL,
                                 signal.SIGINT])
def test_workers_end_with_their_parent(tmp_path, sig):
    proc, workers, spool = start_blocked_run(tmp_path)
    try:
        os.kill(proc.pid, sig)
        # standard error reaches its end: no worker holds it open
        _, err = proc.communicate(timeout=15)
        assert wait_until(lambda: not any(alive(w) for w in workers))
    finally:
        for w in workers:
            if alive(w):
                os.kill(w, signal.SIGKILL)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    if sig != signal.SIGKILL:
        assert list(spool.iterdir()) == []        # the spool folder went
        assert b"Traceback" not in err


def test_the_next_run_removes_a_killed_runs_spool(tmp_path):
    proc, workers, spool = start_blocked_run(tmp_path)
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=15)
    assert wait_until(lambda: not any(alive(w) for w in workers))
    assert len(list(spool.iterdir())) == 1        # left by the killed run
    caps = [copy(VIOLATIONS, tmp_path / f"v{i}.pcap") for i in range(2)]
    result = subprocess.run(command("lint", "-j", "2", *caps),
                            capture_output=True, env=env(TMPDIR=str(spool)))
    assert result.returncode == 1
    assert list(spool.iterdir()) == []


def test_a_reader_that_goes_away_leaves_nothing_behind(tmp_path):
    """`fmip-lint -j 2 ... | head -1`."""
    caps = [copy(VIOLATIONS, tmp_path / f"v{i}.pcap") for i in range(24)]
    spool = tmp_path / "tmp"
    spool.mkdir()
    proc = subprocess.Popen(command("lint", "-j", "2", *caps),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env(TMPDIR=str(spool)))
    first = proc.stdout.readline()
    assert b"FM101" in first
    assert wait_until(lambda: len(children(proc.pid)) >= 2
                      or proc.poll() is not None)
    workers = children(proc.pid)
    proc.stdout.close()
    _, err = proc.communicate(timeout=30)
    assert wait_until(lambda: not any(alive(w) for w in workers))
    assert list(spool.iterdir()) == []
    assert b"Traceback" not in err


def test_sigterm_removes_the_temporary_output(tmp_path):
    """SIGTERM during `-o OUT`: no `.OUT.xxxx.tmp` is left, OUT is kept."""
    fifo = tmp_path / "live.pcap"
    os.mkfifo(fifo)
    out = tmp_path / "report.txt"
    out.write_text("old\n")
    proc = subprocess.Popen(command("lint", "-o", out, fifo),
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            env=env())
    with open(fifo, "wb") as writer:          # the run is reading it now
        writer.write(VIOLATIONS.read_bytes()[:3000])
        writer.flush()
        assert wait_until(lambda: any(p.name.endswith(".tmp")
                                      for p in tmp_path.iterdir()))
        os.kill(proc.pid, signal.SIGTERM)
        _, err = proc.communicate(timeout=15)
    assert proc.returncode == 143, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["live.pcap",
                                                          "report.txt"]
    assert out.read_text() == "old\n"
