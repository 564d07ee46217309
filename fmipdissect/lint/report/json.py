"""The JSON report of fmip-lint (README, "Checking a capture"), one object:

    {"findings": [{"file", "frame", "time", "rule", "name", "severity",
                   "section", "message"}, ...],
     "summary": {"files", "packets", "messages", "errors", "warnings",
                 "infos", "by_file": [...],
                 "failed": [{"file", "message"}, ...]},
     "statistics": [...]}          (only with --statistics)

Findings are streamed: the object is valid JSON once close() has run.
"summary.failed" lists the captures that could not be read (exit status 2);
"files" counts those that were.
"""

from __future__ import annotations

import json

from .common import (Report, file_counts, finding_dict, rule_dict,
                     rule_statistics, summary_counts)


class JsonReport(Report):
    """Streams {"findings": [...], "summary": {...}}; valid JSON at close."""

    def __init__(self, out, statistics: bool = False, fail_on: str = "error"):
        super().__init__(out, statistics=statistics, fail_on=fail_on)
        self._count = 0

    def finding(self, f) -> None:
        self.out.write(('{"findings": [\n  ' if self._count == 0
                        else ",\n  ") + json.dumps(finding_dict(f)))
        self._count += 1

    def close(self, stats_list) -> None:
        summary = summary_counts(stats_list)
        summary["by_file"] = [file_counts(s) for s in stats_list]
        summary["failed"] = self.failed
        tail = "\n]" if self._count else '{"findings": []'
        tail += ', "summary": ' + json.dumps(summary)
        if self.statistics:
            tail += ', "statistics": ' + json.dumps(rule_statistics(stats_list))
        self.out.write(tail + "}\n")
        self.out.flush()


class JsonLinesReport(Report):
    """--format jsonl: one JSON object per line, each finding as soon as it
    is made ({"finding": {...}}), then {"summary": {...}} (and
    {"statistics": [...]}) at the end: the one JSON rule of every command
    (a document with json, a record per line with jsonl)."""

    def finding(self, f) -> None:
        self.out.write(json.dumps({"finding": finding_dict(f)}) + "\n")

    def close(self, stats_list) -> None:
        summary = summary_counts(stats_list)
        summary["by_file"] = [file_counts(s) for s in stats_list]
        summary["failed"] = self.failed
        self.out.write(json.dumps({"summary": summary}) + "\n")
        if self.statistics:
            self.out.write(json.dumps(
                {"statistics": rule_statistics(stats_list)}) + "\n")
        self.out.flush()


def rules_json(out, rules) -> None:
    """--list-rules --format json: {"rules": [...]}."""
    json.dump({"rules": [rule_dict(r) for r in rules]}, out, indent=2)
    out.write("\n")
