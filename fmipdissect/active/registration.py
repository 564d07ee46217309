"""Mobile IPv4 registration (RFC 5944 3.3-3.5) as the lab's baseline uses
it: the MN, back from a move without a fast handover, registers its new
care-of address with PAR, which stands in as its home agent for the PCoA
(decision D22); at home again it deregisters (Lifetime 0, 3.6.1.1).

    Request: Type 1, flags, Lifetime, Home Address, Home Agent,
             Care-of Address, Identification (8 octets), extensions
    Reply:   Type 3, Code, Lifetime, Home Address, Home Agent,
             Identification, extensions

Movement detection (2.4.2): NAR, as a foreign agent, broadcasts an Agent
Advertisement (ICMP type 9 with the Mobility Agent Advertisement
Extension, 2.1.1) once a second; the MN registers when it hears one
offering NAR as its care-of address.

Both registration messages carry the Mobile-Home Authentication Extension (Type 32, 3.5.2),
computed as the MN-PAR authenticator is (decision D5): over the message
and the extension's Type, Length and SPI.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from ..wire.checksum import mn_par_authenticator

REQUEST, REPLY = 1, 3                  # RFC 5944 3.3, 3.4
AGENT_ADVERTISEMENT = 9                # ICMP Router Advertisement (2.1)
MOBILITY_AGENT_EXT = 16                # RFC 5944 2.1.1
FLAG_F = 0x10                          # ... Foreign agent
ADVERT_INTERVAL = 1.0                  # s; 2.3.2's recommended maximum rate
MN_HA_AUTH = 32                        # RFC 5944 3.5.2
ACCEPTED, DENIED_AUTH = 0, 131         # RFC 5944 3.4 Code values
FLAG_T = 0x02                          # Request: reverse tunnelling (RFC 3024)
_REQUEST = struct.Struct("!BBH4s4s4sQ")   # 24 octets
_REPLY = struct.Struct("!BBH4s4sQ")       # 20 octets
_AUTH_HEAD = struct.Struct("!BBI")


@dataclass(frozen=True)
class Registration:
    kind: int              # REQUEST or REPLY
    code: int              # Reply Code (flags for a Request)
    lifetime: int
    home: str
    agent: str
    coa: str | None        # Request only
    ident: int
    verified: bool | None  # authenticator checked against the key given


def _auth(body: bytes, key) -> bytes:
    size = len(mn_par_authenticator(b"", key.secret, key.algorithm))
    head = _AUTH_HEAD.pack(MN_HA_AUTH, 4 + size, key.spi)
    return body + head + mn_par_authenticator(body + head, key.secret,
                                              key.algorithm)


def request(home: str, agent: str, coa: str, lifetime: int, ident: int,
            key) -> bytes:
    return _auth(_REQUEST.pack(REQUEST, FLAG_T, lifetime,
                               socket.inet_aton(home),
                               socket.inet_aton(agent),
                               socket.inet_aton(coa), ident), key)


def reply(code: int, lifetime: int, home: str, agent: str, ident: int,
          key) -> bytes:
    return _auth(_REPLY.pack(REPLY, code, lifetime, socket.inet_aton(home),
                             socket.inet_aton(agent), ident), key)


def parse(payload: bytes, keys: dict | None = None) -> Registration | None:
    """A Registration Request or Reply, None for anything else; verified
    tells whether the MN-HA authenticator checks with keys (SPI -> Key)."""
    if not payload or payload[0] not in (REQUEST, REPLY):
        return None
    layout = _REQUEST if payload[0] == REQUEST else _REPLY
    if len(payload) < layout.size:
        return None
    fields = layout.unpack_from(payload)
    verified = None
    if keys is not None:
        verified = _verify(payload, layout.size, keys)
    if payload[0] == REQUEST:
        kind, flags, life, home, agent, coa, ident = fields
        return Registration(kind, flags, life, socket.inet_ntoa(home),
                            socket.inet_ntoa(agent), socket.inet_ntoa(coa),
                            ident, verified)
    kind, code, life, home, agent, ident = fields
    return Registration(kind, code, life, socket.inet_ntoa(home),
                        socket.inet_ntoa(agent), None, ident, verified)


def _verify(payload: bytes, offset: int, keys: dict) -> bool:
    if len(payload) < offset + _AUTH_HEAD.size:
        return False
    kind, length, spi = _AUTH_HEAD.unpack_from(payload, offset)
    key = keys.get(spi)
    end = offset + _AUTH_HEAD.size
    if kind != MN_HA_AUTH or key is None:
        return False
    expected = mn_par_authenticator(payload[:end], key.secret, key.algorithm)
    return payload[end:offset + 2 + length] == expected


def advertisement(agent: str, seq: int, lifetime: int) -> bytes:
    """An ICMP Agent Advertisement of a foreign agent whose care-of
    address is its own (RFC 5944 2.1, 2.1.1)."""
    router = struct.pack("!BBHBBH", AGENT_ADVERTISEMENT, 0, 0, 1, 2,
                         3 * lifetime) + socket.inet_aton(agent) + bytes(4)
    ext = struct.pack("!BBHHBB", MOBILITY_AGENT_EXT, 10, seq & 0xFFFF,
                      lifetime, FLAG_F, 0) + socket.inet_aton(agent)
    body = router + ext
    total = sum(struct.unpack(f"!{len(body) // 2}H", body))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return body[:2] + struct.pack("!H", ~total & 0xFFFF) + body[4:]


def advertised_coa(icmp: bytes) -> str | None:
    """The care-of address a foreign agent's Agent Advertisement offers
    (ICMP octets from the Type), else None."""
    if len(icmp) < 8 or icmp[0] != AGENT_ADVERTISEMENT:
        return None
    at = 8 + icmp[4] * icmp[5] * 4
    if len(icmp) < at + 12 or icmp[at] != MOBILITY_AGENT_EXT \
            or not icmp[at + 6] & FLAG_F:
        return None
    return socket.inet_ntoa(icmp[at + 8:at + 12])
