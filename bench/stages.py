"""Where fmip-lint's time per FMIPv4 message goes, stage by stage.

    .venv/bin/python bench/stages.py [CAPTURE] [--runs N]

Runs the checker's stages cumulatively over CAPTURE (default: the bench's
FMIPv4-only capture, bench/out/cache/full/fmip.pcap; `make bench` creates
it) in this process: the reader alone, then + decoding, + the per-message
checks, + the session (matching, expiry).  Prints seconds (best of --runs)
and microseconds per message for each stage and its increment.  A script,
not a test: the figures depend on the machine; docs/performance.md quotes
a run.
"""

from __future__ import annotations

import argparse
import gc
import time
from pathlib import Path

from fmipdissect.capture import accel
from fmipdissect.capture.reader import CaptureReader
from fmipdissect.decode.decoder import decode_datagram
from fmipdissect.lint.checks import check_message
from fmipdissect.lint.cli import GC_THRESHOLD
from fmipdissect.lint.session import Session
from fmipdissect.records import CaptureNote
from fmipdissect.spec.protocol import DEFAULT_LLA_LENGTH

DEFAULT = Path(__file__).resolve().parent / "out" / "cache" / "full" / "fmip.pcap"
STAGES = ("read", "+ decode", "+ checks", "+ correlator and its rules")


def run(path: str, stage: int) -> tuple[float, int]:
    """Seconds for stages 0..stage over the capture, and messages seen."""
    start = time.perf_counter()
    session = Session()
    messages = 0
    for item in CaptureReader(path):
        if stage == 0 or item.__class__ is CaptureNote:
            messages += 1
            continue
        msg = decode_datagram(item, DEFAULT_LLA_LENGTH)
        if msg is None:
            continue
        messages += 1
        if stage >= 2:
            check_message(msg, item, None)     # no --keys, as fmip-lint
        if stage >= 3:
            session.observe(msg, item)
    return time.perf_counter() - start, messages


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("capture", nargs="?", default=str(DEFAULT))
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args(argv)
    if not Path(args.capture).exists():
        ap.error(f"{args.capture}: not found (run `make bench` once to "
                 f"create the bench captures)")
    print(f"stages of fmip-lint on {args.capture} (record walk: "
          f"{accel.describe()}), best of {args.runs}")
    previous = 0.0
    gc.set_threshold(*GC_THRESHOLD)        # as fmip-lint checks
    for stage, label in enumerate(STAGES):
        seconds, messages = min(run(args.capture, stage)
                                for _ in range(args.runs))
        per = 1e6 * seconds / max(messages, 1)
        extra = 1e6 * (seconds - previous) / max(messages, 1)
        print(f"  {label:<10} {seconds:7.2f} s  {per:6.1f} us/message  "
              f"(this stage {extra:5.1f} us)")
        previous = seconds
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
