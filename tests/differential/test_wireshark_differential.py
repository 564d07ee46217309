"""Differential test: the Lua dissector in tshark against the Scapy layers.

1,200 FMIPv4 packets built with the Scapy layers from random field values
(seeded), written to one capture, dissected once by tshark with the plugin;
every fmip.* field must equal what Scapy reads from the same bytes.  A
mismatch names the frame and the field.
"""

from __future__ import annotations

import random

import pytest
from wireshark_common import (IP, UDP, Ether, T, compared_field_names,
                                   expected_fields, require_tool,
                                   write_capture)

from fmipdissect.spec import protocol as P
from fmipdissect.layers import (FBU, HI, FBAck, HAck, IPv4AddrOption,
                                LLAOption, MNPARAuth, PrefixOption, PrRtAdv,
                                RtSolPr)

SEED = 4988
COUNT = 1200


def _addr(rng: random.Random) -> str:
    return ".".join(str(rng.randrange(256)) for _ in range(4))


def _code(rng: random.Random, codes: dict) -> int:
    # mostly defined codes, sometimes any octet
    return rng.choice(sorted(codes)) if rng.random() < 0.85 \
        else rng.randrange(256)


def _options(rng: random.Random):
    out = []
    for _ in range(rng.randrange(5)):
        kind = rng.randrange(3)
        if kind == 0:
            out.append(LLAOption(code=rng.randrange(8),
                                 lla=bytes(rng.randrange(256)
                                           for _ in range(P.DEFAULT_LLA_LENGTH))))
        elif kind == 1:
            out.append(IPv4AddrOption(code=rng.randrange(1, 4),
                                      reserved=rng.choice((0, 0, 0, rng.randrange(256))),
                                      addr=_addr(rng)))
        else:
            out.append(PrefixOption(prefixlen=rng.randrange(33),
                                    reserved=rng.choice((0, 0, rng.getrandbits(32)))))
    return out


def _auth(rng: random.Random):
    return MNPARAuth(subtype=rng.choice((4, 4, 4, 1)), spi=rng.getrandbits(32),
                     authenticator=bytes(rng.randrange(256) for _ in range(16)))


def random_packet(rng: random.Random):
    src, dst = _addr(rng), _addr(rng)
    kind = rng.randrange(6)
    if kind == 0:
        body = FBU(flags=rng.randrange(256), lifetime=rng.randrange(65536),
                   homeaddr=_addr(rng), haaddr=_addr(rng), coa=_addr(rng),
                   ident=rng.getrandbits(64))
        if rng.random() < 0.9:
            body = body / _auth(rng)
        return Ether() / IP(src=src, dst=dst) / UDP(sport=434, dport=434) / body
    if kind == 1:
        body = FBAck(code=_code(rng, P.FBACK_CODES),
                     lifetime=rng.randrange(65536), homeaddr=_addr(rng),
                     haaddr=_addr(rng), ident=rng.getrandbits(64))
        if rng.random() < 0.5:
            body = body / IPv4AddrOption(code=P.ADDR_NCOA, addr=_addr(rng))
        if rng.random() < 0.9:
            body = body / _auth(rng)
        return Ether() / IP(src=src, dst=dst) / UDP(sport=434, dport=434) / body
    cls = (RtSolPr, PrRtAdv, HI, HAck)[kind - 2]
    kw = dict(code=_code(rng, cls.spec.codes), identifier=rng.randrange(65536))
    if cls is HI:
        kw.update(S=rng.randrange(2), U=rng.randrange(2),
                  reserved=rng.choice((0, 0, rng.randrange(64))))
    else:
        kw["reserved"] = rng.choice((0, 0, 0, rng.randrange(256)))
    if rng.random() < 0.1:
        kw["chksum"] = rng.randrange(65536)
    body = cls(**kw)
    for opt in _options(rng):
        body = body / opt
    return Ether() / IP(src=src, dst=dst) / body


@pytest.fixture(scope="module")
def dissected(tmp_path_factory):
    require_tool("tshark")
    rng = random.Random(SEED)
    packets = [random_packet(rng) for _ in range(COUNT)]
    path = write_capture(tmp_path_factory.mktemp("diff") / "random.pcap",
                         packets)
    names = compared_field_names()
    rows = T.fields(path, ["frame.number", "_ws.expert.message",
                           "_ws.malformed"] + names)
    return packets, names, rows


def test_every_field_equals_scapy(dissected):
    packets, names, rows = dissected
    assert len(rows) == len(packets) >= 1000
    mismatches = []
    for number, (pkt, row) in enumerate(zip(packets, rows), start=1):
        expected = expected_fields(pkt)
        for name in names:
            want = expected.get(name, [])
            got = row[name]
            if got != want:
                mismatches.append(f"frame {number}: {name}: tshark {got} "
                                  f"!= scapy {want}")
    assert not mismatches, (f"{len(mismatches)} mismatches, first ones:\n"
                            + "\n".join(mismatches[:20]))


def test_no_lua_error_or_malformed(dissected):
    _, _, rows = dissected
    bad = []
    for number, row in enumerate(rows, start=1):
        for message in row["_ws.expert.message"]:
            if T.lua_error_marks(message):
                bad.append(f"frame {number}: {message}")
        if row["_ws.malformed"]:
            bad.append(f"frame {number}: malformed")
    assert not bad, "\n".join(bad[:20])
