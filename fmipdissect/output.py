"""The one output rule of every command (docs/reliability.md, "Outputs"):

- `-` is standard output;
- a character device, FIFO or socket is written directly (opened, never
  replaced: `-o /dev/null` as root must not replace /dev/null);
- a regular file (or a new name) is written to a temporary file in the
  same folder, fsync'ed and renamed over the target only once complete,
  so a failed, interrupted or out-of-space run leaves the old file whole;
- a folder, a missing or unwritable folder, or the same file as an input
  (os.path.samefile: hard and symbolic links included) is a one-line
  InputError (exit status 2), found by check_target before the work starts.

A write that fails for want of space (ENOSPC, EDQUOT, EFBIG under
RLIMIT_FSIZE) or on an I/O error becomes an InputError too: one line, not
an "internal error".
"""

from __future__ import annotations

import errno
import os
import stat
import sys

from .errors import InputError

# errnos of a write that the user can do something about (space, quota, size
# limit, device): reported as one line, exit status 2
WRITE_ERRNOS = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO,
                          errno.EROFS, errno.EPIPE})


def same_file(a: str, b: str) -> bool:
    """True when paths a and b name one file (links of any kind too)."""
    try:
        return os.path.samefile(a, b)
    except (OSError, ValueError):
        return os.path.abspath(a) == os.path.abspath(b)


def _special(path: str) -> bool:
    """An existing character device, FIFO or socket: written directly."""
    try:
        mode = os.stat(path).st_mode
    except (OSError, ValueError):
        return False
    return stat.S_ISCHR(mode) or stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def check_target(path: str, what: str, option: str = "",
                 inputs=()) -> None:
    """Before any work: InputError (one line) when `path` cannot take the
    output of `what`, or is one of the `inputs` (never overwritten)."""
    if path == "-":
        return
    label = f"{option} {path}" if option else f"{what} {path}"
    for source in inputs:
        if source != "-" and same_file(path, source):
            raise InputError(f"{label}: is the input {source}; refusing to "
                             f"overwrite it")
    if os.path.isdir(path):
        raise InputError(f"{label}: is a directory")
    if _special(path):
        if not os.access(path, os.W_OK):
            raise InputError(f"{label}: permission denied")
        return
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise InputError(f"{label}: no such directory {folder}")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise InputError(f"{label}: cannot write in {folder}: permission "
                         f"denied")


def write_error(exc: OSError, what: str, path: str) -> InputError | None:
    """The one-line error for a failed write, or None for another OSError."""
    if exc.errno not in WRITE_ERRNOS:
        return None
    return InputError(f"cannot write {what} {path}: "
                      f"{exc.strerror or exc}; nothing was replaced")


def _mode_for(path: str) -> int:
    """Keep an existing file's permissions; a new one gets the umask's."""
    try:
        return os.stat(path).st_mode & 0o7777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


class atomic_output:
    """`with atomic_output(path) as f`: a file object for `path` under the
    module's rule.  (A class: contextlib is not imported for it, start-up.)"""

    def __init__(self, path: str, binary: bool = False, what: str = "output"):
        self.path = path
        self.binary = binary
        self.what = what
        self.tmp = self.file = None

    def _open(self, fd: int):
        if self.binary:
            return open(fd, "wb")
        # a name that was not UTF-8 (surrogates) never stops a report
        return open(fd, "w", encoding="utf-8", errors="backslashreplace",
                    newline="")

    def __enter__(self):
        path, what = self.path, self.what
        if path == "-":
            return sys.stdout.buffer if self.binary else sys.stdout
        check_target(path, what)
        if _special(path):
            try:
                self.file = self._open(os.open(path, os.O_WRONLY))
            except OSError as exc:
                raise InputError(f"cannot write {what} {path}: "
                                 f"{exc.strerror or exc}") from None
            return self.file
        import tempfile                 # here: start-up
        directory = os.path.dirname(os.path.abspath(path))
        try:
            fd, self.tmp = tempfile.mkstemp(
                dir=directory, suffix=".tmp",
                prefix="." + os.path.basename(path) + ".")
        except OSError as exc:
            raise InputError(f"cannot write {what} {path}: "
                             f"{exc.strerror or exc}") from None
        try:
            self.file = self._open(fd)
        except BaseException:
            os.close(fd)
            self._discard()
            raise
        return self.file

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.file is None:
            return False
        try:
            if exc_type is None:
                self._finish()
                return False
        except OSError as failed:
            self._abandon()
            error = write_error(failed, self.what, self.path)
            if error is None:
                raise
            raise error from None
        except BaseException:
            self._abandon()
            raise
        self._abandon()
        if isinstance(exc, OSError):
            error = write_error(exc, self.what, self.path)
            if error is not None:
                raise error from None
        return False

    def _finish(self) -> None:
        """Flush, fsync and rename over the target (regular files)."""
        f = self.file
        f.flush()
        if self.tmp is None:            # a device, FIFO or socket
            f.close()
            return
        os.fsync(f.fileno())
        f.close()
        os.chmod(self.tmp, _mode_for(self.path))
        os.replace(self.tmp, self.path)
        self.tmp = None

    def _abandon(self) -> None:
        """Close without keeping anything (the temporary file goes)."""
        try:
            self.file.close()
        except (OSError, ValueError):
            pass
        self._discard()

    def _discard(self) -> None:
        if self.tmp is None:
            return
        try:
            os.unlink(self.tmp)
        except OSError:
            pass
        self.tmp = None
