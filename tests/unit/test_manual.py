"""The shell completion and man pages in share/ are generated from the
parsers (fmipdissect/manual.py) and current; the bash completion works."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from fmipdissect import manual

SHARE = Path(__file__).resolve().parents[2] / "share"


def test_the_committed_files_are_current(monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    for path, text in manual.files().items():
        assert (SHARE / path).read_text(encoding="utf-8") == text, (
            f"share/{path} is out of date: python -m fmipdissect.manual "
            f"--write share")


def _complete(*words: str) -> list[str]:
    script = (f"source {SHARE / 'completion' / 'fmipdissect.bash'}; "
              f"COMP_WORDS=({' '.join(words)}); "
              f"COMP_CWORD={len(words) - 1}; _fmipdissect; "
              f'printf "%s\\n" "${{COMPREPLY[@]}}"')
    done = subprocess.run(["bash", "-c", script], capture_output=True,
                          text=True, check=True)
    return done.stdout.split()


@pytest.mark.skipif(shutil.which("bash") is None, reason="no bash")
def test_bash_completion():
    assert _complete("fmip-lint", "--isol") == ["--isolated"]
    assert _complete("fmipdissect", "dec") == ["decode"]
    assert "--keys" in _complete("fmipdissect", "decode", "--k")
    assert _complete("fmipdissect", "handovers", "--tim") == ["--time"]


def test_the_man_pages_name_every_option():
    page = (SHARE / "man" / "fmip-lint.1").read_text()
    for option in ("\\-\\-write\\-baseline", "\\-\\-show\\-settings",
                   "\\-\\-interface"):
        assert option in page
    assert ".SH FMIPDISSECT DECODE" in (SHARE / "man" /
                                        "fmipdissect.1").read_text()
