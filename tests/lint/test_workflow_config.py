"""fmip-lint's configuration file (lint/config.py): found upward from the
current folder like ruff's, keys are the long option names, the command
line wins; per-file and address-scoped ignores; --config, --isolated,
--show-settings; bad files are one line and status 2."""

from __future__ import annotations

import json

import pytest

import lintcaps
from test_lint_cli import run          # lint_main in-process


def rules_of(out: str) -> list[str]:
    return [f["rule"] for f in json.loads(out)["findings"]]


def error_flow():
    L, second = lintcaps, lintcaps.IDENT + 1
    return [L.fbu(lifetime=11), L.fback(), L.fbu(flags=0x80, ident=second),
            L.fback(ident=second)]


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with captures two folders down, the current folder
    set there: an FM101 error and an FM102 warning, and a conformant flow
    (an FM418 info between PAR and NAR)."""
    caps = tmp_path / "lab" / "caps"
    caps.mkdir(parents=True)
    lintcaps.write(caps / "error.pcap", error_flow())
    lintcaps.write(caps / "clean.pcap", lintcaps.predictive_flow())
    monkeypatch.chdir(caps)
    return tmp_path


def test_pyproject_upward_is_found_and_the_command_line_wins(project, capsys):
    (project / "pyproject.toml").write_text(
        '[project]\nname = "bed"\n[tool.fmip-lint]\nignore = ["FM101"]\n'
        'format = "json"\nfail-on = "info"\n')
    status, out, _ = run(capsys, "error.pcap")
    assert rules_of(out) == ["FM102"] and status == 1    # fail-on info
    status, out, _ = run(capsys, "--format", "text", "--ignore", "FM102",
                         "--fail-on", "error", "error.pcap")
    assert "FM101" in out and "FM102" not in out and status == 1
    status, out, _ = run(capsys, "--isolated", "--format", "json",
                         "clean.pcap")
    assert status == 0 and set(rules_of(out)) == {"FM418"}
    status, _, _ = run(capsys, "--format", "json", "clean.pcap")
    assert status == 1                     # fail-on info from the file


def test_nearest_file_wins_and_a_pyproject_without_the_table_is_passed(
        project, capsys):
    (project / "pyproject.toml").write_text(
        '[tool.fmip-lint]\nignore = "FM102"\n')
    (project / "lab" / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[project.scripts]\nfmip-lint = "x:y"\n')
    status, out, _ = run(capsys, "--format", "json", "error.pcap")
    assert rules_of(out) == ["FM101"]
    (project / "lab" / "fmip-lint.toml").write_text('select = ["FM102"]\n')
    status, out, _ = run(capsys, "--format", "json", "error.pcap")
    assert rules_of(out) == ["FM102"]


def test_per_file_and_address_ignores(project, capsys):
    (project / "fmip-lint.toml").write_text(
        '[tool.fmip-lint]\nformat = "json"\n'
        'per-file-ignores = {"err*.pcap" = ["FM101"], '
        '"lab/caps/clean.pcap" = ["FM418"]}\n')
    status, out, _ = run(capsys, "error.pcap", "clean.pcap")
    assert rules_of(out) == ["FM102"]
    pair = f"{lintcaps.NAR} {lintcaps.PAR}"
    (project / "fmip-lint.toml").write_text(
        f'format = "json"\naddress-ignores = {{"{pair}" = ["FM418"], '
        f'"{lintcaps.ELSEWHERE}" = ["FM4"]}}\n')
    status, out, _ = run(capsys, "error.pcap", "clean.pcap")
    assert "FM418" not in rules_of(out) and "FM101" in rules_of(out)
    (project / "fmip-lint.toml").write_text(
        f'format = "json"\naddress-ignores = {{"{lintcaps.MN}" = ["FM1"]}}\n')
    status, out, _ = run(capsys, "error.pcap", "clean.pcap")
    assert "FM101" not in rules_of(out) and "FM418" in rules_of(out)


def test_config_option_and_show_settings(project, tmp_path, capsys):
    other = tmp_path / "elsewhere.toml"
    other.write_text('[tool.fmip-lint]\nselect = ["FM1", "FM4"]\n'
                     'lla-length = 8\nkeys = "k.txt"\n'
                     'per-file-ignores = {"*.pcap" = "FM418"}\n')
    status, out, err = run(capsys, "--config", str(other), "--lla-length",
                           "6", "--show-settings")
    assert status == 0 and err == ""
    assert f"# configuration: {other}" in out
    assert 'select = ["FM1", "FM4"]' in out and "lla-length = 6" in out
    assert f'keys = "{tmp_path / "k.txt"}"' in out
    assert '"*.pcap" = ["FM418"]' in out


@pytest.mark.parametrize("text, words", [
    ("[tool.fmip-lint]\nselct = ['FM1']\n", "unknown key 'selct' (did you "
     "mean select?)"),
    ("[tool.fmip-lint]\nformat = 'xml'\n", "format 'xml': must be one of"),
    ("[tool.fmip-lint]\nlla-length = '6'\n", "lla-length must be a whole"),
    ("[tool.fmip-lint\n", "not valid TOML"),
    ("[tool.fmip-lint]\nselect = ['FM999']\n", "no rule id, slug or prefix"),
    ("[tool.fmip-lint]\naddress-ignores = {'10.1' = ['FM1']}\n",
     "give one IPv4 address or two"),
    ("[tool.fmip-lint]\nper-file-ignores = ['FM1']\n", "must be a table"),
])
def test_a_bad_file_is_one_line_and_status_2(project, capsys, text, words):
    (project / "pyproject.toml").write_text(text)
    status, out, err = run(capsys, "error.pcap")
    assert status == 2 and out == ""
    assert len(err.splitlines()) == 1 and words in err, err
    assert str(project / "pyproject.toml") in err


def test_missing_config_file(project, capsys):
    status, _, err = run(capsys, "--config", "nope.toml", "error.pcap")
    assert status == 2 and "--config nope.toml: no such file" in err
