"""The fast decoder against the Scapy layers, on the same bytes.

Both are derived from protocol.py by different code (struct plans in
decode.py, Scapy fields in layers.py), so agreement on many messages is a
real check of each.  Messages are built with the Scapy layers from seeded
random field values (options and extensions included, bad padding, unknown
codes and types, non-zero reserved fields, wrong checksums), then dissected
by both; and every FMIPv4 message of the committed samples/*.pcap is
compared too.  A mismatch names the message index and the field.
"""

from __future__ import annotations

import glob
import os
import random
import socket

import pytest
from scapy.layers.inet import IP, UDP
from scapy.packet import NoPayload, Raw
from scapy.utils import wrpcap

from fmipdissect.wire import checksum as C
from fmipdissect import layers as L
from fmipdissect.spec import protocol as P
from fmipdissect.capture.reader import CaptureReader
from fmipdissect.decode.decoder import (IPPROTO_ICMP, decode_datagram, decode_icmp,
                                decode_mip, field_attribute)
from fmipdissect.records import Datagram

SEED = 4988
COUNT = 1500
SAMPLES = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir, "samples")

SCAPY_CLASS = {"fbu": L.FBU, "fback": L.FBAck, "rtsolpr": L.RtSolPr,
               "prrtadv": L.PrRtAdv, "hi": L.HI, "hack": L.HAck}
ELEMENT_KIND = {L.LLAOption: "lla", L.IPv4AddrOption: "ipv4addr",
                L.PrefixOption: "prefix", L.FMIPOption: "option",
                L.MNPARAuth: "auth", L.MIPExtension: "extension"}
# Problems after which the decoder stops; Scapy keeps the rest as Raw or
# as one more generic option.
STOPPING_RULES = {"FM301", "FM302", "FM303"}


# --- what Scapy says ------------------------------------------------------------

def _scapy_name(field_name: str) -> str:
    return {"checksum": "chksum", "length": "len"}.get(field_name, field_name)


def scapy_header(layer) -> dict:
    """Message fields as records.Message attributes, read from Scapy."""
    out = {}
    for f in layer.spec.fields:
        attr = field_attribute(f)
        if f.kind == "flags" and f.reserved_mask:
            # HI: one BitField per flag bit (S, U) and the reserved bits.
            out[attr] = sum(flag.mask for flag in f.flags
                            if getattr(layer, flag.name.upper()))
            out["reserved"] = layer.reserved
        elif f.kind == "flags":
            out[attr] = int(getattr(layer, f.name))
        else:
            out[attr] = getattr(layer, _scapy_name(f.name))
    return out


def _own_size(layer) -> int:
    return len(bytes(layer)) - len(bytes(layer.payload))


def scapy_elements(layer) -> list:
    """Options / extensions of a dissected message, as dicts of Element
    attributes; a trailing Raw (undecodable rest) becomes ("raw", octets)."""
    out = []
    layer = layer.payload
    while not isinstance(layer, NoPayload):
        if isinstance(layer, Raw):
            out.append(("raw", layer.load))
            break
        kind = ELEMENT_KIND[type(layer)]
        e = {"kind": kind, "type": layer.type, "length": layer.len,
             "size": _own_size(layer)}
        if kind == "lla":
            e["code"] = layer.code
            e["lla"] = bytes.fromhex((layer.lla or "").replace(":", ""))
            e["padding"] = layer.padding or b""
            # decision D3: the address is complete (or absent, wildcard) and
            # the rest is Pad1 / one exact PadN.
            e["padding_ok"] = L.padding_is_valid(e["padding"]) and (
                len(e["lla"]) == L.LLA_LENGTH
                or (not e["lla"] and layer.code == P.LLA_WILDCARD))
        elif kind == "ipv4addr":
            e.update(code=layer.code, reserved=layer.reserved,
                     addr=layer.addr)
        elif kind == "prefix":
            e.update(code=layer.code, prefixlen=layer.prefixlen,
                     reserved=layer.reserved)
        elif kind == "auth":
            e.update(code=layer.subtype, spi=layer.spi,
                     authenticator=layer.authenticator or b"")
        else:
            e["data"] = layer.data
        out.append(e)
        layer = layer.payload
    return out


