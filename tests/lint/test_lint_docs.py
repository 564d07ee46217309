"""docs/rules.md is generated from the registry and is current."""

from pathlib import Path

from fmipdissect.lint import docs
from fmipdissect.spec.rules import RULES

RULES_MD = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def test_rules_md_is_current():
    assert RULES_MD.read_text(encoding="utf-8") == docs.render(), (
        f"docs/rules.md is stale: run `{docs.REGENERATE}` (make docs)")


def test_rules_md_says_how_to_regenerate_and_lists_every_rule():
    text = docs.render()
    assert docs.REGENERATE in text.splitlines()[0]
    for r in RULES:
        assert f"### {r.id} `{r.name}`" in text
        assert f"| {r.id} | `{r.name}` | {r.severity} | {r.section} |" in text


def test_docs_command_writes_the_file(tmp_path):
    out = tmp_path / "rules.md"
    assert docs.main(["-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == docs.render()
