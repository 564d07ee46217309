"""Where a capture's octets come from, and the buffer they are read into.

open_source() takes a path, `-` (standard input), a binary file object or
the bytes of a capture, recognises compression by content
(compressed.CODECS) and returns a Source.  The file is opened read-only and
never written; standard input and file objects given by the caller are not
closed.  ChunkBuffer reads a Source one chunk at a time (CHUNK octets,
more only for a record that is longer), so memory stays flat whatever the
capture's size.

A live source (a pipe, terminal or socket: `tcpdump -w - | fmip-lint -`)
is not waited on until a chunk is full: each refill takes what one read
returns, so every record is checked as soon as it has arrived
(docs/reliability.md, "Live input").  A caller's file object that fails
mid-stream (its read() raises, or returns more than asked) ends the
capture there, as a cut stream does: the findings so far are kept
(docs/api.md).
"""

from __future__ import annotations

import io
import os
import sys

from ..errors import InputError
from .compressed import MAGIC_MAX, Counted, detect, errors as codec_errors

CHUNK = 1 << 20                # octets read at a time
PAD = 256                      # slack after the data so fixed-offset peeks
                               # never run off the buffer (link 20 + IP 60 + 4)
SENTINEL = b"\xff" * PAD
HEAD = 24                      # octets read to recognise the format


class CaptureError(InputError):
    """The input is not a readable pcap/pcapng capture (one-line message)."""


class StreamError(Exception):
    """The compressed stream is cut or corrupt (after some good octets)."""


def _read_full(read, n: int) -> bytes:
    """Up to n octets: a pipe may deliver them in pieces."""
    head = b""
    while len(head) < n:
        more = read(n - len(head))
        if not more:
            break
        if not isinstance(more, (bytes, bytearray)):
            raise TypeError("not a binary stream")
        if len(more) > n - len(head):
            raise ValueError(f"read({n - len(head)}) returned {len(more)} "
                             f"octets")
        head += more
    return bytes(head)


def _live(f) -> bool:
    """A pipe, terminal (character device) or socket: data comes as it is
    made, and a read returns what is there."""
    import stat
    try:
        mode = os.fstat(f.fileno()).st_mode
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISCHR(mode) or stat.S_ISSOCK(mode)


def _hex(head: bytes) -> str:
    return " ".join(f"{b:02x}" for b in head[:4])


class Source:
    """The (decompressed) octets of a capture, read with readinto()."""

    def __init__(self, name: str, raw, owned: bool, size: int):
        self.name = name
        self.size = size               # octets of the file as stored, or 0
        self.compression = ""          # "gzip", "bzip2", "xz", "zstd" or ""
        self._raw = raw
        self._owned = owned
        self._stream = raw
        self._counted = None
        self._plain_read = 0
        self.live = _live(raw)
        # one read at a time from a live buffered stream: readinto waits
        # for the whole view, and so may readinto1 once the octets it holds
        # are copied; read1 returns those alone, or makes one read
        self._readinto = (self._read1 if self.live and hasattr(raw, "read1")
                          else raw.readinto)

    def open(self) -> bytes:
        """Recognise compression; return the first HEAD octets of the
        capture itself."""
        name = self.name
        try:
            head = _read_full(self._raw.read, MAGIC_MAX)
        except TypeError:
            raise CaptureError(f"{name}: not a binary file object") from None
        except ValueError as exc:            # a closed file object
            raise CaptureError(f"{name}: cannot read: {_reason(exc)}") \
                from None
        codec = detect(head)
        if codec is None:
            head += _read_full(self._raw.read, HEAD - len(head))
            self._plain_read = len(head)
            return head
        self.compression, opener = codec
        self._errors = codec_errors()
        self._counted = Counted(self._raw, head)
        try:
            self._stream = opener(self._counted)
            head = _read_full(self._stream.read, HEAD)
        except codec_errors() as exc:
            raise CaptureError(f"{name}: {self.compression}-compressed, but "
                               f"the stream cannot be read: "
                               f"{_reason(exc)}") from None
        if not head:
            raise CaptureError(f"{name}: {self.compression}-compressed, and "
                               f"empty inside")
        return head

    def _read1(self, view) -> int:
        data = self._raw.read1(len(view))
        view[:len(data)] = data
        return len(data)

    def readinto(self, view) -> int:
        if self._counted is None:
            try:
                n = self._readinto(view)
            except Exception as exc:        # the caller's object: any way
                if self._owned and not isinstance(exc, StreamError):
                    raise                   # our own file: CaptureReader's
                raise StreamError(f"reading failed ({_reason(exc)})") \
                    from None
            self._plain_read += n or 0
            return n or 0
        try:
            # one decompressed piece at a time (readinto1): a full readinto
            # would lose the good octets before a cut in the stream
            return self._stream.readinto1(view)
        except self._errors as exc:
            raise StreamError(f"{self.compression} stream cut or corrupt "
                              f"({_reason(exc)})") from None

    @property
    def bytes_read(self) -> int:
        """Octets taken from the file as stored (compressed ones if so)."""
        return self._plain_read if self._counted is None else self._counted.count

    def close(self) -> None:
        if self._stream is not self._raw:
            try:
                self._stream.close()
            except self._errors:
                pass
        if self._owned and self._raw is not None:
            self._raw.close()
        self._raw = self._stream = None


