"""The handover record (decision D13) and the summary over many of them.

A HandoverRecord is what `fmipdissect handovers` prints one row of and what
`fmipdissect.handovers()` returns: the JSON fields of the output contract
as attributes, plus `steps` (the messages in capture order, for the ladder
diagram of the HTML report; not part of the JSON).
"""

from __future__ import annotations

import math
from array import array

from ..plain import Record

# latency_ms keys, in the order of a handover (decision D13)
LATENCY_KEYS = ("rtsolpr_prrtadv", "hi_hack", "fbu_fback", "total")
# codes keys: the first PrRtAdv, HI and HAck, the FBAck that decided
CODE_KEYS = ("prrtadv", "hi", "hack", "fback")
# processing_ms keys: (key, role, message in, message out), RFC 4988 4.1:
# PAR from FBU to HI, NAR from HI to HAck, PAR from HAck to FBAck
PROCESSING = (("par_fbu_hi", "par", "fbu", "hi"),
              ("nar_hi_hack", "nar", "hi", "hack"),
              ("par_hack_fback", "par", "hack", "fback"))
PROCESSING_KEYS = tuple(p[0] for p in PROCESSING)
# the data plane's `data` per direction (output contract), in CSV order
DATA_DIRECTIONS = ("down", "up")
DATA_KEYS = ("packets", "interruption_ms", "last_old", "first_new", "lost",
             "tunnelled", "buffered", "reordered", "duplicated",
             "lost_last_seen")
OUTCOMES = ("completed", "rejected", "incomplete")
# baseline: a move without a fast handover, a Mobile IPv4 registration
# (--merge only, decision D25)
MODES = ("predictive", "reactive", "baseline", "unknown")
SEVERITY_KEYS = (("error", "errors"), ("warning", "warnings"),
                 ("info", "infos"))


class Step(Record):
    """One message of a handover, as the ladder diagram draws it."""

    __slots__ = _fields = (
        "frame",
        "time",
        "key",          # protocol message key ("fbu", "hack", ...)
        "name",         # "FBU", "HAck", ... (protocol abbreviation)
        "code",
        "src",
        "dst",
        "note",         # e.g. "forwarded" for an FBU NAR passes on
        "findings",     # [(rule, severity, text)]
        "seen",         # --merge: [(vantage, frame, time)] of the message
    )

    _defaults = {"note": ""}
    _new_list = ("findings", "seen")


class HandoverRecord(Record):
    """One handover: the JSON fields of the output contract (to_dict) plus
    the steps of its ladder diagram and how many were left out of it."""

    __slots__ = (
        "file", "mn", "pcoa", "ncoa", "par", "nar",
        "mode",             # MODES
        "initiated_by",     # "mn" | "network"
        "outcome",          # OUTCOMES
        "first_frame", "last_frame", "frames", "start", "end",
        "latency_ms",       # LATENCY_KEYS -> float ms (3 decimals) | None
        "codes",            # CODE_KEYS -> int | None
        "findings",         # {"errors", "warnings", "infos"} -> int
        "messages",         # FMIPv4 messages (frames may be capped)
        "notes",            # why a latency is null (clock went back), ...
        "vantage_points",   # --merge: captures that saw its messages, else None
        "observed",         # --merge: the JSON "messages" list (one dict
                            # per distinct message), else None
        "processing_ms",    # --merge: PROCESSING_KEYS -> float ms | None
        "data",             # --merge: the data plane's object or None
        "steps",            # the ladder diagram's messages (not in repr)
        "steps_dropped",    # messages beyond the diagram cap
    )
    _fields = __slots__[:-2] + ("steps_dropped",)   # shown by repr
    _defaults = {"vantage_points": None, "observed": None,
                 "processing_ms": None, "data": None, "steps_dropped": 0}
    _new_list = ("notes", "steps")

    def __eq__(self, other):     # the steps count too, though not shown
        if other.__class__ is not self.__class__:
            return NotImplemented
        return self._values() == other._values() and self.steps == other.steps

    @property
    def merged(self) -> bool:
        """Made by `handovers --merge` (several vantage points)."""
        return self.vantage_points is not None

    def to_dict(self) -> dict:
        """The JSON object of the output contract (docs/handovers.md); in
        merge mode `messages` is the list of messages, with their sightings,
        and `vantage_points`, `processing_ms` and `data` are added."""
        out = {
            "file": self.file, "mn": self.mn, "pcoa": self.pcoa,
            "ncoa": self.ncoa, "par": self.par, "nar": self.nar,
            "mode": self.mode, "initiated_by": self.initiated_by,
            "outcome": self.outcome, "first_frame": self.first_frame,
            "last_frame": self.last_frame, "frames": list(self.frames),
            "messages": self.messages,
            "start": round(self.start, 6), "end": round(self.end, 6),
            "latency_ms": dict(self.latency_ms), "codes": dict(self.codes),
            "findings": dict(self.findings), "notes": list(self.notes),
        }
        if self.merged:
            out["vantage_points"] = list(self.vantage_points)
            out["messages"] = self.observed
            out["processing_ms"] = dict(self.processing_ms)
            out["data"] = self.data
        return out


def percentile(ordered, p: float):
    """Nearest-rank percentile of an ascending sequence (None if empty):
    the smallest value with at least p percent of the values at or below."""
    if not ordered:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(ordered)))
    return ordered[rank - 1]


class Summary:
    """Counts and latency statistics over records, in bounded memory: eight
    octets per latency value seen (the percentiles need every value)."""

    def __init__(self):
        self.files = 0
        self.handovers = 0
        self.outcomes = dict.fromkeys(OUTCOMES, 0)
        self.modes = dict.fromkeys(MODES, 0)
        self.network = 0
        self.values = {k: array("d") for k in LATENCY_KEYS}

    def add(self, record: HandoverRecord) -> None:
        self.handovers += 1
        self.outcomes[record.outcome] += 1
        self.modes[record.mode] += 1
        if record.initiated_by == "network":
            self.network += 1
        for key, value in record.latency_ms.items():
            if value is not None:
                self.values[key].append(value)

    def latency(self) -> dict:
        out = {}
        for key in LATENCY_KEYS:
            ordered = sorted(self.values[key])
            out[key] = {
                "count": len(ordered),
                "min": ordered[0] if ordered else None,
                "p50": percentile(ordered, 50),
                "p95": percentile(ordered, 95),
                "max": ordered[-1] if ordered else None,
            }
        return out

    def to_dict(self) -> dict:
        return {"files": self.files, "handovers": self.handovers,
                **self.outcomes, "latency_ms": self.latency()}
