"""The correlator with fmip-lint's cross-packet rules, as the tests feed it
message by message: observe() returns the [(rule, text)] it revealed, and
the correlator's tables are at hand under the names the tests use."""

from __future__ import annotations

from fmipdissect.correlate import Correlator
from fmipdissect.correlate.state import (FORWARDED, PREDICTIVE, REACTIVE,
                                         classify_fbu)
from fmipdissect.lint.session import SessionRules
from fmipdissect.spec.constraints import (ADDRESSES_PER_MN, EXPIRY_SECONDS,
                                          FBUS_PER_MN, MAX_ENTRIES,
                                          SWEEP_INTERVAL)

__all__ = ["Session", "FORWARDED", "PREDICTIVE", "REACTIVE", "classify_fbu",
           "ADDRESSES_PER_MN", "EXPIRY_SECONDS", "FBUS_PER_MN", "MAX_ENTRIES",
           "SWEEP_INTERVAL"]


class Session:
    def __init__(self):
        self._found = []
        self.rules = SessionRules(self._out)
        self.correlator = Correlator((self.rules,))
        self.frames = []         # the frame each finding is reported on

    def _out(self, rule, text, at, handover):
        self._found.append((rule, text))
        self.frames.append(at.frame)

    def observe(self, msg, dgram):
        self._found = []
        self.rules.at = dgram
        self.correlator.observe(msg, dgram)
        return self._found

    def finish(self):
        self._found = []
        self.correlator.finish()
        return self._found

    @property
    def handovers(self):
        """The MNs (by PCoA) with their FBUs and addresses."""
        return self.correlator.nodes

    @property
    def his(self):
        return self.correlator.his

    @property
    def rtsolprs(self):
        return self.correlator.rtsolprs

    @property
    def router_pairs(self):
        return self.correlator.router_pairs
