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
