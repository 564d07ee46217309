"""Every module of the package stays readable: no file over MAX_FILE_LINES
lines, no function or method over MAX_FUNCTION_LINES lines (from its def
line to its last line).  No exceptions: a module that grows past the limit
is split, a function is cut into named steps."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "fmipdissect"
MAX_FILE_LINES = 600
MAX_FUNCTION_LINES = 100


def _sources():
    for path in sorted(PACKAGE.rglob("*.py")):
        yield path.relative_to(PACKAGE.parent), path.read_text(encoding="utf-8")


def long_functions(text: str) -> list[tuple[str, int, int]]:
    """(name, first line, lines) of every function longer than the limit."""
    return [(node.name, node.lineno, node.end_lineno - node.lineno + 1)
            for node in ast.walk(ast.parse(text))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]


def test_the_limits_are_measured():
    body = "\n".join(f"    x = {i}" for i in range(MAX_FUNCTION_LINES))
    assert long_functions(f"def f():\n{body}\n") == \
        [("f", 1, MAX_FUNCTION_LINES + 1)]
    assert long_functions(f"def f():\n{body}\n".replace("    x = 0\n", "")) \
        == []


def test_no_file_over_the_limit():
    sizes = [(name, len(text.splitlines())) for name, text in _sources()]
    long = [f"{name}: {lines} lines" for name, lines in sizes
            if lines > MAX_FILE_LINES]
    assert not long, f"over {MAX_FILE_LINES} lines:\n" + "\n".join(long)


def test_no_function_over_the_limit():
    long = [f"{name}:{line}: {function}() {size} lines"
            for name, text in _sources()
            for function, line, size in long_functions(text)]
    assert not long, f"over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(long)
