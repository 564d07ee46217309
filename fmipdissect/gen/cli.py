"""`fmipdissect gen SCENARIO -o FILE`: the command line of the generator."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

from ..errors import InputError
from ..spec import protocol as P
from .flows import Params
from .generate import GenOptions, generate, generate_file
from .scenarios import SCENARIOS
from .writers import LINKTYPES
from . import vantage_cli


def _ipv4(text: str) -> str:
    try:
        packed = socket.inet_aton(text)
    except OSError:
        raise InputError(f"not an IPv4 address: {text!r}") from None
    if text.count(".") != 3:
        raise InputError(f"not a dotted-quad IPv4 address: {text!r}")
    return socket.inet_ntoa(packed)


def _mac(text: str) -> str:
    parts = text.replace("-", ":").split(":")
    if len(parts) != 6 or not all(len(x) in (1, 2) for x in parts):
        raise InputError(f"not a MAC address: {text!r}")
    try:
        return ":".join(f"{int(x, 16):02x}" for x in parts)
    except ValueError:
        raise InputError(f"not a MAC address: {text!r}") from None


def add_arguments(parser) -> None:
    d = Params()
    parser.add_argument("scenario", nargs="?", metavar="SCENARIO",
                        help="scenario to generate (--list shows them)")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="capture to write: pcap, or pcapng when the name "
                             "ends in .pcapng; - writes a pcap to standard "
                             "output; with --vantage, the folder to write")
    parser.add_argument("--list", action="store_true",
                        help="list the scenarios and exit")
    parser.add_argument("--handovers", type=int, default=1, metavar="N",
                        help="handovers of distinct MNs, interleaved in time "
                             "(default 1)")
    parser.add_argument("--packets", type=int, metavar="N",
                        help="total packets; the number of handovers follows "
                             "from --background (without background: rounded "
                             "to whole handovers)")
    parser.add_argument("--background", type=float, default=0.0,
                        metavar="SHARE",
                        help="share of background UDP/TCP packets, 0 <= SHARE "
                             "< 1 (e.g. 0.99)")
    parser.add_argument("--linktype", choices=tuple(LINKTYPES),
                        default="ethernet", help="link layer (default ethernet)")
    parser.add_argument("--force", action="store_true",
                        help="write a capture over 1 GiB (refused without it;"
                        " the size is estimated before writing)")
    parser.add_argument("--seed", type=int, default=1,
                        help="seed of the random choices (default 1)")
    g = parser.add_argument_group("addresses and keys (of the first MN; more "
                                  "MNs count up from it)")
    g.add_argument("--mn", default=d.mn, help=f"MN's PCoA and Home Address "
                   f"(default {d.mn})")
    g.add_argument("--par", default=d.par, help=f"PAR (default {d.par})")
    g.add_argument("--nar", default=d.nar, help=f"NAR (default {d.nar})")
    g.add_argument("--ncoa", default=d.ncoa, help=f"NCoA (default {d.ncoa})")
    for name in ("mn", "par", "nar", "ap"):
        g.add_argument(f"--{name}-mac", default=getattr(d, f"{name}_mac"),
                       help=f"{name.upper()} MAC address (default "
                            f"{getattr(d, f'{name}_mac')})")
    g.add_argument("--key", default=d.key.hex(), metavar="HEX",
                   help="MN-PAR shared key in hex (default: the samples' key)")
    g.add_argument("--spi", default=f"{d.spi:#x}",
                   help=f"SPI, decimal or 0x-hex (default {d.spi:#x})")
    g.add_argument("--algorithm", default=d.algorithm,
                   choices=tuple(P.AUTH_ALGORITHMS),
                   help="authenticator algorithm (decision D5)")
    vantage_cli.add_arguments(parser)


def options_from_args(args) -> GenOptions:
    if args.scenario not in SCENARIOS:
        raise InputError(f"unknown scenario {args.scenario!r} (choose from "
                         f"{', '.join(SCENARIOS)})")
    if args.handovers < 1:
        raise InputError("--handovers must be at least 1")
    if args.packets is not None and args.packets < 1:
        raise InputError("--packets must be at least 1")
    if not 0 <= args.background < 1:
        raise InputError("--background must be a share: 0 <= SHARE < 1")
    try:
        key = bytes.fromhex(args.key)
    except ValueError:
        raise InputError(f"--key is not hex: {args.key!r}") from None
    if not key:
        raise InputError("--key must not be empty")
    try:
        spi = int(args.spi, 0)
    except ValueError:
        raise InputError(f"--spi is not a number: {args.spi!r}") from None
    if not 0 <= spi <= 0xFFFFFFFF:
        raise InputError("--spi must fit in 32 bits")
    params = Params(mn=_ipv4(args.mn), par=_ipv4(args.par),
                    nar=_ipv4(args.nar), ncoa=_ipv4(args.ncoa),
                    mn_mac=_mac(args.mn_mac), par_mac=_mac(args.par_mac),
                    nar_mac=_mac(args.nar_mac), ap_mac=_mac(args.ap_mac),
                    key=key, spi=spi, algorithm=args.algorithm)
    if len({params.mn, params.par, params.nar, params.ncoa}) != 4:
        raise InputError("--mn, --par, --nar and --ncoa must be distinct")
    return GenOptions(scenario=args.scenario, handovers=args.handovers,
                      packets=args.packets, background=args.background,
                      linktype=args.linktype, seed=args.seed, params=params,
                      progress=sys.stderr.isatty())


def run(args) -> int:
    if args.list:
        width = max(map(len, SCENARIOS))
        for name, spec in SCENARIOS.items():
            print(f"{name:<{width}}  {spec.description}")
        return 0
    if args.vantage is not None:
        return vantage_cli.run(args)
    if args.scenario is None:
        raise InputError("give a SCENARIO (see --list)")
    options = options_from_args(args)
    if not args.output:
        raise InputError("give the capture to write with -o FILE")
    from .size import check
    check(options, args.force, lambda text: print(
        f"fmipdissect gen: {text}", file=sys.stderr))
    if args.output == "-":             # a pcap to standard output
        if sys.stdout.isatty():
            raise InputError("-o -: standard output is a terminal; redirect "
                             "it to a file or a pipe")
        generate(options, sys.stdout.buffer, False)
        sys.stdout.buffer.flush()
        return 0
    generate_file(options, Path(args.output))
    return 0
