"""The repository stands on its own: nothing a user reads names the notes
the project was designed from (they are not shipped).  Decisions are cited
from docs/decisions.md."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Words that would point a user at files outside the repository.
FOREIGN = re.compile(r"FACTS|DESIGN\.md|shared/spec|shared folder")
SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis"}
TEXT_SUFFIXES = {".py", ".md", ".lua", ".j2", ".txt", ".toml", ".sh", ".cfg",
                 ".html", ".json", ""}


def _repository_files():
    for path in ROOT.rglob("*"):
        if any(part in SKIP_DIRS or part.endswith(".egg-info")
               for part in path.relative_to(ROOT).parts):
            continue
        if path.is_file() and path.suffix in TEXT_SUFFIXES \
                and path != Path(__file__).resolve():
            yield path


def test_no_file_names_the_design_notes():
    offenders = []
    for path in _repository_files():
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for n, line in enumerate(text.splitlines(), 1):
            if FOREIGN.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_decisions_document_has_every_decision():
    text = (ROOT / "docs" / "decisions.md").read_text()
    for n in range(1, 14):
        assert re.search(rf"^## D{n}: ", text, re.M), f"D{n} missing"
    assert "docs/decisions.md" in (ROOT / "README.md").read_text()


def _output(*args: str) -> str:
    run = subprocess.run([sys.executable, "-m", *args], capture_output=True,
                         text=True, cwd=ROOT)
    return run.stdout + run.stderr


def test_no_output_names_the_design_notes():
    outputs = [
        _output("fmipdissect", "--help"),
        _output("fmipdissect", "lint", "--help"),
        _output("fmipdissect", "lint", "--list-rules"),
        _output("fmipdissect", "decode", "--help"),
        _output("fmipdissect", "decode", "samples/violations.pcap"),
        _output("fmipdissect", "decode", "--format", "json",
                "samples/violations.pcap"),
        _output("fmipdissect", "gen", "--help"),
        _output("fmipdissect", "gen", "--list"),
        _output("fmipdissect", "lua", "--help"),
        _output("fmipdissect", "lint", "--keys", "samples/keys.txt",
                "samples/violations.pcap"),
    ]
    for text in outputs:
        assert text.strip()
        match = FOREIGN.search(text)
        assert match is None, text[max(0, match.start() - 200):match.end() + 200]
