"""Tie-aware NDCG@k over groups of rows: the feed ranker's yardstick.

Gains are ``2^label - 1`` (LightGBM's default label gain, so the yardstick matches the objective).
Rows with equal scores in a group are a tie, and a tie is scored as its expected value over every
order of the tied rows (McSherry and Najork, 2008): each tied row gets the mean discount of the
positions the tie occupies. A constant baseline (popularity when no post has engagement yet) then
scores as a random order would, instead of whatever the input order happens to favour.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray


def gains(labels: ArrayLike) -> NDArray[np.float64]:
    return np.exp2(np.asarray(labels, dtype=np.float64)) - 1.0


def _discounts(n: int, k: int) -> NDArray[np.float64]:
    rank = np.arange(n, dtype=np.float64)
    return np.where(rank < k, 1.0 / np.log2(rank + 2.0), 0.0)


def _dense(group: NDArray[np.generic]) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Dense codes 0..G-1 for group ids (rows in any order), and each group's size."""
    _, codes = np.unique(group, return_inverse=True)
    return codes.astype(np.int64), np.bincount(codes).astype(np.int64)


def ndcg_per_group(
    group: ArrayLike, scores: ArrayLike, *, labels: ArrayLike, k: int = 10
) -> NDArray[np.float64]:
    """NDCG@k of each group (in order of sorted group id); NaN where no row has a positive label
    (the ideal DCG is 0, so NDCG is undefined there). Higher scores rank first."""
    codes, sizes = _dense(np.asarray(group))
    s = np.asarray(scores, dtype=np.float64)
    g = gains(labels)
    if codes.size == 0:
        return np.zeros(0)
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    disc = _discounts(int(sizes.max()), k)
    cum = np.concatenate([[0.0], np.cumsum(disc)])
    # NaN is no claim to any place: it ties with the removed rows (-inf) at the bottom.
    key = np.where(np.isnan(s), -np.inf, s)
    order = np.lexsort((-key, codes))
    ks, kc = key[order], codes[order]
    rank = np.arange(order.size) - offsets[kc]
    new_block = np.ones(order.size, dtype=bool)
    new_block[1:] = (kc[1:] != kc[:-1]) | (ks[1:] != ks[:-1])
    block = np.cumsum(new_block) - 1
    first = rank[new_block]
    length = np.bincount(block)
    mean_disc = (cum[first + length] - cum[first]) / length
    dcg = np.bincount(kc, weights=g[order] * mean_disc[block], minlength=sizes.size)
    # Both orders sort by group first, so ``rank`` (position within the group) holds for both.
    ideal_order = np.lexsort((-g, codes))
    ideal = np.bincount(
        codes[ideal_order], weights=g[ideal_order] * disc[rank], minlength=sizes.size
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(ideal > 0, dcg / ideal, np.nan)


def mean_ndcg(group: ArrayLike, scores: ArrayLike, *, labels: ArrayLike, k: int = 10) -> float:
    """Mean NDCG@k over the groups where it is defined (at least one positive label)."""
    per = ndcg_per_group(group, scores, labels=labels, k=k)
    return float(np.nanmean(per)) if np.isfinite(per).any() else float("nan")
