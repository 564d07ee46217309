"""Handover analysis: one record per handover (decision D13), as a table,
JSON, CSV or an HTML report with ladder diagrams (docs/handovers.md)."""

from .analysis import CaptureHandovers, handovers
from .records import HandoverRecord

__all__ = ["CaptureHandovers", "HandoverRecord", "handovers"]
