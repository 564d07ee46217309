"""Minimal captures for the fmip-lint tests.

Packets are built with the project's Scapy layers (fmipdissect.layers) on
Scapy's Ether/IP/UDP, and written with Scapy's wrpcap; raw octets only where
a broken message cannot be expressed through the layers.  Every builder
takes keyword overrides, so a test states only what it breaks.

CASES maps every rule id of the registry to a minimal capture that makes it
fire: (packets, also), where `also` is the set of other error/warning rules
the capture is allowed to trigger as a consequence.  Infos are always
allowed.  A rule without a case fails tests/lint/test_lint_rules.py.
"""

from __future__ import annotations

import struct

from scapy.layers.inet import IP, UDP, fragment
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import wrpcap

from fmipdissect.wire import checksum as C
from fmipdissect.layers import (FBU, HI, FBAck, FMIPOption, HAck, IPv4AddrOption,
                                LLAOption, MIPExtension, MNPARAuth,
                                PrefixOption, PrRtAdv, RtSolPr)

MN = "10.0.0.5"          # the MN's PCoA (FBU Home Address)
PAR = "10.0.0.1"
NAR = "10.1.0.1"
NCOA = "10.1.0.77"
ELSEWHERE = "10.9.9.9"
AP_LLA = "00:aa:bb:cc:dd:01"
NAR_LLA = "00:aa:bb:cc:dd:02"
MN_LLA = "00:11:22:33:44:55"
SPI = 256
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
IDENT = 0xE1A2B3C400000001
RT_ID = 7
HI_ID = 9
T0 = 1_700_000_000.0


def keys_text(spi=SPI, key=KEY, algorithm="hmac-md5") -> str:
    return f"# test keys\n{spi} {key.hex()} {algorithm}\n"


def _eth(ip):
    return Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip


def fbu(src=MN, dst=PAR, sport=434, dport=434, auth=True, key=KEY, spi=SPI,
        extensions=(), **fields):
    values = dict(lifetime=5, homeaddr=MN, haaddr=PAR, coa=NAR, ident=IDENT)
    values.update(fields)
    p = IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / FBU(**values)
    for e in extensions:
        p = p / e
    if auth:
        p = p / MNPARAuth(spi=spi, key=key)
    return _eth(p)


def fback(src=PAR, dst=MN, sport=434, dport=434, auth=True, key=KEY, spi=SPI,
          extensions=(), after_auth=(), **fields):
    values = dict(code=0, lifetime=5, homeaddr=MN, haaddr=PAR, ident=IDENT)
    values.update(fields)
    p = IP(src=src, dst=dst) / UDP(sport=sport, dport=dport) / FBAck(**values)
    for e in extensions:
        p = p / e
    if auth:
        p = p / MNPARAuth(spi=spi, key=key)
    for e in after_auth:
        p = p / e
    return _eth(p)


def _icmp(src, dst, msg, options):
    for o in options:
        msg = msg / o
    return _eth(IP(src=src, dst=dst, proto=1) / msg)


def rtsolpr(src=MN, dst=PAR, options=None, **fields):
    values = dict(code=0, identifier=RT_ID)
    values.update(fields)
    if options is None:
        options = [LLAOption(code=1, lla=AP_LLA)]
    return _icmp(src, dst, RtSolPr(**values), options)


def prrtadv_options(nar_ip=NAR, ncoa=None):
    opts = [LLAOption(code=1, lla=AP_LLA), LLAOption(code=3, lla=NAR_LLA),
            IPv4AddrOption(code=3, addr=nar_ip), PrefixOption(prefixlen=24)]
    if ncoa:
        opts.append(IPv4AddrOption(code=2, addr=ncoa))
    return opts


def prrtadv(src=PAR, dst=MN, options=None, **fields):
    values = dict(code=0, identifier=RT_ID)
    values.update(fields)
    if options is None:
        options = prrtadv_options()
    return _icmp(src, dst, PrRtAdv(**values), options)


def hi(src=PAR, dst=NAR, options=None, **fields):
    values = dict(code=0, identifier=HI_ID)
    values.update(fields)
    if options is None:
        options = [LLAOption(code=2, lla=MN_LLA), IPv4AddrOption(code=1,
                                                                 addr=MN)]
    return _icmp(src, dst, HI(**values), options)


