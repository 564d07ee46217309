"""fmip-lint's reports, one module per format (README, "Checking a capture"):

    text     like a compiler: FILE:FRAME: SEVERITY RULE slug: message
    json     {"findings": [...], "summary": {...}}
    sarif    SARIF 2.1.0 for code-scanning dashboards
    junit    JUnit XML for test-lab runners
    github   GitHub Actions workflow commands (annotations)
    annotate a copy of the capture with the findings as packet comments
             (--annotate; not a --format, it writes a capture)

Every format streams (common.Report); make_report picks one by name.
"""

from __future__ import annotations

from .common import (Report, finding_comment, finding_dict, finding_text,
                     rule_dict, rule_statistics, summary_counts)
from .text import TextReport, list_rules

# format name: (module, class).  A format's module is imported only when
# it is asked for (start-up: JUnit's XML escaping pulls in half of urllib).
FORMATS = {"text": (".text", "TextReport"), "json": (".json", "JsonReport"),
           "jsonl": (".json", "JsonLinesReport"),
           "sarif": (".sarif", "SarifReport"),
           "junit": (".junit", "JunitReport"),
           "github": (".github", "GithubReport")}
_CLASSES = {cls: module for module, cls in FORMATS.values()}
_CLASSES["Progress"] = ".progress"     # only for a large capture on a tty


def report_class(fmt: str) -> type:
    """The Report class of format `fmt` (a FORMATS key)."""
    import importlib                # not for the text report (start-up)
    module, cls = FORMATS[fmt]
    return getattr(importlib.import_module(module, __name__), cls)


def __getattr__(name: str):     # JsonReport & co., Progress: imported lazily
    if name in _CLASSES:
        import importlib
        return getattr(importlib.import_module(_CLASSES[name], __name__), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def make_report(fmt: str, out, *, colour: bool = False,
                statistics: bool = False, fail_on: str = "error") -> Report:
    """The report of format `fmt` (a FORMATS key) writing to `out`."""
    if fmt == "text":
        return TextReport(out, colour, statistics, fail_on)
    return report_class(fmt)(out, statistics=statistics, fail_on=fail_on)


__all__ = ["FORMATS", "make_report", "Report", "TextReport", "JsonReport",
           "SarifReport", "JunitReport", "GithubReport", "Progress",
           "list_rules", "finding_dict", "finding_text", "finding_comment",
           "rule_dict", "summary_counts", "rule_statistics"]
