"""The Fraud Detection Handbook's prequential folds on card-transaction tables.

A fold starting on day S: train on ``[S, S + train)``, skip the delay period ``[S + train,
S + train + delay)`` (its labels are not known yet when the model ships), assess on the
``test`` days after it. Days are calendar days of ``TX_DATETIME`` (naive, as the handbook's).

Known-compromised cards are removed from each assessment day T: a card goes if it had a fraud
on any day from S up to T - delay - 1 (the training week plus the delay days whose labels have
arrived by T). This is the handbook's ``get_train_test_set``; on its baseline split (training from
2018-07-25) it leaves 58,264 test transactions with 385 frauds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import KW_ONLY, dataclass
from datetime import date, timedelta
from typing import cast

import polars as pl

DAY = timedelta(days=1)
DAY_COLUMN = "_DAY"  # the calendar day of TX_DATETIME, added by ``with_day``

TEST_TRAIN_STARTS: tuple[date, ...] = (
    date(2018, 7, 25),
    date(2018, 8, 1),
    date(2018, 8, 8),
    date(2018, 8, 15),
)
VALID_TRAIN_STARTS: tuple[date, ...] = (
    date(2018, 6, 20),
    date(2018, 6, 27),
    date(2018, 7, 4),
    date(2018, 7, 11),
)


@dataclass(frozen=True)
class Fold:
    """One prequential fold; every ``*_end`` is exclusive."""

    train_start: date
    _: KW_ONLY
    train_days: int = 7
    delay_days: int = 7
    test_days: int = 7

    @property
    def train_end(self) -> date:
        return self.train_start + self.train_days * DAY

    @property
    def test_start(self) -> date:
        return self.train_end + self.delay_days * DAY

    @property
    def test_end(self) -> date:
        return self.test_start + self.test_days * DAY

    def known_by(self, day: date) -> date:
        """The last day whose labels are known on assessment day ``day``."""
        return day - (self.delay_days + 1) * DAY

    def describe(self) -> dict[str, str]:
        last = -DAY  # printed ranges are inclusive, as the handbook writes them
        return {
            "train": f"{self.train_start}..{self.train_end + last}",
            "delay": f"{self.train_end}..{self.test_start + last}",
            "test": f"{self.test_start}..{self.test_end + last}",
        }


def folds(starts: Iterable[date], **lengths: int) -> list[Fold]:
    return [Fold(s, **lengths) for s in starts]


def parse_dates(text: str) -> tuple[date, ...]:
    """``2018-07-25,2018-08-01`` -> dates (blanks ignored); an error names the bad item."""
    out = []
    for item in (t.strip() for t in text.split(",")):
        if not item:
            continue
        try:
            out.append(date.fromisoformat(item))
        except ValueError as e:
            raise ValueError(f"not a date (YYYY-MM-DD): {item!r}") from e
    if not out:
        raise ValueError("no dates given")
    return tuple(out)


def with_day(tx: pl.DataFrame) -> pl.DataFrame:
    return tx.with_columns(pl.col("TX_DATETIME").dt.date().alias(DAY_COLUMN))


def _between(start: date, end: date) -> pl.Expr:
    return (pl.col(DAY_COLUMN) >= start) & (pl.col(DAY_COLUMN) < end)


def training_rows(tx: pl.DataFrame, fold: Fold) -> pl.DataFrame:
    """The fold's training rows (``tx`` needs ``DAY_COLUMN``: see ``with_day``)."""
    return tx.filter(_between(fold.train_start, fold.train_end))


def assessment_rows(tx: pl.DataFrame, fold: Fold) -> pl.DataFrame:
    """The fold's assessment rows, without the cards known to be compromised on their day."""
    # _between's end is exclusive: known_by(test_end) keeps the last assessment day's known days
    known = _between(fold.train_start, fold.known_by(fold.test_end)) & (pl.col("TX_FRAUD") == 1)
    first_known = (
        tx.filter(known)
        .group_by("CUSTOMER_ID")
        .agg(pl.col(DAY_COLUMN).min().alias("_FIRST_KNOWN_FRAUD"))
    )
    known_on = pl.col(DAY_COLUMN) - (fold.delay_days + 1) * DAY  # known_by, per row
    return (
        tx.filter(_between(fold.test_start, fold.test_end))
        .join(first_known, on="CUSTOMER_ID", how="left", maintain_order="left")
        .filter(pl.col("_FIRST_KNOWN_FRAUD").is_null() | (pl.col("_FIRST_KNOWN_FRAUD") > known_on))
        .drop("_FIRST_KNOWN_FRAUD")
    )


def selection_overlaps(valid: Sequence[Fold], test: Sequence[Fold]) -> list[str]:
    """Validation folds that read days at or past the first assessment day of a test fold: a
    choice made on them would have seen test labels (one message each)."""
    if not test:
        return []
    first_test = min(f.test_start for f in test)
    return [
        f"validation fold from {v.train_start} reaches {v.test_end - DAY}, "
        f"past the first test day {first_test}"
        for v in valid
        if v.test_end > first_test
    ]


def check_covered(tx: pl.DataFrame, all_folds: Sequence[Fold]) -> list[str]:
    """Folds whose training or assessment days the table does not reach (one message each)."""
    # polars types min/max as any Python scalar; on the Date column they are date or None.
    first, last = (
        cast("date | None", tx[DAY_COLUMN].min()),
        cast("date | None", tx[DAY_COLUMN].max()),
    )
    return [
        f"fold training from {f.train_start} needs data {f.train_start}..{f.test_end - DAY}, "
        f"the table covers {first}..{last}"
        for f in all_folds
        if first is None or last is None or f.train_start < first or f.test_end - DAY > last
    ]