def hack(src=NAR, dst=PAR, options=(), **fields):
    values = dict(code=0, identifier=HI_ID)
    values.update(fields)
    return _icmp(src, dst, HAck(**values), options)


def raw_icmp(src, dst, octets: bytes, fix_checksum=True):
    if fix_checksum and len(octets) >= 4:
        ck = C.fmip_icmp_checksum(octets)
        octets = octets[:2] + struct.pack("!H", ck) + octets[4:]
    return _eth(IP(src=src, dst=dst, proto=1) / Raw(octets))


def raw_udp(src, dst, payload: bytes, sport=434, dport=434):
    return _eth(IP(src=src, dst=dst) / UDP(sport=sport, dport=dport)
                / Raw(payload))


def predictive_flow():
    """RFC 4988 Figure 1, conformant: only infos (FM418) expected."""
    return [rtsolpr(), prrtadv(), fbu(), hi(), hack(), fback(),
            fback(dst=NAR)]


from fmipdissect.spec.constraints import ADDRESSES_PER_MN as _ADDRESS_CAP  # noqa: E402


def _too_deep():
    """An FBU under more MPLS labels than the reader follows (FM905)."""
    labels = b"".join(struct.pack(">I", 16 << 12 | 64) for _ in range(300))
    bottom = struct.pack(">I", 16 << 12 | 1 << 8 | 64)
    return Ether(type=0x8847) / Raw(labels + bottom + bytes(fbu()[IP]))


def _ttl_zero(packet):
    packet = packet.copy()
    packet[IP].ttl = 0
    return packet


def _ncoa_option():
    return IPv4AddrOption(code=2, addr=NCOA)


# Conformant flows of RFC 4988 4: no error and no warning expected.
CONFORMANT_FLOWS = {
    "predictive": predictive_flow,
    # Figure 2: FBU to NAR, forwarded unchanged to PAR, HI Code 1, FBAck to
    # NAR and on to the MN (decisions D7, D8).
    "reactive": lambda: [
        rtsolpr(), prrtadv(), fbu(dst=NAR), fbu(src=NAR, dst=PAR),
        hi(code=1), hack(), fback(src=PAR, dst=NAR), fback(src=NAR, dst=MN)],
    # Unsolicited PrRtAdv Code 1 (Identifier 0) with an NCoA triggers it.
    "network-initiated": lambda: [
        prrtadv(code=1, identifier=0, options=prrtadv_options(ncoa=NCOA)),
        fbu(), hi(S=1), hack(code=3, options=[_ncoa_option()]),
        fback(code=1, extensions=[_ncoa_option()]),
        fback(dst=NAR, code=1, extensions=[_ncoa_option()])],
    "ncoa": lambda: [
        rtsolpr(), prrtadv(), fbu(), hi(S=1),
        hack(code=3, options=[_ncoa_option()]),
        fback(code=1, extensions=[_ncoa_option()]),
        fback(dst=NAR, code=1, extensions=[_ncoa_option()]),
        fbu(dst=NAR), fbu(src=NAR, dst=PAR)],
    "rejected": lambda: [
        rtsolpr(), prrtadv(), fbu(), hi(), hack(code=128),
        fback(code=128, lifetime=0)],
}


def write(path, packets, t0=T0, step=0.01):
    """wrpcap with increasing timestamps; returns path."""
    pkts = []
    for i, p in enumerate(packets):
        p = p.copy() if hasattr(p, "copy") else p
        p.time = t0 + i * step
        pkts.append(p)
    wrpcap(str(path), pkts)
    return path


def write_clipped(path, packet, snaplen):
    """A pcap whose one record is cut by the snap length (FM903)."""
    data = bytes(packet)
    head = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, snaplen, 1)
    rec = struct.pack("<IIII", int(T0), 0, snaplen, len(data))
    with open(path, "wb") as f:
        f.write(head + rec + data[:snaplen])
    return path


def _plain_sum_rtsolpr():
    """RtSolPr with Reserved 1 and the plain checksum (decision D2 warning)."""
    p = rtsolpr(reserved=1)
    msg = bytes(p[IP].payload)
    ck = C.plain_icmp_checksum(msg)
    return rtsolpr(reserved=1, chksum=ck)


