"""Background traffic of `gen --vantage` (``--packets``, ``--background``).

gen/generate.py's background_packets: UDP and TCP flows between clients in
10.1/16 and 10.2/16 and servers in the documentation prefixes, none of them
the MN's.  Two kinds (decision D23):

* transit: when both routers' captures are written, the PAR-NAR link also
  carries background between servers behind PAR and clients behind NAR,
  in both directions: the same datagram in both routers' captures, the
  receiver's copy one link delay after the sender's.  This gives a merge
  of the two captures matching work in proportion to their size.
* local: what is left to reach the asked size, drawn for each capture on
  its own (seen nowhere else).

Every stream is generated lazily and in time order (true time; the writer
adds the node's clock), so memory does not grow with the capture's size.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Iterator

from .flows import EPOCH_US, Params, ip_int
from .generate import SERVER_NETS, background_packets
from .topology import links_of

SERVER_FIRST_OCTETS = frozenset(ip_int(net) >> 24 for net in SERVER_NETS)
IP_SRC_OCTET = 14 + 12      # first octet of the IPv4 source, after Ethernet
ROUTERS = ("par", "nar")


# Link-layer addresses of the background's routers: none of the scenario's,
# so that a frame's MAC never makes background look like the MN's traffic.
BACKGROUND = Params(par_mac="02:00:00:ee:00:01", nar_mac="02:00:00:ee:00:02")


def _stream(count: int, seed: str, duration_us: int) -> Iterator:
    return background_packets(count, EPOCH_US, duration_us,
                              random.Random(seed), "ethernet", BACKGROUND)


def delayed(stream: Iterator, delay_us: int, late) -> Iterator:
    """stream with the frames for which late(frame) holds delay_us later,
    still in time order (a FIFO: the delay is the same for all)."""
    pending: deque = deque()
    for t, data in stream:
        while pending and pending[0][0] <= t:
            yield pending.popleft()
        if late(data):
            pending.append((t + delay_us, data))
        else:
            yield t, data
    yield from pending


def transit(count: int, seed: int, duration_us: int, delay_us: int,
            node: str) -> Iterator:
    """The PAR-NAR link's background as node ("par" or "nar") sees it:
    what the other router sent, one link delay after it was sent."""
    def from_par(data: bytes) -> bool:
        return data[IP_SRC_OCTET] in SERVER_FIRST_OCTETS
    late = (lambda d: not from_par(d)) if node == "par" else from_par
    return delayed(_stream(count, f"transit:{seed}", duration_us),
                   delay_us, late)


def plan(wanted: dict[str, int]) -> dict:
    """{node: (transit, local)} background counts: wanted[node] frames of
    background for each node, transit shared by PAR and NAR when both are
    written."""
    shared = min(wanted[r] for r in ROUTERS) if all(
        r in wanted for r in ROUTERS) else 0
    return {node: ((shared, n - shared) if node in ROUTERS else (0, n))
            for node, n in wanted.items()}


def streams(node: str, counts: tuple[int, int], seed: int,
            duration_us: int, delay_us: int) -> list[tuple[str, Iterator]]:
    """(link, stream) pairs: the local background on the node's first
    link, the transit on the PAR-NAR link."""
    shared, local = counts
    out = [(links_of(node)[0],
            _stream(local, f"background:{seed}:{node}", duration_us))]
    if shared:
        out.append(("par-nar",
                    transit(shared, seed, duration_us, delay_us, node)))
    return out
