"""The committed samples: conformant ones are clean, violations.pcap yields
exactly the findings fmipdissect.gen.violations.VIOLATIONS documents."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from fmipdissect.lint.engine import CaptureLint, LintConfig
from fmipdissect.lint.keys import load_keys

SAMPLES = Path(__file__).resolve().parents[2] / "samples"
CONFORMANT = ["predictive", "reactive", "network-initiated", "rejected",
              "ncoa"]


def sample(name: str) -> Path:
    path = SAMPLES / name
    assert path.is_file(), f"{path} missing: `make samples` writes it"
    return path


def keys():
    return load_keys(str(sample("keys.txt")))


@pytest.mark.parametrize("with_keys", [False, True])
@pytest.mark.parametrize("name", CONFORMANT)
def test_conformant_sample_has_no_errors_or_warnings(name, with_keys):
    config = LintConfig(keys=keys() if with_keys else None)
    findings = list(CaptureLint(str(sample(f"{name}.pcap")), config))
    bad = [(f.frame, f.rule, f.message) for f in findings
           if f.severity in ("error", "warning")]
    assert bad == []


def test_violations_yield_exactly_the_documented_findings():
    from fmipdissect.gen.violations import VIOLATIONS
    findings = list(CaptureLint(str(sample("violations.pcap")),
                                LintConfig(keys=keys())))
    got = Counter((f.frame, f.rule) for f in findings)
    want = Counter((frame, rule) for frame, rule, *_ in VIOLATIONS)
    missing = sorted((want - got).elements())
    extra = sorted((got - want).elements())
    assert (missing, extra) == ([], [])


def test_unknown_subtype_frame_carries_subtype_5_at_the_subtype_offset():
    """The FM204 frame (frame 22) holds ICMP type 41 with Subtype 5 at
    octet P.ICMP_SUBTYPE_OFFSET of the ICMP message (RFC 4065 3), read
    here with dpkt, not with the project's own reader."""
    import dpkt
    from fmipdissect.gen.violations import VIOLATIONS
    from fmipdissect.spec import protocol as P
    from fmipdissect.spec.numbers import IPPROTO_ICMP
    frames = {frame for frame, rule, *_ in VIOLATIONS if rule == "FM204"}
    assert frames == {22}
    with open(sample("violations.pcap"), "rb") as f:
        buf = next(b for n, (_, b) in enumerate(dpkt.pcap.Reader(f), 1)
                   if n == 22)
    ip = dpkt.ethernet.Ethernet(buf).data
    assert isinstance(ip, dpkt.ip.IP) and ip.p == IPPROTO_ICMP
    icmp = bytes(ip)[ip.hl * 4:]
    assert icmp[0] == P.ICMP_TYPE_EXPERIMENTAL_MOBILITY
    assert P.ICMP_SUBTYPE_OFFSET == 4 and icmp[P.ICMP_SUBTYPE_OFFSET] == 5
    assert P.message_for("icmp", icmp[P.ICMP_SUBTYPE_OFFSET]) is None
