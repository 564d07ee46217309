"""The scenarios of `fmipdissect gen`: each flow of gen/flows.py (and the
violations sample of gen/violations.py) by name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .flows import (EPOCH_US, Frame, Params, ncoa, network_initiated,
                    predictive, reactive, rejected)
from .violations import violations

@dataclass(frozen=True)
class Scenario:
    name: str
    build: Callable[[Params], list[Frame]]
    description: str
    repeatable: bool = True   # can be repeated for many MNs (--handovers)


SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    Scenario("predictive", predictive,
             "RFC 4988 Figure 1: RtSolPr, PrRtAdv, FBU from the old link, HI, "
             "HAck, FBAck to MN and NAR"),
    Scenario("reactive", reactive,
             "RFC 4988 Figure 2: FBU from the new link to NAR, forwarded to "
             "PAR, HI Code 1, HAck, FBAck to NAR and MN"),
    Scenario("network-initiated", network_initiated,
             "unsolicited PrRtAdv Code 1 with an NCoA, then FBU, HI, HAck, "
             "FBAcks"),
    Scenario("rejected", rejected,
             "handovers refused: HAck 128/130 and FBAck 128/129/130"),
    Scenario("ncoa", ncoa,
             "HI with S set, HAck Code 3 and FBAck Code 1 carrying the NCoA "
             "(decision D4)"),
    Scenario("violations", violations,
             "one frame per checker rule (FM1xx-FM5xx) broken on purpose; "
             "see docs/samples.md", repeatable=False),
)}

SAMPLES = tuple(SCENARIOS)   # every scenario has a sample, <name>.pcap

# What users of the registry need with it: the parameters of a flow and the
# fixed start of every generated capture.
__all__ = ["Scenario", "SCENARIOS", "SAMPLES", "Params", "Frame", "EPOCH_US"]
