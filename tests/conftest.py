"""Test suite layout and markers.

Folders: unit/ (one module at a time), lint/ (the checker and its command
line), wireshark/ (the generated dissector in real tshark), differential/
(decoders and checkers held against each other), fuzz/ (generated and mutated
input).  Shared helpers live beside this file (lintcaps.py,
wireshark_common.py, startup_common.py).

Markers, set here from the folder so that no test has to remember them:
  tshark  runs the real tshark (wireshark/, differential/test_wireshark_*)
  fuzz    hypothesis or mutation input (fuzz/)
  slow    longer-running (select with -m slow, skip with -m "not slow")
  netns   creates network namespaces (needs root)
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
# Test modules import helpers from sibling folders (e.g. the fuzz tests reuse
# the decode differential's comparison); make every folder importable.
for folder in [TESTS] + sorted(p for p in TESTS.iterdir() if p.is_dir()
                               and not p.name.startswith((".", "_"))):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

_FOLDER_MARKERS = {"wireshark": "tshark", "fuzz": "fuzz"}


def pytest_collection_modifyitems(config, items):
    for item in items:
        path = Path(str(item.fspath))
        try:
            folder = path.relative_to(TESTS).parts[0]
        except ValueError:
            continue
        marker = _FOLDER_MARKERS.get(folder)
        if marker:
            item.add_marker(getattr(pytest.mark, marker))
        if path.name.startswith("test_wireshark"):
            item.add_marker(pytest.mark.tshark)
