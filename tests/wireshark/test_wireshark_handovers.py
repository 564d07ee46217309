"""`tshark -z fmip,handovers` prints the handovers `fmipdissect handovers`
finds (decision D13), on every sample: the same rows in the same order,
with the same MN, mode, initiator, outcome and FBU-FBAck latency."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from wireshark_common import require_tool

from fmipdissect.wireshark import tshark as T

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples").glob("*.pcap"))


def tshark_rows(path) -> list[tuple]:
    rows = []
    for line in T.handovers_table(path).splitlines():
        cells = line.split()
        if len(cells) == 8 and cells[0].isdigit() and cells[1].isdigit():
            _, first, last, mn, mode, by, outcome, latency = cells
            rows.append((int(first), int(last), mn, mode, by, outcome,
                         None if latency == "-" else latency))
    return rows


def tool_rows(path) -> list[tuple]:
    exe = Path(sys.executable).parent / "fmipdissect"
    out = subprocess.run([str(exe), "handovers", "--format", "json",
                          str(path)], capture_output=True, text=True,
                         check=True).stdout
    rows = []
    for h in json.loads(out)["handovers"]:
        ms = h["latency_ms"]["fbu_fback"]
        rows.append((h["first_frame"], h["last_frame"], h["mn"], h["mode"],
                     h["initiated_by"], h["outcome"],
                     None if ms is None else f"{ms:.3f}"))
    return rows


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_tshark_table_equals_fmipdissect_handovers(sample):
    require_tool("tshark")
    expected = tool_rows(sample)
    assert expected, "every sample holds at least one handover"
    assert tshark_rows(sample) == expected


def test_table_summary_and_empty_capture(tmp_path):
    require_tool("tshark")
    text = T.handovers_table(ROOT / "samples" / "rejected.pcap")
    assert "3 handovers: 0 completed, 3 rejected, 0 incomplete" in text
    from scapy.layers.inet import IP, UDP
    from scapy.layers.l2 import Ether
    from scapy.utils import wrpcap
    empty = tmp_path / "dns.pcap"
    wrpcap(str(empty), [Ether() / IP() / UDP(dport=53)])
    text = T.handovers_table(empty)
    assert "(no handover in this capture)" in text
    assert "0 handovers:" in text
    one = T.handovers_table(ROOT / "samples" / "reactive.pcap")
    assert "\n1 handover: 1 completed, 0 rejected, 0 incomplete\n" in one


def test_two_pass_and_single_pass_agree():
    require_tool("tshark")
    path = ROOT / "samples" / "violations.pcap"
    assert T.handovers_table(path) == T.handovers_table(path, two_pass=True)
