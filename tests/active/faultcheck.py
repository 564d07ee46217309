"""What a fault must do to the probe's verdicts and findings (shared by the
in-memory and the lab tests)."""

from __future__ import annotations

from fmipdissect.active.cases import CASES
from fmipdissect.active.faults import FAULTS_BY_NAME


def expected_failures(role: str, fault: str) -> list[str]:
    name = fault.split("=")[0]
    return sorted(c.id for c in CASES if c.target == role
                  and name in c.catches)


def check_fault(results, role, fault):
    """The cases and rules a fault names fail, and nothing else."""
    failed = sorted(r["id"] for r in results if r["verdict"] == "fail")
    assert failed == expected_failures(role, fault)
    fault = FAULTS_BY_NAME[fault.split("=")[0]]
    named = set(fault.rule_ids(role))
    found = {f["rule"] for r in results for f in r["findings"]}
    serious = {f["rule"] for r in results for f in r["findings"]
               if f["severity"] != "info"}
    assert named <= found, f"{fault.name} on {role}: {named - found} missing"
    assert serious <= named, f"{fault.name} on {role}: {serious - named}"
    return failed
