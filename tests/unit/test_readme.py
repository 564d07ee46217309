"""The README's Python example runs as written and builds a clean capture."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_readme_python_example_builds_a_capture_fmip_lint_accepts(tmp_path):
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.S)
    assert blocks, "README has no python example"
    subprocess.run([sys.executable, "-c", blocks[0]], cwd=tmp_path, check=True)
    capture = tmp_path / "two.pcap"
    assert capture.exists()
    keys = tmp_path / "keys.txt"
    keys.write_text("0x100 " + b"secret".hex() + "\n")
    lint = subprocess.run(
        [sys.executable, "-m", "fmipdissect.lint", "--keys", str(keys),
         "--format", "json", str(capture)],
        capture_output=True, text=True)
    assert lint.returncode == 0, lint.stderr
    assert '"errors": 0' in lint.stdout and '"warnings": 0' in lint.stdout


def _shown_runs(readme: str):
    """(argv, shown lines) of every `$ fmip-lint ...` example: the indented
    lines that follow the command, up to the next blank line."""
    runs = []
    for match in re.finditer(r"^    \$ fmip-lint (.*)\n((?:    .*\n)+)",
                             readme, re.M):
        shown = [line[4:] for line in match.group(2).splitlines()]
        runs.append((match.group(1).split(), shown))
    return runs


def test_readme_fmip_lint_output_is_what_the_command_prints():
    """The lines the README shows for an fmip-lint run are the command's
    output today: those before "..." are its first lines, those after it
    its last ones (the summary)."""
    runs = _shown_runs((ROOT / "README.md").read_text())
    assert runs, "README shows no fmip-lint run"
    for argv, shown in runs:
        run = subprocess.run([sys.executable, "-m", "fmipdissect.lint", *argv],
                             capture_output=True, text=True, cwd=ROOT)
        assert run.returncode in (0, 1), run.stderr
        printed = run.stdout.splitlines()
        head, tail = shown, []
        if "..." in shown:
            cut = shown.index("...")
            head, tail = shown[:cut], shown[cut + 1:]
        else:
            assert len(shown) == len(printed), (argv, printed)
        assert printed[:len(head)] == head, (argv, printed[:len(head)])
        assert printed[len(printed) - len(tail):] == tail, \
            (argv, printed[len(printed) - len(tail):])
