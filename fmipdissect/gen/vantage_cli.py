"""The options of `fmipdissect gen --vantage` (gen/cli.py adds them)."""

from __future__ import annotations

import re
from pathlib import Path

from ..errors import InputError
from ..wire import testflow
from . import topology as T
from .vantage import LOSABLE, MODES, Config
from .vantage_write import Output, generate_vantage

DEFAULT_DELAY_MS = 5.0
MAX_CLOCK_OFFSET_MS = 86_400_000.0   # a day, either way
_DURATION = re.compile(r"^([+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(s|ms|us)?$")
_UNIT_MS = {"s": 1000.0, "ms": 1.0, "us": 0.001, None: 1.0}


def add_arguments(parser) -> None:
    g = parser.add_argument_group(
        "several vantage points (--vantage): one capture per node of one "
        "scenario, SCENARIO being predictive, reactive, baseline, a comma "
        "list of them taken in turn, or all; --handovers N of them; "
        "--packets N makes each capture N frames, --background SHARE that "
        "share of each, with background traffic (--packets wins)")
    g.add_argument("--vantage", metavar="NODES",
                   help="write one capture per node into the folder -o DIR "
                        "(DIR/mn.pcap, ..., DIR/truth.json): a comma list of "
                        "mn, par, nar, cn, or all")
    g.add_argument("--clock-offset", action="append", default=[],
                   metavar="NODE=OFFSET",
                   help="how far NODE's clock is ahead of the MN's (the "
                        "reference), e.g. par=+1.5s,nar=-2s (units s, ms, "
                        "us; ms without one); repeatable")
    g.add_argument("--link-delay", action="append", default=[],
                   metavar="MS|LINK=MS",
                   help=f"one-way delay of every link, or of one of "
                        f"{', '.join(T.LINKS)} (default {DEFAULT_DELAY_MS:g} "
                        f"ms); repeatable")
    g.add_argument("--jitter", type=float, default=0.0, metavar="MS",
                   help="each frame's delay on a link grows by a random 0 "
                        "to MS (seeded; frames may overtake each other); "
                        "default 0")
    g.add_argument("--loss", type=float, default=0.0, metavar="FRACTION",
                   help="share of test-flow packets each link loses, 0 <= "
                        "FRACTION < 1, seeded (FMIPv4 messages are never "
                        "lost)")
    g.add_argument("--duplicate", type=float, default=0.0,
                   metavar="FRACTION",
                   help="share of test-flow packets the last link hands to "
                        "their destination twice, 0 <= FRACTION < 1, seeded")
    g.add_argument("--traffic", default="200/s", metavar="RATE",
                   help="test-flow packets per second in each direction "
                        "between the CN and the MN (default 200/s; 0: none)")
    g.add_argument("--traffic-size", type=int, default=testflow.DEFAULT_SIZE,
                   metavar="OCTETS", help="test-flow UDP payload size "
                   f"(default {testflow.DEFAULT_SIZE})")
    g.add_argument("--l2-gap", type=float, default=50.0, metavar="MS",
                   help="time the MN is on neither link (default 50)")
    g.add_argument("--interval", type=float, default=1000.0, metavar="MS",
                   help="between handover starts (default 1000)")
    g.add_argument("--lose", action="append", default=[],
                   metavar="TYPE[@N]",
                   help="lose the MN's FBU or PAR's HI (TYPE fbu or hi) of "
                        "handover N (default: of every handover) on its "
                        "first link; its sender sends it again 100 ms "
                        "later; repeatable")
    g.add_argument("--pcapng", action="store_true",
                   help="write DIR/NODE.pcapng, one interface per link named "
                        "as in `fmipdissect lab` (fmip-old, fmip-new, ...), "
                        "instead of pcap")
    g.add_argument("--no-buffer", action="store_true",
                   help="HI without the U flag: NAR drops what arrives for "
                        "the MN before it attaches")


def parse_duration_ms(text: str, what: str) -> float:
    m = _DURATION.match(text.strip())
    if not m:
        raise InputError(f"{what}: not a time: {text!r} (e.g. +1.5s, -20ms)")
    return float(m.group(1)) * _UNIT_MS[m.group(2)]


def _pairs(values: list[str]) -> list[tuple[str | None, str]]:
    """(NAME or None, VALUE) of every comma-separated item of the values
    of a repeatable option (NAME=VALUE or VALUE)."""
    out = []
    for value in values:
        for item in filter(None, (x.strip() for x in value.split(","))):
            name, sep, rest = item.partition("=")
            out.append((name.strip(), rest) if sep else (None, item))
    return out


def clocks(values: list[str]) -> dict[str, int]:
    out = {node: 0 for node in T.NODES}
    for name, text in _pairs(values):
        if name not in T.NODES:
            raise InputError(f"--clock-offset: give NODE=OFFSET with NODE "
                             f"one of {', '.join(T.NODES)}")
        if name == "mn":
            raise InputError("--clock-offset: mn is the reference clock; "
                             "give the others' offsets to it")
        ms = parse_duration_ms(text, "--clock-offset")
        if abs(ms) > MAX_CLOCK_OFFSET_MS:
            raise InputError(f"--clock-offset: {text!r} is more than a day")
        out[name] = round(ms * 1000)
    return out


