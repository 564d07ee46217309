"""Capture-reader limits under attack: a PPPoE session's LENGTH is obeyed
as tshark obeys it."""

from __future__ import annotations

import struct

from scapy.packet import Raw
from scapy.utils import wrpcap

from fmipdissect.capture.reader import CaptureReader
from fmipdissect.records import Datagram
from test_capture_encap import CASES, fbu, hi, tshark_fmip_frames


def _with_pppoe_length(frame: bytes, length: int) -> bytes:
    """The Ethernet + PPPoE frame with the session's LENGTH set."""
    return frame[:18] + struct.pack("!H", length) + frame[20:]


def test_pppoe_length_is_obeyed_like_tshark(tmp_path):
    wrap = CASES["pppoe"][1]
    frames = []
    for p in (fbu(), hi()):
        whole = bytes(wrap(p))
        true_length = len(whole) - 20
        frames += [_with_pppoe_length(whole, 5),
                   _with_pppoe_length(whole, true_length - 1),
                   _with_pppoe_length(whole, true_length)]
    path = tmp_path / "pppoe.pcap"
    wrpcap(str(path), [Raw(f) for f in frames], linktype=1)
    for prefilter in (True, False):
        with CaptureReader(str(path), prefilter=prefilter) as reader:
            found = [d.frame for d in reader if isinstance(d, Datagram)]
        assert found == [2, 3, 5, 6]     # the IPv4 header in the session
    assert tshark_fmip_frames(str(path)) == 4
