"""GitHub Actions workflow commands (--format github): each finding becomes
an annotation on the run,

    ::error file=trace.pcap,title=FM101::frame 3: fbu-lifetime-over-limit: Lifetime 11 s exceeds 10 s (RFC 4988 5.1)

(error, warning, notice for info), escaped as GitHub's workflow-command
syntax requires; the per-capture summary lines follow as plain log text,
each starting with "fmip-lint: " so that no file name can begin a line
with "::" (a capture named `::stop-commands::x` would switch off every
later annotation).  File names are shown as one_line shows them (control
characters and non-UTF-8 octets escaped).
"""

from __future__ import annotations

from .common import (Report, display_name, file_counts, finding_text,
                     summary_line)

COMMANDS = {"error": "error", "warning": "warning", "info": "notice"}


def escape_data(text: str) -> str:
    """A command's message: %, CR and LF encoded."""
    return (text.replace("%", "%25").replace("\r", "%0D")
            .replace("\n", "%0A"))


def escape_property(text: str) -> str:
    """A command's property value: also ':' and ','."""
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def command(kind: str, file: str, title: str, message: str) -> str:
    # CR and LF %-encoded as GitHub reads them; then other control
    # characters and non-UTF-8 octets escaped (display_name)
    return (f"::{kind} file={display_name(escape_property(file))},"
            f"title={escape_property(title)}::{escape_data(message)}\n")


class GithubReport(Report):
    def finding(self, f) -> None:
        self.out.write(command(COMMANDS[f.severity], f.file, f.rule,
                               f"frame {f.frame}: {finding_text(f)}"))

    def file_done(self, stats) -> None:
        self.out.write(summary_line(f"fmip-lint: {display_name(stats.file)}: ",
                                    file_counts(stats)) + "\n")

    def file_failed(self, name: str, message: str) -> None:
        super().file_failed(name, message)
        self.out.write(command("error", name, "fmip-lint", message))
