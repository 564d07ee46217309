"""A folder given as a CAPTURE: the captures below it, in a stable order.

A file counts as a capture by its content, never its name: the pcap or
pcapng magic number, or the gzip, bzip2, xz or zstd magic of a compressed
file whose first decompressed octets are a capture's.  Folders are walked
depth first, names sorted (so runs and reports are repeatable); symbolic
links to folders are not followed (no loops).  `exclude` globs drop a
file or folder whose name, or path below the walked folder, matches.
"""

from __future__ import annotations

import os

from .errors import InputError

# pcap (both byte orders, micro- and nanoseconds) and pcapng
CAPTURE_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1",
                  b"\xa1\xb2\x3c\x4d", b"\x0a\x0d\x0d\x0a")
HEAD = 64


def expand(arguments, exclude=()) -> list:
    """The CAPTURE arguments with each folder replaced by its captures."""
    out = []
    for arg in arguments:
        if arg != "-" and os.path.isdir(arg):
            found = list(walk(arg, exclude))
            if not found:
                raise InputError(f"{arg}: no pcap or pcapng capture in this "
                                 f"folder")
            out.extend(found)
        else:
            out.append(arg)
    return out


def walk(folder: str, exclude=()):
    """The captures below `folder`, sorted by name at every level."""
    from fnmatch import fnmatch

    def excluded(path: str) -> bool:
        rel = os.path.relpath(path, folder)
        name = os.path.basename(path)
        return any(fnmatch(name, g) or fnmatch(rel, g) for g in exclude)

    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs
                         if not excluded(os.path.join(top, d)))
        for name in sorted(files):
            path = os.path.join(top, name)
            if not excluded(path) and is_capture(path):
                yield path


def is_capture(path: str) -> bool:
    """A pcap or pcapng file, plain or compressed (by content)."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEAD)
            if head[:4] in CAPTURE_MAGICS:
                return True
            from .capture.compressed import detect
            if detect(head) is None:
                return False
            f.seek(0)
            return _decompressed_head(f)[:4] in CAPTURE_MAGICS
    except OSError:
        return False


def _decompressed_head(f) -> bytes:
    """The first octets of a compressed file, undone by its codec."""
    from .capture.compressed import Counted, detect, errors
    head = f.read(8)
    _, opener = detect(head)
    try:
        return opener(Counted(f, head)).read(4)
    except errors():
        return b""
