"""Ranking one search's candidates with the released model, as ``models.search`` would.

The core API hands over what it knows per candidate at request time (the query's text match and
distance, the listing's age, price, category, currency and condition, its seller); the release
adds the seller features as of its snapshot and the category's median price. Features the
release does not know are NaN (unknown, which LightGBM routes like missing training values).
The trust policy is the model's own (``models.search.ranker.SearchRanker.policy_shift``):
listings of flagged sellers are removed, those of sellers below ``min_trust`` or above
``max_fraud_risk`` demoted by ``demotion``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from serving.search.store import Release


@dataclass(frozen=True)
class Candidate:
    listing_id: str
    seller_id: str
    text_match: float
    distance_km: float | None
    listing_age_days: float
    price: float
    category: str
    currency: str
    item_new: bool


def _row(c: Candidate, release: Release) -> dict[str, float]:
    median = release.medians.get((c.category, c.currency))
    known: dict[str, float] = {
        "text_match": c.text_match,
        "distance_km": math.nan if c.distance_km is None else c.distance_km,
        "listing_age_days": c.listing_age_days,
        "price_ratio": c.price / median if median else math.nan,
        "item_new": float(c.item_new),
        "search_position": 0.0,  # the ranker's position feature: every listing as if first
    }
    for name, value in release.sellers.get(c.seller_id, {}).items():
        known[name] = float("nan" if value is None else value)
    return known


def score(release: Release, candidates: Sequence[Candidate]) -> list[float]:
    """Scores with the trust policy applied, higher first; ``-inf``: removed."""
    if not candidates:
        return []
    rows = [_row(c, release) for c in candidates]
    x = np.array([[r.get(f, math.nan) for f in release.features] for r in rows], dtype=float)
    raw = np.asarray(release.booster.predict(x), dtype=float)
    policy = release.policy
    out: list[float] = []
    for value, r in zip(raw, rows, strict=True):
        if r.get("seller_flagged", 0.0) == 1.0:
            out.append(-math.inf)
            continue
        trust, risk = r.get("seller_trust", math.nan), r.get("seller_fraud_risk", math.nan)
        low = (not math.isnan(trust) and trust < policy["min_trust"]) or (
            not math.isnan(risk) and risk > policy["max_fraud_risk"]
        )
        out.append(float(value) + (policy["demotion"] if low else 0.0))
    return out
