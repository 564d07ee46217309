"""Hand-built captures of one network seen from several nodes (tests).

A small simulator: the FMIPv4 messages of a sample capture (samples/,
predictive or reactive) and a test flow (wire/testflow.py) between a CN
and the MN travel over links with chosen delays; every node's capture (MN,
PAR, NAR, CN) sees each datagram where it passes (a router on its way in
and, TTL one less, on its way out), stamped by the node's own clock (the
true time minus its offset).  After the MN moves (at the FBU, or at the
reactive FBU), its traffic goes through NAR and the PAR-NAR IP-in-IP
tunnel.  Written with dpkt, Ethernet link type.
"""

from __future__ import annotations

from pathlib import Path

import dpkt

from fmipdissect.wire import testflow

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
T0 = 1_700_000_000.0
ADDR = {"10.1.0.10": "mn", "10.1.0.1": "par", "10.2.0.1": "nar",
        "10.3.0.10": "cn"}
CN, MN = "10.3.0.10", "10.1.0.10"
PROC = 0.0001                   # a router's forwarding time
ROUTER_TTL_STEP = 1
SPACING = 70.0                  # s between two handovers


def _ip(src, dst, ident, ttl, proto, payload: bytes) -> dpkt.ip.IP:
    ip = dpkt.ip.IP(src=_aton(src), dst=_aton(dst), id=ident, ttl=ttl,
                    p=proto, data=payload)
    ip.len = 20 + len(payload)
    return ip


def _aton(a: str) -> bytes:
    return bytes(int(x) for x in a.split("."))


def sample_messages(name: str):
    """(relative time, src, dst, proto, transport bytes) of a sample."""
    out = []
    with open(SAMPLES / f"{name}.pcap", "rb") as f:
        first = None
        for ts, buf in dpkt.pcap.Reader(f):
            ip = dpkt.ethernet.Ethernet(buf).data
            first = ts if first is None else first
            out.append((ts - first, ".".join(map(str, ip.src)),
                        ".".join(map(str, ip.dst)), ip.p, bytes(ip.data)))
    return out


