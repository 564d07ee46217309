"""What every report format of fmip-lint shares: the interface, the wording
of a finding, the summary counts and the exit-status threshold.

A report is fed while the captures are read, never after:

    report.finding(f)            for each finding, as the engine yields it
    report.file_done(stats)      after a capture was read (engine.FileStats)
    report.file_failed(name, message)
                                 a capture that could not be read (exit 2)
    report.close(stats_list)     once, with the stats of every capture read

so memory does not grow with the number of findings (a format whose header
needs counts spools to a temporary file instead of holding findings).
"""

from __future__ import annotations

from ...errors import one_line
from ...spec.rules import RULES, SEVERITIES


def plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def section_text(section: str) -> str:
    """" (RFC 4988 5.1)", or nothing for rules about the capture itself."""
    return "" if section in ("", "-") else f" (RFC 4988 {section})"


def finding_text(f) -> str:
    """"fbu-lifetime-over-limit: Lifetime 11 s exceeds 10 s (RFC 4988 5.1)"."""
    return f"{f.name}: {f.message}{section_text(f.section)}"


def finding_comment(f) -> str:
    """The packet comment of --annotate, rule id first so that a display
    filter `frame.comment contains "FM101"` finds it."""
    return f"{f.rule} {f.severity} {finding_text(f)}"


def display_name(name: str) -> str:
    """A file name on one line: control characters escaped (one_line)."""
    return one_line(name)


def fails(severity: str, fail_on: str) -> bool:
    """True when a finding of `severity` reaches the --fail-on threshold
    (SEVERITIES runs from the most to the least severe)."""
    return SEVERITIES.index(severity) <= SEVERITIES.index(fail_on)


def summary_counts(stats_list) -> dict:
    total = {"files": len(stats_list), "packets": 0, "messages": 0,
             "errors": 0, "warnings": 0, "infos": 0}
    for s in stats_list:
        total["packets"] += s.packets
        total["messages"] += s.messages
        total["errors"] += s.counts["error"]
        total["warnings"] += s.counts["warning"]
        total["infos"] += s.counts["info"]
    return total


def summary_line(head: str, counts: dict) -> str:
    """"F: 1,234 packets, 56 FMIPv4 messages: 1 error, 0 warnings, 2 infos"."""
    return (f"{head}{plural(counts['packets'], 'packet')}, "
            f"{plural(counts['messages'], 'FMIPv4 message')}: "
            f"{plural(counts['errors'], 'error')}, "
            f"{plural(counts['warnings'], 'warning')}, "
            f"{plural(counts['infos'], 'info')}")


def file_counts(stats) -> dict:
    """The summary counts of one capture (engine.FileStats)."""
    return {"file": stats.file, "packets": stats.packets,
            "messages": stats.messages, "errors": stats.counts["error"],
            "warnings": stats.counts["warning"], "infos": stats.counts["info"]}


def rule_statistics(stats_list) -> list[dict]:
    """Count per rule over all files, in registry order (--statistics)."""
    counts: dict[str, int] = {}
    for s in stats_list:
        for rule, n in s.rules.items():
            counts[rule] = counts.get(rule, 0) + n
    return [{"rule": r.id, "name": r.name, "severity": r.severity,
             "count": counts[r.id]} for r in RULES if r.id in counts]


def finding_dict(f) -> dict:
    """The JSON fields of a finding (records.Finding.asdict)."""
    return f.asdict()


def rule_dict(r) -> dict:
    return {"rule": r.id, "name": r.name, "severity": r.severity,
            "section": r.section, "scope": r.scope, "summary": r.summary,
            "why": r.why}


class Report:
    """Base of the report formats: does nothing, remembers failures."""

    def __init__(self, out, *, statistics: bool = False,
                 fail_on: str = "error"):
        self.out = out
        self.statistics = statistics
        self.fail_on = fail_on
        self.failed: list[dict] = []     # {"file", "message"} per failure

    def finding(self, f) -> None:
        pass

    def file_done(self, stats) -> None:
        pass

    def file_failed(self, name: str, message: str) -> None:
        self.failed.append({"file": name, "message": message})

    def close(self, stats_list) -> None:
        self.out.flush()
