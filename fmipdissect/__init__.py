"""fmipdissect: packet analysis for Mobile IPv4 Fast Handovers (RFC 4988)."""

__version__ = "0.1.0"
