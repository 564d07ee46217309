"""Network namespaces and veth links for the lab, always removed again.

Every namespace is named fmip<tag>-<node>; links are created directly
inside the namespaces (`ip -n A link add ... peer ... netns B`), so nothing
is ever created in, or sent from, the namespace the command runs in.
Deleting a namespace deletes its links; processes started inside are ended
(by their own process id) first, so that the namespace really goes.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time

from ..errors import InputError

PREFIX = "fmip"


def require_root() -> None:
    """InputError (one line, exit 2) unless namespaces can be made here."""
    if shutil.which("ip") is None:
        raise InputError("the lab needs the `ip` command (iproute2)")
    if os.geteuid() != 0:
        raise InputError("the lab makes network namespaces and needs root "
                         "(run it with sudo)")


def lab_namespaces() -> list[str]:
    """Namespaces of this machine whose names start with fmip."""
    out = subprocess.run(["ip", "netns", "list"], capture_output=True,
                         text=True).stdout
    return [line.split()[0] for line in out.splitlines()
            if line.startswith(PREFIX)]


def _lab_running(tag: str) -> bool:
    """A `fmipdissect lab` process whose pid gives this tag is alive."""
    for entry in os.listdir("/proc"):
        if entry.isdigit() and f"{int(entry) % 100000}" == tag:
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as f:
                    argv = f.read().split(b"\0")
            except OSError:
                continue
            if b"lab" in argv and any(b"fmipdissect" in a for a in argv):
                return True
    return False


def _namespace_pids(ns: str) -> list[int]:
    out = subprocess.run(["ip", "netns", "pids", ns], capture_output=True,
                         text=True).stdout
    return [int(p) for p in out.split() if p.isdigit()]


def remove_stale() -> list[str]:
    """Namespaces a killed lab run left (its tag names no running lab),
    with the processes still in them, removed; returns their names.  The
    lab's own tag is its pid (Namespaces), other tags (tests) are kept."""
    removed = []
    for ns in lab_namespaces():
        tag = ns[len(PREFIX):].split("-", 1)[0]
        if not tag.isdigit() or _lab_running(tag):
            continue
        for pid in _namespace_pids(ns):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        removed.append(ns)
    return removed


class Namespaces:
    """The namespaces, links and processes of one lab run."""

    def __init__(self, tag: str | None = None):
        self.tag = tag or f"{os.getpid() % 100000}"
        self.names: list[str] = []
        self.procs: list[subprocess.Popen] = []

    def name(self, node: str) -> str:
        return f"{PREFIX}{self.tag}-{node}"

    def ip(self, *args: str) -> None:
        done = subprocess.run(["ip", *args], capture_output=True, text=True)
        if done.returncode:
            raise InputError(f"ip {' '.join(args)}: "
                             f"{done.stderr.strip() or 'failed'}")

    def add(self, node: str) -> str:
        ns = self.name(node)
        self.ip("netns", "add", ns)
        self.names.append(ns)
        self.ip("-n", ns, "link", "set", "lo", "up")
        # IPv4 only (no IPv6 autoconfiguration chatter in the captures), and
        # ARP requests from the address of the link they go out on (else a
        # router's other address shows up on two links, and Wireshark
        # reports a duplicate address).
        subprocess.run(["ip", "netns", "exec", ns, "sysctl", "-qw",
                        "net.ipv6.conf.all.disable_ipv6=1",
                        "net.ipv6.conf.default.disable_ipv6=1",
                        "net.ipv4.conf.all.arp_announce=2",
                        "net.ipv4.conf.default.arp_announce=2"],
                       capture_output=True)
        return ns

    def link(self, a: str, if_a: str, mac_a: str, b: str, if_b: str,
             mac_b: str) -> None:
        """A veth pair between namespaces a and b, both ends up."""
        self.ip("-n", a, "link", "add", if_a, "address", mac_a, "type",
                "veth", "peer", "name", if_b, "address", mac_b, "netns", b)
        self.ip("-n", a, "link", "set", if_a, "up")
        self.ip("-n", b, "link", "set", if_b, "up")

    def address(self, ns: str, iface: str, cidr: str) -> None:
        self.ip("-n", ns, "addr", "add", cidr, "dev", iface)

    def route(self, ns: str, *spec: str) -> None:
        self.ip("-n", ns, "route", "add", *spec)

    def start(self, ns: str, argv: list[str], **kw) -> subprocess.Popen:
        """argv inside namespace ns, in a process group of its own, killed
        by the kernel when this process ends, however it ends
        (children.die_with_parent: `ip netns exec` execs argv in place)."""
        from ..children import die_with_parent
        parent = os.getpid()
        proc = subprocess.Popen(["ip", "netns", "exec", ns, *argv],
                                start_new_session=True,
                                preexec_fn=lambda: die_with_parent(parent),
                                **kw)
        self.procs.append(proc)
        return proc

    def stop(self, *procs: subprocess.Popen, wait: float = 3.0) -> None:
        """End processes this lab started, side by side: SIGTERM, then
        SIGKILL for one that has not ended after wait seconds."""
        running = [p for p in procs if p.poll() is None]
        for proc in running:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for proc in running:
            try:
                proc.wait(wait)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                proc.wait()

    def close(self) -> None:
        """Stop every process, delete every namespace (and so every link).
        A second Ctrl-C waits until this is done."""
        signals = {signal.SIGINT, signal.SIGTERM, signal.SIGHUP}
        signal.pthread_sigmask(signal.SIG_BLOCK, signals)
        try:
            self.stop(*self.procs)
            for ns in reversed(self.names):
                subprocess.run(["ip", "netns", "del", ns],
                               capture_output=True)
            self.names.clear()
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, signals)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Terminated(KeyboardInterrupt):
    """SIGTERM/SIGHUP as an exception, so that cleanup runs and the command
    ends as after Ctrl-C (one line, status 130)."""


def cleanup_on_signals():
    """SIGTERM and SIGHUP raise, like Ctrl-C does, so try/finally cleans up;
    returns the previous handlers."""
    def raise_it(signum, _frame):
        raise _Terminated(signum)
    return {s: signal.signal(s, raise_it) for s in (signal.SIGTERM,
                                                    signal.SIGHUP)}


def restore_signals(previous: dict) -> None:
    for s, handler in previous.items():
        signal.signal(s, handler)


def python_argv(*args: str) -> list[str]:
    """`python -m fmipdissect ARGS` with this interpreter."""
    return [sys.executable, "-m", "fmipdissect", *args]


def child_env() -> dict:
    """The environment of the lab's children: they find this very
    fmipdissect, installed or not."""
    env = dict(os.environ)
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
    return env


def module_argv(module: str, *args: str) -> list[str]:
    """`python -m MODULE ARGS` with this interpreter (the lab's helpers)."""
    return [sys.executable, "-m", module, *args]


def wait_for_text(path: str, text: str, proc, timeout: float) -> bool:
    """True once file path contains text; False on timeout or when proc
    ended."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                if text in f.read():
                    return True
        except OSError:
            pass
        if proc.poll() is not None:
            return False
        time.sleep(0.02)
    return False
