"""The captures of `fmipdissect gen --vantage` as the data plane receives
them, for the data-plane tests: every IPv4 datagram once, with one
Observation per frame that carried it, times moved onto the reference clock
by the offsets truth.json states.

This is the tests' own small stand-in for the merge stage (correlate/),
read with dpkt and kept whole in memory: it recognises a datagram by its
inner (end-to-end) source, destination, protocol, Identification and
payload, which no router changes (decision D23: the IP Identification is
the sender's end to end), and an IP-in-IP frame as its inner datagram with
the outer addresses as the tunnel, and a Mobile IPv4 message (ICMP, UDP
port 434) as the records.Datagram the reader would make of it.  Records of
the handovers come from truth.json's messages (first and last first
sighting)."""

from __future__ import annotations

import hashlib
import json
import socket
from pathlib import Path

import dpkt

from fmipdissect.correlate.observed import Observation, SeenDatagram
from fmipdissect.records import Datagram
from fmipdissect.gen import topology as T
from fmipdissect.wire import testflow


def _ip(raw: bytes):
    eth = dpkt.ethernet.Ethernet(raw)
    ip = eth.data
    if not isinstance(ip, dpkt.ip.IP):
        return None, None
    if ip.p == 4:                        # IP-in-IP (RFC 2003)
        return ip.data, (socket.inet_ntoa(ip.src), socket.inet_ntoa(ip.dst))
    return ip, None


def sightings(folder: Path):
    """(SeenDatagrams in order of first sighting, truth)."""
    truth = json.loads((folder / "truth.json").read_text())
    found: dict = {}
    for name, vp in truth["vantage_points"].items():
        offset = vp["offset_ms"] / 1000.0
        with open(folder / vp["file"], "rb") as f:
            for frame, (ts, raw) in enumerate(dpkt.pcap.Reader(f), 1):
                ip, tunnel = _ip(raw)
                if ip is None:
                    continue
                payload = bytes(ip.data)
                key = (ip.src, ip.dst, ip.p, ip.id,
                       hashlib.blake2b(payload, digest_size=8).digest())
                obs = Observation(name, frame, ts + offset, tunnel)
                if key in found:
                    found[key][1].append(obs)
                    continue
                found[key] = (ip, [obs])
    out = []
    for (src, dst, proto, ident, _), (ip, obs) in found.items():
        obs.sort(key=lambda o: o.time)
        sport = dport = seq = None
        if isinstance(ip.data, (dpkt.udp.UDP, dpkt.tcp.TCP)):
            sport, dport = ip.data.sport, ip.data.dport
        if isinstance(ip.data, dpkt.udp.UDP):
            parsed = testflow.parse(bytes(ip.data.data))
            seq = parsed[:2] if parsed else None
        signalling = None
        if seq is None and (proto == 1 or 434 in (sport, dport)):
            payload = bytes(ip.data) if proto == 1 else bytes(ip.data.data)
            signalling = Datagram(obs[0].frame, obs[0].time,
                                  socket.inet_ntoa(src), socket.inet_ntoa(dst),
                                  proto, ip.ttl, sport, dport, payload)
        out.append(SeenDatagram(
            socket.inet_ntoa(src), socket.inet_ntoa(dst), proto, ident,
            sport, dport, seq, ip.len, obs, signalling))
    out.sort(key=lambda d: d.observations[0].time)
    return out, truth


class Record:
    """What the data plane reads of a handover record: its start and end
    from the messages' first sightings in the captures kept."""

    def __init__(self, handover: dict, keep=None):
        firsts = [min(s["time"] for s in m["seen"]
                      if keep is None or s["vantage"] in keep)
                  for m in handover["messages"]
                  if any(keep is None or s["vantage"] in keep
                         for s in m["seen"])]
        self.start, self.end = min(firsts), max(firsts)
        self.mn = self.pcoa = T.PCOA
        self.ncoa = T.NCOA
        self.par, self.nar = T.PAR_ADDR, T.NAR_ADDR
        self.mode = handover["mode"]


def roles(truth) -> dict:
    return {name: name for name in truth["vantage_points"]}
