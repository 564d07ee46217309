"""pcapng as Wireshark numbers and times it: custom blocks take a frame
number, an absurd if_tsoffset does not swallow the time stamps' fractions,
and an interface defined late is read from its definition on."""

from __future__ import annotations

import struct
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "unit"))
from test_capture import (block, datagrams, epb, ethernet, fbu_ip, idb,  # noqa: E402
                          notes, read, shb, write)

from fmipdissect.wireshark import tshark as T  # noqa: E402
from wireshark_common import require_tool  # noqa: E402

CUSTOM = block("<", 0x00000BAD, struct.pack("<I", 32473) + b"private")


def test_a_custom_block_takes_a_frame_number_as_in_wireshark(tmp_path):
    path = write(tmp_path, "custom.pcapng", shb() + idb() + CUSTOM
                 + epb("<", 0, 10**12, ethernet(fbu_ip())))
    items, _ = read(path)
    [d] = datagrams(items)
    assert d.frame == 2
    require_tool("tshark")
    rows = T.fields(path, ["frame.number", "fmip.type"])
    assert [r["frame.number"] for r in rows if r["fmip.type"]] == [["2"]]


@pytest.mark.parametrize("offset", [1 << 63 - 1, -(1 << 63)])
def test_an_absurd_if_tsoffset_keeps_the_fractions(tmp_path, offset):
    ticks = 1_700_000_000 * 10**6
    path = write(tmp_path, "offset.pcapng", shb() + idb(tsoffset=offset)
                 + epb("<", 0, ticks, ethernet(fbu_ip()))
                 + epb("<", 0, ticks + 1500, ethernet(fbu_ip())))
    items, _ = read(path)
    first, second = datagrams(items)
    assert round((second.time - first.time) * 1e6) == 1500
    assert any("if_tsoffset" in n.message for n in notes(items))


def test_an_interface_defined_late_is_read_from_then_on(tmp_path):
    path = write(tmp_path, "late.pcapng", shb() + idb()
                 + epb("<", 1, 10**12, ethernet(fbu_ip()))
                 + idb() + epb("<", 1, 10**12 + 1, ethernet(fbu_ip())))
    items, _ = read(path)
    assert [d.frame for d in datagrams(items)] == [2]
    [note] = notes(items)
    assert "until an interface block defines it" in note.message


def test_annotate_counts_a_custom_block_as_wireshark_does(tmp_path, capsys):
    from fmipdissect.cli import lint_main
    path = write(tmp_path, "custom.pcapng", shb() + idb() + CUSTOM
                 + epb("<", 0, 10**12, ethernet(fbu_ip())))
    out = tmp_path / "annotated.pcapng"
    assert lint_main(["--annotate", str(out), path]) in (0, 1)
    require_tool("tshark")
    rows = T.fields(out, ["frame.number", "frame.comment"], lua=False)
    commented = [r["frame.number"][0] for r in rows if r["frame.comment"]]
    assert commented == ["2"]
