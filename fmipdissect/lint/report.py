"""Text and JSON reports of fmip-lint (README, "Checking a capture").

Both are written incrementally: a finding is printed as soon as the engine
yields it, so memory does not grow with the number of findings.

Text, like a compiler:

    trace.pcap:17: error FM101 fbu-lifetime-over-limit: Lifetime 11 s exceeds 10 s (RFC 4988 5.1)
    trace.pcap: 1,234 packets, 56 FMIPv4 messages: 1 error, 0 warnings, 2 infos

JSON, one object:

    {"findings": [{"file", "frame", "time", "rule", "name", "severity",
                   "section", "message"}, ...],
     "summary": {"files", "packets", "messages", "errors", "warnings",
                 "infos", "by_file": [...]},
     "statistics": [...]}          (only with --statistics)
"""

from __future__ import annotations

import json
import sys
import time as _time

from ..spec.rules import RULES, RULES_BY_ID

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m",
            "info": "\033[1;36m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}{'' if n == 1 else 's'}"


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


def rule_statistics(stats_list) -> list[dict]:
    """Count per rule over all files, in registry order (--statistics)."""
    counts: dict[str, int] = {}
    for s in stats_list:
        for rule, n in s.rules.items():
            counts[rule] = counts.get(rule, 0) + n
    return [{"rule": r.id, "name": r.name, "severity": r.severity,
             "count": counts[r.id]} for r in RULES if r.id in counts]


def section_text(section: str) -> str:
    return "" if section in ("", "-") else f" (RFC 4988 {section})"


class TextReport:
    def __init__(self, out, colour: bool = False, statistics: bool = False):
        self.out = out
        self.colour = colour
        self.statistics = statistics

    def finding(self, f) -> None:
        sev = f.severity
        if self.colour:
            head = (f"{_BOLD}{f.file}:{f.frame}:{_RESET} "
                    f"{_COLOURS[sev]}{sev}{_RESET} {_BOLD}{f.rule}{_RESET} "
                    f"{f.name}")
        else:
            head = f"{f.file}:{f.frame}: {sev} {f.rule} {f.name}"
        self.out.write(f"{head}: {f.message}{section_text(f.section)}\n")

    def file_done(self, stats) -> None:
        c = stats.counts
        self.out.write(
            f"{stats.file}: {_plural(stats.packets, 'packet')}, "
            f"{_plural(stats.messages, 'FMIPv4 message')}: "
            f"{_plural(c['error'], 'error')}, "
            f"{_plural(c['warning'], 'warning')}, "
            f"{_plural(c['info'], 'info')}\n")

    def close(self, stats_list) -> None:
        if len(stats_list) > 1:
            t = summary_counts(stats_list)
            self.out.write(
                f"total: {_plural(t['files'], 'file')}, "
                f"{_plural(t['packets'], 'packet')}, "
                f"{_plural(t['messages'], 'FMIPv4 message')}: "
                f"{_plural(t['errors'], 'error')}, "
                f"{_plural(t['warnings'], 'warning')}, "
                f"{_plural(t['infos'], 'info')}\n")
        if self.statistics:
            rows = rule_statistics(stats_list)
            width = max((len(f"{r['count']:,}") for r in rows), default=1)
            for r in rows:
                self.out.write(f"{r['count']:>{width},}  {r['rule']}  "
                               f"{r['severity']:<7}  {r['name']}\n")
        self.out.flush()


def finding_dict(f) -> dict:
    return {"file": f.file, "frame": f.frame, "time": f.time, "rule": f.rule,
            "name": f.name, "severity": f.severity, "section": f.section,
            "message": f.message}


class JsonReport:
    """Streams {"findings": [...], "summary": {...}}; valid JSON at close."""

    def __init__(self, out, statistics: bool = False):
        self.out = out
        self.statistics = statistics
        self._count = 0

    def finding(self, f) -> None:
        self.out.write(('{"findings": [\n  ' if self._count == 0
                        else ",\n  ") + json.dumps(finding_dict(f)))
        self._count += 1

    def file_done(self, stats) -> None:
        pass

    def close(self, stats_list) -> None:
        summary = summary_counts(stats_list)
        summary["by_file"] = [
            {"file": s.file, "packets": s.packets, "messages": s.messages,
             "errors": s.counts["error"], "warnings": s.counts["warning"],
             "infos": s.counts["info"]} for s in stats_list]
        tail = "\n]" if self._count else '{"findings": []'
        tail += ', "summary": ' + json.dumps(summary)
        if self.statistics:
            tail += ', "statistics": ' + json.dumps(rule_statistics(stats_list))
        self.out.write(tail + "}\n")
        self.out.flush()


def rule_dict(r) -> dict:
    return {"rule": r.id, "name": r.name, "severity": r.severity,
            "section": r.section, "scope": r.scope, "summary": r.summary,
            "why": r.why}


def list_rules(out, fmt: str, rules=RULES) -> None:
    """--list-rules: the registry as a table or as JSON."""
    if fmt == "json":
        json.dump({"rules": [rule_dict(r) for r in rules]}, out, indent=2)
        out.write("\n")
        return
    name_w = max((len(r.name) for r in rules), default=0)
    for r in rules:
        out.write(f"{r.id}  {r.severity:<7}  {r.section:<4}  "
                  f"{r.name:<{name_w}}  {r.summary}\n")


class Progress:
    """A one-line progress bar on standard error (a terminal only)."""

    def __init__(self, name: str, stream=None, interval: float = 0.2):
        self.name = name
        self.stream = stream or sys.stderr
        self.interval = interval
        self._next = 0.0
        self._shown = False

    def __call__(self, done: int, size: int) -> None:
        now = _time.monotonic()
        if done < size and now < self._next:
            return
        self._next = now + self.interval
        if done >= size:
            self.clear()
            return
        frac = done / size if size else 1.0
        bar = "#" * int(frac * 30)
        self.stream.write(f"\r{self.name} [{bar:<30}] {frac:4.0%}")
        self.stream.flush()
        self._shown = True

    def clear(self) -> None:
        """Erase the bar, so that a finding printed next starts clean."""
        if self._shown:
            self.stream.write("\r\033[K")
            self.stream.flush()
            self._shown = False


__all__ = ["TextReport", "JsonReport", "list_rules", "Progress",
           "finding_dict", "rule_dict", "summary_counts", "rule_statistics",
           "RULES_BY_ID"]
