"""docs/handovers.md shows the real outputs of the samples."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "handovers.md"
BLOCKS = re.findall(r"```(?:text|json)\n\$ (fmipdissect handovers [^\n]*)\n"
                    r"(.*?)\n```", DOC.read_text(), re.S)


def test_the_doc_shows_three_outputs():
    assert [c.split()[2] for c, _ in BLOCKS] == ["samples/rejected.pcap",
                                              "--format", "--format"]


@pytest.mark.parametrize("command, shown", BLOCKS,
                         ids=[c for c, _ in BLOCKS])
def test_shown_output_is_current(command, shown):
    run = subprocess.run([sys.executable, "-m", "fmipdissect",
                          *command.split()[1:]], capture_output=True,
                         text=True, cwd=REPO)
    assert run.returncode == 0, run.stderr
    assert run.stdout.rstrip("\n") == shown


def test_the_screenshot_is_there():
    png = REPO / "docs" / "handovers-predictive.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "handovers-predictive.png" in DOC.read_text()
