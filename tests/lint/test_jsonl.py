"""One JSON rule across every command: a document with --format json, one
record per line with --format jsonl (fmip-lint, handovers, decode)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fmipdissect.cli import lint_main, main

SAMPLE = str(Path(__file__).resolve().parents[2] / "samples" / "rejected.pcap")
VIOLATIONS = str(Path(__file__).resolve().parents[2] / "samples"
                 / "violations.pcap")


def _lines(capsys):
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_fmip_lint_jsonl_has_the_documents_records(capsys):
    lint_main(["--format", "json", VIOLATIONS])
    document = json.loads(capsys.readouterr().out)
    lint_main(["--format", "jsonl", VIOLATIONS])
    lines = _lines(capsys)
    assert [x["finding"] for x in lines[:-1]] == document["findings"]
    assert lines[-1] == {"summary": document["summary"]}


@pytest.mark.parametrize("command", [["handovers"], ["decode"]])
def test_handovers_and_decode_jsonl(command, capsys):
    main(command + ["--format", "json", SAMPLE])
    document = json.loads(capsys.readouterr().out)
    main(command + ["--format", "jsonl", SAMPLE])
    lines = _lines(capsys)
    records = document.get("handovers", document.get("records"))
    assert len(lines) >= len(records) > 0
    if command == ["handovers"]:
        assert [x["handover"] for x in lines[:-1]] == records
        assert lines[-1] == {"summary": document["summary"]}
