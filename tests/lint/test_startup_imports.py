"""What `fmip-lint` on a tiny capture imports (start-up).

The start-up figure itself is the benchmark's (`bench/run.py
--startup-only`), not a timed test; this holds the modules that made it
slow off the path a plain run takes, and shows that each still comes when
its option asks for it.
"""

from __future__ import annotations

import startup_common

ROOT = startup_common.ROOT
SAMPLE = str(ROOT / "samples" / "predictive.pcap")
KEYS = str(ROOT / "samples" / "keys.txt")

# Modules a plain run needs none of: dataclasses (inspect, ast, dis),
# argparse's shutil (with bz2, lzma), the signal module's enums,
# contextlib, and the parts of our own that only an option needs.
NOT_FOR_A_PLAIN_RUN = (
    "dataclasses", "inspect", "ast", "dis", "shutil", "bz2", "lzma",
    "signal", "contextlib", "tempfile", "pickle", "hashlib", "socket",
    "typing", "fmipdissect.lint.keys", "fmipdissect.capture.pcapng",
    "fmipdissect.lint.report.progress", "fmipdissect.lint.report.json",
    "tomllib", "difflib", "subprocess", "threading",
    "fmipdissect.lint.baseline")


def imported(*argv: str) -> tuple[int, set[str]]:
    return startup_common.imported("lint_main", *argv)


def test_a_plain_run_imports_nothing_it_does_not_need():
    status, modules = imported(SAMPLE)
    assert status == 0
    assert "fmipdissect.lint.engine" in modules      # it did check
    assert not modules & set(NOT_FOR_A_PLAIN_RUN), \
        sorted(modules & set(NOT_FOR_A_PLAIN_RUN))


def test_options_still_bring_their_modules():
    _, modules = imported("--keys", KEYS, "--format", "json", SAMPLE)
    assert {"fmipdissect.lint.keys", "hashlib",
            "fmipdissect.lint.report.json"} <= modules


def test_a_configuration_file_brings_tomllib(tmp_path):
    config = tmp_path / "fmip-lint.toml"
    config.write_text("select = ['FM1']\n")
    status, modules = imported("--config", str(config), SAMPLE)
    assert status == 0 and "tomllib" in modules
