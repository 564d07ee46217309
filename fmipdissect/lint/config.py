"""fmip-lint's configuration file, found the way ruff finds its own.

From the current folder upward, the first folder holding `fmip-lint.toml`
(its keys at the top level, or under `[tool.fmip-lint]`) or a
`pyproject.toml` with a `[tool.fmip-lint]` table gives the settings;
`--config FILE` names the file instead, `--isolated` reads none.

Keys are the long option names: select, ignore, keys, lla-length, fail-on,
format, exclude, statistics, exit-zero, jobs, color.  Two more are tables:

    per-file-ignores = {"lab/*.pcap" = ["hi-hack-without-ipsec"]}
    address-ignores = {"10.1.0.1 10.2.0.1" = ["hi-hack-without-ipsec"]}

(glob or address -> rule ids, slugs or prefixes)

A per-file glob matches the capture's path relative to the configuration's
folder (or, without a "/", its file name).  An address-ignores key is one
IPv4 address (a finding whose datagram is from or to it, or whose handover's
MN has it as Care-of Address) or two separated by a space (a datagram
between the pair, either way).  Relative paths in the file (keys) are
relative to its folder.  Options given on the command line win.
"""

from __future__ import annotations

import os

from ..errors import InputError

FILE_NAME = "fmip-lint.toml"
TABLE = "fmip-lint"

# key -> (argparse dest, what its value must be)
OPTION_KEYS = {
    "select": ("select", "rules"), "ignore": ("ignore", "rules"),
    "keys": ("keys", "path"), "lla-length": ("lla_length", int),
    "fail-on": ("fail_on", str), "format": ("format", str),
    "exclude": ("exclude", "globs"), "statistics": ("statistics", bool),
    "exit-zero": ("exit_zero", bool), "jobs": ("jobs", int),
    "color": ("color", str),
}
TABLE_KEYS = ("per-file-ignores", "address-ignores")


class Settings:
    """What a configuration file said, checked."""

    def __init__(self, path: str | None = None):
        self.path = path                      # the file, or None (none read)
        self.root = os.path.dirname(os.path.abspath(path)) if path else None
        self.options: dict = {}               # argparse dest -> value
        self.per_file: list = []              # (glob, [rule selectors])
        self.by_address: list = []            # ((addresses), [selectors])


def _toml():
    try:
        import tomllib                        # Python 3.11 on
    except ImportError:                       # pragma: no cover (3.10)
        import tomli as tomllib
    return tomllib


def _table(path: str, document: dict, whole_file: bool):
    """The [tool.fmip-lint] table, or the whole fmip-lint.toml; None when a
    pyproject.toml has no such table."""
    table = document.get("tool", {}).get(TABLE)
    if table is None and whole_file:
        table = {k: v for k, v in document.items() if k != "tool"}
    if table is not None and not isinstance(table, dict):
        raise InputError(f"{path}: [tool.{TABLE}] must be a table")
    return table


def _read(path: str, whole_file: bool):
    try:
        with open(path, "rb") as f:
            document = _toml().load(f)
    except OSError as exc:
        raise InputError(f"--config {path}: {exc.strerror or exc}") from None
    except ValueError as exc:                 # tomllib.TOMLDecodeError
        raise InputError(f"{path}: not valid TOML: {exc}") from None
    return _table(path, document, whole_file)


def discover(start: str | None = None) -> str | None:
    """The configuration file that applies in `start` (default: the current
    folder): the nearest folder upward with fmip-lint.toml, or with a
    pyproject.toml that has [tool.fmip-lint]."""
    folder = os.path.abspath(start or os.getcwd())
    while True:
        candidate = os.path.join(folder, FILE_NAME)
        if os.path.isfile(candidate):
            return candidate
        candidate = os.path.join(folder, "pyproject.toml")
        if _mentions_us(candidate):
            try:
                if _read(candidate, False) is not None:
                    return candidate
            except InputError:
                return candidate       # load() reports it, as one line
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def _mentions_us(path: str) -> bool:
    """A pyproject.toml that names fmip-lint at all: only those are parsed
    (tomllib is not imported for every run in a Python project)."""
    try:
        with open(path, "rb") as f:
            text = f.read()
    except OSError:
        return False
    return b"tool.fmip-lint" in text or b'tool."fmip-lint"' in text


