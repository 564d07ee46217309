"""The test flow: constant-rate UDP packets that number themselves.

`fmipdissect gen --vantage` and `fmipdissect lab --traffic` send it between
a correspondent node (CN) and the mobile node, one flow per direction; the
data-plane analysis of `fmipdissect handovers` reads its sequence numbers to
count lost, reordered and duplicated packets (decision D20).  The layout
follows the OWAMP test packet (RFC 4656 4.1.2): a sequence number and the
sender's time, then padding up to the chosen size.

    0      4      8       12            20
    +------+------+-------+-------------+--------
    | FMTF | flow | seq   | sent (ns)   | zero padding ...
    +------+------+-------+-------------+--------

All fields are in network byte order.  `flow` tells the directions apart
(FLOW_DOWN: CN to MN, FLOW_UP: MN to CN); `sent` is nanoseconds since the
epoch on the sender's clock.
"""

from __future__ import annotations

import struct

MAGIC = b"FMTF"
HEADER = struct.Struct("!4sIIQ")
HEADER_SIZE = HEADER.size          # 20 octets
DEFAULT_PORT = 9434                # UDP port of both ends (not 434: no MIP)
FLOW_DOWN = 1                      # CN -> MN
FLOW_UP = 2                        # MN -> CN
DEFAULT_SIZE = 64                  # UDP payload octets


def build(flow: int, seq: int, sent_ns: int, size: int = DEFAULT_SIZE) -> bytes:
    """One test-flow UDP payload of `size` octets (at least HEADER_SIZE)."""
    head = HEADER.pack(MAGIC, flow, seq & 0xFFFFFFFF, sent_ns)
    return head + bytes(max(0, size - HEADER_SIZE))


def parse(payload: bytes):
    """(flow, seq, sent_ns) of a test-flow payload, or None if it is not one."""
    if len(payload) < HEADER_SIZE or payload[:4] != MAGIC:
        return None
    _, flow, seq, sent = HEADER.unpack_from(payload)
    return flow, seq, sent
