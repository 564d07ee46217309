"""docs/active-testing.md: its case and fault tables are current, and the
command-line help and errors of the active tools (no network needed)."""

from __future__ import annotations

from pathlib import Path

from fmipdissect.active import docs
from fmipdissect.active.cases import CASES
from fmipdissect.active.faults import FAULTS
from fmipdissect.cli import main

PAGE = Path(__file__).resolve().parents[2] / "docs" / "active-testing.md"


def test_generated_tables_are_current():
    text = PAGE.read_text(encoding="utf-8")
    assert docs.update(text) == text, f"run `{docs.REGENERATE}`"
    for c in CASES:
        assert f"| {c.id} | {c.section} | {c.level} |" in text


def test_fault_help_lists_every_fault_with_its_rules(capsys):
    assert main(["emulate", "--fault", "help"]) == 0
    out = capsys.readouterr().out
    for f in FAULTS:
        assert f.name in out
        for role in f.roles:
            for rule in f.rule_ids(role):
                assert rule in out
    assert "caught by: PAR-RTS-02" in out


def _one_line_error(argv, capsys):
    """These fail while parsing, before any socket is opened."""
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    return err


def test_bad_faults_are_one_line(capsys):
    assert "unknown fault" in _one_line_error(
        ["emulate", "par", "--fault", "explode", "--address", "198.18.1.1"],
        capsys)
    assert "does not apply to nar" in _one_line_error(
        ["emulate", "nar", "--fault", "bad-auth", "--address", "198.18.2.1"],
        capsys)
    assert "needs a value" in _one_line_error(
        ["emulate", "par", "--fault", "delay", "--address", "198.18.1.1"],
        capsys)
    assert "ROLE:NAME" in _one_line_error(["lab", "--fault", "reject"],
                                          capsys)


def test_probe_needs_its_addresses(capsys):
    err = _one_line_error(["probe", "--target", "par"], capsys)
    assert "--interface" in err and "--router" in err
    err = _one_line_error(["probe", "--target", "par", "-i", "x",
                           "--router", "198.18.1.1", "--mn", "198.18.1.10",
                           "--peer", "198.18.1.3", "--keys", "/nonexistent"],
                          capsys)
    assert "--ap" in err


def test_the_user_command_variables_are_documented():
    """The table of FMIP_* variables names exactly what the lab sets."""
    import re
    from fmipdissect.active.lab import mn_variables, router_variables
    text = PAGE.read_text(encoding="utf-8")
    table = text[text.index("| variable | PAR | NAR | MN |"):]
    table = table[:table.index("\n\n")]
    documented = set(re.findall(r"FMIP_[A-Z_]+", table))
    routers = router_variables("keys.txt", tunnels=True)
    set_by_lab = {"FMIP_ROLE"} | {
        f"FMIP_{k.upper()}" for v in (*routers.values(),
                                      mn_variables("keys.txt"))
        for k in v}
    assert documented == set_by_lab
