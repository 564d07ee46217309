"""What the Python API accepts as a capture, made into what the capture
reader reads (docs/api.md).

    capture_input(source, name=None) -> CaptureInput(data, name)

`source` is one of

- a path (str or os.PathLike; "-" is standard input),
- a binary file object (open(..., "rb"), io.BytesIO, a socket's makefile),
- the bytes of a capture (bytes, bytearray, memoryview),
- Scapy packets: a Packet, a PacketList or any iterable of Packets
  (rdpcap(), sniff(), a list built by hand).  They are written to an
  in-memory pcap stream with Scapy's own writer, time stamps included.

`data` is then a path, a binary file object or bytes, which
capture.reader.CaptureReader (and its open_source) reads, plain or
compressed; `name` is what findings and records show as their "file".
Scapy is imported only when packets are given (and so already imported by
the caller): `import fmipdissect` stays light.
"""

from __future__ import annotations

import io
import os
import sys
from typing import NamedTuple

from .errors import InputError


class CaptureInput(NamedTuple):
    data: object     # a path, a binary file object or bytes
    name: str        # the display name ("file" of findings and records)


def _scapy_packet_class():
    """Scapy's Packet class if Scapy is loaded, else None (no import)."""
    module = sys.modules.get("scapy.packet")
    return getattr(module, "Packet", None)


def capture_input(source, name: str | None = None) -> CaptureInput:
    """Normalise an API `source` (module docstring); TypeError for anything
    else, InputError for an empty packet list or mixed link types."""
    if isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        return CaptureInput(path, name or path)
    if isinstance(source, (bytes, bytearray, memoryview)):
        return CaptureInput(bytes(source), name or "<bytes>")
    if hasattr(source, "read"):
        if isinstance(source, io.TextIOBase):
            raise TypeError("a text file object: open the capture in binary "
                            "mode ('rb')")
        label = getattr(source, "name", None)
        return CaptureInput(source, name or (label if isinstance(label, str)
                                             else "<file object>"))
    packet = _scapy_packet_class()
    if packet is not None and isinstance(source, packet):
        source = [source]
    if packet is not None and hasattr(source, "__iter__"):
        return CaptureInput(packets_to_pcap(source, packet),
                            name or "<packets>")
    raise TypeError(f"cannot read a capture from {type(source).__name__}: "
                    f"give a path, a binary file object, bytes or Scapy "
                    f"packets")


def packets_to_pcap(packets, packet_class) -> io.BytesIO:
    """Scapy packets as an in-memory pcap (nanosecond stamps), rewound."""
    from scapy.config import conf
    from scapy.utils import PcapWriter
    out = io.BytesIO()
    writer = None
    linktype = None
    for p in packets:
        if not isinstance(p, packet_class):
            raise TypeError(f"not a Scapy packet: {type(p).__name__}")
        kind = conf.l2types.layer2num.get(type(p))
        if writer is None:
            linktype = kind
            writer = PcapWriter(out, nano=True, linktype=linktype, sync=False)
        elif kind != linktype:
            raise InputError(f"packets of several link types ({type(p).__name__} "
                             f"after link type {linktype}); a pcap holds one: "
                             f"check them separately")
        writer.write(p)
    if writer is None:
        raise InputError("no packets given")
    writer.flush()
    out.seek(0)
    return out
