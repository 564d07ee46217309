"""The rulebook (spec/constraints.py) and the rule registry (spec/rules.py)
are the one place constraints and rule ids are written, and the package is
laid out in stages without import cycles."""

from __future__ import annotations

import ast
import re
import string
import subprocess
import sys
from pathlib import Path

import pytest

from fmipdissect.spec import constraints as K
from fmipdissect.spec import protocol as P
from fmipdissect.spec import rules as R

PACKAGE = Path(__file__).resolve().parents[2] / "fmipdissect"
RULE_ID = re.compile(r"\bFM\d{3}\b")

# Files of the package that may still write a rule id: the registry itself,
# and (listed so that the list can only shrink) modules whose ids are the
# capture reader's and report formats' own business.
ALLOWED_RULE_ID_FILES = {
    "spec/rules.py",
    "capture/reader.py", "capture/fragments.py",   # capture notes (FM9xx)
    "api.py",                       # docstring examples
    "lint/report/annotate.py", "lint/report/common.py",
    "lint/report/github.py", "lint/report/junit.py", "lint/report/text.py",
}


def test_rule_ids_are_written_only_in_the_registry():
    offenders = []
    for path in sorted(PACKAGE.rglob("*")):
        if path.suffix not in (".py", ".j2"):
            continue
        rel = path.relative_to(PACKAGE).as_posix()
        if rel in ALLOWED_RULE_ID_FILES:
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if RULE_ID.search(line):
                offenders.append(f"{rel}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


def test_rule_constants_are_named_after_their_slugs():
    for rule in R.RULES:
        assert getattr(R, R.constant_name(rule)) == rule.id, rule
    ids = [r.id for r in R.RULES]
    assert len(ids) == len(set(ids))


def test_message_templates_name_only_plain_fields():
    for rule in R.RULES:
        for variant, template in rule.templates():
            for _, name, spec, conversion in \
                    string.Formatter().parse(template):
                if name is not None:
                    assert name.isidentifier() and not spec \
                        and not conversion, (rule.id, variant, name)


def test_every_rule_has_its_words():
    """One place for a finding's words: every row has a message or
    variants, and MESSAGES / VARIANTS are those of the rows."""
    for rule in R.RULES:
        assert rule.templates(), rule.id
        if rule.message is not None:
            assert R.MESSAGES[rule.id] == rule.message
        else:
            assert R.VARIANTS[rule.id] == dict(rule.variants)
    assert set(R.MESSAGES) | set(R.VARIANTS) == set(R.RULES_BY_ID)
    assert R.say(R.OPTION_PAST_END, variant="option-header", offset=9) == \
        "option at offset 9: 1 octet left, too short for Type and Length"


def test_session_rule_templates_reproduce_their_words():
    """The templates the correlation stage fills (their placeholders are
    its interface: changing one breaks it)."""
    assert R.say(R.FBU_COA_NOT_NAR, frame=7, coa="10.1.0.1",
                 reason="the NCoA supplied by the FBAck of frame 5, not "
                        "NAR's IP address") == (
        "FBU of frame 7 has Care-of Address 10.1.0.1, the NCoA supplied by "
        "the FBAck of frame 5, not NAR's IP address")
    assert R.say(R.SESSION_STATE_CAPPED, what="4096 HIs") == (
        "state cap reached (4096 HIs): older state is dropped from here "
        "on, so matching may be incomplete")
    names = {
        R.FBU_ROLE_UNKNOWN: {"src", "dst", "homeaddr", "haaddr", "coa"},
        R.FORWARDED_FBU_DIFFERS: {"src", "frame", "offset"},
        R.HI_CODE_MISMATCH: {"code", "frame", "src", "sender",
                             "sender_addr", "expected"},
        R.FBACK_WRONG_DESTINATION: {"dst", "frame", "src"},
        R.FBACK_WRONG_PORT: {"dport", "sport", "frame"},
        R.FBU_COA_NOT_NAR: {"frame", "coa", "reason"},
        R.FBACK_LIFETIME_EXCEEDS_REQUEST: {"lifetime", "requested", "frame"},
        R.FBU_IDENTIFICATION_REUSED: {"ident", "frame"},
        R.SESSION_STATE_CAPPED: {"what"},
    }
    for rule_id, expected in names.items():
        found = {name for _, name, _, _ in
                 string.Formatter().parse(R.MESSAGES[rule_id]) if name}
        assert found == expected, rule_id


def test_rule_properties_kept_by_hand_before_are_the_rows():
    """Parsing stops and Wireshark's expert groups (decision-free facts of
    the rows, once lists in checks.py and luagen.py)."""
    assert {r.id for r in R.RULES if r.stops_parsing} == {
        R.TRUNCATED_MESSAGE, R.OPTION_LENGTH_ZERO, R.OPTION_PAST_END}
    groups = {r.id: r.group for r in R.RULES}
    assert {i for i, g in groups.items() if g == R.MALFORMED} == {
        R.TRUNCATED_MESSAGE, R.OPTION_LENGTH_ZERO, R.OPTION_PAST_END,
        R.OPTION_BAD_LENGTH}
    assert {i for i, g in groups.items() if g == R.CHECKSUM} == {
        R.ICMP_CHECKSUM_BAD, R.ICMP_CHECKSUM_PLAIN_SUM}
    for r in R.RULES:
        if r.group not in (R.MALFORMED, R.CHECKSUM):
            assert r.group == (R.SEQUENCE if r.scope == "session"
                               else R.PROTOCOL), r.id


def test_every_rule_the_rulebook_names_is_registered():
    rules = set()
    for by_code in K.REQUIRED_OPTIONS.values():
        for reqs in by_code.values():
            rules.update(r.rule for r in reqs)
    for pair in K.PAIRS:
        rules.update((pair.orphan_rule, pair.mismatch_rule,
                      pair.unanswered_rule))
    rules.update(K.IPSEC_RECOMMENDED.values())
    rules.add(K.HACK_NCOA_WHEN_HI_S.rule)
    assert rules <= set(R.RULES_BY_ID)


def test_option_codes_are_named_for_every_requirement():
    """decision D12: no requirement accepts "any" Option-Code, and every
    code it accepts is defined for its option."""
    for key, by_code in K.REQUIRED_OPTIONS.items():
        assert key in P.MESSAGES_BY_KEY
        for reqs in by_code.values():
            for req in reqs:
                assert req.codes, (key, req)
                assert set(req.codes) <= set(P.OPTIONS[req.option].codes)


def test_the_three_pairs_are_alike():
    """decision D11: each pair has an orphan info, a mismatch error and an
    unanswered info, and its keys end in the identifier the reply copies."""
    for pair in K.PAIRS:
        assert R.RULES_BY_ID[pair.orphan_rule].severity == R.INFO
        assert R.RULES_BY_ID[pair.mismatch_rule].severity == R.ERROR
        assert R.RULES_BY_ID[pair.unanswered_rule].severity == R.INFO
        assert pair.request_key[-1] == pair.response_key[-1]
        assert len(pair.request_key) == len(pair.response_key)


@pytest.mark.parametrize("n,ok", [(0, False), (1, True), (6, True),
                                  (K.LLA_LENGTH_MAX, True),
                                  (K.LLA_LENGTH_MAX + 1, False),
                                  (True, False), ("6", False)])
def test_one_lla_length_range(n, ok):
    assert (K.lla_length_problem(n) is None) == ok
    from fmipdissect import layers
    saved = layers.LLA_LENGTH
    try:
        if ok:
            layers.set_lla_length(n)
        else:
            with pytest.raises(ValueError):
                layers.set_lla_length(n)
    finally:
        layers.LLA_LENGTH = saved


@pytest.mark.parametrize("command", [["decode"], ["lint"]])
def test_command_lines_use_the_same_range(command, tmp_path):
    capture = Path(__file__).resolve().parents[2] / "samples" / "ncoa.pcap"
    for n, refused in ((0, True), (K.LLA_LENGTH_MAX + 1, True),
                       (K.LLA_LENGTH_MAX, False)):
        if command == ["lint"]:
            argv = [sys.executable, "-m", "fmipdissect.lint",
                    "--no-progress", "--lla-length", str(n), str(capture)]
        else:
            argv = [sys.executable, "-m", "fmipdissect", "decode",
                    "--lla-length", str(n), str(capture)]
        proc = subprocess.run(argv, capture_output=True, text=True)
        # 2: bad input; an accepted length may still find errors (1)
        assert (proc.returncode == 2) == refused, (argv, proc.stderr)
        if refused:
            assert str(K.LLA_LENGTH_MAX) in proc.stderr
            assert "Traceback" not in proc.stderr


def _imports(path: Path, module: str, modules) -> set[str]:
    package = module if path.name == "__init__.py" else \
        module.rsplit(".", 1)[0]
    out = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module
                                          else []))
            else:
                target = node.module or ""
            for alias in node.names:
                # `from . import reader` imports the submodule, not (only)
                # the package's own code
                name = f"{target}.{alias.name}"
                out.add(name if name in modules else target)
        elif isinstance(node, ast.Import):
            out.update(alias.name for alias in node.names)
    return out


def test_no_import_cycles():
    """Every import, lazy ones included: the data path reads one way."""
    modules = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        modules[name] = path
    graph = {name: {d for d in _imports(path, name, modules)
                    if d in modules and d != name and d != "fmipdissect"}
             for name, path in modules.items()}
    cycles, state, stack = [], {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for d in sorted(graph[n]):
            if state.get(d) == 1:
                cycles.append(stack[stack.index(d):] + [d])
            elif d not in state:
                visit(d)
        stack.pop()
        state[n] = 2

    for name in sorted(graph):
        if name not in state:
            visit(name)
    assert not cycles, [" -> ".join(c) for c in cycles]
