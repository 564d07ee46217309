"""Where a report or an annotated capture goes: standard output, or a file
written atomically (a temporary file beside it, renamed over it at the end),
so a reader of FILE never sees half a report and an earlier FILE survives a
run that fails before it has anything to say."""

from __future__ import annotations

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


class atomic_output:
    """`with atomic_output(path) as f`: a file object for `path` that
    replaces `path` only when the block ends without an exception.  `-` is
    standard output.  (A class: contextlib is not imported for it, start-up.)"""

    def __init__(self, path: str, binary: bool = False, what: str = "output"):
        self.path = path
        self.binary = binary
        self.what = what
        self.tmp = self.file = None

    def __enter__(self):
        path, what = self.path, self.what
        if path == "-":
            return sys.stdout.buffer if self.binary else sys.stdout
        if os.path.isdir(path):
            raise InputError(f"{what} {path}: is a directory")
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
            self.file = (open(fd, "wb") if self.binary
                         else open(fd, "w", encoding="utf-8", newline=""))
        except BaseException:
            os.close(fd)
            self._discard()
            raise
        return self.file

    def __exit__(self, exc_type, exc, tb) -> bool:
        if self.tmp is None:
            return False
        try:
            self.file.close()
            if exc_type is None:
                os.chmod(self.tmp, _mode_for(self.path))
                os.replace(self.tmp, self.path)
                return False
        except BaseException:
            self._discard()
            raise
        self._discard()
        return False

    def _discard(self) -> None:
        try:
            os.unlink(self.tmp)
        except OSError:
            pass
