"""Routes and links through rtnetlink (rtnetlink(7)), for the changes the
lab makes in the middle of a handover: PAR's route of the PCoA into the
tunnel right after the FBAck, the moving MN's links going down and up and
its default route (decision D22).  `ip` would take milliseconds to start;
a netlink message takes microseconds, so no packet of the test flow goes
to the old link after the MN heard its FBAck, and the layer-2 gap is the
gap asked for."""

from __future__ import annotations

import os
import socket
import struct

RTM_NEWLINK, RTM_NEWROUTE, RTM_DELROUTE = 16, 24, 25     # <linux/rtnetlink.h>
RTM_NEWNEIGH, NDA_DST, NDA_LLADDR, NUD_PERMANENT = 28, 1, 2, 0x80
NLMSG_ERROR = 2
IFF_UP = 0x1
RTNH_F_ONLINK = 0x4
RT_SCOPE_UNIVERSE = 0
NLM_F_REQUEST, NLM_F_ACK = 0x1, 0x4
NLM_F_REPLACE, NLM_F_CREATE = 0x100, 0x400
RT_TABLE_MAIN, RTPROT_STATIC, RT_SCOPE_LINK, RTN_UNICAST = 254, 4, 253, 1
RTA_DST, RTA_OIF, RTA_GATEWAY = 1, 4, 5
_HEADER = struct.Struct("=IHHII")
_RTMSG = struct.Struct("=BBBBBBBBI")
_IFINFOMSG = struct.Struct("=BxHiII")
_NDMSG = struct.Struct("=BxxxiHBB")


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

    def _route(self, kind: int, flags: int, dst: str, dev: str,
               gateway: str | None = None, table: int = RT_TABLE_MAIN):
        """dst: an address (/32) or "default" (through gateway, on-link)."""
        oif = _attr(RTA_OIF, struct.pack("=i", socket.if_nametoindex(dev)))
        if dst == "default":
            body = _RTMSG.pack(socket.AF_INET, 0, 0, 0, table,
                               RTPROT_STATIC, RT_SCOPE_UNIVERSE, RTN_UNICAST,
                               RTNH_F_ONLINK) + oif \
                + _attr(RTA_GATEWAY, socket.inet_aton(gateway))
        else:
            body = _RTMSG.pack(socket.AF_INET, 32, 0, 0, table,
                               RTPROT_STATIC, RT_SCOPE_LINK, RTN_UNICAST,
                               0) + _attr(RTA_DST, socket.inet_aton(dst)) \
                + oif
        self._request(kind, flags, body)

    def _request(self, kind: int, flags: int, body: bytes) -> None:
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

    def replace(self, dst: str, dev: str, gateway: str | None = None,
                table: int = RT_TABLE_MAIN) -> None:
        self._route(RTM_NEWROUTE, NLM_F_CREATE | NLM_F_REPLACE, dst, dev,
                    gateway, table)

    def delete(self, dst: str, dev: str, table: int = RT_TABLE_MAIN):
        self._route(RTM_DELROUTE, 0, dst, dev, table=table)

    def link(self, dev: str, up: bool) -> None:
        """The interface administratively up or down (ip link set)."""
        self._request(RTM_NEWLINK, 0, _IFINFOMSG.pack(
            socket.AF_UNSPEC, 0, socket.if_nametoindex(dev),
            IFF_UP if up else 0, IFF_UP))


    def neighbour(self, dev: str, addr: str, lla: str) -> None:
        """A permanent neighbour entry (ip neigh replace ... nud permanent);
        taking a link down removes even those, so the MN sets them again
        each time it brings a link up."""
        self._request(RTM_NEWNEIGH, NLM_F_CREATE | NLM_F_REPLACE, _NDMSG.pack(
            socket.AF_INET, socket.if_nametoindex(dev), NUD_PERMANENT, 0, 1)
            + _attr(NDA_DST, socket.inet_aton(addr))
            + _attr(NDA_LLADDR, bytes.fromhex(lla.replace(":", ""))))

    def close(self) -> None:
        self.sock.close()
