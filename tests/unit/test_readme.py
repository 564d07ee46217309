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
