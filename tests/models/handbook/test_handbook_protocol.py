"""The handbook's prequential folds: dates, and which cards count as known to be compromised."""

from __future__ import annotations

import os
from datetime import date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from models.handbook.protocol import (
    TEST_TRAIN_STARTS,
    VALID_TRAIN_STARTS,
    Fold,
    assessment_rows,
    check_covered,
    folds,
    parse_dates,
    selection_overlaps,
    training_rows,
    with_day,
)

HANDBOOK = Path(__file__).resolve().parents[4] / "shared/data/fraud/handbook_transactions.parquet"
IN_CI = os.environ.get("CI", "").lower() == "true"
D = timedelta(days=1)


def test_fold_dates_are_the_handbooks() -> None:
    fold = Fold(date(2018, 7, 25))
    assert fold.describe() == {
        "train": "2018-07-25..2018-07-31",
        "delay": "2018-08-01..2018-08-07",
        "test": "2018-08-08..2018-08-14",
    }
    assert fold.known_by(date(2018, 8, 8)) == date(2018, 7, 31)  # T - 8: the training week
    assert fold.known_by(date(2018, 8, 14)) == date(2018, 8, 6)
    tests = sorted(f.describe()["test"] for f in folds(TEST_TRAIN_STARTS))
    assert tests == [
        "2018-08-08..2018-08-14",
        "2018-08-15..2018-08-21",
        "2018-08-22..2018-08-28",
        "2018-08-29..2018-09-04",
    ]
    valid = sorted(f.describe()["test"] for f in folds(VALID_TRAIN_STARTS))
    assert valid == [
        "2018-07-04..2018-07-10",
        "2018-07-11..2018-07-17",
        "2018-07-18..2018-07-24",
        "2018-07-25..2018-07-31",
    ]
    assert selection_overlaps(folds(VALID_TRAIN_STARTS), folds(TEST_TRAIN_STARTS)) == []


def tiny() -> pl.DataFrame:
    """One transaction per card per day at noon, 2018-07-15 .. 08-16; frauds where noted."""
    frauds = {
        "A": date(2018, 7, 26),  # training week: known on every test day
        "B": date(2018, 8, 2),  # delay period: known from 08-10 (= 08-02 + 8)
        "C": date(2018, 8, 6),  # known from 08-14, the last test day
        "D": date(2018, 8, 7),  # known from 08-15: after the test week
        "E": date(2018, 7, 20),  # before the training week: not counted, as in the handbook
        "F": date(2018, 8, 9),  # in the test week itself: never "known" there
        "G": None,
    }
    rows = []
    for day in (date(2018, 7, 15) + i * D for i in range(33)):
        for card, bad in frauds.items():
            rows.append(
                {
                    "TX_DATETIME": datetime(day.year, day.month, day.day, 12),
                    "CUSTOMER_ID": card,
                    "TX_FRAUD": int(day == bad),
                }
            )
    return with_day(pl.DataFrame(rows))


def test_known_compromised_cards_leave_each_test_day() -> None:
    fold = Fold(date(2018, 7, 25))
    tx = tiny()
    train = training_rows(tx, fold)
    assert train["_DAY"].min() == date(2018, 7, 25) and train["_DAY"].max() == date(2018, 7, 31)
    assert train.height == 7 * 7
    test = assessment_rows(tx, fold)
    kept = {d: set(g["CUSTOMER_ID"]) for (d,), g in test.group_by("_DAY")}
    assert sorted(kept) == [date(2018, 8, 8) + i * D for i in range(7)]
    for day, cards in kept.items():
        expected = {"D", "E", "F", "G"} | ({"B"} if day < date(2018, 8, 10) else set())
        expected |= {"C"} if day < date(2018, 8, 14) else set()
        assert cards == expected, day
    assert test["TX_FRAUD"].sum() == 1  # F's fraud on 08-09 stays to be found


def test_parse_dates_and_coverage() -> None:
    assert parse_dates("2018-07-25, 2018-08-01,") == (date(2018, 7, 25), date(2018, 8, 1))
    with pytest.raises(ValueError, match="'2018-13-01'"):
        parse_dates("2018-07-25,2018-13-01")
    with pytest.raises(ValueError, match="no dates"):
        parse_dates(" , ")
    tx = tiny()
    assert check_covered(tx, [Fold(date(2018, 7, 15))]) == []
    (message,) = check_covered(tx, [Fold(date(2018, 7, 15)), Fold(date(2018, 7, 30))])
    assert "2018-07-30" in message and "2018-08-16" in message
    late = selection_overlaps([Fold(date(2018, 7, 20))], [Fold(date(2018, 7, 25))])
    assert len(late) == 1 and "2018-08-08" in late[0]


def test_baseline_split_matches_the_handbooks_counts() -> None:
    if not HANDBOOK.exists():
        if IN_CI:
            pytest.fail(f"handbook transactions missing at {HANDBOOK} (CI=true: not skipping)")
        pytest.skip(f"handbook transactions not present at {HANDBOOK}")
    tx = with_day(pl.read_parquet(HANDBOOK, columns=["TX_DATETIME", "CUSTOMER_ID", "TX_FRAUD"]))
    fold = Fold(date(2018, 7, 25))
    train, test = training_rows(tx, fold), assessment_rows(tx, fold)
    assert (train.height, train["TX_FRAUD"].sum()) == (67_240, 598)
    assert (test.height, test["TX_FRAUD"].sum()) == (58_264, 385)
