"""Every file path the documentation and the comments name exists.

A path here is one that starts at a top-level folder of the repository
(`fmipdissect/decode/decoder.py`, `tests/fuzz/test_fuzz_pathological.py`,
`docs/rules.md`, `samples/keys.txt`, ...); files that tests and examples
write (report.html, two.pcap, x.lua) have no such prefix and are not
looked for, nor the benchmark's output (bench/out/).  Run over README.md, the Markdown files under docs/, samples/
and tests/, and the sources under fmipdissect/, tests/ and bench/.
"""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TOP = ("fmipdissect", "tests", "docs", "bench", "samples", "lua", "scripts")
PATH = re.compile(r"(?<![\w/.-])((?:%s)/[\w./-]*\w\.(?:py|md|c|lua|j2|sh|"
                  r"pcapng|pcap|txt|png|toml))(?![\w/])" % "|".join(TOP))
# Written by the benchmark when it runs (git ignores the folder).
RUN_OUTPUT = ("bench/out/",)


def _documents():
    yield ROOT / "README.md"
    for folder in ("docs", "samples", "tests"):
        yield from sorted((ROOT / folder).rglob("*.md"))
    for folder in ("fmipdissect", "tests", "bench"):
        for suffix in ("*.py", "*.c", "*.j2"):
            yield from sorted((ROOT / folder).rglob(suffix))


def missing_paths(text: str) -> list[str]:
    return [m.group(1) for m in PATH.finditer(text)
            if not m.group(1).startswith(RUN_OUTPUT)
            and not (ROOT / m.group(1)).exists()]


def test_pattern_finds_paths():
    assert missing_paths("see tests/test_fuzz_pathological.py and "
                         "`fmipdissect/decode.py`.") == \
        ["tests/test_fuzz_pathological.py", "fmipdissect/decode.py"]
    assert missing_paths("tests/fuzz/test_fuzz_pathological.py, "
                         "(fmipdissect/decode/decoder.py), docs/rules.md, "
                         "lua/fmip.lua; report.html, my/tests/x.py") == []


def test_every_named_path_exists():
    missing = []
    for path in _documents():
        if path == Path(__file__).resolve():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for n, line in enumerate(text.splitlines(), 1):
            for name in missing_paths(line):
                missing.append(f"{path.relative_to(ROOT)}:{n}: {name}")
    assert not missing, "no such file:\n" + "\n".join(missing)