# --- what the decoder says ----------------------------------------------------

def decoder_element(el) -> dict:
    e = {"kind": el.kind, "type": el.type, "length": el.length,
         "size": el.size}
    if el.kind == "lla":
        e.update(code=el.code, lla=el.lla,
                 padding=el.data[1 + len(el.lla):], padding_ok=el.padding_ok)
    elif el.kind == "ipv4addr":
        e.update(code=el.code, reserved=el.reserved, addr=el.addr)
    elif el.kind == "prefix":
        e.update(code=el.code, prefixlen=el.prefixlen, reserved=el.reserved)
    elif el.kind == "auth":
        e.update(code=el.code, spi=el.spi, authenticator=el.authenticator)
    else:
        e["data"] = el.data
    return e


def compare(index, raw: bytes, msg) -> list[str]:
    """Mismatches between the decoder's msg and Scapy's dissection of raw."""
    where = f"message {index} ({msg.key})"
    problems = {p.rule for p in msg.problems}
    if "FM301" in problems:
        return []   # Scapy's dispatch does not claim truncated headers
    layer = SCAPY_CLASS[msg.key](raw)
    bad = []
    for attr, theirs in scapy_header(layer).items():
        ours = getattr(msg, attr)
        if ours != theirs:
            bad.append(f"{where}: {attr}: decoder {ours!r} != scapy "
                       f"{theirs!r}")
    theirs_list = scapy_elements(layer)
    ours_list = [decoder_element(e) for e in msg.elements]
    for i, ours in enumerate(ours_list):
        if i >= len(theirs_list):
            bad.append(f"{where}: elements[{i}]: decoder has {ours['kind']},"
                       f" scapy has nothing")
            break
        theirs = theirs_list[i]
        if theirs[0] == "raw" if isinstance(theirs, tuple) else False:
            bad.append(f"{where}: elements[{i}]: decoder has {ours['kind']},"
                       f" scapy leaves raw {theirs[1].hex()}")
            break
        if (theirs["kind"] == "option" and ours["kind"] in ("ipv4addr",
                                                          "prefix")
                and "FM308" in problems):
            # Known option with a wrong Length: Scapy shows it generically,
            # the decoder decodes its first 8 octets and reports FM308.
            theirs = {k: theirs[k] for k in ("type", "length", "size")}
            ours = {k: ours[k] for k in theirs}
        for key in sorted(set(ours) | set(theirs)):
            if ours.get(key) != theirs.get(key):
                bad.append(f"{where}: elements[{i}].{key}: decoder "
                           f"{ours.get(key)!r} != scapy {theirs.get(key)!r}")
    if len(theirs_list) > len(ours_list) and not problems & STOPPING_RULES:
        bad.append(f"{where}: scapy has {len(theirs_list)} elements, the "
                   f"decoder {len(ours_list)} and no framing problem")
    return bad


# --- random messages built with the Scapy layers --------------------------------

def _ip(rng) -> str:
    return socket.inet_ntoa(rng.randbytes(4))


def _code(rng, codes: dict) -> int:
    return rng.choice(list(codes)) if rng.random() < 0.85 else \
        rng.randrange(256)


def _reserved(rng, bits: int) -> int:
    return 0 if rng.random() < 0.8 else rng.randrange(1 << bits)


