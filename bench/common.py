"""The comparison tools of bench/run.py, each run in a process of its own.

    .venv/bin/python bench/common.py TOOL CAPTURE [LIMIT]

TOOL is one of:

  raw     read the file from the page cache (1 MiB readinto loop): the floor
  dpkt    dpkt's pcap / pcapng Reader plus a full Ethernet parse of every
          packet (dpkt.ethernet.Ethernet, then its IPv4 and UDP / ICMP
          layers), counting the FMIPv4 candidates (UDP port 434, ICMP 41)
  scapy   Scapy's PcapReader with the fmipdissect.layers classes bound
          (every packet dissected as Scapy does on reading), counting the
          FMIPv4 messages; stops after LIMIT packets (Scapy reads some
          thousand packets a second, so run.py extrapolates from a subset)

Prints one JSON line: {"packets": N, "found": M, "seconds": S} where seconds
is the time of the loop alone, measured inside the process (imports and
interpreter start are left out, which favours these tools over fmip-lint,
whose figures in run.py are whole-process wall times).
"""

from __future__ import annotations

import json
import sys
import time

MIP_UDP_PORT = 434           # RFC 4988 5.1 (protocol.MIP_UDP_PORT)
ICMP_TYPE_41 = 41            # RFC 4065 3 (protocol.ICMP_TYPE_EXPERIMENTAL_MOBILITY)


def raw_read(path: str) -> dict:
    buf = bytearray(1 << 20)
    total = 0
    start = time.perf_counter()
    with open(path, "rb", buffering=0) as f:
        while True:
            n = f.readinto(buf)
            if not n:
                break
            total += n
    seconds = time.perf_counter() - start
    return {"packets": None, "found": total, "seconds": seconds}


def dpkt_parse(path: str) -> dict:
    import dpkt
    from fmipdissect.spec import protocol
    assert protocol.MIP_UDP_PORT == MIP_UDP_PORT
    assert protocol.ICMP_TYPE_EXPERIMENTAL_MOBILITY == ICMP_TYPE_41
    ethernet, ip_class = dpkt.ethernet.Ethernet, dpkt.ip.IP
    udp_class, icmp_class = dpkt.udp.UDP, dpkt.icmp.ICMP
    packets = found = 0
    start = time.perf_counter()
    with open(path, "rb") as f:
        head = f.read(4)
        f.seek(0)
        reader = (dpkt.pcapng.Reader(f) if head == b"\x0a\x0d\x0d\x0a"
                  else dpkt.pcap.Reader(f))
        for _ts, frame in reader:
            packets += 1
            ip = ethernet(frame).data
            if not isinstance(ip, ip_class):
                continue
            l4 = ip.data
            if isinstance(l4, udp_class):
                if l4.sport == MIP_UDP_PORT or l4.dport == MIP_UDP_PORT:
                    found += 1
            elif isinstance(l4, icmp_class) and l4.type == ICMP_TYPE_41:
                found += 1
    seconds = time.perf_counter() - start
    return {"packets": packets, "found": found, "seconds": seconds}


def scapy_dissect(path: str, limit: int) -> dict:
    from scapy.utils import PcapReader
    from fmipdissect import layers   # binds the FMIPv4 layers
    messages = (layers.FBU, layers.FBAck, layers.RtSolPr, layers.PrRtAdv,
                layers.HI, layers.HAck)
    packets = found = 0
    start = time.perf_counter()
    with PcapReader(path) as reader:   # pcap and pcapng alike
        for pkt in reader:
            packets += 1
            for cls in messages:
                if pkt.haslayer(cls):
                    found += 1
                    break
            if packets >= limit:
                break
    seconds = time.perf_counter() - start
    return {"packets": packets, "found": found, "seconds": seconds}


def main(argv: list[str]) -> int:
    tool, path = argv[0], argv[1]
    if tool == "raw":
        result = raw_read(path)
    elif tool == "dpkt":
        result = dpkt_parse(path)
    elif tool == "scapy":
        result = scapy_dissect(path, int(argv[2]))
    else:
        print(f"unknown tool {tool!r}", file=sys.stderr)
        return 2
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
