"""Tie-aware NDCG@k against hand-computed values."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from models.feed.ndcg import mean_ndcg, ndcg_per_group


def _disc(rank: int) -> float:
    return 1.0 / math.log2(rank + 2)


def test_hand_computed_group() -> None:
    # Ranked: label 0, then 3, then 1. Gains 2^l - 1: 0, 7, 1.
    dcg = 0 * _disc(0) + 7 * _disc(1) + 1 * _disc(2)
    ideal = 7 * _disc(0) + 1 * _disc(1)
    got = ndcg_per_group([4, 4, 4], [3.0, 2.0, 1.0], labels=[0, 3, 1])
    assert got == pytest.approx([dcg / ideal])
    assert dcg / ideal == pytest.approx(0.644287, abs=1e-6)


def test_ties_score_their_expected_value() -> None:
    # Two tied rows, one relevant: on average it sits at rank 0 or 1.
    got = ndcg_per_group([0, 0], [1.0, 1.0], labels=[1, 0])
    assert got == pytest.approx([(_disc(0) + _disc(1)) / 2])
    # A constant score over a group is the exact mean over all its orders.
    labels = [2, 0, 1, 0]
    perms = list(itertools.permutations(range(4)))
    brute = np.mean(
        [ndcg_per_group([0] * 4, -np.asarray(p, dtype=float), labels=labels)[0] for p in perms]
    )
    assert ndcg_per_group([0] * 4, np.zeros(4), labels=labels)[0] == pytest.approx(brute)


def test_undefined_without_positive_and_cut_at_k() -> None:
    got = ndcg_per_group([0, 0, 1, 1], [2.0, 1.0, 2.0, 1.0], labels=[0, 0, 0, 1])
    assert np.isnan(got[0])
    assert got[1] == pytest.approx(_disc(1) / _disc(0))
    # The only positive ranked 11th of 11 is worth nothing at k = 10.
    scores = -np.arange(11, dtype=float)
    assert ndcg_per_group(np.zeros(11), scores, labels=[0] * 10 + [1], k=10)[0] == 0.0
    assert mean_ndcg([0, 0, 1, 1], [2.0, 1.0, 2.0, 1.0], labels=[0, 0, 0, 1]) == pytest.approx(
        got[1]
    )


def test_minus_infinity_and_nan_sort_last_and_row_order_is_irrelevant() -> None:
    group = np.array([1, 1, 1, 2, 2])
    scores = np.array([-np.inf, 0.5, np.nan, 1.0, 2.0])
    labels = np.array([3, 1, 0, 1, 0])
    got = ndcg_per_group(group, scores, labels=labels)
    ideal = 7 * _disc(0) + 1 * _disc(1)
    # -inf and NaN tie at the bottom (ranks 1 and 2).
    assert got[0] == pytest.approx((1 * _disc(0) + 7 * (_disc(1) + _disc(2)) / 2) / ideal)
    order = np.random.default_rng(0).permutation(5)
    assert ndcg_per_group(group[order], scores[order], labels=labels[order]) == pytest.approx(got)