def load(path: str) -> Settings:
    """The settings of one configuration file; InputError on a key or value
    fmip-lint does not know."""
    table = _read(path, os.path.basename(path) != "pyproject.toml") or {}
    settings = Settings(path)
    for key, value in table.items():
        if key in OPTION_KEYS:
            dest, kind = OPTION_KEYS[key]
            settings.options[dest] = _value(path, key, value, kind,
                                            settings.root)
        elif key == "per-file-ignores":
            settings.per_file = _rule_table(path, key, value)
        elif key == "address-ignores":
            settings.by_address = [
                (_addresses(path, scope), rules)
                for scope, rules in _rule_table(path, key, value)]
        else:
            from ..suggest import did_you_mean
            raise InputError(f"{path}: unknown key {key!r}"
                             f"{did_you_mean(key, [*OPTION_KEYS, *TABLE_KEYS])}")
    return settings


def _value(path, key, value, kind, root):
    """A key's value, checked against what the option takes."""
    if kind in ("rules", "globs"):
        value = _strings(value, f"{path}: {key} must be a string or a list "
                         f"of strings")
        return value if kind == "globs" else [",".join(value)]
    if kind == "path":
        if not isinstance(value, str):
            raise InputError(f"{path}: {key} must be a file name")
        return os.path.join(root, os.path.expanduser(value))
    if kind is int and (isinstance(value, bool) or not isinstance(value, int)):
        raise InputError(f"{path}: {key} must be a whole number")
    if not isinstance(value, kind):
        raise InputError(f"{path}: {key} must be {_KIND_WORDS[kind]}")
    return value


_KIND_WORDS = {bool: "true or false", str: "a string", int: "a whole number"}


def _rule_table(path, key, value):
    """[(scope, [rule selectors])] of a per-file or address table."""
    if not isinstance(value, dict):
        raise InputError(f'{path}: {key} must be a table, e.g. {key} = '
                         f'{{"SCOPE" = ["RULE"]}}')
    out = []
    for scope, rules in value.items():
        rules = _strings(rules, f"{path}: {key} {scope!r}: give a list of "
                         f"rule ids, slugs or prefixes")
        out.append((scope, [",".join(rules)]))
    return out


def _strings(value, problem: str) -> list:
    """A string or a list of strings, as a list; InputError(problem) else."""
    if isinstance(value, str):
        return [value]
    if not (isinstance(value, list) and all(isinstance(v, str)
                                            for v in value)):
        raise InputError(problem)
    return list(value)


def _addresses(path, scope: str) -> tuple:
    """"10.1.0.1" or "10.1.0.1 10.2.0.1" as a tuple of dotted quads."""
    parts = scope.replace(",", " ").split()
    if not 1 <= len(parts) <= 2 or not all(_is_ipv4(p) for p in parts):
        raise InputError(f"{path}: address-ignores {scope!r}: give one IPv4 "
                         f"address or two separated by a space")
    return tuple(parts)


def _is_ipv4(text: str) -> bool:
    octets = text.split(".")
    return len(octets) == 4 and all(
        o.isdigit() and len(o) <= 3 and int(o) <= 255 for o in octets)


def settings_for(args) -> Settings:
    """The settings this run uses: --isolated none, --config FILE that
    file, else the one discover() finds."""
    if getattr(args, "isolated", False):
        return Settings()
    path = getattr(args, "config", None) or discover()
    if path is None:
        return Settings()
    if not os.path.isfile(path):
        raise InputError(f"--config {path}: no such file")
    return load(path)
