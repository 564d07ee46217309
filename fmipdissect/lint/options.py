"""fmip-lint's options for a team's workflow: the configuration file
(lint/config.py), baselines (lint/baseline.py), folders (walk.py), live
capture (live.py) and colour, and how they join the other options.

Options the configuration file may set get no argparse default (None:
"not given"); resolve() then takes the command line's value, else the
file's, else the option's own default, so the command line wins.
"""

from __future__ import annotations

import argparse
import os

from ..errors import InputError
from ..live import add_live_arguments
from .config import OPTION_KEYS, settings_for

_CONFIGURABLE = {dest for dest, _ in OPTION_KEYS.values()}


def add_flow_arguments(parser: argparse.ArgumentParser) -> None:
    """--config, --isolated, --show-settings, baselines, --exclude, live
    capture and --color; then the configurable options lose their defaults
    (resolve() restores them)."""
    group = parser.add_argument_group("configuration and baselines")
    group.add_argument("--config", metavar="FILE",
                       help="read settings from FILE (fmip-lint.toml, or a "
                       "pyproject.toml with [tool.fmip-lint]) instead of the "
                       "nearest one upward from the current folder")
    group.add_argument("--isolated", action="store_true",
                       help="read no configuration file")
    group.add_argument("--show-settings", action="store_true",
                       help="print the settings resolved from the "
                       "configuration file and the options, then exit")
    group.add_argument("--write-baseline", metavar="FILE",
                       help="record today's findings in FILE (JSON) and exit "
                       "0 unless a capture could not be read")
    group.add_argument("--baseline", metavar="FILE",
                       help="report only findings that are not in FILE (a "
                       "finding is its file, rule and message without frame "
                       "numbers)")
    group.add_argument("--exclude", action="append", metavar="GLOBS",
                       help="when walking a FOLDER, skip files and folders "
                       "whose name or path below it matches (comma-separated "
                       "globs; may be repeated)")
    group.add_argument("--color", choices=("auto", "always", "never"),
                       default="auto",
                       help="colour the text report: auto (a terminal, "
                       "unless NO_COLOR is set; FORCE_COLOR forces it), "
                       "always or never")
    add_live_arguments(parser)
    _remember_defaults(parser)


def _remember_defaults(parser) -> None:
    defaults = {}
    for action in parser._actions:
        if action.dest in _CONFIGURABLE:
            defaults[action.dest] = (action.default, action.choices)
            action.default = None
    parser.set_defaults(_option_defaults=defaults)


def resolve(args) -> None:
    """Fill every option not given on the command line from the
    configuration file, else from its default; keep the file's scoped
    ignores in args.settings."""
    settings = settings_for(args)
    args.settings = settings
    for dest, (default, choices) in getattr(args, "_option_defaults",
                                            {}).items():
        if getattr(args, dest, None) is not None:
            continue
        value = settings.options.get(dest, default)
        if choices is not None and value is not None and value not in choices:
            raise InputError(f"{settings.path}: {_key(dest)} {value!r}: must "
                             f"be one of {', '.join(choices)}")
        if dest in ("select", "ignore") and dest in settings.options:
            from .engine import resolve_rules     # the file's words checked
            resolve_rules(value, f"{settings.path}: {dest}")
        setattr(args, dest, value)
    if args.exclude is not None:
        args.exclude = [g for group in args.exclude for g in group.split(",")
                        if g]


def _key(dest: str) -> str:
    return next(k for k, (d, _) in OPTION_KEYS.items() if d == dest)


def use_colour(choice: str, out) -> bool:
    """--color: always, never, or auto (a terminal, NO_COLOR off; a
    non-empty FORCE_COLOR forces it)."""
    if choice == "auto":
        if os.environ.get("FORCE_COLOR"):
            return True
        return out.isatty() and not os.environ.get("NO_COLOR")
    return choice == "always"


def show_settings(args, out) -> None:
    """--show-settings: where the settings came from and what they are."""
    settings = args.settings
    out.write(f"# configuration: {settings.path or '(none)'}\n")
    for key, (dest, _) in OPTION_KEYS.items():
        value = getattr(args, dest, None)
        if dest in ("select", "ignore") and value is not None:
            value = [w for group in value for w in group.split(",") if w]
        out.write(f"# {key} (not set)\n" if value is None
                  else f"{key} = {_toml(value)}\n")
    for title, rows in (("per-file-ignores", settings.per_file),
                        ("address-ignores", [(" ".join(a), r) for a, r
                                             in settings.by_address])):
        out.write(f"\n[{title}]\n")
        for scope, rules in rows:
            out.write(f"{_toml(scope)} = {_toml(rules[0].split(','))}\n")


def _toml(value) -> str:
    import json                          # --show-settings only (start-up)
    return json.dumps(value)


def per_file(config, settings):
    """config_for(path) -> the LintConfig for one capture: the file's
    address-ignores in every one, its per-file-ignores where a glob
    matches the path (relative to the configuration's folder) or, for a
    glob without "/", the file name."""
    from .engine import LintConfig, resolve_rules
    scoped = tuple((addresses, frozenset(resolve_rules(rules,
                                                       "address-ignores")))
                   for addresses, rules in settings.by_address)
    ignores = [(glob, frozenset(resolve_rules(rules, "per-file-ignores")))
               for glob, rules in settings.per_file]
    base = LintConfig(config.enabled, config.keys, config.lla_length,
                      config.prefilter, scoped, config.clock)
    made = {frozenset(): base}

    def config_for(path) -> LintConfig:
        if not ignores or not isinstance(path, str) or path == "-":
            return base
        off = frozenset().union(*[rules for glob, rules in ignores
                                  if _matches(glob, path, settings.root)])
        if off not in made:
            made[off] = LintConfig(base.enabled - off, base.keys,
                                   base.lla_length, base.prefilter, scoped,
                                   base.clock)
        return made[off]
    return config_for


def _matches(glob: str, path: str, root: str | None) -> bool:
    from fnmatch import fnmatch
    if "/" not in glob:
        return fnmatch(os.path.basename(path), glob)
    rel = os.path.relpath(os.path.abspath(path), root or os.getcwd())
    return fnmatch(rel, glob)