def random_icmp_option(rng, lla_length: int):
    pick = rng.random()
    if pick < 0.4:
        code = _code(rng, P.LLA_CODES)
        if code == P.LLA_WILDCARD and rng.random() < 0.3:
            return L.LLAOption(code=code, lla=b"")   # padding only (D3)
        lla = rng.randbytes(lla_length)
        if rng.random() < 0.8:
            return L.LLAOption(code=code, lla=lla)
        n = -(3 + lla_length) % 8 or 8
        padding = rng.choice([bytes(n), rng.randbytes(n),
                              L.build_padding(3 + lla_length)])
        return L.LLAOption(code=code, lla=lla, padding=padding)
    if pick < 0.7:
        return L.IPv4AddrOption(code=_code(rng, P.IPV4_ADDR_CODES),
                                reserved=_reserved(rng, 8), addr=_ip(rng))
    if pick < 0.85:
        return L.PrefixOption(code=_code(rng, P.PREFIX_CODES),
                              prefixlen=rng.randrange(33),
                              reserved=_reserved(rng, 32))
    otype = rng.choice([t for t in range(256) if t not in P.OPTIONS])
    return L.FMIPOption(type=otype,
                        data=rng.randbytes(8 * rng.randint(1, 3) - 2))


def random_icmp(rng, lla_length: int):
    cls = rng.choice([L.RtSolPr, L.PrRtAdv, L.HI, L.HAck])
    kw = {"code": _code(rng, cls.spec.codes),
          "identifier": rng.randrange(1 << 16)}
    if cls is L.HI:
        kw.update(S=rng.randrange(2), U=rng.randrange(2),
                  reserved=_reserved(rng, 6))
    else:
        kw["reserved"] = _reserved(rng, 8)
    if rng.random() < 0.1:
        kw["chksum"] = rng.randrange(1 << 16)
    pkt = cls(**kw)
    for _ in range(rng.randint(0, 5)):
        pkt = pkt / random_icmp_option(rng, lla_length)
    return pkt, kw.get("chksum") is None


def random_auth(rng):
    algorithm = rng.choice(sorted(P.AUTH_ALGORITHMS))
    subtype = P.AUTH_SUBTYPE_MN_PAR if rng.random() < 0.9 else 1
    return L.MNPARAuth(subtype=subtype, spi=rng.randrange(1 << 32),
                       key=rng.randbytes(rng.randint(1, 32)),
                       algorithm=algorithm)


def random_extension(rng):
    etype = rng.choice([rng.randrange(128, 256), 32, 33, 34,
                        rng.choice([t for t in range(128)
                                    if t not in (P.AUTH_EXT_TYPE,
                                                 P.OPT_IPV4_ADDR)])])
    return L.MIPExtension(type=etype, data=rng.randbytes(rng.randint(0, 12)))


def random_mip(rng):
    if rng.random() < 0.5:
        pkt = L.FBU(flags=rng.randrange(256), lifetime=rng.randrange(1 << 16),
                    homeaddr=_ip(rng), haaddr=_ip(rng), coa=_ip(rng),
                    ident=rng.randrange(1 << 64))
    else:
        pkt = L.FBAck(code=_code(rng, P.FBACK_CODES),
                      lifetime=rng.randrange(1 << 16), homeaddr=_ip(rng),
                      haaddr=_ip(rng), ident=rng.randrange(1 << 64))
    parts = [random_extension(rng) for _ in range(rng.randint(0, 2))]
    if isinstance(pkt, L.FBAck) and rng.random() < 0.6:
        # decision D4: NCoA option, Length 1 or 6
        parts.append(L.IPv4AddrOption(
            code=P.ADDR_NCOA, addr=_ip(rng), reserved=_reserved(rng, 8),
            len=rng.choice([None, 6])))
    if rng.random() < 0.9:
        parts.append(random_auth(rng))
    if rng.random() < 0.2:
        parts.append(rng.choice([random_extension(rng), random_auth(rng)]))
    for part in parts:
        pkt = pkt / part
    return pkt


def _auths_with_keys(pkt):
    layer = pkt.payload
    while not isinstance(layer, NoPayload):
        if isinstance(layer, L.MNPARAuth):
            yield layer
        layer = layer.payload


