"""Shared helpers of the tests/test_wireshark_*.py modules (no tests here).

require_tool() skips a test when tshark (or luac5.4) is missing, except in
CI (CI=true), where a missing tool is a failure.  expected_fields() reads,
from Scapy's own dissection of the wire bytes, the value each fmip.* field
must have in tshark's `-T fields` output, with tshark's formatting.
"""

from __future__ import annotations

import os
import shutil

import pytest
from scapy.layers.inet import ICMP, IP, UDP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from fmipdissect.wire import checksum as C
from fmipdissect.spec import protocol as P
from fmipdissect.layers import (FBU, FBAck, IPv4AddrOption, LLAOption,
                                MNPARAuth, PrefixOption)
from fmipdissect.wireshark import tshark as T
from fmipdissect.wireshark.luagen import FLAG_BIT_PREFIX


def require_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail(f"{name} is required in CI and is not installed")
        pytest.skip(f"{name} is not installed")
    return path


def write_capture(path, packets) -> str:
    wrpcap(str(path), packets)
    return str(path)


# --- Expected tshark values from Scapy's dissection ---------------------------

_SCAPY_NAME = {"checksum": "chksum", "length": "len"}


def _fmt(f: P.Field, value) -> str:
    """A protocol.Field value as tshark -T fields prints it."""
    if f.kind == "ipv4":
        return str(value)
    if f.kind == "bytes":
        raw = bytes.fromhex(str(value).replace(":", ""))
        if f.wsfield == "fmip.opt.lla":      # a MAC address (6 octets)
            return ":".join(f"{b:02x}" for b in raw)
        return raw.hex()
    value = int(value)
    if f.kind in ("hex", "checksum", "reserved", "flags"):
        return f"0x{value:0{2 * f.size}x}"
    return str(value)


def _message_fields(layer, msg: P.MessageSpec, out: dict) -> None:
    for f in msg.fields:
        if not f.wsfield:
            continue
        if f.kind == "flags" and msg is P.HI:
            value = (layer.S << 7) | (layer.U << 6) | layer.reserved
        else:
            value = layer.getfieldval(_SCAPY_NAME.get(f.name, f.name))
        out.setdefault(f.wsfield, []).append(_fmt(f, value))
        for b in f.flags:
            bit = 1 if int(value) & b.mask else 0
            out.setdefault(f"{FLAG_BIT_PREFIX[f.wsfield]}.{b.name}",
                           []).append(str(bit))


def _option_fields(layer, out: dict) -> None:
    spec = P.OPTIONS[layer.type]
    for f in spec.fields:
        value = layer.getfieldval(_SCAPY_NAME.get(f.name, f.name))
        if f.name == "lla" and not value:
            continue      # decision D3: wildcard option without an address
        out.setdefault(f.wsfield, []).append(_fmt(f, value))


def expected_fields(pkt) -> dict[str, list[str]]:
    """Field name -> occurrences, from Scapy's dissection of pkt's bytes."""
    pkt = Ether(bytes(pkt))
    out: dict[str, list[str]] = {}
    layer = pkt
    while layer:
        spec = getattr(type(layer), "spec", None)
        if isinstance(layer, (FBU, FBAck)) or spec is not None:
            msg = layer.spec if spec is not None else (
                P.FBU if isinstance(layer, FBU) else P.FBACK)
            _message_fields(layer, msg, out)
            if msg.transport == "icmp":
                verdict = C.checksum_verdict(bytes(layer))
                out["fmip.checksum.verdict"] = [verdict]
                # Wireshark's checksum status: 1 Good, 0 Bad (decision D2)
                out["fmip.checksum.status"] = [
                    "1" if verdict == C.CHECKSUM_OK else "0"]
        elif isinstance(layer, (LLAOption, IPv4AddrOption, PrefixOption)):
            _option_fields(layer, out)
        elif isinstance(layer, MNPARAuth):
            for f in P.AUTH_EXTENSION_FIELDS:
                out.setdefault(f.wsfield, []).append(
                    _fmt(f, layer.getfieldval(_SCAPY_NAME.get(f.name, f.name))))
            auth = bytes(layer.authenticator or b"")
            if auth:
                out.setdefault("fmip.auth.authenticator", []).append(auth.hex())
        layer = layer.payload
    return out


def compared_field_names() -> list[str]:
    """Every fmip.* field the Scapy layers also know, derived from protocol.py."""
    names: list[str] = []

    def add(n):
        if n and n not in names:
            names.append(n)
    for m in P.MESSAGES:
        for f in m.fields:
            add(f.wsfield)
            for b in f.flags:
                add(f"{FLAG_BIT_PREFIX[f.wsfield]}.{b.name}")
    for o in P.OPTIONS.values():
        for f in o.fields:
            add(f.wsfield)
    for f in P.AUTH_EXTENSION_FIELDS:
        add(f.wsfield)
    add("fmip.auth.authenticator")
    add("fmip.checksum.status")
    add("fmip.checksum.verdict")
    return names


__all__ = ["require_tool", "write_capture", "expected_fields",
           "compared_field_names", "T", "Ether", "IP", "UDP", "ICMP"]
