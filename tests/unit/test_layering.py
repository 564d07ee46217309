"""Who may import whom: one matcher, and stages that do not reach across.

- fmipdissect/lint/ and fmipdissect/handovers/ are two subscribers of the
  correlation stage: neither imports the other (fmipdissect/analysis.py
  joins them).
- fmipdissect/correlate/ sits between decoding and its consumers: it
  imports the rulebook (spec/) and nothing that consumes it.
- fmipdissect/wireshark/ is generated from the rulebook only: it imports
  spec/ and the package's version and error type, nothing else.
- Request/reply tables, expiry and clock-back handling live in correlate/
  only: no other module defines pop_expired or sweeps by EXPIRY_SECONDS.

Each rule is checked by a function that is also shown to fail on a tree
that breaks it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "fmipdissect"

RULES = {
    # stage folder -> module prefixes it must not import
    "lint": ("fmipdissect.handovers", "fmipdissect.analysis"),
    "handovers": ("fmipdissect.lint",),
    "correlate": ("fmipdissect.lint", "fmipdissect.handovers",
                  "fmipdissect.wireshark", "fmipdissect.analysis"),
}
# wireshark/: the only modules it may import from the package
WIRESHARK_MAY_IMPORT = ("fmipdissect.spec", "fmipdissect.wireshark",
                        "fmipdissect.errors")
MATCHING_NAMES = ("pop_expired",)


def imports(path: Path, package: Path = PACKAGE) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in a module; `from ..
    import x` counts as module.x as well, so that a subpackage imported by
    name is seen."""
    rel = path.relative_to(package.parent).with_suffix("")
    parts = list(rel.parts)
    parts = parts[:-1]      # the package the module is in
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = parts[:len(parts) - node.level + 1] if node.level else []
            module = ".".join(base + ([node.module] if node.module else []))
            out.append((node.lineno, module))
            out += [(node.lineno, f"{module}.{a.name}") for a in node.names]
    return out


def violations(package: Path = PACKAGE) -> list[str]:
    found = []
    for path in sorted(package.rglob("*.py")):
        stage = path.relative_to(package).parts[0]
        for line, module in imports(path, package):
            if not module.startswith("fmipdissect"):
                continue
            where = f"{path.relative_to(package.parent)}:{line}: {module}"
            if any(module.startswith(p) for p in RULES.get(stage, ())):
                found.append(where)
            if stage == "wireshark" and module not in (
                    "fmipdissect", "fmipdissect.__version__") and not any(
                    module.startswith(p) for p in WIRESHARK_MAY_IMPORT):
                found.append(where)
        if stage != "correlate":
            text = path.read_text(encoding="utf-8")
            for name in MATCHING_NAMES:
                if f"def {name}" in text:
                    found.append(f"{path.relative_to(package.parent)}: "
                                 f"defines {name}")
    return found


def test_stages_import_only_what_they_may():
    assert violations() == []


def test_the_guard_can_fail(tmp_path):
    pkg = tmp_path / "fmipdissect"
    for folder, text in {
            "lint": "from ..handovers import builder\n",
            "handovers": "from ..lint.session import Session\n",
            "wireshark": "from ..lint import session\n",
            "correlate": "import fmipdissect.lint.checks\n",
            "gen": "def pop_expired(table):\n    pass\n"}.items():
        (pkg / folder).mkdir(parents=True)
        (pkg / folder / "module.py").write_text(text)
    broken = {v.split(":")[0] for v in violations(pkg)}
    assert broken == {f"fmipdissect/{folder}/module.py" for folder in
                      ("lint", "handovers", "wireshark", "correlate", "gen")}
