"""Baselines: today's findings recorded, only new ones reported.

`fmip-lint --write-baseline FILE` records every finding of the run;
`fmip-lint --baseline FILE` then reports only findings that FILE does not
hold.  A finding's identity is its capture's file name (relative to the
baseline's folder, so the baseline works from any current folder), its
rule and its message with every frame number taken out ("frame 12" reads
"frame #"): the message's key fields (addresses, Identification, codes,
lifetimes) stay, frame numbers go, so packets added to a capture leave the
baseline valid.  Identities are counted: a baseline with one finding of an
identity hides the first such finding, a second one is new.

The file (JSON, sorted, for readable diffs):

    {"fmip-lint-baseline": 1,
     "findings": [{"file", "rule", "name", "message", "count"}, ...]}
"""

from __future__ import annotations

import json
import os
import re

from ..errors import InputError

VERSION = 1
# "frame 12", "frames 3, 4 and 2 more", "frames 7-9": any frame number
_FRAME_REFS = re.compile(r"\b(frames?) \d+(?:(?:, |-| and )\d+(?! more))*"
                         r"(?: and \d+ more)?")


def message_key(message: str) -> str:
    """The message without its frame numbers."""
    return _FRAME_REFS.sub(lambda m: f"{m.group(1)} #", message)


def file_key(name: str, folder: str) -> str:
    """A capture's name relative to the baseline's folder, "/"-separated;
    a name that is not a file (standard input, an interface) as it is."""
    if name == "-" or not os.path.exists(name):
        return name
    return os.path.relpath(os.path.abspath(name), folder).replace(os.sep, "/")


class Baseline:
    """Reads (--baseline) and writes (--write-baseline) one run's findings;
    keep(f) says whether a finding is reported."""

    def __init__(self, read: str | None = None, write: str | None = None):
        self.write_path = write
        self.known: dict = {}           # identity -> count left to hide
        self.hidden: dict = {}          # file -> [(severity, rule)]
        self.seen: dict = {}            # identity -> (name, count), to write
        if read is not None:
            self.read_folder = _folder(read)
            self.known = _load(read)
        self.write_folder = None
        if write is not None:
            from ..output import check_target
            check_target(write, "baseline", "--write-baseline")  # before
            self.write_folder = _folder(write)

    def _identity(self, f, folder: str) -> tuple:
        return (file_key(f.file, folder), f.rule, message_key(f.message))

    def keep(self, f) -> bool:
        """False for a finding the baseline holds (hidden from the report)."""
        if self.write_path is not None:
            key = self._identity(f, self.write_folder)
            name, count = self.seen.get(key, (f.name, 0))
            self.seen[key] = (name, count + 1)
        if not self.known:
            return True
        key = self._identity(f, self.read_folder)
        left = self.known.get(key, 0)
        if not left:
            return True
        self.known[key] = left - 1
        self.hidden.setdefault(f.file, []).append((f.severity, f.rule))
        return False

    def adjust(self, stats) -> None:
        """Take the hidden findings out of a capture's counts (engine
        FileStats), so that the summary and exit status count new ones."""
        for severity, rule in self.hidden.pop(stats.file, ()):
            stats.counts[severity] -= 1
            stats.rules[rule] -= 1
            if not stats.rules[rule]:
                del stats.rules[rule]

    def save(self) -> int:
        """Write --write-baseline's file (replaced at once); the count."""
        rows = [{"file": file, "rule": rule, "name": name, "message": message,
                 "count": count}
                for (file, rule, message), (name, count)
                in sorted(self.seen.items())]
        path = self.write_path
        tmp = f"{path}.tmp{os.getpid()}"
        try:
            with open(tmp, "w", encoding="utf-8") as out:
                json.dump({"fmip-lint-baseline": VERSION, "findings": rows},
                          out, indent=1, ensure_ascii=False)
                out.write("\n")
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError(f"--write-baseline {path}: "
                             f"{exc.strerror or exc}") from None
        return sum(r["count"] for r in rows)


def _folder(path: str) -> str:
    return os.path.dirname(os.path.abspath(path))


def _load(path: str) -> dict:
    """identity -> count of a baseline file; InputError when it is not one."""
    try:
        with open(path, encoding="utf-8") as f:
            document = json.load(f)
    except OSError as exc:
        raise InputError(f"--baseline {path}: {exc.strerror or exc}") from None
    except ValueError as exc:
        raise InputError(f"--baseline {path}: not JSON ({exc})") from None
    if not (isinstance(document, dict)
            and document.get("fmip-lint-baseline") == VERSION
            and isinstance(document.get("findings"), list)):
        raise InputError(f"--baseline {path}: not an fmip-lint baseline "
                         f"(write one with --write-baseline)")
    known: dict = {}
    for row in document["findings"]:
        try:
            key = (str(row["file"]), str(row["rule"]),
                   message_key(str(row["message"])))
            known[key] = known.get(key, 0) + int(row.get("count", 1))
        except (KeyError, TypeError, ValueError):
            raise InputError(f"--baseline {path}: a finding without file, "
                             f"rule and message: {row!r}"[:200]) from None
    return known
