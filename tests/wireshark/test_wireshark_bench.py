"""bench/bench_tshark.py still runs: its floor (a Lua dissector written by
the script from the plugin's output) loads in the real tshark without a
Lua error, shows a tree of the size the plugin shows, and the cost table
comes out.  Figures are not checked: they belong to docs/performance.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from wireshark_common import require_tool

ROOT = Path(__file__).resolve().parents[2]
BENCH = ROOT / "bench" / "bench_tshark.py"

pytestmark = pytest.mark.tshark


def test_floor_and_cost_table_on_a_small_capture():
    require_tool("tshark")
    proc = subprocess.run([sys.executable, str(BENCH), "--packets", "60",
                           "--runs", "1", "--parts", "ratio"],
                          capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    items = re.search(r"adding the plugin's (\d+) tree items per message",
                      proc.stdout)
    assert items, proc.stdout
    # an FMIPv4 message's tree has its fields and options below the top item
    assert 8 <= int(items.group(1)) <= 40
    rows = [line for line in proc.stdout.splitlines()
            if line.startswith("tshark -n")]
    assert len(rows) == 2, proc.stdout
    for row in rows:
        ratios = re.findall(r"([\d.]+)x", row)
        assert len(ratios) == 3 and all(float(r) > 0 for r in ratios), row


def test_floor_shows_its_items_in_tshark(tmp_path):
    """The floor's tree really is there (a Lua dissector that failed to
    register would cost nothing and make the floor meaningless)."""
    require_tool("tshark")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import bench_tshark as B
    finally:
        sys.path.remove(str(ROOT / "bench"))
    from fmipdissect.wireshark import tshark as T
    capture = ROOT / "samples" / "predictive.pcap"
    floor = tmp_path / "floor.lua"
    items = B.write_floor(floor, capture)
    out = T.run_command(T.command(capture, "-V", lua_path=floor)).stdout
    tops = out.count("Floor: the plugin's tree without its logic")
    assert tops == 7            # every message of the sample, ICMP and UDP
    assert out.count("    Octet: ") == 7 * items


def test_unknown_part_is_a_usage_error():
    """A misspelt --parts name is refused, not silently measured as
    nothing (it used to print only the tshark version and exit 0)."""
    proc = subprocess.run([sys.executable, str(BENCH), "--parts",
                           "ratio,ratoi"], capture_output=True, text=True,
                          timeout=60, cwd=ROOT)
    assert proc.returncode == 2
    assert "unknown ratoi" in proc.stderr


def test_ordinary_captures_table():
    """The ordinary-capture part runs its three commands on its two
    captures, with and without the plugin (figures not checked)."""
    require_tool("tshark")
    proc = subprocess.run([sys.executable, str(BENCH), "--parts", "ordinary",
                           "--runs", "1", "--ordinary-packets", "3000"],
                          capture_output=True, text=True, timeout=300,
                          cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    rows = [line for line in proc.stdout.splitlines()
            if re.match(r"(1%|~0%) FMIPv4\s+tshark -n", line)]
    assert len(rows) == 6, proc.stdout
    for row in rows:
        assert len(re.findall(r"([\d.]+)x", row)) == 2, row
