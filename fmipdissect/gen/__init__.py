"""Traffic generation: handover scenarios (scenarios.py) and the streamed
`fmipdissect gen` writer (generate.py)."""
