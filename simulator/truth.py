"""The ground truth: who is who, what posts are worth, which orders were fraud. Never a feature."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, time, timedelta
from pathlib import Path

import numpy as np
import polars as pl

from core_api.events import SYSTEM_ACTOR_ID
from simulator import catalog as cat
from simulator.base import NEVER
from simulator.config import SimConfig, SimSummary
from simulator.faults import Faults
from simulator.losses import Losses, losses_frame
from simulator.population import TYPOLOGY_NAMES, Population

_TS = pl.Datetime("us", "UTC")


def _time(values: np.ndarray) -> pl.Series:
    s = pl.Series(values)
    return pl.select(pl.when(s != NEVER).then(s)).to_series().cast(_TS)


def users_frame(pop: Population) -> pl.DataFrame:
    names = np.array([t or "" for t in TYPOLOGY_NAMES], dtype=object)[pop.typology].astype(str)
    return pl.DataFrame(
        {
            "user_id": pop.uid,
            "registered_at": _time(pop.reg_us),
            "preexisting": pop.preexisting,
            "community": pop.community,
            "country": cat.COUNTRY[pop.country],
            "is_fraud": pop.typology > 0,
            "typology": pl.Series(names).replace("", None),
            "fraud_from": _time(pop.fraud_from),
            "fraud_cluster": pl.Series(pop.cluster).replace(-1, None),
            "interests": pop.interests.tolist(),
            "activity": pop.activity,
            "author_quality": pop.quality,
            "is_seller": pop.is_seller,
            "banned_at": _time(pop.banned_us),
        }
    )


def write_truth(
    truth_out: Path,
    *,
    config: SimConfig,
    summary: SimSummary,
    pop: Population,
    posts: list[pl.DataFrame],
    orders: list[pl.DataFrame],
    faults: Faults,
    transport: list[pl.DataFrame],
    analysts: list[str],
    losses: Losses,
) -> None:
    truth_out.mkdir(parents=True, exist_ok=True)
    users_frame(pop).write_parquet(truth_out / "users.parquet")
    # Posts and orders whose first event would fall after the run never happened for the lake.
    start = datetime.combine(config.start, time(), tzinfo=UTC)
    end = start + timedelta(days=config.days)
    pl.concat(posts).filter(pl.col("created_at") < end).write_parquet(truth_out / "posts.parquet")
    placed = pl.concat(orders).filter(pl.col("placed_at") < end)
    placed.write_parquet(truth_out / "orders.parquet")
    lost = losses_frame(losses, pop, orders=placed, start=start, end=end)
    lost.write_parquet(truth_out / "losses.parquet")
    pl.DataFrame(
        faults.records, schema=["file", "line", "kind", "replaced"], orient="row"
    ).write_parquet(truth_out / "faults.parquet")
    pl.concat(transport).write_parquet(truth_out / "transport.parquet")
    manifest = {
        "config": {
            k: str(v) if not isinstance(v, int | float) else v
            for k, v in dataclasses.asdict(config).items()
        },
        "summary": {k: v for k, v in dataclasses.asdict(summary).items() if k != "files"},
        "files": len(summary.files),
        "topics": list(cat.TOPICS),
        "analyst_ids": analysts,
        "system_actor_id": SYSTEM_ACTOR_ID,
        "notes": {
            "interests": "per user, over topics in the order above; sums to 1",
            "feed_oracle": "relevance = interests[viewer][topic(post)] * quality(post)",
            "fraud_from": "when the account turned fraudulent (takeover time for victims)",
            "banned_at": "when a ban or suspension took effect (the labels are in events)",
            "losses": "money fraud took, once per amount, charged to the account it went "
            "through first (see simulator.losses)",
        },
    }
    (truth_out / "manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n")
