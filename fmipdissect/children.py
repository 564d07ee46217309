"""Child processes that end when their parent ends, however it ends
(docs/reliability.md, "Processes").

Linux's PR_SET_PDEATHSIG (prctl(2)) has the kernel send a child SIGKILL
when the thread that made it exits: a `fmip-lint -j N` killed with SIGKILL,
or by SIGPIPE, leaves no worker behind under PID 1 holding its pipes.  A
clean end (SIGTERM, SIGINT, a broken pipe) terminates the pool from the
`with` block.  Elsewhere prctl is missing and only the clean end applies.
"""

from __future__ import annotations

import os
import signal

PR_SET_PDEATHSIG = 1          # <linux/prctl.h>


def die_with_parent(expected_parent: int | None = None) -> None:
    """In a child: SIGKILL when the parent goes; exit at once if it has
    gone already (between fork and this call)."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        return
    if expected_parent is not None and os.getppid() != expected_parent:
        os._exit(1)


_PARENT_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _init_worker(parent: int) -> None:
    """The parent decides: a worker ignores SIGINT (the terminal sends it
    to the whole group) and dies of SIGTERM (pool.terminate()); the two
    were blocked across the fork, so none arrived with the parent's
    handlers in place."""
    die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, _PARENT_SIGNALS)


class worker_pool:
    """`with worker_pool(n) as pool`: a multiprocessing Pool whose workers
    die with this process, terminated (not awaited) when the block ends."""

    def __init__(self, processes: int):
        self.processes = processes
        self.pool = None

    def __enter__(self):
        import multiprocessing
        # SIGINT and SIGTERM wait (blocked) while the workers are forked;
        # one that came meanwhile is delivered to the parent right after
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, _PARENT_SIGNALS)
        try:
            self.pool = multiprocessing.get_context("fork").Pool(
                self.processes, initializer=_init_worker,
                initargs=(os.getpid(),))
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        return self.pool

    def __exit__(self, exc_type, exc, tb) -> bool:
        if exc_type is None:
            self.pool.close()
        else:
            self.pool.terminate()
        self.pool.join()
        return False


def private_folder(prefix: str) -> str:
    """A new temporary folder `PREFIX<pid>-xxxx`, mode 0700, after removing
    the folders of that prefix whose process is gone (a run killed with
    SIGKILL cannot clean up; the next one does)."""
    import shutil
    import tempfile
    base = tempfile.gettempdir()
    try:
        names = os.listdir(base)
    except OSError:
        names = []
    for name in names:
        pid = name[len(prefix):].split("-", 1)[0]
        if name.startswith(prefix) and pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(os.path.join(base, name), ignore_errors=True)
    return tempfile.mkdtemp(prefix=f"{prefix}{os.getpid()}-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class ignored_sigpipe:
    """SIGPIPE ignored inside the block (writes raise BrokenPipeError),
    restored after it."""

    def __enter__(self):
        self.saved = signal.signal(signal.SIGPIPE, signal.SIG_IGN)

    def __exit__(self, exc_type, exc, tb) -> bool:
        signal.signal(signal.SIGPIPE, self.saved)
        return False
