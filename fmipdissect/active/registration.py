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

Both registration messages carry the Mobile-Home Authentication Extension
(Type 32, 3.5.2), computed as the MN-PAR authenticator is (decision D5):
over the message and the extension's Type, Length and SPI.
"""

from __future__ import annotations

import socket
import struct
from dataclasses import dataclass

from ..spec import protocol as P
from ..wire.checksum import mn_par_authenticator

# the layouts are the FBU's and the FBAck's (spec: REGISTRATION_LAYOUTS)
LAYOUTS = P.REGISTRATION_LAYOUTS
REQUEST = next(t for t, m in LAYOUTS.items() if not m.is_response)
REPLY = next(t for t, m in LAYOUTS.items() if m.is_response)
MN_HA_AUTH = next(t for t, name in P.MIP_EXTENSION_NAMES.items()
                  if name == "Mobile-Home Authentication")   # 5944 3.5.2
ACCEPTED, DENIED_AUTH = 0, 131         # RFC 5944 3.4 Code values
FLAG_T = 0x02                          # Request: reverse tunnelling (RFC 3024)
AGENT_ADVERTISEMENT = 9                # ICMP Router Advertisement (2.1)
MOBILITY_AGENT_EXT = 16                # RFC 5944 2.1.1
FLAG_F = 0x10                          # ... Foreign agent
ADVERT_INTERVAL = 1.0                  # s; 2.3.2's recommended maximum rate
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
    spi: int | None = None # of its Mobile-Home Authentication Extension


def _pack(kind: int, values: dict) -> bytes:
    layout = LAYOUTS[kind]
    out = bytearray(layout.header_len)
    for f in layout.fields:
        value = kind if f.kind == "type" else values[f.name]
        out[f.offset:f.offset + f.size] = socket.inet_aton(value) \
            if f.kind == "ipv4" else value.to_bytes(f.size, "big")
    return bytes(out)


def _unpack(layout, payload: bytes) -> dict:
    return {f.name: socket.inet_ntoa(payload[f.offset:f.offset + 4])
            if f.kind == "ipv4" else
            int.from_bytes(payload[f.offset:f.offset + f.size], "big")
            for f in layout.fields}


def _auth(body: bytes, key) -> bytes:
    size = len(mn_par_authenticator(b"", key.secret, key.algorithm))
    head = _AUTH_HEAD.pack(MN_HA_AUTH, 4 + size, key.spi)
    return body + head + mn_par_authenticator(body + head, key.secret,
                                              key.algorithm)


def request(home: str, agent: str, coa: str, lifetime: int, ident: int,
            key) -> bytes:
    return _auth(_pack(REQUEST, {"flags": FLAG_T, "lifetime": lifetime,
                                 "homeaddr": home, "haaddr": agent,
                                 "coa": coa, "ident": ident}), key)


def reply(code: int, lifetime: int, home: str, agent: str, ident: int,
          key) -> bytes:
    return _auth(_pack(REPLY, {"code": code, "lifetime": lifetime,
                               "homeaddr": home, "haaddr": agent,
                               "ident": ident}), key)


def parse(payload: bytes, keys: dict | None = None) -> Registration | None:
    """A Registration Request or Reply, None for anything else; verified
    tells whether the MN-HA authenticator checks with keys (SPI -> Key)."""
    layout = LAYOUTS.get(payload[0]) if payload else None
    if layout is None or len(payload) < layout.header_len:
        return None
    v = _unpack(layout, payload)
    verified = None if keys is None else \
        _verify(payload, layout.header_len, keys)
    spi = None
    if len(payload) >= layout.header_len + _AUTH_HEAD.size:
        kind, _, spi = _AUTH_HEAD.unpack_from(payload, layout.header_len)
        spi = spi if kind == MN_HA_AUTH else None
    return Registration(payload[0], v.get("code", v.get("flags")),
                        v["lifetime"], v["homeaddr"], v["haaddr"],
                        v.get("coa"), v["ident"], verified, spi)


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
