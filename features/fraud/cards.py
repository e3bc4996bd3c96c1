"""Card-transaction features: the Fraud Detection Handbook's inputs, and richer point-in-time ones.

Input columns are taken as the handbook names them: ``TX_DATETIME``, ``CUSTOMER_ID``,
``TERMINAL_ID``, ``TX_AMOUNT`` and, for label-based features, ``TX_FRAUD``. Rows sharing a
timestamp are ordered by input order (the handbook file is in ``TRANSACTION_ID`` order, which is
time order). Amounts are summed as whole cents (the handbook's have 2 decimals), exactly.

Labels: a transaction's ``TX_FRAUD`` is known ``label_delay`` (default 7 days) after it happened,
so every label-based feature at time t uses transactions at or before ``t - label_delay`` only.
Nothing here reads a label any earlier, whatever window it uses.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import timedelta

import numpy as np
import polars as pl

from features.fraud.lookups import distinct_in_windows, last_before, previous_time
from features.fraud.rolling import us, window_aggregates

HANDBOOK_DAYS = (1, 7, 30)
EXTRA_CUSTOMER = (7, 30)  # amount z-score windows
EXTRA_TERMINAL = (14, 60)  # more terminal-risk windows
LABEL_DELAY = timedelta(days=7)
DAY = timedelta(days=1)
_DAY_US = us(DAY)


def _days(days: Iterable[int]) -> dict[str, timedelta | None]:
    return {f"{n}DAY": n * DAY for n in days}


def _cents(tx: pl.DataFrame) -> pl.DataFrame:
    cents = (pl.col("TX_AMOUNT") * 100).round().cast(pl.Int64)
    return tx.with_columns(_C=cents, _C2=cents**2)


def _aggregates(
    base: pl.DataFrame,
    *,
    label_delay: timedelta,
    customer_days: Iterable[int],
    terminal_days: Iterable[int],
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """One pass per entity: the customer's windows (current transaction included) with count,
    sum and sum of squares of cents; the terminal's delayed windows with count and frauds."""
    cust = window_aggregates(
        base,
        by="CUSTOMER_ID",
        at="TX_DATETIME",
        windows=_days(customer_days),
        sums=["_C", "_C2"],
    )
    term = window_aggregates(
        base,
        by="TERMINAL_ID",
        at="TX_DATETIME",
        windows=_days(terminal_days),
        sums=["TX_FRAUD"],
        delay=label_delay,
    )
    return cust, term


def _risk(term: pl.DataFrame, n: int) -> pl.Series:
    nb, frauds = term[f"n_{n}DAY"].to_numpy(), term[f"TX_FRAUD_{n}DAY"].to_numpy()
    return pl.Series(np.where(nb > 0, frauds / np.maximum(nb, 1), 0.0))


def _handbook_columns(
    cust: pl.DataFrame, term: pl.DataFrame, *, days: Sequence[int]
) -> list[pl.Expr | pl.Series]:
    cols: list[pl.Expr | pl.Series] = [
        (pl.col("TX_DATETIME").dt.weekday() >= 6).cast(pl.Int8).alias("TX_DURING_WEEKEND"),
        (pl.col("TX_DATETIME").dt.hour() <= 6).cast(pl.Int8).alias("TX_DURING_NIGHT"),
    ]
    for n in days:
        nb, cents = cust[f"n_{n}DAY"], cust[f"_C_{n}DAY"]
        cols += [
            pl.lit(nb).alias(f"CUSTOMER_ID_NB_TX_{n}DAY_WINDOW"),
            pl.lit(cents / 100 / nb).alias(f"CUSTOMER_ID_AVG_AMOUNT_{n}DAY_WINDOW"),
        ]
    for n in days:
        cols += [
            pl.lit(term[f"n_{n}DAY"]).alias(f"TERMINAL_ID_NB_TX_{n}DAY_WINDOW"),
            pl.lit(_risk(term, n)).alias(f"TERMINAL_ID_RISK_{n}DAY_WINDOW"),
        ]
    return cols


def handbook_features(
    tx: pl.DataFrame,
    *,
    label_delay: timedelta = LABEL_DELAY,
    days: Sequence[int] = HANDBOOK_DAYS,
) -> pl.DataFrame:
    """``tx`` with the handbook's 14 engineered features appended (its 15th input is TX_AMOUNT).

    - ``TX_DURING_WEEKEND`` (Sat/Sun) and ``TX_DURING_NIGHT`` (hour <= 6), Int8;
    - ``CUSTOMER_ID_NB_TX_{n}DAY_WINDOW`` (Int64), ``CUSTOMER_ID_AVG_AMOUNT_{n}DAY_WINDOW``:
      the customer's transactions in ``(t - n days, t]``, the current one included;
    - ``TERMINAL_ID_NB_TX_{n}DAY_WINDOW`` (Int64) and ``TERMINAL_ID_RISK_{n}DAY_WINDOW`` (frauds /
      transactions, 0 when empty) over ``(t - label_delay - n days, t - label_delay]``.
    """
    cust, term = _aggregates(
        _cents(tx), label_delay=label_delay, customer_days=days, terminal_days=days
    )
    return tx.with_columns(_handbook_columns(cust, term, days=days))


