"""The text report of fmip-lint, like a compiler's (README, "Checking a
capture"):

    trace.pcap:17: error FM101 fbu-lifetime-over-limit: Lifetime 11 s exceeds 10 s (RFC 4988 5.1)
    trace.pcap: 1,234 packets, 56 FMIPv4 messages: 1 error, 0 warnings, 2 infos

Each finding is printed as soon as the engine yields it.  File names are
escaped (one_line) so that every finding stays one line.
"""

from __future__ import annotations

from .common import (Report, display_name, file_counts, plural,
                     rule_statistics, section_text, summary_counts,
                     summary_line)

_COLOURS = {"error": "\033[1;31m", "warning": "\033[1;33m",
            "info": "\033[1;36m"}
_BOLD, _RESET = "\033[1m", "\033[0m"


class TextReport(Report):
    def __init__(self, out, colour: bool = False, statistics: bool = False,
                 fail_on: str = "error"):
        super().__init__(out, statistics=statistics, fail_on=fail_on)
        self.colour = colour

    def finding(self, f) -> None:
        sev = f.severity
        name = display_name(f.file)
        if self.colour:
            head = (f"{_BOLD}{name}:{f.frame}:{_RESET} "
                    f"{_COLOURS[sev]}{sev}{_RESET} {_BOLD}{f.rule}{_RESET} "
                    f"{f.name}")
        else:
            head = f"{name}:{f.frame}: {sev} {f.rule} {f.name}"
        self.out.write(f"{head}: {f.message}{section_text(f.section)}\n")

    def file_done(self, stats) -> None:
        self.out.write(summary_line(f"{display_name(stats.file)}: ",
                                    file_counts(stats)) + "\n")

    def close(self, stats_list) -> None:
        if len(stats_list) > 1:
            t = summary_counts(stats_list)
            self.out.write(summary_line(
                f"total: {plural(t['files'], 'file')}, ", t) + "\n")
        if self.statistics:
            rows = rule_statistics(stats_list)
            width = max((len(f"{r['count']:,}") for r in rows), default=1)
            for r in rows:
                self.out.write(f"{r['count']:>{width},}  {r['rule']}  "
                               f"{r['severity']:<7}  {r['name']}\n")
        self.out.flush()


def list_rules(out, fmt: str, rules) -> None:
    """--list-rules: the registry as a table, or as JSON with --format json
    (every other format lists the table)."""
    if fmt == "json":
        from .json import rules_json
        rules_json(out, rules)
        return
    name_w = max((len(r.name) for r in rules), default=0)
    for r in rules:
        out.write(f"{r.id}  {r.severity:<7}  {r.section:<4}  "
                  f"{r.name:<{name_w}}  {r.summary}\n")
