"""`gen --vantage`: run the scenario and write one capture per node and
truth.json into a folder.

The scenario's own frames (FMIPv4 messages, the test flow, tunnels) are few
next to a capture of a million packets: they are kept per node and sorted;
background traffic (``--packets``, ``--background``; gen/generate.py's
background_packets, on each node's clock) is streamed in between, so memory
stays bounded by the scenario, not by the capture.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass
from pathlib import Path

from ..errors import InputError
from .dataflow import TestFlow
from .flows import EPOCH_US, Params
from .generate import BACKGROUND_RATE, background_packets
from .netsim import Network
from .size import LIMIT, LINK_HEADER, RECORD_HEADER, background_mean, human
from .truth import build
from .vantage import LEAD_US, Config, run_signalling
from .writers import LINKTYPES, PcapWriter


@dataclass
class Output:
    folder: Path
    vantage: tuple[str, ...]         # nodes to write, topology.NODES order
    packets: int | None = None       # per capture, background filling up
    background: float = 0.0          # share of background per capture
    force: bool = False              # write captures over size.LIMIT


def stretch(cfg: Config, out: Output) -> Config:
    """Longer intervals when --packets asks for more background than the
    scenario's duration holds at the background rate (20,000/s)."""
    if out.packets:
        need = out.packets * 1_000_000 // BACKGROUND_RATE - LEAD_US
        cfg.interval_us = max(cfg.interval_us, need // len(cfg.modes))
    return cfg


def _write_one(path: Path, records: list, clock_us: int, background: int,
               duration_us: int, seed: int, node: str) -> int:
    """The node's records (plus background) as a pcap; frames' tags get
    their frame numbers.  The number of packets written."""
    records.sort(key=lambda r: (r[0], r[1]))
    rnd = random.Random(f"background:{seed}:{node}")
    extra = background_packets(background, EPOCH_US + clock_us, duration_us,
                               rnd, "ethernet", Params())
    with open(path, "wb") as out:
        writer = PcapWriter(out, LINKTYPES["ethernet"])
        nxt = next(extra, None)
        for t, _, data, tag in records:
            local = t + clock_us
            while nxt is not None and nxt[0] < local:
                writer.record(*nxt)
                nxt = next(extra, None)
            writer.record(local, data)
            if tag is not None:
                tag["seen"].append({"vantage": node, "frame": writer.count,
                                    "time": t / 1e6})
        while nxt is not None:
            writer.record(*nxt)
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
    net = Network(cfg.delays_us, cfg.loss, cfg.seed)
    handovers = run_signalling(net, cfg)
    fates = TestFlow(net, cfg, handovers).run(EPOCH_US, handovers[-1].end)
    duration = handovers[-1].end - EPOCH_US
    for node in out.vantage:
        records = net.records[node]
        _check_size(records, _background(len(records), out), out)
    try:
        out.folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out.folder}: {exc.strerror}") \
            from None
    written, paths = {}, []
    try:
        for node in out.vantage:
            path = out.folder / f"{node}.pcap"
            paths.append(path)
            records = net.records[node]
            count = _write_one(path, records, cfg.clocks_us.get(node, 0),
                               _background(len(records), out), duration,
                               cfg.seed, node)
            written[node] = {"file": path.name, "packets": count}
        for h in handovers:
            for message in h.messages:
                message["seen"].sort(key=lambda s: (s["time"], s["vantage"]))
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