def _zscore(cents: pl.Series, *, n: pl.Series, s: pl.Series, q: pl.Series) -> pl.Series:
    """(x - mean) / sample std of the window, from exact integer count, sum, sum of squares."""
    frame = pl.DataFrame({"x": cents, "n": n, "s": s, "q": q})
    n_, s_, q_ = pl.col("n"), pl.col("s"), pl.col("q")
    variance = ((n_ * q_ - s_**2) / (n_ * (n_ - 1))).clip(lower_bound=1.0)  # 0: one cent
    return frame.select(
        pl.when(n_ >= 2).then((pl.col("x") - s_ / n_) / variance.sqrt()).cast(pl.Float64)
    ).to_series()


def _ratio(num: pl.Series, den: pl.Series) -> pl.Series:
    """num / den as Float64, null where den is 0."""
    frame = pl.DataFrame({"a": num, "b": den})
    return frame.select(
        pl.when(pl.col("b") != 0).then(pl.col("a") / pl.col("b")).cast(pl.Float64)
    ).to_series()


def _days_since(tx: pl.DataFrame, earlier: pl.Series) -> pl.Series:
    gap = tx["TX_DATETIME"].dt.epoch("us") - earlier.dt.epoch("us")
    return (gap / _DAY_US).cast(pl.Float64)


def card_features(
    tx: pl.DataFrame,
    *,
    label_delay: timedelta = LABEL_DELAY,
    days: Sequence[int] = HANDBOOK_DAYS,
) -> pl.DataFrame:
    """``handbook_features`` plus richer point-in-time ones (``schema.CARD_EXTRA_FEATURES``)."""
    base = _cents(tx)
    cust, term = _aggregates(
        base,
        label_delay=label_delay,
        customer_days=sorted({*days, *EXTRA_CUSTOMER}),
        terminal_days=sorted({*days, *EXTRA_TERMINAL}),
    )
    cols = _handbook_columns(cust, term, days=days)
    cents, squares = base["_C"], base["_C2"]
    for n in EXTRA_CUSTOMER:  # the earlier transactions: the window minus the current one
        nb = cust[f"n_{n}DAY"] - 1
        s, q = cust[f"_C_{n}DAY"] - cents, cust[f"_C2_{n}DAY"] - squares
        cols.append(_zscore(cents, n=nb, s=s, q=q).alias(f"CUSTOMER_ID_AMOUNT_Z_{n}DAY_WINDOW"))
        if n == 30:
            cols.append(_ratio(cents * nb, s).alias("CUSTOMER_ID_AMOUNT_RATIO_30DAY_WINDOW"))
    # Scenario-3 frauds inflate the recent windows themselves; a baseline that ends two weeks
    # back predates a compromise that lasts 14 days.
    baseline = window_aggregates(
        base,
        by="CUSTOMER_ID",
        at="TX_DATETIME",
        windows={"B": 30 * DAY},
        sums=["_C", "_C2"],
        delay=14 * DAY,
    )
    cols.append(
        _zscore(cents, n=baseline["n_B"], s=baseline["_C_B"], q=baseline["_C2_B"]).alias(
            "CUSTOMER_ID_AMOUNT_Z_BASELINE"
        )
    )
    gap = base["TX_DATETIME"].dt.epoch("us") - previous_time(
        base, by="CUSTOMER_ID", at="TX_DATETIME"
    )
    cols.append((gap / 1e6).cast(pl.Float64).alias("CUSTOMER_ID_SECS_SINCE_PREV_TX"))
    terminals = distinct_in_windows(
        base,
        by="CUSTOMER_ID",
        of="TERMINAL_ID",
        at="TX_DATETIME",
        windows={"7DAY": 7 * DAY, "30DAY": 30 * DAY},
        prefix="CUSTOMER_ID_NB_TERMINALS_",
    )
    cols += [pl.lit(terminals[c]).alias(f"{c}_WINDOW") for c in terminals.columns]
    seen = previous_time(base, by=["CUSTOMER_ID", "TERMINAL_ID"], at="TX_DATETIME")
    since = base["TX_DATETIME"].dt.epoch("us") - seen
    new = (seen.is_null() | (since >= us(30 * DAY))).cast(pl.Int8)
    cols.append(pl.lit(new).alias("CUSTOMER_ID_NEW_TERMINAL_30DAY"))
    cols += [_risk(term, n).alias(f"TERMINAL_ID_RISK_{n}DAY_WINDOW") for n in EXTRA_TERMINAL]
    cols += _label_history(base, label_delay=label_delay)
    return tx.with_columns(cols)


def _label_history(base: pl.DataFrame, *, label_delay: timedelta) -> list[pl.Series]:
    """The customer's fraud history as known at t: labels of transactions <= t - label_delay."""
    cust = window_aggregates(
        base,
        by="CUSTOMER_ID",
        at="TX_DATETIME",
        windows={"30DAY": 30 * DAY},
        sums=["TX_FRAUD"],
        delay=label_delay,
    )
    cols = [cust["TX_FRAUD_30DAY"].alias("CUSTOMER_ID_NB_FRAUD_30DAY_WINDOW")]
    frauds = base.filter(pl.col("TX_FRAUD") == 1).with_columns(_FRAUD_AT=pl.col("TX_DATETIME"))
    known = base.with_columns(pl.col("TX_DATETIME") - label_delay)
    for entity in ("TERMINAL_ID", "CUSTOMER_ID"):
        last = last_before(frauds, known, by=entity, at="TX_DATETIME", columns=["_FRAUD_AT"])
        cols.append(_days_since(base, last["_FRAUD_AT"]).alias(f"{entity}_DAYS_SINCE_KNOWN_FRAUD"))
    return cols
