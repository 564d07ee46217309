"""Streaming reading of pcap and pcapng captures.

CaptureReader reads a capture chunk by chunk (never the whole file in
memory, never writing to it) from a path, `-` (standard input), a binary
file object or bytes, plain or compressed (source.py, compressed.py), and
yields, in frame order:

- records.Datagram for every IPv4 datagram that may carry FMIPv4
  (prefilter.carries_fmip), found through the link layers and tunnels of
  linklayer.py, reassembled from fragments (fragments.py) when need be;
- records.CaptureNote for problems of the capture itself (rules
  capture-truncated, fragment-not-reassembled and packet-clipped of the
  registry).

Two paths find the datagrams.  The fast path (prefilter=True, the default)
looks at a few octets of each record at fixed offsets straight in the read
buffer (prefilter.py, the hot loops of pcap.py and pcapng.py) and builds
objects only for the few frames that pass.  The reference path
(prefilter=False) hands every frame to the full parser (datagrams.py); it
is the obviously-correct reference the tests hold the fast path against.
Both use the same candidate test and the same layer walk, so the fast path
keeps a superset of what the full parser accepts.
"""

from __future__ import annotations

from collections.abc import Iterator

from ..records import CaptureNote, Datagram
from ..spec.rules import RULES_BY_NAME, say
from .pcap import PcapRecords, header as pcap_header
from .datagrams import FrameParser
from .linklayer import LINKTYPE_NAMES
from .source import ChunkBuffer, CaptureError, open_source

__all__ = ["CaptureError", "CaptureReader", "LINKTYPE_NAMES"]

RULE_TRUNCATED = RULES_BY_NAME["capture-truncated"].id


def _hex4(head: bytes) -> str:
    return " ".join(f"{b:02x}" for b in head[:4])


class CaptureReader:
    """Iterate a capture's FMIPv4 candidate datagrams and capture notes.

    source: a path, "-" for standard input, a binary file object or the
    bytes of a capture; name: how messages call it (default: the path).
    """

    def __init__(self, source, *, prefilter: bool = True,
                 name: str | None = None, replies: set | None = None,
                 clock: bool = False):
        """replies: the UDP ports of replies awaited on other ports than 434
        (decision D16), a set its owner keeps up to date while reading.
        clock: live input, where a pcapng Interface Statistics Block is a
        tick of the wall clock (records.Clock)."""
        self.prefilter = prefilter
        self.clock = clock
        self.frames = 0
        self.format = ""
        self.compression = ""
        self.linktypes: set[int] = set()
        self.unsupported_linktypes: set[int] = set()
        self.pending: list = []            # records of the block just read
        self.parser = FrameParser()
        if replies is not None:
            self.parser.fragments.replies = replies
        self._iter = None
        self._bytes_read = 0
        self._source = None
        self._source = open_source(source, name)
        self.path = self.name = self._source.name
        self.size = self._source.size
        try:
            head = self._source.open()
            self.compression = self._source.compression
            records, start = self._detect(head)
        except CaptureError:
            self.close()
            raise
        except OSError as exc:
            self.close()
            raise CaptureError(f"{self.name}: cannot read: "
                               f"{exc.strerror or exc}") from None
        self.buffer = ChunkBuffer(self._source, head[start:])
        self._records = records

    def _detect(self, head: bytes):
        """The format's record reader and where its records start."""
        name = self.name
        if self.compression:
            name += f": {self.compression}-compressed"
        if not head:
            raise CaptureError(f"{name}: empty file, not a capture")
        try:
            found = pcap_header(head)
            if found is not None:
                self.format = "pcap"
                return PcapRecords(self, *found), 24
            from . import pcapng     # not for a pcap file (start-up)
            endian = pcapng.header(head)
        except ValueError as exc:
            raise CaptureError(f"{name}: {exc}") from None
        if endian is not None:
            self.format = "pcapng"
            return pcapng.PcapngBlocks(self, endian), 0
        raise CaptureError(f"{name}: not a pcap or pcapng file"
                           f"{' inside' if self.compression else ''} "
                           f"(starts with {_hex4(head)})")

    @property
    def bytes_read(self) -> int:
        """Octets read from the file as stored (for a progress bar)."""
        if self._source is not None:
            self._bytes_read = self._source.bytes_read
        return self._bytes_read

    def close(self) -> None:
        if self._source is not None:
            self._bytes_read = self._source.bytes_read
            self._source.close()
            self._source = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __iter__(self) -> Iterator[Datagram | CaptureNote]:
        if self._iter is None:
            self._iter = iter(self._records) if self._source is not None \
                else iter(())
        return self._iter

    # -- notes, for the format readers ---------------------------------------

    def _note(self, message: str, time: float | None = None) -> CaptureNote:
        return CaptureNote(self.frames,
                           self.parser.last_time if time is None else time,
                           RULE_TRUNCATED, say(RULE_TRUNCATED,
                                               problem=message))

    def note(self, message: str) -> None:
        """A problem of the capture that does not stop reading."""
        self.pending.append(self._note(message))

    def corrupt(self, message: str) -> int:
        """Reading stops here (pcapng blocks: the records go to pending)."""
        from .pcapng import STOP
        self.pending.extend(self.parser.fragments.flush())
        self.pending.append(self._note(message + "; reading stopped"))
        return STOP

    def stop(self, message: str):
        yield from self.parser.fragments.flush()
        yield self._note(message + "; reading stopped")

    def end(self, cut):
        """The end of the data: open fragment sets, then the cut record
        ((message, time) or None) and a stream that ended early."""
        yield from self.parser.fragments.flush()
        error = self.buffer.error
        if cut is None and not error:
            return
        if cut is None:
            message, time = f"reading stopped after frame {self.frames}", None
        else:
            message, time = cut
        if error:
            message = f"{error}; {message}"
        yield self._note(message, time)
