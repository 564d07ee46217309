"""Where a report or an annotated capture goes: standard output, or a file
written atomically (a temporary file beside it, renamed over it at the end),
so a reader of FILE never sees half a report and an earlier FILE survives a
run that fails before it has anything to say."""

from __future__ import annotations

import contextlib
import os
import sys

from ...errors import InputError


def same_file(a: str, b: str) -> bool:
    """True when paths a and b name one file (also through links)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _mode_for(path: str) -> int:
    """Keep an existing file's permissions; a new one gets the umask's."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


@contextlib.contextmanager
def atomic_output(path: str, binary: bool = False, what: str = "output"):
    """Yield a file object for `path`; it replaces `path` only when the
    block ends without an exception.  `-` is standard output."""
    if path == "-":
        yield sys.stdout.buffer if binary else sys.stdout
        return
    if os.path.isdir(path):
        raise InputError(f"{what} {path}: is a directory")
    import tempfile                 # here: start-up (issue 14)
    directory = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, suffix=".tmp",
                                   prefix="." + os.path.basename(path) + ".")
    except OSError as exc:
        raise InputError(f"cannot write {what} {path}: "
                         f"{exc.strerror or exc}") from None
    try:
        with (open(fd, "wb") if binary
              else open(fd, "w", encoding="utf-8", newline="")) as f:
            yield f
        os.chmod(tmp, _mode_for(path))
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
