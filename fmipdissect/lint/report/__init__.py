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
from .github import GithubReport
from .json import JsonReport
from .junit import JunitReport
from .progress import Progress
from .sarif import SarifReport
from .text import TextReport, list_rules

FORMATS = {"text": TextReport, "json": JsonReport, "sarif": SarifReport,
           "junit": JunitReport, "github": GithubReport}


def make_report(fmt: str, out, *, colour: bool = False,
                statistics: bool = False, fail_on: str = "error") -> Report:
    """The report of format `fmt` (a FORMATS key) writing to `out`."""
    if fmt == "text":
        return TextReport(out, colour, statistics, fail_on)
    return FORMATS[fmt](out, statistics=statistics, fail_on=fail_on)


__all__ = ["FORMATS", "make_report", "Report", "TextReport", "JsonReport",
           "SarifReport", "JunitReport", "GithubReport", "Progress",
           "list_rules", "finding_dict", "finding_text", "finding_comment",
           "rule_dict", "summary_counts", "rule_statistics"]
