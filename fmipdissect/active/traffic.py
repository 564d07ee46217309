"""One end of the lab's test flow (wire/testflow.py): sends its own flow at
a constant rate to the other end and counts what arrives of the other's.

    python -m fmipdissect.active.traffic --flow down --bind CN --peer PCOA \\
        --rate 200 --size 64

sends until SIGUSR1 (then only receives, so that what is still on its way
is counted), runs until SIGTERM (or --duration), then prints its counters
as JSON:
{"flow", "sent", "unsent", "received", "duplicates", "first_seq",
"last_seq"}.  "sent" counts every sequence number used; "unsent" the ones
the kernel refused at once (no route while the MN is between links), so
`sent - unsent` left this node.  Both ends use DEFAULT_PORT.
"""

from __future__ import annotations

import argparse
import errno
import json
import select
import signal
import socket
import sys
import time

from ..wire import testflow as T

FLOWS = {"down": T.FLOW_DOWN, "up": T.FLOW_UP}


class Endpoint:
    def __init__(self, flow: int, bind: str, peer: str, rate: float,
                 size: int, port: int = T.DEFAULT_PORT):
        self.flow, self.peer, self.port = flow, peer, port
        self.interval, self.size = 1.0 / rate, size
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind((bind, port))
        self.sock.setblocking(False)
        self.seq = 0
        self.unsent = 0
        self.received: set[int] = set()
        self.duplicates = 0

    def send_one(self) -> None:
        data = T.build(self.flow, self.seq, time.time_ns(), self.size)
        self.seq += 1
        try:
            self.sock.sendto(data, (self.peer, self.port))
        except OSError as exc:
            if exc.errno not in (errno.ENETUNREACH, errno.EHOSTUNREACH,
                                 errno.EINVAL, errno.ENOBUFS,
                                 errno.EAGAIN, errno.ECONNREFUSED):
                raise
            self.unsent += 1

    def receive(self) -> None:
        while True:
            try:
                data = self.sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except ConnectionRefusedError:     # an ICMP error of a send
                continue
            got = T.parse(data)
            if got is None or got[0] == self.flow:
                continue
            if got[1] in self.received:
                self.duplicates += 1
            self.received.add(got[1])

    def run(self, until, sending=lambda: True) -> None:
        due = time.monotonic()
        while not until():
            now = time.monotonic()
            if not sending():
                due = now + 0.05
            elif now >= due:
                self.send_one()
                due += self.interval
                if due < now - 1.0:        # a stall: no burst to catch up
                    due = now
            ready, _, _ = select.select([self.sock], [], [],
                                        max(0.0, due - time.monotonic()))
            if ready:
                self.receive()
        self.receive()

    def counters(self) -> dict:
        seqs = sorted(self.received)
        return {"flow": self.flow, "sent": self.seq, "unsent": self.unsent,
                "received": len(seqs), "duplicates": self.duplicates,
                "first_seq": seqs[0] if seqs else None,
                "last_seq": seqs[-1] if seqs else None}


def parse_rate(text: str) -> float:
    """`200/s` or `200`: packets per second (0 < rate <= 10000)."""
    value = text[:-2] if text.endswith("/s") else text
    try:
        rate = float(value)
    except ValueError:
        raise ValueError(f"bad rate {text!r}: expected N/s, e.g. 200/s") \
            from None
    if not 0 < rate <= 10000:
        raise ValueError(f"bad rate {text!r}: between 1/s and 10000/s")
    return rate


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="fmipdissect.active.traffic")
    p.add_argument("--flow", choices=FLOWS, required=True)
    p.add_argument("--bind", required=True)
    p.add_argument("--peer", required=True)
    p.add_argument("--rate", default="200/s")
    p.add_argument("--size", type=int, default=T.DEFAULT_SIZE)
    p.add_argument("--duration", type=float)
    p.add_argument("--go-on-stdin", action="store_true",
                   help="bind, say ready, wait for a line, then send (both "
                        "ends are bound before either sends)")
    args = p.parse_args(argv)
    stop, quiet = [], []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    signal.signal(signal.SIGUSR1, lambda *_: quiet.append(1))
    ep = Endpoint(FLOWS[args.flow], args.bind, args.peer,
                  parse_rate(args.rate), args.size)
    print("ready", file=sys.stderr, flush=True)
    if args.go_on_stdin:
        sys.stdin.readline()
    end = time.monotonic() + args.duration if args.duration else None
    ep.run(lambda: bool(stop) or (end is not None
                                  and time.monotonic() >= end),
           lambda: not quiet)
    json.dump(ep.counters(), sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
