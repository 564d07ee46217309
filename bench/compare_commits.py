"""fmip-lint at an earlier commit against the working tree, in one run.

    .venv/bin/python bench/compare_commits.py [--base COMMIT] [--runs N]
                                              [--quick] [CAPTURE ...]

On a shared VM whose speed moves by a factor of two from one day to the
next, a figure in packets/s says little about a change; the ratio of two
versions timed side by side in the same minutes does.  This script checks
the base commit out into a temporary git worktree (removed at the end),
byte-compiles it (and the tree) and builds its C accelerator in place
when it has one and a compiler is there (as `make setup` does for the
tree), and runs
`fmip-lint --format json` of the base and of the working tree on the
benchmark captures of bench/run.py (generated and cached as there), the
two versions taking turns, best of N runs each.  Both run through the
same small `python -P -c` entry, so their start-up costs the same (-P:
the current folder does not come before PYTHONPATH).  It prints, per
capture, both wall times, the rate of each and how many times faster the
working tree is, and whether the findings match.

--base: default 46225f2, the commit the FMIPv4-dense work is measured
against (bench/instructions.py counts the same two in machine
instructions).  CAPTURE: names among bg.pcap,
bg.pcapng, fmip.pcap, bg-frag.pcap (default: fmip.pcap bg.pcap), or the
path of any capture file.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from pathlib import Path

import run as bench

DEFAULT_BASE = "46225f2"
DEFAULT_CAPTURES = ("fmip.pcap", "bg.pcap")
ENTRY = ("import sys; from fmipdissect.cli import lint_main; "
         "sys.argv[0] = 'fmip-lint'; sys.exit(lint_main())")


def checkout(base: str, where: Path) -> Path:
    """A detached worktree of `base` in `where`, its accelerator built."""
    tree = where / "base"
    subprocess.run(["git", "-C", str(bench.REPO), "worktree", "add", "-q",
                    "--detach", str(tree), base], check=True)
    # Byte-compiled as `make setup` does for the tree: where
    # PYTHONDONTWRITEBYTECODE is set (as here), the base would otherwise
    # compile every module at every start.
    subprocess.run([bench.PYTHON, "-m", "compileall", "-q",
                    str(tree / "fmipdissect")], check=True)
    source = tree / "fmipdissect" / "capture" / "_skip.c"
    if source.exists():
        # What setup.py's Extension builds (-O2), compiled straight with
        # Python's own compiler settings: `setup.py build_ext` would read
        # pyproject.toml with this venv's setuptools, not pip's build one.
        target = source.with_name("_skip" + sysconfig.get_config_var(
            "EXT_SUFFIX"))
        cc = (sysconfig.get_config_var("CC") or "cc").split()
        built = subprocess.run(
            cc + ["-shared", "-fPIC", "-O2", "-I",
                  sysconfig.get_paths()["include"], str(source), "-o",
                  str(target)], capture_output=True, text=True)
        if built.returncode != 0:
            print("  (the base's C accelerator did not build, so its "
                  "pure-Python walk is timed: "
                  f"{built.stderr.strip().splitlines()[-1:]})")
    return tree


def walk(root: Path) -> str:
    """Which record walk the version at root runs: C or pure Python."""
    probe = subprocess.run(
        [bench.PYTHON, "-P", "-c", "from fmipdissect.capture import accel; "
         "print(getattr(accel, 'SKIP', None) is not None)"],
        env=dict(os.environ, PYTHONPATH=str(root)), capture_output=True,
        text=True)
    return "C" if probe.stdout.strip() == "True" else "pure Python"


def lint_cmd(capture: Path) -> list[str]:
    return [bench.PYTHON, "-P", "-c", ENTRY, "--format", "json",
            "--no-progress", str(capture)]


def findings(report: dict) -> list:
    return [(f["frame"], f["rule"], f["message"])
            for f in report["findings"]]


def units(cap, report: dict) -> int:
    """What the rate counts, from fmip-lint's own summary: messages on the
    FMIPv4-only capture, packets elsewhere (as bench/run.py)."""
    return report["summary"]["messages" if cap.unit == "msg/s"
                             else "packets"]


def compare(cap, tree: Path, runs: int, work: Path) -> dict:
    """Both versions in turns; best wall time of each."""
    times = {"base": [], "tree": []}
    outs = {}
    for i in range(runs):
        for side, root in (("base", tree), ("tree", bench.REPO)):
            out = work / f"{side}-{Path(cap.name).name}-{i}.json"
            timed = bench.run_timed(lint_cmd(cap.path), out,
                                    env={"PYTHONPATH": str(root)}, rss=False)
            times[side].append(timed.wall)
            outs[side] = out
    base, now = bench.lint_json(outs["base"]), bench.lint_json(outs["tree"])
    return {"base": bench.best(times["base"]),
            "tree": bench.best(times["tree"]),
            "units": units(cap, now),
            "same": findings(base) == findings(now)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="bench/compare_commits.py",
        description="fmip-lint at an earlier commit against the working "
                    "tree, side by side in one run.")
    parser.add_argument("captures", nargs="*", metavar="CAPTURE",
                        help="bench captures by name, or capture files "
                             "(default: " + " ".join(DEFAULT_CAPTURES) + ")")
    parser.add_argument("--base", default=DEFAULT_BASE,
                        help="the commit to compare with (default: "
                             f"{DEFAULT_BASE})")
    parser.add_argument("--runs", type=int, default=3,
                        help="runs of each version per capture (best "
                             "reported; default 3)")
    parser.add_argument("--quick", action="store_true",
                        help="the small captures of `bench/run.py --quick`")
    args = parser.parse_args(argv)
    wanted = args.captures or list(DEFAULT_CAPTURES)
    caps = {}
    for name in wanted:
        if Path(name).is_file():            # a capture of one's own
            # (not bench.count_packets: it leaves a count beside the file)
            caps[name] = bench.Capture(name, Path(name).resolve(), None,
                                       "pkt/s", "")
        elif name not in bench.BENCH_CAPTURES:
            parser.error(f"{name}: neither a file nor one of "
                         f"{', '.join(bench.BENCH_CAPTURES)}")
    if any(name not in caps for name in wanted):
        caps.update((c.name, c) for c in bench.captures(args.quick))
    head = subprocess.run(["git", "-C", str(bench.REPO), "rev-parse",
                           "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    print(f"fmip-lint at {args.base} (base) against the working tree "
          f"(HEAD {head}), best of {args.runs}, taking turns")
    for line in bench.machine():
        print(line)
    # the tree byte-compiled as the base is (checkout): where
    # PYTHONDONTWRITEBYTECODE is set, a tree without its __pycache__ would
    # compile every module at every start (a few percent on fmip.pcap)
    subprocess.run([bench.PYTHON, "-m", "compileall", "-q",
                    str(bench.REPO / "fmipdissect")], check=True)
    work = Path(tempfile.mkdtemp(prefix="fmip-compare-"))
    try:
        tree = checkout(args.base, work)
        print("record walk: " + ", ".join(
            f"{side} {walk(root)}"
            for side, root in (("base", tree), ("tree", bench.REPO))))
        width = max(14, *(len(name) for name in wanted))
        print(f"\n{'capture':{width}} {'base':>9} {'tree':>9} {'speed-up':>9}"
              f"  {'rate base':>14} {'rate tree':>14} {'':5}  findings")
        for name in wanted:
            cap = caps[name]
            got = compare(cap, tree, args.runs, work)
            count = got["units"]
            print(f"{name:{width}} {got['base']:8.2f}s {got['tree']:8.2f}s "
                  f"{got['base'] / got['tree']:8.2f}x  "
                  f"{count / got['base']:14,.0f} {count / got['tree']:14,.0f} "
                  f"{cap.unit:5}"
                  f"  {'identical' if got['same'] else 'DIFFER'}")
    finally:
        subprocess.run(["git", "-C", str(bench.REPO), "worktree", "remove",
                        "--force", str(work / "base")], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