def _reason(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text.rstrip(".")


def open_source(source, name: str | None = None) -> Source:
    """A Source for a path, "-" (standard input), a binary file object or
    the bytes of a capture; CaptureError (one line) when it cannot be read."""
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
        return Source(name or "<bytes>", io.BytesIO(data), True, len(data))
    if hasattr(source, "read"):
        label = name or str(getattr(source, "name", "") or "<file object>")
        if not hasattr(source, "readinto"):
            # not through io.BufferedReader: it would drop the octets of
            # a read that fills half its view before the next one raises
            source = _Readable(source)
        return Source(label, source, False, _size(source))
    path = os.fspath(source)
    if path == "-":
        if sys.stdin is None or sys.stdin.closed:      # `<&-`
            raise CaptureError("-: standard input is closed; pipe a capture "
                               "into it (e.g. tcpdump -w - | ...)")
        stdin = sys.stdin.buffer
        if stdin.isatty():
            raise CaptureError("-: standard input is a terminal; pipe a "
                               "capture into it (e.g. tcpdump -w - | ...)")
        return Source(name or "-", stdin, False, _size(stdin))
    label = name or path
    try:
        if os.path.isdir(path):
            raise CaptureError(f"{label}: is a directory, not a capture file")
        raw = open(path, "rb", buffering=0)
    except FileNotFoundError:
        raise CaptureError(f"{label}: no such file") from None
    except PermissionError:
        raise CaptureError(f"{label}: permission denied") from None
    except OSError as exc:
        raise CaptureError(f"{label}: cannot read: {exc.strerror or exc}") from None
    return Source(label, raw, True, _size(raw))


def _size(f) -> int:
    try:
        return os.fstat(f.fileno()).st_size
    except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
        return 0


class _Readable(io.RawIOBase):
    """A file object with read() only, for io.BufferedReader."""

    def __init__(self, f):
        self._f = f

    def readable(self) -> bool:
        return True

    def readinto(self, view) -> int:
        data = self._f.read(len(view))
        if data is None:
            return None
        if len(data) > len(view):
            raise StreamError(f"read({len(view)}) returned {len(data)} "
                              f"octets")
        view[:len(data)] = data
        return len(data)


class ChunkBuffer:
    """buf[0:avail] holds the octets read and not yet consumed, then PAD
    octets of SENTINEL: a record header read past the data gives an
    impossible length, so the hot loops need no separate bounds test."""

    def __init__(self, source: Source, head: bytes):
        self.source = source
        # A plain file smaller than CHUNK gets a buffer of its size: making
        # (zeroing) 1 MiB is a millisecond of a tiny run (start-up, issue
        # 14).  Should the file be longer than at open (still being
        # written), refill goes back to CHUNK.
        known = 0 if source.compression else source.size
        self.chunk = max(min(CHUNK, known), len(head)) if known else CHUNK
        self.buf = bytearray(self.chunk + PAD)
        self.buf[:len(head)] = head
        self.avail = len(head)
        self.eof = False
        self.error = ""                 # why the stream ended early, if so

    def refill(self, pos: int, need: int = 0) -> int:
        """Keep buf[pos:avail], read more after it; return the new avail.
        need: octets the next record needs from pos (the buffer grows)."""
        buf = self.buf
        rest = self.avail - pos
        if rest:
            buf[0:rest] = buf[pos:self.avail]
        chunk = self.chunk
        size = max(chunk, need)
        if len(buf) < size + PAD:
            buf.extend(bytes(size + PAD - len(buf)))
        elif len(buf) > chunk + PAD and size == chunk and rest < chunk:
            del buf[chunk + PAD:]       # shrink after an outsized record
        avail = rest
        readinto = self.source.readinto
        with memoryview(buf) as view:
            live = self.source.live
            while avail < size and not self.eof:
                with view[avail:size] as free:
                    try:
                        n = readinto(free)
                    except StreamError as exc:
                        self.error = str(exc)
                        n = 0
                if not n:
                    self.eof = True
                    break
                avail += n
                if live and avail >= need:
                    break           # what has arrived is checked now
        self.avail = avail
        buf[avail:avail + PAD] = SENTINEL
        if avail >= size and chunk < CHUNK:
            self.chunk = CHUNK          # the file grew since it was opened
        return avail
