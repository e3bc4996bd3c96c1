"""Ranking metrics against values worked out by hand (and CP@k against the handbook's recipe)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.metrics import (
    average_precision,
    card_precision_at_k,
    precision_at_k,
    recall_at_fpr,
    roc_auc,
)

Y = [0, 0, 1, 1]
S = [0.1, 0.4, 0.35, 0.8]


def test_roc_auc_and_average_precision_by_hand() -> None:
    # pairs (fraud, genuine): (.35,.1) ok, (.35,.4) wrong, (.8,.1) ok, (.8,.4) ok -> 3/4
    assert roc_auc(Y, S) == pytest.approx(0.75)
    # ranked: .8 fraud (precision 1/1), .4 genuine, .35 fraud (precision 2/3): (1 + 2/3) / 2
    assert average_precision(Y, S) == pytest.approx(5 / 6)
    assert np.isnan(roc_auc([0, 0], [0.1, 0.2]))
    assert np.isnan(average_precision([0, 0], [0.1, 0.2]))


def test_precision_at_k_by_hand() -> None:
    assert precision_at_k(Y, S, k=1) == 1.0
    assert precision_at_k(Y, S, k=2) == 0.5  # .8 fraud, .4 genuine
    assert precision_at_k(Y, S, k=5) == pytest.approx(2 / 5)  # the denominator stays k
    # per group, k each: group a has no fraud (0), group b's top one is fraud (1)
    assert precision_at_k(Y, S, k=1, groups=["a", "a", "b", "b"]) == 0.5
    with pytest.raises(ValueError):
        precision_at_k(Y, S, k=0)


def test_recall_at_fpr_by_hand() -> None:
    genuine = np.arange(100) / 100  # 0.00 .. 0.99
    frauds = np.array([2.0, 2.1, 2.2, 2.3, 2.4, 0.985, 0.985, 0.5, 0.5, 0.5])
    y = np.r_[np.zeros(100), np.ones(10)].astype(int)
    s = np.r_[genuine, frauds]
    assert recall_at_fpr(y, s, fpr=0.0) == pytest.approx(0.5)  # above every genuine row
    assert recall_at_fpr(y, s) == pytest.approx(0.7)  # cut at .985: one genuine (0.99), 1 %
    assert recall_at_fpr(y, s, fpr=0.019) == pytest.approx(0.7)  # cut at .975 would flag 2 %
    assert recall_at_fpr(y, s, fpr=0.5) == pytest.approx(1.0)  # cut at .5 flags 50 genuine rows


def test_card_precision_at_k_by_hand() -> None:
    rows = [  # day, card, score, label
        (1, "A", 0.9, 1),
        (1, "A", 0.1, 0),
        (1, "B", 0.8, 0),
        (1, "C", 0.7, 1),
        (1, "D", 0.2, 1),
        (2, "A", 0.95, 1),
        (2, "C", 0.1, 1),
        (2, "D", 0.3, 0),
        (2, "E", 0.4, 0),
        (3, "A", 0.99, 1),
        (3, "C", 0.5, 1),
        (3, "B", 0.45, 0),
        (3, "D", 0.4, 1),
    ]
    day, card, score, label = map(np.array, zip(*rows, strict=True))
    mean, daily = card_precision_at_k(label, score, card=card, day=day, k=2, per_day=True)
    # day 1: A (max .9, compromised), B -> 1/2; A is now blocked.
    # day 2: A gone; E .4, D .3 are genuine that day, C (.1) is out of the top 2 -> 0.
    # day 3: A gone; C .5 (compromised), B .45 -> 1/2. Had A stayed: A, C -> 2/2.
    assert daily == [0.5, 0.0, 0.5]
    assert mean == pytest.approx(1 / 3)
    one = card_precision_at_k([1], [0.3], card=["X"], day=[1], k=100)
    assert one == pytest.approx(0.01)  # the denominator is always k


def _handbook_cp(df: pd.DataFrame, k: int) -> float:
    """The recipe of the handbook's README, step by step in pandas."""
    detected: list = []
    daily = []
    for d in sorted(df["day"].unique()):
        day = df[(df["day"] == d) & ~df["card"].isin(detected)]
        cards = day.groupby("card")[["score", "label"]].max().sort_values("score", ascending=False)
        top = cards.head(k)
        detected += list(top.index[top["label"] == 1])
        daily.append((top["label"] == 1).sum() / k)
    return float(np.mean(daily))


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_card_precision_matches_the_handbook_recipe(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 3000
    df = pd.DataFrame(
        {
            "day": rng.integers(0, 7, n),
            "card": rng.integers(0, 400, n),
            "score": rng.random(n),
            "label": (rng.random(n) < 0.08).astype(int),
        }
    )
    got = card_precision_at_k(df["label"], df["score"], card=df["card"], day=df["day"], k=20)
    assert got == pytest.approx(_handbook_cp(df, 20))


def test_inputs_are_checked() -> None:
    with pytest.raises(ValueError, match="only 0 and 1"):
        roc_auc([0, 2], [0.1, 0.2])
    with pytest.raises(ValueError, match="equally long"):
        average_precision([0, 1], [0.1])
