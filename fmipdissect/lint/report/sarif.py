"""SARIF 2.1.0 report of fmip-lint (--format sarif), for code-scanning
dashboards.

One run: tool.driver.name "fmip-lint", driver.rules = the whole rule
registry (id, slug, summary, why, default level, RFC section), one result
per finding with ruleId, ruleIndex, level (error, warning, note for info),
message.text, the capture as physicalLocation.artifactLocation.uri and the
frame number in properties.frame.  A capture that could not be read is a
tool execution notification of the run's invocation, and makes
executionSuccessful false.  Results are streamed; the document is complete
once close() has run.
"""

from __future__ import annotations

import json
import os
from pathlib import PurePosixPath
from urllib.parse import quote

from ... import __version__
from ...spec.rules import RULES
from .common import Report, section_text, summary_counts

SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
LEVELS = {"error": "error", "warning": "warning", "info": "note"}
_RULE_INDEX = {r.id: i for i, r in enumerate(RULES)}


def artifact_uri(name: str) -> str:
    """A URI reference for a capture name: relative paths stay relative
    (percent-encoded), absolute ones become file: URIs."""
    if os.path.isabs(name):
        return "file://" + quote(name, safe="/", errors="surrogateescape")
    return quote(str(PurePosixPath(name)), safe="/",
                 errors="surrogateescape")


def _location(name: str) -> list:
    return [{"physicalLocation": {"artifactLocation": {
        "uri": artifact_uri(name)}}}]


def sarif_rule(r) -> dict:
    return {
        "id": r.id,
        "name": r.name,
        "shortDescription": {"text": r.summary},
        "fullDescription": {"text": r.why},
        "help": {"text": f"{r.summary}{section_text(r.section)}. {r.why}"},
        "defaultConfiguration": {"level": LEVELS[r.severity]},
        "properties": {"section": r.section, "scope": r.scope,
                       "severity": r.severity},
    }


def sarif_result(f) -> dict:
    return {
        "ruleId": f.rule,
        "ruleIndex": _RULE_INDEX[f.rule],
        "level": LEVELS[f.severity],
        "message": {"text": f"{f.message}{section_text(f.section)}"},
        "locations": _location(f.file),
        "properties": {"frame": f.frame, "time": f.time,
                       "section": f.section},
    }


class SarifReport(Report):
    def __init__(self, out, statistics: bool = False, fail_on: str = "error"):
        super().__init__(out, statistics=statistics, fail_on=fail_on)
        self._count = 0
        driver = {"name": "fmip-lint", "version": __version__,
                  "rules": [sarif_rule(r) for r in RULES]}
        head = json.dumps({"$schema": SCHEMA, "version": "2.1.0",
                           "runs": [{"tool": {"driver": driver},
                                     "results": []}]}, indent=1)
        # open the results array: everything up to its "[" (the last one)
        self._head = head[:head.rindex("[") + 1]

    def finding(self, f) -> None:
        self.out.write((self._head if self._count == 0 else ",")
                       + "\n  " + json.dumps(sarif_result(f)))
        self._count += 1

    def close(self, stats_list) -> None:
        if self._count == 0:
            self.out.write(self._head)
        invocation = {
            "executionSuccessful": not self.failed,
            "toolExecutionNotifications": [
                {"level": "error", "message": {"text": fail["message"]},
                 "locations": _location(fail["file"])}
                for fail in self.failed],
        }
        self.out.write("\n ],\n \"invocations\": " + json.dumps([invocation])
                       + ",\n \"properties\": "
                       + json.dumps({"summary": summary_counts(stats_list)})
                       + "\n}]}\n")
        self.out.flush()
