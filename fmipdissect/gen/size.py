"""How much `fmipdissect gen` is about to write, said before it writes.

The estimate counts each record's header (16 octets), the scenario's own
frames as compiled, and background packets at the mean size of the
background table (generate.BACKGROUND_CLASSES, both directions, weighted),
with the link header.  Above LIMIT the command refuses unless --force.
"""

from __future__ import annotations

from ..errors import InputError

RECORD_HEADER = 16              # pcap record header; pcapng's EPB is 32
LINK_HEADER = 14                # Ethernet, the default link type
LIMIT = 1 << 30                 # 1 GiB


def background_mean() -> float:
    """Mean IP length of a background packet (both directions)."""
    from .generate import BACKGROUND_CLASSES
    total = sum(w for _, _, w, _, _, _ in BACKGROUND_CLASSES)
    return sum(w * (up + down) / 2
               for _, _, w, _, up, down in BACKGROUND_CLASSES) / total


def estimate(options) -> tuple[int, int]:
    """(packets, octets) the options will write."""
    from .generate import compile_template, plan
    template = compile_template(options.scenario, options.params)
    handovers, background = plan(options, len(template.frames))
    fmip = sum(len(f.ip) + LINK_HEADER + RECORD_HEADER
               for f in template.frames) * handovers
    rest = background * (background_mean() + LINK_HEADER + RECORD_HEADER)
    return (handovers * len(template.frames) + background,
            int(24 + fmip + rest))


def human(octets: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if octets < 1000 or unit == "GB":
            return f"{octets:.1f} {unit}" if unit != "B" else f"{octets} B"
        octets /= 1000
    return f"{octets:.1f} TB"          # pragma: no cover


def check(options, force: bool, say) -> None:
    """Say how much will be written (when a lot); refuse over LIMIT
    without force."""
    packets, octets = estimate(options)
    if octets < LIMIT // 100:          # about 10 MB: not worth a line
        return
    if octets > LIMIT and not force:
        raise InputError(f"this would write about {human(octets)} ({packets:,}"
                         f" packets); lower --handovers, --packets or "
                         f"--background, or give --force")
    say(f"writing about {human(octets)} ({packets:,} packets)")
