"""The correlation stage: between decoding and its consumers, the one place
where requests and replies are paired (decisions D9, D11), copies of a
message recognised (D7, D8) and handovers assembled (D13).  fmip-lint's
cross-packet rules (lint/session.py) and the handover records
(handovers/builder.py) subscribe to its events (events.py).
"""

from .correlator import Correlator
from .events import Subscriber

__all__ = ["Correlator", "Subscriber"]