def delays(values: list[str]) -> dict[str, int]:
    out = {name: round(DEFAULT_DELAY_MS * 1000) for name in T.LINKS}
    for name, text in _pairs(values):
        if name is not None and name not in T.LINKS:
            raise InputError(f"--link-delay: unknown link {name!r} (links: "
                             f"{', '.join(T.LINKS)})")
        ms = parse_duration_ms(text, "--link-delay")
        if not 0.001 <= ms <= 10_000:
            raise InputError(f"--link-delay: {text!r} is not between 1 us "
                             f"and 10 s")
        for link in ([name] if name else T.LINKS):
            out[link] = round(ms * 1000)
    return out


def modes(scenario: str | None, handovers: int) -> tuple[str, ...]:
    names = MODES if scenario == "all" else tuple(
        x.strip() for x in (scenario or "predictive").split(","))
    for name in names:
        if name not in MODES:
            raise InputError(f"with --vantage, SCENARIO is one of "
                             f"{', '.join(MODES)}, a comma list of them or "
                             f"all (got {name!r})")
    return tuple(names[k % len(names)] for k in range(handovers))


def vantage(text: str) -> tuple[str, ...]:
    names = set(T.NODES) if text == "all" else {
        x.strip() for x in text.split(",") if x.strip()}
    unknown = names - set(T.NODES)
    if unknown or not names:
        raise InputError(f"--vantage: nodes are {', '.join(T.NODES)} or all "
                         f"(got {text!r})")
    return tuple(node for node in T.NODES if node in names)


def lose(values: list[str], handovers: int) -> frozenset:
    out = set()
    for _, item in _pairs(values):
        kind, _, which = item.lower().partition("@")
        if kind not in LOSABLE:
            raise InputError(f"--lose: TYPE is one of {', '.join(LOSABLE)} "
                             f"(got {item!r})")
        try:
            numbers = [int(which)] if which else range(1, handovers + 1)
        except ValueError:
            raise InputError(f"--lose: N is a handover number (got "
                             f"{item!r})") from None
        for n in numbers:
            if not 1 <= n <= handovers:
                raise InputError(f"--lose: handover {n} does not exist "
                                 f"(1 to {handovers})")
            out.add((kind, n))
    return frozenset(out)


def rate(text: str) -> float:
    value = text.strip().removesuffix("/s")
    try:
        r = float(value)
    except ValueError:
        raise InputError(f"--traffic: not a rate: {text!r} (e.g. 200/s)") \
            from None
    if not 0 <= r <= 100_000:
        raise InputError("--traffic: the rate is between 0 and 100000/s")
    return r


def config_from_args(args) -> tuple[Config, Output]:
    if args.handovers < 1:
        raise InputError("--handovers must be at least 1")
    if not 0 <= args.duplicate < 1:
        raise InputError("--duplicate must be a fraction: 0 <= FRACTION < 1")
    if not 0 <= args.jitter <= 1000:
        raise InputError("--jitter must be between 0 and 1000 ms")
    if not 0 <= args.loss < 1:
        raise InputError("--loss must be a fraction: 0 <= FRACTION < 1")
    if not testflow.HEADER_SIZE <= args.traffic_size <= 1472:
        raise InputError(f"--traffic-size is between {testflow.HEADER_SIZE} "
                         f"and 1472")
    if not 0 < args.l2_gap <= 10_000:
        raise InputError("--l2-gap must be more than 0 and at most 10000 ms")
    if not 10 <= args.interval <= 3_600_000:
        raise InputError("--interval must be between 10 ms and 1 h")
    if args.linktype != "ethernet":
        raise InputError("--vantage writes ethernet captures only")
    if args.packets is not None and args.packets < 1:
        raise InputError("--packets must be at least 1")
    if not 0 <= args.background < 1:
        raise InputError("--background must be a share: 0 <= SHARE < 1")
    if not args.output or args.output == "-":
        raise InputError("--vantage: give the folder to write with -o DIR")
    cfg = Config(modes=modes(args.scenario, args.handovers),
                 delays_us=delays(args.link_delay),
                 clocks_us=clocks(args.clock_offset),
                 gap_us=round(args.l2_gap * 1000),
                 interval_us=round(args.interval * 1000), loss=args.loss,
                 buffering=not args.no_buffer, rate=rate(args.traffic),
                 size=args.traffic_size, seed=args.seed,
                 lose=lose(args.lose, args.handovers),
                 jitter_us=round(args.jitter * 1000),
                 duplicate=args.duplicate)
    out = Output(Path(args.output), vantage(args.vantage), args.packets,
                 args.background, args.force,
                 ".pcapng" if args.pcapng else ".pcap")
    return cfg, out


def run(args) -> int:
    cfg, out = config_from_args(args)
    generate_vantage(cfg, out)
    return 0
