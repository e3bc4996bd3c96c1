"""Credit limits on the score pages: their columns, what makes them publishable, the join.

``features.credit`` computes one limit per scored user (``credit_limits``); the publisher joins
them onto ``user_scores`` so each user's page line carries the limit after the scores
(``serving.keys.Credit``): one version, one pointer, and a decision that needs the limit reads
it in the same round trip as the risk. The columns are optional: a set published without them
serves ``credit`` None, which the core API treats as no limit (it lends nothing).
"""

from __future__ import annotations

import polars as pl

from serving.keys import CREDIT_SEP

# column -> dtype, as ``features.credit.credit_limits`` writes them
CREDIT: dict[str, pl.DataType] = {
    "credit_limit": pl.Decimal(18, 2),
    "credit_currency": pl.String(),
    "credit_reasons": pl.List(pl.String()),
}


def credit_problems(scores: pl.DataFrame) -> list[str]:
    """What makes the credit columns of ``scores`` unpublishable (empty when fine or absent)."""
    present = [c for c in CREDIT if c in scores.columns]
    if not present:
        return []
    problems = [f"missing column {c}" for c in CREDIT if c not in scores.columns]
    problems += [
        f"{c} is {scores.schema[c]}, not {dtype}"
        for c, dtype in CREDIT.items()
        if c in scores.columns and scores.schema[c] != dtype
    ]
    if problems:
        return problems
    limit = scores.get_column("credit_limit")
    if (limit.drop_nulls() < 0).any():
        problems.append("negative credit_limit")
    lent = limit.fill_null(0) > 0
    if (lent & scores.get_column("credit_currency").is_null()).any():
        problems.append("a credit_limit above zero without a currency")
    said = scores.get_column("credit_reasons").list.join("").fill_null("")
    if said.str.contains(f"[{CREDIT_SEP};\n]").any():
        problems.append("a credit reason holds a tab, ';' or a newline")
    return problems


def with_credit(scores: pl.DataFrame, credit: pl.DataFrame | None) -> pl.DataFrame:
    """``scores`` with the ``CREDIT`` columns of ``credit`` (by ``user_id``; null where a user
    has no row, which publishes no limit). ``None``: ``scores`` unchanged."""
    if credit is None:
        return scores
    kept = scores.drop([c for c in CREDIT if c in scores.columns])
    return kept.join(
        credit.select("user_id", *CREDIT).cast(CREDIT),  # type: ignore[arg-type]
        on="user_id",
        how="left",
        maintain_order="left",
    )
