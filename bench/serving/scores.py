"""Synthetic ``user_scores`` for the serving benchmarks, shaped like the pipeline's output.

Risk follows a Beta(0.5, 8) (most users low, a tail above the bands), trust a Beta(4, 2), and
each user carries the pipeline's three top reasons, drawn from real reason sentences.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import numpy as np
import polars as pl

REASONS = (
    "7 accounts share this device",
    "money moved out 3 min after it came in",
    "4 payments failed in 24 h",
    "account 2 days old",
    "first payout from a new country",
    "12 transfers in from 9 senders in 7 days",
    "listing priced at a third of the category median",
    "2 chargebacks in 30 days",
    "login from 3 countries in 24 h",
    "trust score 0.04",
)


def synthetic_scores(n: int, *, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    risk = rng.beta(0.5, 8, n)
    band = np.where(risk >= 0.5, "high", np.where(risk >= 0.1, "medium", "low"))
    picks = rng.integers(0, len(REASONS), size=(n, 3))
    reasons = pl.Series("reasons", np.array(REASONS)[picks].tolist(), dtype=pl.List(pl.String))
    return pl.DataFrame(
        {
            "user_id": user_ids(n, rng),
            "trust": rng.beta(4, 2, n),
            "fraud_risk": risk,
            "band": band,
            "confirmed_fraud": rng.random(n) < 0.001,
            "reasons": reasons,
            "model_version": "vouch-fraud/bench",
            "scored_at": pl.Series([datetime.now(UTC)] * n, dtype=pl.Datetime("us", "UTC")),
        }
    )


def user_ids(n: int, rng: np.random.Generator) -> list[str]:
    raw = rng.integers(0, 2**63, size=(n, 2), dtype=np.int64).astype(np.uint64)
    return [str(uuid.UUID(int=(int(a) << 64) | int(b), version=4)) for a, b in raw]
