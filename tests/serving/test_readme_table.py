"""The README's action table is the rules file's, not a copy that drifts."""

from __future__ import annotations

from pathlib import Path

from serving.rules import action_table, default_rules

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_action_table_matches_the_rules() -> None:
    rows = action_table(default_rules())
    lines = ["| " + " | ".join(rows[0]) + " |", "|" + "---|" * len(rows[0])]
    lines += ["| " + " | ".join(r.values()) + " |" for r in rows]
    assert "\n".join(lines) in README.read_text()
