"""fmip-lint's Session (the correlator with the cross-packet rules) with the
correlator's tables at hand under the names the tests use, and its limits."""

from __future__ import annotations

from fmipdissect.correlate.state import (FORWARDED, PREDICTIVE, REACTIVE,
                                         classify_fbu)
from fmipdissect.lint import session as _session
from fmipdissect.spec.constraints import (ADDRESSES_PER_MN, EXPIRY_SECONDS,
                                          FBUS_PER_MN, MAX_ENTRIES,
                                          SWEEP_INTERVAL)

__all__ = ["Session", "FORWARDED", "PREDICTIVE", "REACTIVE", "classify_fbu",
           "ADDRESSES_PER_MN", "EXPIRY_SECONDS", "FBUS_PER_MN", "MAX_ENTRIES",
           "SWEEP_INTERVAL"]


class Session(_session.Session):
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