class Network:
    """delays: {(a, b): seconds} per link, both ways; offsets: {node:
    seconds} (add to the node's time stamps to get the MN's = true time);
    drifts: {node: seconds per second its clock runs slow};
    moves: [(time the MN leaves PAR's link, time it is on NAR's)]."""

    def __init__(self, delays, offsets, moves, drifts=None):
        self.delays = {**delays, **{(b, a): d for (a, b), d in delays.items()}}
        self.offsets = offsets
        self.drifts = drifts or {}        # node: its clock's rate error
        self.moves = moves
        self.seen = {n: [] for n in ("mn", "par", "nar", "cn")}
        self.ident = 1000

    def where(self, t):
        """The MN's link at time t: "par", None (moving) or "nar"."""
        for leave, arrive in self.moves:
            if leave <= t < arrive:
                return None
            if arrive <= t < arrive + 3.0:
                return "nar"
        return "par"

    def path(self, a, b, t):
        """The nodes a datagram from node a to node b passes (with a and b),
        and the hops that are inside the PAR-NAR tunnel."""
        at = self.where(t)
        if "mn" in (a, b):
            other = b if a == "mn" else a
            if at is None:
                return None, ()
            if at == "par":
                hops = {"par": ["par"], "nar": ["par", "nar"],
                        "cn": ["par", "cn"]}[other]
            else:
                hops = {"nar": ["nar"], "par": ["nar", "par"],
                        "cn": ["nar", "par", "cn"]}[other]
            nodes = ["mn"] + hops
            tunnel = (("par", "nar") if other == "cn" and at == "nar"
                      else ())
            return (nodes if a == "mn" else nodes[::-1]), tunnel
        if {a, b} == {"nar", "cn"}:
            return [a, "par", b] if a == "nar" else [a, "par", b], ()
        return [a, b], ()

    def send(self, t, src, dst, proto, payload, lost_at=None) -> None:
        """lost_at: the node where the datagram is lost (never seen there
        or further on)."""
        a, b = ADDR[src], ADDR[dst]
        nodes, tunnel = self.path(a, b, t)
        if nodes is None:
            return                        # the MN is between links: lost
        self.ident = (self.ident + 1) & 0xFFFF
        ttl, now = 64, t
        for i, node in enumerate(nodes):
            if node == lost_at:
                return
            if i:
                now += self.delays[(nodes[i - 1], node)]
                self._see(node, now, src, dst, proto, payload, ttl,
                          (nodes[i - 1], node) == tuple(tunnel[::-1])
                          or (nodes[i - 1], node) == tuple(tunnel))
            if i < len(nodes) - 1:
                if i:
                    now += PROC
                    ttl -= ROUTER_TTL_STEP
                self._see(node, now, src, dst, proto, payload, ttl,
                          tunnel and (node, nodes[i + 1]) in (tunnel,
                                                               tunnel[::-1]))

    def _see(self, node, t, src, dst, proto, payload, ttl, tunnelled):
        inner = _ip(src, dst, self.ident, ttl, proto, payload)
        ip = inner
        if tunnelled:
            ends = [k for k, v in ADDR.items() if v in ("par", "nar")]
            outer_src = ends[0] if node == "par" else ends[1]
            outer_dst = ends[1] if node == "par" else ends[0]
            ip = _ip(outer_src, outer_dst, 1, 64, 4, bytes(inner))
        frame = dpkt.ethernet.Ethernet(src=b"\x02" * 6, dst=b"\x04" * 6,
                                       type=0x0800, data=ip)
        self.seen[node].append((T0 + t - self.offsets.get(node, 0.0)
                                - self.drifts.get(node, 0.0) * t,
                                bytes(frame)))

    def flow(self, start, stop, rate) -> None:
        """The test flow both ways at rate packets/s."""
        n = 0
        t = start
        while t < stop:
            for flow, src, dst in ((testflow.FLOW_DOWN, CN, MN),
                                   (testflow.FLOW_UP, MN, CN)):
                body = testflow.build(flow, n, int((T0 + t) * 1e9))
                udp = dpkt.udp.UDP(sport=testflow.DEFAULT_PORT,
                                   dport=testflow.DEFAULT_PORT, data=body)
                udp.ulen = 8 + len(body)
                self.send(t, src, dst, 17, bytes(udp))
            n += 1
            t = start + n / rate

    def write(self, folder: Path, nodes=("mn", "par", "nar", "cn")) -> dict:
        paths = {}
        for node in nodes:
            path = folder / f"{node}.pcap"
            with open(path, "wb") as f:
                w = dpkt.pcap.Writer(f, nano=True)
                for t, frame in sorted(self.seen[node], key=lambda x: x[0]):
                    w.writepkt(frame, ts=t)
            paths[node] = path
        return paths


def scenario(folder: Path, offsets, delays=None, sample="predictive",
             handovers=2, rate=100.0, gap=0.05, nodes=("mn", "par", "nar",
                                                        "cn"),
             drop=None, drifts=None) -> dict:
    """Write per-node captures of `handovers` handovers SPACING s apart
    (beyond the correlator's expiry: the sample's messages repeat), with
    the test flow running from 1 s before each to 4 s after; returns
    {node: path}.  drop: (node, i): the sample's i-th message is lost on
    its way into that node."""
    delays = delays or {("mn", "par"): 0.002, ("par", "nar"): 0.005,
                        ("par", "cn"): 0.010, ("mn", "nar"): 0.003}
    messages = sample_messages(sample)
    fbu_at = next(t for t, src, dst, proto, p in messages
                  if proto == 17 and ADDR[src] == "mn")
    moves = []
    for k in range(handovers):
        base = 1.0 + SPACING * k
        leave = base + fbu_at + (0.01 if sample == "predictive" else -gap)
        moves.append((leave, leave + gap))
    net = Network(delays, offsets, moves, drifts)
    for k in range(handovers):
        base = 1.0 + SPACING * k
        for i, (t, src, dst, proto, payload) in enumerate(messages):
            net.send(base + t, src, dst, proto, payload,
                     drop[0] if drop and drop[1] == i else None)
    for k in range(handovers):
        net.flow(SPACING * k, SPACING * k + 5.0, rate)
    return net.write(folder, nodes)
