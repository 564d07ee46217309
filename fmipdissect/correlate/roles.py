"""Which capture is whose: the MN's, PAR's, NAR's or the CN's.

A capture named mn, par, nar or cn (NAME= or the file's stem) has that
role.  The others are inferred once the clocks are known: the capture that
saw a message first is its sender's (RFC 4988 4.1, 4.2: the MN sends
RtSolPr and FBU, PAR sends PrRtAdv, HI and FBAck, NAR sends HAck and passes
a reactive FBU on; the test flow's downlink comes from the CN, its uplink
from the MN).  Each capture takes the role most of its first sightings
vote for.

The FMIPv4 messages also give the mobile nodes' addresses (every address
in their IP headers and address fields): the merge keeps the datagrams
from or to them, the data plane's traffic.
"""

from __future__ import annotations

from collections import Counter

from ..decode.decoder import decode_datagram
from ..spec import protocol as P
from ..spec.numbers import IPPROTO_UDP
from ..wire.ipv4 import inet_ntoa
from ..wire import testflow
from .state import FORWARDED, classify_fbu

ROLE_NAMES = ("mn", "par", "nar", "cn")
_SENDERS = {"rtsolpr": "mn", "prrtadv": "par", "hi": "par", "fback": "par",
            "hack": "nar"}
_FLOW_SENDERS = {testflow.FLOW_DOWN: "cn", testflow.FLOW_UP: "mn"}
MAX_SAMPLES = 2_000       # first sightings kept for the vote
MULTICAST = 224 << 24     # 224.0.0.0: group addresses are no node's


def _number(addr: str) -> int:
    a, b, c, d = map(int, addr.split("."))
    return a << 24 | b << 16 | c << 8 | d


def sender(msg, dgram):
    """The role of the node that sent this FMIPv4 message."""
    if msg.key == "fbu":
        return "nar" if classify_fbu(dgram.src, dgram.dst, msg) == FORWARDED \
            else "mn"
    return _SENDERS.get(msg.key)


def registration_addresses(dgram) -> list:
    """The two ends of a Mobile IP registration on port 434 and the
    addresses its Home Address, Home Agent and Care-of Address fields name
    (P.REGISTRATION_LAYOUTS); the two ends of any other datagram."""
    found = [dgram.src, dgram.dst]
    payload = dgram.payload
    layout = P.REGISTRATION_LAYOUTS.get(payload[0]) if payload else None
    for field in layout.fields if layout is not None else ():
        end = field.offset + field.size
        if field.kind == "ipv4" and len(payload) >= end:
            found.append(inet_ntoa(payload[field.offset:end]))
    return found


class Roles:
    def __init__(self, names, lla_length: int):
        self.names = list(names)
        self.lla_length = lla_length
        self.samples: list = []           # (role, [[vantage, first, last]])
        self.addresses: set[int] = set()     # IPv4 addresses as ints

    def learn(self, dgram):
        """An FMIPv4 candidate as soon as it is read: its addresses join
        the set (the reader keeps their traffic from then on); the
        decoded message or None.  Another Mobile IP message on port 434
        (a Registration, RFC 5944 3.3, 3.4: the re-registration of an MN
        without fast handovers) names its two ends."""
        msg = decode_datagram(dgram, self.lla_length)
        if msg is not None:
            self._addresses(msg, dgram)
        elif dgram.proto == IPPROTO_UDP:
            self._add(registration_addresses(dgram))
        return msg

    def sighted(self, item, seen) -> None:
        """One datagram of pass 1 (a Sighting and where it was seen)."""
        if len(self.samples) >= MAX_SAMPLES:
            return
        if item[9]:
            dgram = item[9][0]
            msg = decode_datagram(dgram, self.lla_length)
            if msg is None:
                return
            role = sender(msg, dgram)
        else:
            role = _FLOW_SENDERS.get(item[7][0])
        if role is not None:
            self.samples.append((role, seen))

    def _addresses(self, msg, dgram) -> None:
        found = [dgram.src, dgram.dst, msg.homeaddr, msg.coa]
        found += [e.addr for e in msg.elements if e.kind == "ipv4addr"]
        self._add(found)

    def _add(self, found) -> None:
        for addr in found:
            if addr:
                number = _number(addr)
                if 0 < number < MULTICAST:
                    self.addresses.add(number)

    def resolve(self, clocks) -> dict:
        """{vantage name: role or None}."""
        votes = [Counter() for _ in self.names]
        for role, seen in self.samples:
            usable = [(clocks[v].align(first), v) for v, first, _ in seen
                      if clocks[v] is not None]
            if usable:
                votes[min(usable)[1]][role] += 1
        out = {}
        for name, vote in zip(self.names, votes):
            if name in ROLE_NAMES:
                out[name] = name
            else:
                out[name] = vote.most_common(1)[0][0] if vote else None
        return out

    def keep(self):
        """keep(addrs8) for MergedStream: from or to a known address."""
        addresses = self.addresses
        number = int.from_bytes

        def keep(addrs8: bytes) -> bool:
            return (number(addrs8[:4], "big") in addresses
                    or number(addrs8[4:], "big") in addresses)
        return keep
