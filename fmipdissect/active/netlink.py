"""Host routes through rtnetlink (rtnetlink(7)), for the one change the
lab's PAR makes in the middle of a handover: the PCoA into the tunnel right
after the FBAck (decision D22).  `ip route` would take milliseconds to
start; a netlink message takes microseconds, so no packet of the test flow
goes to the old link after the MN heard its FBAck and left."""

from __future__ import annotations

import os
import socket
import struct

RTM_NEWROUTE, RTM_DELROUTE, NLMSG_ERROR = 24, 25, 2       # <linux/rtnetlink.h>
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLM_F_REPLACE, NLM_F_CREATE = 0x100, 0x400
RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_LINK, RTN_UNICAST = 254, 4, 253, 1
RTA_DST, RTA_OIF = 1, 4
_HEADER = struct.Struct("=IHHII")
_RTMSG = struct.Struct("=BBBBBBBBI")


def _attr(kind: int, value: bytes) -> bytes:
    length = 4 + len(value)
    return struct.pack("=HH", length, kind) + value + bytes(-length % 4)


class Routes:
    """Replace or delete /32 routes out of a device, synchronously."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW,
                                  socket.NETLINK_ROUTE)
        self.sock.bind((0, 0))
        self.seq = 0

    def _request(self, kind: int, flags: int, dst: str, dev: str) -> None:
        body = _RTMSG.pack(socket.AF_INET, 32, 0, 0, RT_TABLE_MAIN,
                           RTPROT_STATIC, RT_SCOPE_LINK, RTN_UNICAST, 0) \
            + _attr(RTA_DST, socket.inet_aton(dst)) \
            + _attr(RTA_OIF, struct.pack("=i", socket.if_nametoindex(dev)))
        self.seq += 1
        self.sock.send(_HEADER.pack(_HEADER.size + len(body), kind,
                                    NLM_F_REQUEST | NLM_F_ACK | flags,
                                    self.seq, 0) + body)
        while True:
            reply = self.sock.recv(65536)
            _, rtype, _, seq, _ = _HEADER.unpack_from(reply)
            if rtype == NLMSG_ERROR and seq == self.seq:
                error = struct.unpack_from("=i", reply, _HEADER.size)[0]
                if error:
                    raise OSError(-error, os.strerror(-error))
                return

    def replace(self, dst: str, dev: str) -> None:
        self._request(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, dst, dev)

    def delete(self, dst: str, dev: str) -> None:
        self._request(RTM_DELROUTE, 0, dst, dev)

    def close(self) -> None:
        self.sock.close()
