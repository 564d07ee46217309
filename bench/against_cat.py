"""The targets of the FMIPv4-dense work, judged from bench/run.py's
figures of one run (`make bench` prints them as "targets against cat"):

  fmip-lint at most CAT_RATIO_1M times `cat`'s wall time on the 1M-packet
  pcap and pcapng, at most CAT_RATIO_10M times on the 10M-packet pcap;
  start-up at most STARTUP_ABOVE_MS above `python -c pass`; the pure-Python
  walk (FMIPDISSECT_PURE=1) within PURE_RATIO of the accelerated one on
  every capture; on the FMIPv4-only capture at least FMIP_SPEEDUP times
  fewer machine instructions per message than the base commit
  (bench/instructions.py; bench/compare_commits.py times the same side by
  side in wall time).
"""

from __future__ import annotations

CAT_RATIO_1M = 4.0
CAT_RATIO_10M = 5.0
STARTUP_ABOVE_MS = 30.0
PURE_RATIO = 2.5
FMIP_SPEEDUP = 1.3

LINT, PURE = "fmip-lint", "fmip-lint, pure Python walk"
CAT = "cat > /dev/null (the disk's limit)"
STARTUP, BARE = "fmip-lint samples/predictive.pcap", "python -c pass"


def startup_check(startup: dict) -> tuple:
    above = startup[STARTUP] - startup[BARE]
    return (f"start-up at most {STARTUP_ABOVE_MS:g} ms above `{BARE}`",
            above <= STARTUP_ABOVE_MS,
            f"{above:.0f} ms above ({startup[STARTUP]:.0f} against "
            f"{startup[BARE]:.0f} ms)")


def checks(caps, table, startup, judged) -> list[tuple]:
    """(label, verdict, figures) for the captures of the table; judged()
    turns a verdict into None where the run cannot judge it (--quick)."""
    out = []
    lint, pure, cat = table[LINT], table[PURE], table[CAT]
    for c in caps[:2]:                       # bg.pcap, bg.pcapng
        ratio = lint[c.name].wall / cat[c.name].wall
        out.append((f"fmip-lint at most {CAT_RATIO_1M:g}x cat's time on "
                    f"{c.name}", judged(ratio <= CAT_RATIO_1M),
                    f"{ratio:.2f}x ({lint[c.name].wall:.2f} s against "
                    f"{cat[c.name].wall:.2f} s)"))
    out.append(startup_check(startup))
    for c in caps:
        ratio = pure[c.name].wall / lint[c.name].wall
        out.append((f"pure Python walk within {PURE_RATIO:g}x of the C walk "
                    f"on {c.name}", judged(ratio <= PURE_RATIO),
                    f"{ratio:.2f}x"))
    return out


def memory_check(mem: dict, judged) -> tuple:
    ratio = mem["wall"] / mem["cat_wall"]
    return (f"fmip-lint at most {CAT_RATIO_10M:g}x cat's time on "
            f"{mem['packets']:,} packets", judged(ratio <= CAT_RATIO_10M),
            f"{ratio:.2f}x ({mem['wall']:.2f} s against "
            f"{mem['cat_wall']:.2f} s)")


def instructions_check(counted: dict | None) -> tuple:
    if counted is None:
        return (f"FMIPv4 only: {FMIP_SPEEDUP:g}x fewer instructions per "
                f"message than the base", None, "not counted here")
    speedup = counted["base_message"] / counted["tree_message"]
    return (f"FMIPv4 only: {FMIP_SPEEDUP:g}x fewer instructions per message "
            f"than {counted['base']}", speedup >= FMIP_SPEEDUP,
            f"{speedup:.2f}x ({counted['tree_message']:,.0f} against "
            f"{counted['base_message']:,.0f})")
