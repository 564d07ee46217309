"""Compressed captures: gzip, bzip2, xz and zstd, recognised by their magic
octets (never by the file name) and undone as a stream.

Each codec is a row of CODECS.  The decompressed stream is read one chunk
at a time (readinto of at most the reader's buffer), and every codec here
produces at most what is asked for per call, so a compression bomb costs
time, never memory.  The standard library serves gzip (RFC 1952, several
members), bzip2 and xz; zstd (RFC 8878) needs the `zstandard` package.
"""

from __future__ import annotations

MAGIC_MAX = 6                  # the longest magic below


class Counted:
    """The compressed octets as a file object for the codec: first the
    octets already read to recognise the format, then the source; counts
    what the codec consumed (for the progress bar)."""

    def __init__(self, raw, head: bytes):
        self._raw = raw
        self._head = head
        self.count = 0

    def read(self, size: int = -1) -> bytes:
        if self._head:
            data = self._head if size < 0 else self._head[:size]
            self._head = self._head[len(data):]
        else:
            data = self._raw.read(size) if size is None or size >= 0 \
                else self._raw.read()
        self.count += len(data)
        return data

    def readable(self) -> bool:
        return True

    @property
    def closed(self) -> bool:
        return False


class ZstdStream:
    """zstandard's stream reader, with the end of the last frame checked:
    the reader itself returns a short read on a cut stream; the frame
    walker sees whether the compressed octets stopped inside a frame."""

    def __init__(self, raw: Counted):
        try:
            import zstandard
        except ImportError:           # pragma: no cover - a dependency
            raise OSError("zstd-compressed; install the Python package "
                          "zstandard to read it") from None
        self._error = zstandard.ZstdError
        self._frames = ZstdFrames()
        raw_read = raw.read

        def read(size: int = -1) -> bytes:
            data = raw_read(size)
            self._frames.feed(data)
            return data
        raw.read = read
        self._reader = zstandard.ZstdDecompressor().stream_reader(
            raw, read_across_frames=True, closefd=False)

    def readinto1(self, view) -> int:
        try:
            n = self._reader.readinto(view)
        except self._error as exc:
            raise OSError(f"zstd: {exc}") from None
        if not n and not self._frames.at_boundary():
            raise EOFError("compressed stream ends inside a zstd frame")
        return n

    def read(self, size: int) -> bytes:
        buf = bytearray(size)
        return bytes(buf[:self.readinto1(buf)])

    def close(self) -> None:
        self._reader.close()


class ZstdFrames:
    """Follows the zstd frame layout (RFC 8878 3.1) over the compressed
    octets as they pass: frame header, blocks (3-octet headers with their
    sizes), optional checksum; skippable frames.  Only sizes are read."""

    def __init__(self):
        self._pending = b""
        self._need = 4               # octets until the next decision
        self._state = "magic"
        self._flags = 0

    def at_boundary(self) -> bool:
        return self._state == "magic" and not self._pending

    def feed(self, data: bytes) -> None:
        pos, n = 0, len(data)
        while pos < n:
            if self._state in ("body", "last-body", "skip"):
                take = min(self._need, n - pos)     # counted, not kept
                self._need -= take
                pos += take
                if not self._need:
                    self._step(b"")
                continue
            take = min(self._need - len(self._pending), n - pos)
            self._pending += data[pos:pos + take]
            pos += take
            if len(self._pending) == self._need:
                part, self._pending = self._pending, b""
                self._step(part)

    def _step(self, part: bytes) -> None:
        state = self._state
        if state == "magic":
            magic = int.from_bytes(part, "little")
            if magic & 0xFFFFFFF0 == 0x184D2A50:
                self._state, self._need = "skip-size", 4
            else:
                self._state, self._need = "descriptor", 1
        elif state == "skip-size":
            self._state, self._need = "skip", int.from_bytes(part, "little")
            if not self._need:
                self._state, self._need = "magic", 4
        elif state == "skip":
            self._state, self._need = "magic", 4
        elif state == "descriptor":
            fd = part[0]
            single = fd >> 5 & 1
            fcs = (1 if single else 0, 2, 4, 8)[fd >> 6]
            self._flags = fd
            self._need = (0 if single else 1) + (0, 1, 2, 4)[fd & 3] + fcs
            self._state = "header"
            if not self._need:
                self._state, self._need = "block", 3
        elif state == "header":
            self._state, self._need = "block", 3
        elif state == "block":
            header = int.from_bytes(part, "little")
            last, kind, size = header & 1, header >> 1 & 3, header >> 3
            body = 1 if kind == 1 else size
            self._state = "last-body" if last else "body"
            self._need = body
            if not body:
                self._after_body(last)
        elif state in ("body", "last-body"):
            self._after_body(state == "last-body")

    def _after_body(self, last: bool) -> None:
        if not last:
            self._state, self._need = "block", 3
        elif self._flags & 0x04:      # content checksum
            self._state, self._need = "skip", 4
        else:
            self._state, self._need = "magic", 4


# the codecs are imported when a capture needs them: plain captures do not
# pay for them at start-up

def _gzip(raw):
    import gzip
    return gzip.GzipFile(fileobj=raw, mode="rb")


def _bzip2(raw):
    import bz2
    return bz2.BZ2File(raw, mode="rb")


def _xz(raw):
    import lzma
    return lzma.LZMAFile(raw, mode="rb", format=lzma.FORMAT_XZ)


# (magic, name, opener: Counted -> a binary stream with read and readinto1)
CODECS = (
    (b"\x1f\x8b", "gzip", _gzip),
    (b"BZh", "bzip2", _bzip2),
    (b"\xfd7zXZ\x00", "xz", _xz),
    (b"\x28\xb5\x2f\xfd", "zstd", ZstdStream),
)


def errors() -> tuple:
    """What a codec raises on a cut or corrupt stream (lzma.LZMAError and
    zlib.error are not OSErrors; zstd's are turned into OSError)."""
    import lzma
    import zlib
    return (EOFError, OSError, lzma.LZMAError, zlib.error)


def detect(head: bytes):
    """(name, opener) of the codec whose magic starts head, or None."""
    for magic, name, opener in CODECS:
        if head.startswith(magic):
            return name, opener
    return None
