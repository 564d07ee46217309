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
    """The cases a fault names fail (MUST) or warn (SHOULD), the rules it
    names are found, and nothing else."""
    failed = sorted(r["id"] for r in results
                    if r["verdict"] in ("fail", "warn"))
    expected = expected_failures(role, fault)
    assert failed == expected, (
        f"{role}:{fault}: extra {sorted(set(failed) - set(expected))}, "
        f"missing {sorted(set(expected) - set(failed))}",
        [(r["id"], r["verdict"], r["reason"]) for r in results
         if r["id"] in set(failed) ^ set(expected)])
    for r in results:       # a SHOULD-level check warns, never fails alone
        if r["verdict"] == "warn":
            assert r["level"] == "SHOULD" or r["warnings"], r
    fault = FAULTS_BY_NAME[fault.split("=")[0]]
    named = set(fault.rule_ids(role))
    found = {f["rule"] for r in results for f in r["findings"]}
    serious = {f["rule"] for r in results for f in r["findings"]
               if f["severity"] != "info"}
    assert named <= found, f"{fault.name} on {role}: {named - found} missing"
    assert serious <= named, f"{fault.name} on {role}: {serious - named}"
    return failed
