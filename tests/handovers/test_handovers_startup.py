"""What `fmipdissect handovers` imports (start-up; the figure is
bench/run.py's): none of the slow modules the lint path left behind, and
only the output format asked for."""

from __future__ import annotations

import subprocess
import sys

import startup_common

ROOT = startup_common.ROOT
SAMPLE = str(ROOT / "samples" / "predictive.pcap")

SLOW = {"dataclasses", "inspect", "shutil", "bz2", "lzma", "typing"}
FORMATS = {"json": "json", "csv": "csv"}


def imported(*argv: str) -> set[str]:
    status, modules = startup_common.imported("main", "handovers", *argv)
    assert status == 0
    return modules


def test_text_report_imports_no_slow_module_and_no_other_format():
    modules = imported(SAMPLE)
    assert "fmipdissect.handovers.builder" in modules     # it did analyse
    assert not modules & (SLOW | set(FORMATS.values())), \
        sorted(modules & (SLOW | set(FORMATS.values())))


def test_each_format_brings_its_module():
    for fmt, module in FORMATS.items():
        modules = imported("--format", fmt, SAMPLE)
        assert module in modules
        assert not modules & SLOW, sorted(modules & SLOW)


COUNT_PARSERS = (
    "import argparse, os, sys\n"
    "made = []\n"
    "init = argparse.ArgumentParser.__init__\n"
    "def counted(self, *a, **k):\n"
    "    made.append(k.get('prog'))\n"
    "    init(self, *a, **k)\n"
    "argparse.ArgumentParser.__init__ = counted\n"
    "from fmipdissect.cli import main\n"
    "sys.stdout = open(os.devnull, 'w')\n"
    "try:\n"
    "    main(sys.argv[1:])\n"
    "except SystemExit:\n"
    "    pass\n"
    "print(len(made), file=sys.stderr)\n")


def _parsers_made(*argv: str) -> int:
    r = subprocess.run([sys.executable, "-c", COUNT_PARSERS, *argv],
                       capture_output=True, text=True, cwd=ROOT)
    return int(r.stderr.split()[-1])


def test_a_subcommand_makes_only_its_own_parser():
    from fmipdissect.cli import SUBCOMMANDS
    assert _parsers_made("handovers", SAMPLE) == 2    # fmipdissect + handovers
    # the list of subcommands still has them all where it is shown
    assert _parsers_made("--help") == 1 + len(SUBCOMMANDS)
