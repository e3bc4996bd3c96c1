"""Reason codes: which reasons get codes, and records that read back exactly as the text did."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest

from bench.serving.scores import synthetic_scores
from serving import codes, keys
from serving.keys import ScoreRecord

REPEATED, ONCE = "7 accounts share this device", "first payout from a new country"
AWKWARD = ["12", "", "a;b", "tab\there", "two\nlines"]  # could not stand as text in a line


def _reasons(rows: list[list[str] | None], credit: list[list[str] | None] | None = None):
    frame = pl.DataFrame({"reasons": pl.Series(rows, dtype=pl.List(pl.String))})
    if credit is not None:
        frame = frame.with_columns(credit_reasons=pl.Series(credit, dtype=pl.List(pl.String)))
    return frame


def test_repeated_and_awkward_reasons_get_codes_the_rest_stays_text() -> None:
    rows = [[REPEATED, ONCE], [REPEATED], [], AWKWARD, ["8 accounts share this device"]]
    book, coded = codes.code_reasons(_reasons(rows, credit=[["lent on 3 sales"]] * 4 + [None]))
    # the awkward ones first (text order), then the repeated, most said first
    assert book == ("", "12", "a;b", "tab\there", "two\nlines", "lent on 3 sales", REPEATED)
    assert coded["reasons"].to_list() == [
        f"6;{ONCE}",
        "6",
        "",
        "1;0;2;3;4",
        "8 accounts share this device",
    ]
    assert coded["credit_reasons"].to_list() == ["5", "5", "5", "5", None]
    for field, want in zip(coded["reasons"], rows, strict=True):
        assert codes.said(field, book) == tuple(want)


def test_text_tokens_of_a_version_without_codes_stay_text() -> None:
    assert codes.said("12;a b", None) == ("12", "a b")
    assert codes.said("1;a b", ("x", "y")) == ("y", "a b")
    assert codes.said("", ("x",)) == ()


def test_the_dictionary_is_capped_and_the_same_for_the_same_reasons(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rows = [["b"], ["b"], ["c"], ["c"], ["c"], ["d"], ["d"], ["12"], ["12"]]
    monkeypatch.setattr(codes, "MAX_CODES", 2)
    book, coded = codes.code_reasons(_reasons(rows))
    assert book == ("12", "c", "b")  # "d" is said as often as "b" but sorts after it
    assert coded["reasons"].to_list() == ["2", "2", "1", "1", "1", "d", "d", "0", "0"]
    assert codes.code_reasons(_reasons(rows[::-1]))[0] == book


def test_coded_records_read_back_equal_to_the_text_records() -> None:
    """The proof that coding changes no answer: every record of a bench-shaped set with
    credit limits decodes to the same ``ScoreRecord`` from the text line and the coded one."""
    scores = synthetic_scores(20_000, seed=4)
    lent = pl.int_range(pl.len()) % 3 > 0
    scores = scores.with_columns(
        credit_limit=pl.when(lent).then(pl.lit(Decimal("250.50"))).cast(pl.Decimal(18, 2)),
        credit_currency=pl.when(lent).then(pl.lit("EUR")),
        credit_reasons=pl.when(lent).then(
            pl.concat_list(pl.lit("lent on sales"), pl.col("user_id").str.slice(0, 8))
        ),
    )
    book, coded = codes.code_reasons(scores)
    text = keys.encode_scores(scores)["record"].to_list()
    short = keys.encode_scores(coded)["record"].to_list()
    assert sum(map(len, short)) < sum(map(len, text)) / 2
    for plain, packed in zip(text, short, strict=True):
        assert ScoreRecord.decode(plain) == ScoreRecord.decode(packed, book)
