"""Records of the multi-capture stage: one IP datagram and where it was seen.

`fmipdissect handovers --merge` reads several captures of one network (one
per vantage point: MN, PAR, NAR, CN).  The merge stage (correlate/merge.py)
recognises the same IPv4 datagram in several captures (its IP header's
source, destination, protocol and Identification, and a digest of its
payload; a copy inside a PAR-to-NAR tunnel is the same datagram) and hands
each datagram on once, as a SeenDatagram with one Observation per sighting,
times already on the reference clock (correlate/clocks.py).  The handover
assembly reads the FMIPv4 ones; the data plane (handovers/dataplane.py)
reads the MN's traffic.
"""

from __future__ import annotations

from ..plain import Record


class Observation(Record):
    """One sighting of a datagram in one capture."""

    __slots__ = _fields = (
        "vantage",      # the capture's name (NAME= or the file's stem)
        "frame",        # 1-based frame number in that capture
        "time",         # seconds since the epoch, on the reference clock
        "tunnel",       # (outer src, outer dst) when seen inside an IP-in-IP
                        # or GRE tunnel, else None
    )
    _defaults = {"tunnel": None}


class SeenDatagram(Record):
    """One IPv4 datagram and every sighting of it, in time order."""

    __slots__ = _fields = (
        "src",          # inner (end-to-end) IPv4 source, dotted quad
        "dst",
        "proto",        # 1 ICMP, 6 TCP, 17 UDP, ...
        "ident",        # IP Identification
        "sport",        # TCP/UDP ports, else None
        "dport",
        "seq",          # (flow, sequence number) where the flow numbers its
                        # packets (wire/testflow.py, RTP, TCP), else None
        "size",         # IP total length
        "observations", # [Observation], ascending time
        "datagram",     # the records.Datagram of an FMIPv4 message (first
                        # sighting), else None
    )
    _defaults = {"sport": None, "dport": None, "seq": None, "size": 0,
                 "datagram": None}
    _new_list = ("observations",)

    @property
    def first(self) -> Observation:
        return self.observations[0]
