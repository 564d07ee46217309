"""Handover analysis: one record per handover (decision D13), as a table,
JSON, CSV or an HTML report with ladder diagrams (docs/handovers.md).

`fmipdissect.handovers(source)` is this package called as a function: the
package is also the public API name (DESIGN: `fmipdissect.handovers(source)`),
so the module is callable and calls fmipdissect.api.handovers.
"""

import sys
import types

from .records import HandoverRecord

__all__ = ["HandoverRecord", "handovers"]


def handovers(source, **options) -> list:
    """= fmipdissect.api.handovers (path, file object, bytes or packets)."""
    from ..api import handovers as api_handovers
    return api_handovers(source, **options)


class _CallableModule(types.ModuleType):
    def __call__(self, source, **options):
        return handovers(source, **options)


sys.modules[__name__].__class__ = _CallableModule
