"""Generate docs/rules.md from the rule registry (`make docs`).

    python -m fmipdissect.lint.docs -o docs/rules.md

The page is derived entirely from spec/rules.py (and the session limits of
lint/session.py); tests/lint/test_lint_docs.py proves the committed file current.
"""

from __future__ import annotations

import argparse
import sys

from . import session
from ..spec.rules import RULES

REGENERATE = "python -m fmipdissect.lint.docs -o docs/rules.md"

_SCOPES = {"message": "one message", "session": "across packets",
           "capture": "the capture file"}
_GROUPS = (
    ("FM1", "FBU and FBAck (Mobile IPv4 messages)"),
    ("FM2", "ICMP type 41 messages (RtSolPr, PrRtAdv, HI, HAck)"),
    ("FM3", "Options and extensions"),
    ("FM4", "Across packets"),
    ("FM5", "Authenticators (with --keys)"),
    ("FM9", "The capture file"),
)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def render() -> str:
    lines = [
        f"<!-- Generated from fmipdissect/spec/rules.py by `{REGENERATE}` "
        f"(make docs); do not edit. -->",
        "",
        "# fmip-lint rules",
        "",
        "Every rule has a stable id (never reused), a slug, a severity and "
        "the RFC 4988 section it enforces. Severities follow decision D10: a "
        "broken MUST / MUST NOT / REQUIRED is an **error**; a broken SHOULD "
        "and a \"sent as zero, ignored on reception\" field that is not zero "
        "are **warnings**; observations (no reply seen, unknown SPI, HI/HAck "
        "without IPsec ESP) are **infos**. `fmip-lint` exits 1 when it "
        "reports at least one error.",
        "",
        "Select or ignore rules by id, slug or id prefix: "
        "`fmip-lint --select FM1,FM4 --ignore fbu-unacknowledged trace.pcap`."
        " `fmip-lint --list-rules` prints this table.",
        "",
        "Cross-packet state (decision D9): requests are matched to replies and "
        "handovers are keyed by the MN's PCoA. An entry is forgotten "
        f"{session.EXPIRY_SECONDS:g} s of capture time after the last message "
        "that touched it (a request still unanswered then is reported at "
        "that point), and each table holds at most "
        f"{session.MAX_ENTRIES:,} entries (the least recently active one is "
        "dropped, reported the same way), so memory stays flat on captures "
        "of any size. Requests unanswered at the end are reported at the "
        "last frame.",
        "",
        "| id | name | severity | RFC 4988 | checked over | summary |",
        "|---|---|---|---|---|---|",
    ]
    for r in RULES:
        lines.append(f"| {r.id} | `{r.name}` | {r.severity} | {r.section} | "
                     f"{_SCOPES.get(r.scope, r.scope)} | {_cell(r.summary)} |")
    for prefix, title in _GROUPS:
        group = [r for r in RULES if r.id.startswith(prefix)]
        if not group:
            continue
        lines += ["", f"## {title}"]
        for r in group:
            section = ("" if r.section in ("", "-")
                       else f", RFC 4988 section {r.section}")
            lines += ["", f"### {r.id} `{r.name}`", "",
                      f"*{r.severity}*{section}, checked over "
                      f"{_SCOPES.get(r.scope, r.scope)}.", "",
                      f"{r.summary}.", "", f"Why: {r.why}"]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m fmipdissect.lint.docs",
        description="Write docs/rules.md from the rule registry.")
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write here instead of standard output")
    args = parser.parse_args(argv)
    text = render()
    if args.output:
        with open(args.output, "w", encoding="utf-8") as f:
            f.write(text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
