"""`gen --vantage`: run the scenario and write one capture per node and
truth.json into a folder.

The scenario runs one handover's window at a time: what is sent before a
window's end is all that can be seen before it, so each capture's frames
up to that time are final and are written then, the background streams
(``--packets``, ``--background``; gen/transit.py) in between.  Memory
stays bounded by one window's traffic, not by the captures' length.  A dry
run first counts each capture's own frames, so that ``--packets`` sizes
the background exactly.
"""

from __future__ import annotations

import bisect
import heapq
import json
import struct
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import InputError
from .dataflow import TrafficRun
from . import topology as T
from . import transit
from .flows import EPOCH_US
from .generate import BACKGROUND_RATE
from .netsim import CountingNetwork, Network
from .size import LIMIT, LINK_HEADER, RECORD_HEADER, background_mean, human
from .truth import Tally, build
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
        cfg = replace(cfg, interval_us=max(cfg.interval_us,
                                           need // len(cfg.modes)))
    return cfg


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


class _Capture:
    """One node's capture being written: the scenario's records come
    window by window, the background streams in between."""

    def __init__(self, path: Path, node: str, clock_us: int,
                 background: list):
        self.path, self.node, self.clock = path, node, clock_us
        self.file = open(path, "wb")
        if path.suffix == ".pcapng":      # frames say their interface
            self.writer = _Pcapng(self.file, node)
            self.put = self.writer.record
            streams = [_tagged(link, s) for link, s in background]
        else:                             # pcap: the link goes unsaid
            self.writer = PcapWriter(self.file, LINKTYPES["ethernet"])
            self.put = lambda t, data, link: self.writer.record(t, data)
            streams = [s for _, s in background]
        self.extra = streams[0] if len(streams) == 1 else \
            heapq.merge(*streams, key=lambda r: r[0])
        self.nxt = next(self.extra, None)

    def write(self, records: list, until: int | None = None) -> list:
        """Write the records (true times) before until, all when None, and
        the background before them; frames' tags get their frame numbers.
        Returns the records left for later."""
        records.sort(key=lambda r: (r[0], r[1]))
        cut = len(records) if until is None else \
            bisect.bisect_left(records, until, key=lambda r: r[0])
        put, clock, extra = self.put, self.clock, self.extra
        background = self.writer.record   # (time, frame[, link])
        nxt = self.nxt
        for i in range(cut):
            t, _, data, tag, link = records[i]
            while nxt is not None and nxt[0] < t:
                background(nxt[0] + clock, *nxt[1:])
                nxt = next(extra, None)
            put(t + clock, data, link)
            if tag is not None:
                tag["seen"].append({"vantage": self.node,
                                    "frame": self.writer.count,
                                    "time": t / 1e6})
        while nxt is not None and (until is None or nxt[0] < until):
            background(nxt[0] + clock, *nxt[1:])
            nxt = next(extra, None)
        self.nxt = nxt
        return records[cut:]

    def close(self) -> int:
        """Flush and close; the number of frames written."""
        if not self.file.closed:
            self.writer.flush()
            self.file.close()
        return self.writer.count


def _background(own: int, out: Output) -> int:
    if out.packets:
        return max(0, out.packets - own)
    return round(own * out.background / (1 - out.background))


def _check_size(octets: int, background: int, out: Output) -> None:
    """Refuse a capture over 1 GiB without --force, as `gen` does."""
    octets += background * (background_mean() + LINK_HEADER + RECORD_HEADER)
    if octets > LIMIT and not out.force:
        raise InputError(f"each capture would be about {human(octets)}; "
                         f"lower --packets or --background, or give --force")


def _windows(net: Network, cfg: Config, handovers: list):
    """(handover, fates of the test-flow packets sent in its window), in
    order: the same draws from the seed in the dry run and the real one."""
    flow = TrafficRun(net, cfg, handovers)
    for h in handovers:
        yield h, flow.run(h.end)


def _dry_run(cfg: Config, out: Output) -> dict[str, int]:
    """The background frames each capture needs, from its own frames
    counted by running the scenario without keeping one (so --packets is
    exact); refuses captures over the size limit."""
    net = CountingNetwork(cfg.delays_us, cfg.loss, cfg.seed, cfg.jitter_us)
    handovers = run_signalling(net, cfg)
    for _ in _windows(net, cfg, handovers):
        pass
    background = {node: _background(net.frames[node], out)
                  for node in out.vantage}
    for node, n in background.items():
        _check_size(net.octets[node] + RECORD_HEADER * net.frames[node], n,
                    out)
    return background


def _finish_messages(handovers) -> None:
    """Each message's sightings in time order, and the contract's
    lost_after (the last capture that saw a message its destination
    never received) and one_way_ms."""
    for h in handovers:
        for message in h.messages:
            seen = message["seen"]
            seen.sort(key=lambda s: (s["time"], s["vantage"]))
            message["lost_after"] = seen[-1]["vantage"] if \
                message.pop("lost") and seen else None
            message["one_way_ms"] = round(
                (seen[-1]["time"] - seen[0]["time"]) * 1000, 3) \
                if len(seen) > 1 else None


def _run(cfg: Config, out: Output, counts: dict, captures: dict) -> dict:
    """Run the scenario window by window into the open captures; the
    truth."""
    net = Network(cfg.delays_us, cfg.loss, cfg.seed, cfg.jitter_us,
                  out.vantage)
    handovers = run_signalling(net, cfg)
    tally = Tally(handovers, out.vantage)
    duration = handovers[-1].end - EPOCH_US
    for node in out.vantage:
        path = out.folder / f"{node}{out.suffix}"
        captures[node] = _Capture(path, node, cfg.clocks_us.get(node, 0),
                                  transit.streams(node, counts[node],
                                                  cfg.seed, duration,
                                                  cfg.delays_us["par-nar"]))
    for h, fates in _windows(net, cfg, handovers):
        # what is sent before h.end is all that can be seen before it
        tally.add(h.index, fates)
        for node, capture in captures.items():
            net.records[node] = capture.write(net.records[node], h.end)
        tally.settle(h.end)
    written = {}
    for node, capture in captures.items():
        net.records[node] = capture.write(net.records[node])
        written[node] = {"file": capture.path.name,
                         "packets": capture.close()}
    _finish_messages(handovers)
    return build(cfg, handovers, tally, out.vantage, written)


def generate_vantage(cfg: Config, out: Output) -> dict:
    """Write the captures and truth.json; returns the truth."""
    cfg = stretch(cfg, out)
    counts = transit.plan(_dry_run(cfg, out))
    try:
        out.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out.folder}: {exc.strerror}") \
            from None
    captures: dict = {}
    truth_path = out.folder / "truth.json"
    try:
        truth = _run(cfg, out, counts, captures)
        truth_path.write_text(json.dumps(truth, indent=1) + "\n",
                              encoding="utf-8")
    except BaseException as exc:
        for capture in captures.values():
            capture.close()
            capture.path.unlink(missing_ok=True)
        truth_path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise InputError(f"cannot write into {out.folder}: "
                             f"{exc.strerror}") from None
        raise
    return truth
