"""Tunnels as deep as Wireshark follows them, and a note where the walk
stops: a message is never dropped silently for its depth."""

from __future__ import annotations

import pytest
import struct

from scapy.layers.inet import IP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import lintcaps as L
from fmipdissect.capture import linklayer
from fmipdissect.lint.engine import CaptureLint, LintConfig


def _ipip(depth: int):
    """The FBU inside depth IP-in-IP headers, built octet by octet (Scapy's
    nested layers cost quadratic time at this depth)."""
    inner = bytes(L.fbu()[IP])
    for _ in range(depth):
        inner = bytes(IP(src="192.0.2.1", dst="192.0.2.2", proto=4)
                      / Raw(inner))
    return Ether(type=0x0800) / Raw(inner)


def _mpls(labels: int):
    stack = b"".join(struct.pack(">I", (16 + n) << 12 | 64)
                     for n in range(labels - 1))
    bottom = struct.pack(">I", 15 << 12 | 1 << 8 | 64)
    return Ether(type=0x8847) / Raw(stack + bottom + bytes(L.fbu()[IP]))


def _lint(tmp_path, packet):
    path = L.write(tmp_path / "deep.pcap", [packet])
    run = CaptureLint(str(path), LintConfig())
    return run, [f.rule for f in run]


@pytest.mark.parametrize("packet", [_ipip(23), _ipip(40), _mpls(17),
                                    _mpls(40)],
                         ids=["ipip-23", "ipip-40", "mpls-17", "mpls-40"])
def test_deep_tunnels_as_tshark_follows_them(packet, tmp_path):
    run, rules = _lint(tmp_path, packet)
    assert run.messages == 1 and "FM905" not in rules


@pytest.mark.parametrize("packet", [
    _ipip(linklayer.MAX_LAYERS + 5), _mpls(linklayer.MAX_MPLS_LABELS + 5)],
    ids=["ipip", "mpls"])
def test_deeper_than_the_walk_is_said(packet, tmp_path):
    run, rules = _lint(tmp_path, packet)
    assert run.messages == 0 and rules == ["FM905"]
