"""Handover analysis: one record per handover (decision D13), as a table,
JSON, CSV or an HTML report with ladder diagrams (docs/handovers.md).

The Python API is the function `fmipdissect.handovers(source)`
(fmipdissect.api.handovers): the package fmipdissect keeps that function
as its attribute `handovers` once this subpackage is imported too, so its
modules are reached by their full names (`from fmipdissect.handovers.records
import HandoverRecord`), not as attributes of `fmipdissect.handovers`.
"""

from .records import HandoverRecord

__all__ = ["HandoverRecord"]