def _fragmented_fbu():
    big = fbu(extensions=[MIPExtension(type=200, data=b"\x00" * 200)])
    frags = fragment(big[IP], fragsize=64)
    return [_eth(f) for f in frags[:-1]]   # the last fragment never came


_LLA_BAD_PAD = LLAOption(code=1, lla=AP_LLA,
                         padding=b"\x01\x05\x00\x00\x00\x00\x07")

# rule -> (packets, other error/warning rules allowed, needs keys)
CASES = {
    "FM101": ([fbu(lifetime=11), fback()], {"FM416"}),
    "FM102": ([fbu(flags=0x80), fback()], set()),
    "FM103": ([fbu(flags=0x04), fback()], set()),
    "FM104": ([fbu(auth=False), fback()], set()),
    "FM105": ([_eth(IP(src=MN, dst=PAR) / UDP(sport=434, dport=434)
                    / FBU(lifetime=5, homeaddr=MN, haaddr=PAR, coa=NAR,
                          ident=IDENT) / MNPARAuth(subtype=1, spi=SPI,
                                                   key=KEY)), fback()], set()),
    "FM107": ([fbu(), fback(code=1)], set()),
    "FM108": ([fbu(), fback(code=1, extensions=[
        IPv4AddrOption(code=2, addr=NCOA, len=6)])], set()),
    "FM109": ([fbu(), fback(code=1, after_auth=[
        IPv4AddrOption(code=2, addr=NCOA)])], set()),
    "FM110": ([fbu(extensions=[MIPExtension(type=99, data=b"ab")]), fback()],
              set()),
    "FM201": ([hi(chksum=0x1234), hack()], set()),
    "FM202": ([_plain_sum_rtsolpr(), prrtadv()], {"FM203"}),
    "FM203": ([rtsolpr(reserved=1), prrtadv()], set()),
    "FM204": ([raw_icmp(PAR, MN, bytes([41, 0, 0, 0, 3, 0, 0, 0]))], set()),
    "FM205": ([hi(), hack(code=99)], set()),
    "FM206": ([rtsolpr(options=[]), prrtadv()], set()),
    "FM207": ([rtsolpr(), prrtadv(options=[LLAOption(code=1, lla=AP_LLA),
                                           LLAOption(code=3, lla=NAR_LLA)])],
              {"FM216"}),
    "FM208": ([rtsolpr(), prrtadv(options=[
        LLAOption(code=1, lla=AP_LLA), IPv4AddrOption(code=3, addr=NAR),
        LLAOption(code=3, lla=NAR_LLA)])], {"FM216"}),
    "FM209": ([rtsolpr(), prrtadv(code=2, options=[
        LLAOption(code=1, lla=AP_LLA)])], set()),
    "FM210": ([prrtadv(code=4, identifier=5, options=[
        LLAOption(code=1, lla=AP_LLA)])], {"FM216"}),
    "FM212": ([hi(options=[LLAOption(code=2, lla=MN_LLA)]), hack()], set()),
    "FM213": ([hi(code=1, S=1), hack()], {"FM409"}),
    "FM214": ([hi(code=1, U=1), hack()], set()),
    "FM215": ([_ttl_zero(rtsolpr()), prrtadv()], set()),
    # decision D15: the second tuple lacks its prefix
    "FM216": ([rtsolpr(), prrtadv(options=prrtadv_options()
                                  + prrtadv_options()[:3])], set()),
    "FM301": ([raw_udp(MN, PAR, bytes(FBU(lifetime=5))[:10])], set()),
    "FM302": ([rtsolpr(options=[Raw(b"\x14\x00\x01" + b"\x00" * 5)]),
               prrtadv()], set()),
    "FM303": ([rtsolpr(options=[Raw(b"\x14\x05\x01" + b"\x00" * 5)]),
               prrtadv()], set()),
    "FM304": ([rtsolpr(options=[_LLA_BAD_PAD]), prrtadv()], set()),
    "FM305": ([rtsolpr(options=[LLAOption(code=1, lla=AP_LLA),
                                FMIPOption(type=99, data=b"\x00" * 6)]),
               prrtadv()], set()),
    "FM306": ([rtsolpr(options=[LLAOption(code=1, lla=AP_LLA),
                                LLAOption(code=9, lla=AP_LLA)]), prrtadv()],
              set()),
    "FM307": ([hi(options=[LLAOption(code=2, lla=MN_LLA),
                           IPv4AddrOption(code=1, addr=MN, reserved=1)]),
               hack()], set()),
    "FM308": ([hi(options=[LLAOption(code=2, lla=MN_LLA),
                           IPv4AddrOption(code=1, addr=MN, len=2),
                           Raw(b"\x00" * 8)]), hack()], set()),
    "FM309": ([rtsolpr(), prrtadv(options=prrtadv_options()[:3]
                                  + [PrefixOption(prefixlen=40)])], set()),
    "FM401": ([fback()], set()),
    "FM402": ([fbu(), fback(ident=IDENT + 1)], set()),
    "FM403": ([fbu()], set()),
    "FM404": ([hack()], set()),
    "FM405": ([hi()], set()),
    "FM406": ([prrtadv()], set()),
    "FM407": ([rtsolpr()], set()),
    "FM409": ([hi(S=1), hack(code=3)], set()),
    "FM410": ([fbu(dst=ELSEWHERE), fback(src=ELSEWHERE)], set()),
    "FM411": ([fbu(dst=NAR), fbu(src=NAR, dst=PAR, lifetime=7),
               hi(code=1), hack(), fback(src=PAR, dst=NAR)], {"FM416"}),
    "FM412": ([fbu(), hi(code=1), hack(), fback()], set()),
    "FM413": ([fbu(), fback(dst=ELSEWHERE)], set()),
    "FM414": ([fbu(sport=5000), fback(dport=434)], set()),
    "FM415": ([rtsolpr(), prrtadv(options=prrtadv_options(ncoa=NCOA)),
               fbu(coa=NCOA), fback()], set()),
    "FM416": ([fbu(lifetime=5), fback(lifetime=8)], set()),
    "FM417": ([fbu(lifetime=5), fbu(lifetime=6), fback()], {"FM416"}),
    "FM418": ([hi(), hack()], set()),
    "FM419": ([hi(), hack(identifier=HI_ID + 1)], set()),
    "FM420": ([rtsolpr(), prrtadv(identifier=RT_ID + 1)], set()),
    "FM421": ([fbu(), fback(haaddr=ELSEWHERE)], set()),
    # RFC 4988 4: the NCoA a HAck supplied, dropped from / changed in FBAck
    "FM422": ([fbu(), hi(S=1), hack(code=3, options=[_ncoa_option()]),
               fback()], set()),
    "FM423": ([fbu(), hi(S=1), hack(code=3, options=[_ncoa_option()]),
               fback(code=1, extensions=[IPv4AddrOption(code=2,
                                                        addr=ELSEWHERE)])],
              set()),
    # More NAR addresses than the session keeps per handover (FM904, info):
    # PrRtAdv with ADDRESSES_PER_HANDOVER + 1 New Router's IP options.
    "FM904": ([rtsolpr(), prrtadv(options=prrtadv_options()[:2] + [
        IPv4AddrOption(code=3, addr=f"10.1.{i // 250}.{i % 250 + 1}")
        for i in range(_ADDRESS_CAP + 1)])], {"FM208", "FM216"}),
    "FM501": ([fbu(key=b"another key"), fback()], set()),
    "FM502": ([fbu(spi=999), fback(spi=999)], set()),
    "FM503": ([fbu(spi=255), fback(spi=255)], set()),
    # FM901, FM902, FM903 need special files: see capture_case().
    "FM901": (predictive_flow(), set()),
    "FM902": (_fragmented_fbu(), set()),
    "FM903": ([], set()),
    "FM905": ([_too_deep()], set()),
}

# Cases that verify authenticators need a key file (decision D5).
NEEDS_KEYS = {"FM501", "FM502"}


def capture_case(rule, directory):
    """Write the minimal capture for a rule; returns (path, keys_path)."""
    packets, _ = CASES[rule]
    path = directory / f"{rule}.pcap"
    if rule == "FM903":
        write_clipped(path, fbu(), 60)
    else:
        write(path, packets)
    if rule == "FM901":
        data = path.read_bytes()
        path.write_bytes(data[:-10])
    keys = None
    if rule in NEEDS_KEYS:
        keys = directory / "keys.txt"
        keys.write_text(keys_text())
    return path, keys
