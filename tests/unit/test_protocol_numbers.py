"""IP protocol numbers are defined once, in fmipdissect/spec/numbers.py.

Everything else in the package imports them: a definition such as
``IPPROTO_UDP = 17`` or ``_ICMP = 1``, or a comparison with a bare number
(``proto == 17``, ``proto in (1, 17)``, ``IP(proto=1)``), outside
fmipdissect/spec/ is a second copy and fails this test.
"""

from __future__ import annotations

import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "fmipdissect"
SPEC = PACKAGE / "spec"

NUMBER = r"(?:0|1|4|6|17|41|43|47|50|60)"
NUMBERS = rf"\(\s*{NUMBER}\s*(?:,\s*{NUMBER}\s*)*,?\s*\)"
COPIES = re.compile("|".join((
    # a constant of a protocol number: IPPROTO_UDP = 17, _ICMP = 1
    rf"^\s*(?:\w*IPPROTO\w*|\w*PROTO(?:COL)?|_?(?:PROTO_)?"
    rf"(?:ICMP|UDP|TCP|GRE|ESP|IPIP|IPV6))\s*=\s*{NUMBER}\s*$",
    # a comparison of a protocol field with a bare number
    rf"\bproto\w*\s*(?:==|!=)\s*{NUMBER}\b",
    rf"\b{NUMBER}\s*(?:==|!=)\s*\w*proto\b",
    rf"\bproto\w*\s+(?:not\s+)?in\s+{NUMBERS}",
    # a bare number given as a protocol: IP(proto=1), proto: 17
    rf"\bproto\s*=\s*{NUMBER}\b",
)), re.IGNORECASE)


def copies(text: str) -> list[tuple[int, str]]:
    """(line number, line) of every protocol number defined or compared
    with as a bare number in text (comments left out)."""
    return [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1)
            if COPIES.search(line.split("#", 1)[0])]


def test_pattern_finds_copies():
    for line in ("IPPROTO_UDP = 17", "_ICMP = 1", "IPPROTO_GRE = 47  # RFC",
                 "    UDP_PROTO = 17", "ICMP = 1",
                 "    if proto == 17:", "if d.proto != 1 and x",
                 "if proto in (1, 17):", "IP(src=a, proto=1)",
                 "flow.tcp = proto == 6"):
        assert copies(line), line
    for line in ("IPPROTO_UDP = numbers.IPPROTO_UDP", "if proto == IPPROTO_UDP:",
                 "LIFETIME_MAX = 10", "proto = raw[9]", "UDP_HEADER = 8",
                 "ICMP_SUBTYPE_OFFSET = 4"):
        assert not copies(line), line


def test_protocol_numbers_only_in_spec():
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if SPEC in path.parents:
            continue
        for n, line in copies(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(PACKAGE.parent)}:{n}: {line}")
    assert not found, ("IP protocol numbers belong in fmipdissect/spec/"
                       "numbers.py; import them:\n" + "\n".join(found))
