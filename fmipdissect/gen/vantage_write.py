"""`gen --vantage`: run the scenario and write one capture per node and
truth.json into a folder.

The scenario's own frames (FMIPv4 messages, the test flow, tunnels) are few
next to a capture of a million packets: they are kept per node and sorted;
background traffic (``--packets``, ``--background``; gen/transit.py) is
streamed in between, so memory stays bounded by the scenario, not by the
capture.
"""

from __future__ import annotations

import heapq
import json
import struct
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .dataflow import TestFlow
from . import topology as T
from . import transit
from .flows import EPOCH_US
from .generate import BACKGROUND_RATE
from .netsim import Network
from .size import LIMIT, LINK_HEADER, RECORD_HEADER, background_mean, human
from .truth import build
from .vantage import LEAD_US, Config, run_signalling
from .writers import (LINKTYPES, SNAPLEN, PcapWriter, _pcapng_block,
                      _pcapng_option, _Writer)


@dataclass
class Output:
    folder: Path
    vantage: tuple[str, ...]         # nodes to write, topology.NODES order
    packets: int | None = None       # per capture, background filling up
    background: float = 0.0          # share of background per capture
    force: bool = False              # write captures over size.LIMIT
    suffix: str = ".pcap"            # or ".pcapng": one interface per link


def stretch(cfg: Config, out: Output) -> Config:
    """Longer intervals when --packets asks for more background than the
    scenario's duration holds at the background rate (20,000/s)."""
    if out.packets:
        need = out.packets * 1_000_000 // BACKGROUND_RATE - LEAD_US
        cfg.interval_us = max(cfg.interval_us, need // len(cfg.modes))
    return cfg


class _Pcap(PcapWriter):
    def __init__(self, out, node: str):
        super().__init__(out, LINKTYPES["ethernet"])

    def record(self, t_us: int, data: bytes, link: str = "") -> None:
        super().record(t_us, data)


class _Pcapng(_Writer):
    """pcapng with one interface per link of the node, named as in the
    lab (if_name), as dumpcap writes a capture of several interfaces."""

    def __init__(self, out, node: str):
        super().__init__(out, LINKTYPES["ethernet"])
        app = _pcapng_option(4, b"fmipdissect gen --vantage")
        self._put(_pcapng_block(0x0A0D0D0A, struct.pack(
            "<IHHq", 0x1A2B3C4D, 1, 0, -1) + app + bytes(4)))
        self.index = {}
        for i, link in enumerate(T.links_of(node)):
            self.index[link] = i
            name = T.LINKS[link].end(node).iface.encode()
            options = (_pcapng_option(2, name) + _pcapng_option(9, b"\x06")
                       + bytes(4))            # if_name, if_tsresol 10^-6
            self._put(_pcapng_block(1, struct.pack(
                "<HHI", self.linktype, 0, SNAPLEN) + options))

    def record(self, t_us: int, data: bytes, link: str = "") -> None:
        n = len(data)
        pad = -n % 4
        total = 32 + n + pad
        self._put(struct.pack("<IIIIIII", 6, total, self.index[link],
                              t_us >> 32, t_us & 0xFFFFFFFF, n, n)
                  + data + bytes(pad) + struct.pack("<I", total))
        self.count += 1


def _tagged(link: str, stream):
    for t, data in stream:
        yield t, data, link


def _write_one(path: Path, records: list, clock_us: int,
               background: list, node: str) -> int:
    """The node's records and background streams (true times, in order)
    as a pcap or pcapng (by the file's suffix); frames' tags get their
    frame numbers.  The number of packets written."""
    records.sort(key=lambda r: (r[0], r[1]))
    extra = heapq.merge(*(_tagged(link, s) for link, s in background),
                        key=lambda r: r[0])
    with open(path, "wb") as out:
        writer = (_Pcapng if path.suffix == ".pcapng" else _Pcap)(out, node)
        record = writer.record
        nxt = next(extra, None)
        for t, _, data, tag, link in records:
            while nxt is not None and nxt[0] < t:
                record(nxt[0] + clock_us, nxt[1], nxt[2])
                nxt = next(extra, None)
            record(t + clock_us, data, link)
            if tag is not None:
                tag["seen"].append({"vantage": node, "frame": writer.count,
                                    "time": t / 1e6})
        while nxt is not None:
            record(nxt[0] + clock_us, nxt[1], nxt[2])
            nxt = next(extra, None)
        writer.flush()
    return writer.count


def _background(own: int, out: Output) -> int:
    if out.packets:
        return max(0, out.packets - own)
    return round(own * out.background / (1 - out.background))


def _check_size(records: list, background: int, out: Output) -> None:
    """Refuse a capture over 1 GiB without --force, as `gen` does."""
    octets = sum(len(r[2]) + RECORD_HEADER for r in records) + \
        background * (background_mean() + LINK_HEADER + RECORD_HEADER)
    if octets > LIMIT and not out.force:
        raise InputError(f"each capture would be about {human(octets)}; "
                         f"lower --packets or --background, or give --force")


def generate_vantage(cfg: Config, out: Output) -> dict:
    """Write the captures and truth.json; returns the truth."""
    cfg = stretch(cfg, out)
    net = Network(cfg.delays_us, cfg.loss, cfg.seed, cfg.jitter_us)
    handovers = run_signalling(net, cfg)
    fates = TestFlow(net, cfg, handovers).run(EPOCH_US, handovers[-1].end)
    duration = handovers[-1].end - EPOCH_US
    wanted = {node: _background(len(net.records[node]), out)
              for node in out.vantage}
    for node, n in wanted.items():
        _check_size(net.records[node], n, out)
    counts = transit.plan(wanted)
    try:
        out.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out.folder}: {exc.strerror}") \
            from None
    written, paths = {}, []
    try:
        for node in out.vantage:
            path = out.folder / f"{node}{out.suffix}"
            paths.append(path)
            background = transit.streams(node, counts[node], cfg.seed,
                                         duration, cfg.delays_us["par-nar"])
            count = _write_one(path, net.records[node],
                               cfg.clocks_us.get(node, 0), background, node)
            written[node] = {"file": path.name, "packets": count}
        for h in handovers:
            for message in h.messages:
                seen = message["seen"]
                seen.sort(key=lambda s: (s["time"], s["vantage"]))
                # the contract's lost_after: the last capture that saw a
                # message its destination never received
                message["lost_after"] = seen[-1]["vantage"] if \
                    message.pop("lost") and seen else None
                message["one_way_ms"] = round(
                    (seen[-1]["time"] - seen[0]["time"]) * 1000, 3) \
                    if len(seen) > 1 else None
        truth = build(cfg, handovers, fates, out.vantage, written)
        path = out.folder / "truth.json"
        paths.append(path)
        path.write_text(json.dumps(truth, indent=1) + "\n", encoding="utf-8")
    except OSError as exc:
        for path in paths:
            path.unlink(missing_ok=True)
        raise InputError(f"cannot write into {out.folder}: "
                         f"{exc.strerror}") from None
    return truth