def check_one(index, pkt, rng_lla_length, checksum_filled,
              seen: set) -> list[str]:
    raw = bytes(pkt)
    if isinstance(pkt, (L.FBU, L.FBAck)):
        msg = decode_mip(raw, rng_lla_length)
    else:
        msg = decode_icmp(raw, rng_lla_length)
    where = f"message {index}"
    if msg is None:
        return [f"{where}: decoder did not recognise {raw.hex()}"]
    bad = compare(index, raw, msg)
    seen.update(e.kind for e in msg.elements)
    seen.update(p.rule for p in msg.problems)
    if checksum_filled and msg.checksum_verdict not in (None, C.CHECKSUM_OK):
        bad.append(f"{where} ({msg.key}): checksum_verdict "
                   f"{msg.checksum_verdict} for a checksum the layers "
                   f"filled (decision D2)")
    # decision D5: the layers' HMAC covers the message through each SPI; the
    # decoder's offsets must delimit the same octets.
    auths = [e for e in msg.elements if e.kind == "auth"]
    for built, el in zip(_auths_with_keys(pkt), auths):
        expected = C.mn_par_authenticator(raw[:el.offset + P.AUTH_HEADER_LEN],
                                          built.key, built.algorithm)
        if el.authenticator != expected:
            bad.append(f"{where} ({msg.key}): authenticator at offset "
                       f"{el.offset} is not the HMAC over its covered octets")
    if auths and msg.auth_end != auths[0].offset + P.AUTH_HEADER_LEN:
        bad.append(f"{where} ({msg.key}): auth_end {msg.auth_end}")
    return bad


def _report(bad: list[str]) -> str:
    return f"{len(bad)} mismatches, first ones:\n" + "\n".join(bad[:15])


@pytest.mark.parametrize("lla_length", [P.DEFAULT_LLA_LENGTH, 8, 4])
def test_random_messages_agree_with_scapy(lla_length):
    rng = random.Random(f"{SEED}-{lla_length}")
    count = COUNT if lla_length == P.DEFAULT_LLA_LENGTH else COUNT // 5
    bad = []
    kinds = set()
    seen = set()
    saved = L.LLA_LENGTH
    L.set_lla_length(lla_length)
    try:
        for index in range(count):
            if rng.random() < 0.5:
                pkt, filled = random_icmp(rng, lla_length)
            else:
                pkt, filled = random_mip(rng), False
            kinds.add(type(pkt).__name__)
            bad.extend(check_one(index, pkt, lla_length, filled, seen))
    finally:
        L.set_lla_length(saved)
    assert kinds == {"FBU", "FBAck", "RtSolPr", "PrRtAdv", "HI", "HAck"}
    # the generator reaches every element kind and the usual problems
    assert seen >= {"lla", "ipv4addr", "prefix", "option", "auth",
                    "extension", "FM110", "FM304", "FM305", "FM306",
                    "FM307"}, seen
    assert not bad, _report(bad)


def mutate(rng, raw: bytes, header_len: int) -> bytes:
    """Overwrite a few octets (mostly after the fixed header), maybe cut."""
    buf = bytearray(raw)
    for _ in range(rng.randint(1, 4)):
        low = 0 if rng.random() < 0.1 or len(buf) <= header_len else header_len
        buf[rng.randrange(low, len(buf))] = rng.choice([0, rng.randrange(256)])
    if rng.random() < 0.3:
        buf = buf[:rng.randrange(header_len, len(buf) + 1)]
    return bytes(buf)


def test_mutated_messages_agree_with_scapy():
    """Malformed input: both stop, skip or flag in the same places."""
    rng = random.Random(f"{SEED}-mutated")
    bad = []
    rules = set()
    decoded = 0
    for index in range(COUNT):
        if rng.random() < 0.5:
            pkt, _ = random_icmp(rng, P.DEFAULT_LLA_LENGTH)
        else:
            pkt = random_mip(rng)
        raw = mutate(rng, bytes(pkt), pkt.spec.header_len)
        msg = decode_mip(raw) or decode_icmp(raw)
        if msg is None:
            continue   # the Type or Subtype octet was overwritten
        decoded += 1
        rules.update(p.rule for p in msg.problems)
        bad.extend(compare(index, raw, msg))
    assert decoded > COUNT * 0.9
    assert rules >= {"FM302", "FM303", "FM304", "FM305", "FM306", "FM307",
                     "FM308", "FM110"}, rules
    assert not bad, _report(bad)


def test_comparison_can_fail():
    """A decoder value that differs from Scapy's is reported by name."""
    pkt = L.HI(code=0, S=1, identifier=7) / L.IPv4AddrOption(
        code=1, addr="10.0.0.5")
    raw = bytes(pkt)
    msg = decode_icmp(raw)
    assert compare(3, raw, msg) == []
    msg.elements[0].addr = "10.0.0.6"
    msg.identifier = 8
    bad = compare(3, raw, msg)
    assert any(b.startswith("message 3 (hi): identifier:") for b in bad)
    assert any("elements[0].addr" in b for b in bad)


def test_stacked_on_ip_through_a_capture(tmp_path):
    """IP/UDP/FBU/MNPARAuth and IP/HI/options, via a pcap and the reader."""
    packets = [
        IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=434, dport=434)
        / L.FBU(homeaddr="10.0.0.5", haaddr="10.0.0.1", coa="10.1.0.1",
                ident=0x1122334455667788) / L.MNPARAuth(spi=256, key=b"k"),
        IP(src="10.0.0.1", dst="10.1.0.1") / L.HI(code=0, S=1, identifier=7)
        / L.LLAOption(code=2, lla="00:11:22:33:44:55")
        / L.IPv4AddrOption(code=1, addr="10.0.0.5"),
        IP(src="10.1.0.1", dst="10.0.0.5") / UDP(sport=434, dport=434)
        / L.FBAck(code=1, homeaddr="10.0.0.5", ident=0x1122334455667788)
        / L.IPv4AddrOption(code=2, addr="10.1.0.77")
        / L.MNPARAuth(spi=256, key=b"k"),
    ]
    path = tmp_path / "stacked.pcap"
    wrpcap(str(path), packets)
    with CaptureReader(str(path)) as reader:
        datagrams = [d for d in reader if isinstance(d, Datagram)]
    assert len(datagrams) == 3
    bad = []
    for index, d in enumerate(datagrams):
        msg = decode_datagram(d)
        assert msg is not None and msg.problems == []
        # Scapy's own dissection of the whole IP packet finds our layer.
        dissected = IP(bytes(packets[index]))
        layer = dissected[SCAPY_CLASS[msg.key]]
        assert bytes(layer) == d.payload
        bad.extend(compare(index, d.payload, msg))
    assert not bad, _report(bad)


def _sample_files():
    return sorted(glob.glob(os.path.join(SAMPLES, "*.pcap"))
                  + glob.glob(os.path.join(SAMPLES, "*.pcapng")))


def test_samples_agree_with_scapy():
    files = _sample_files()
    if not files:
        pytest.skip("no samples/*.pcap yet")
    bad = []
    index = 0
    for path in files:
        with CaptureReader(path) as reader:
            for item in reader:
                if not isinstance(item, Datagram):
                    continue
                msg = decode_datagram(item)
                if msg is None:
                    continue
                for line in compare(index, item.payload, msg):
                    bad.append(f"{os.path.basename(path)} frame "
                               f"{item.frame}: {line}")
                if item.proto == IPPROTO_ICMP and msg.checksum_verdict is None:
                    bad.append(f"{path} frame {item.frame}: no verdict")
                index += 1
    assert index > 0, "the samples hold no FMIPv4 message"
    assert not bad, _report(bad)
