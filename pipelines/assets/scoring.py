"""Scoring by shard: the per-user half of the models, cut by a stable user-id hash.

``user_score_shards`` is partitioned by day x shard (``pipelines.partitions.DAY_SHARDS``): each
partition scores the users of one shard (``features.shards``) of the day's ``fraud_features``
with the champion fraud model, alone, so shards run on as many workers as there are (Dagster's
multiprocess executor on one machine, Celery workers or Kubernetes pods across many). Scoring is
row by row (the model's percentiles come from references fixed at training), so the shards'
union is exactly what one process scoring everyone writes.

``user_scores`` (day-partitioned, ``pipelines.assets.models``) gathers every shard of the day into
the one table that the review queue reads and serving publishes as ONE version: the online
store's pointer flips once, after the whole day is written, never per shard. A shard counts only
if it was scored from the same write of ``fraud_features`` and by the same champion the gather
sees (``source.json`` beside each shard); one that is missing or stale is scored by the gather
itself, in its own process, so a day run from the CLI or a retrain (which do not run the shard
partitions) still publishes everyone, and a day whose shards ran elsewhere only concatenates.

What stays whole: the trust graph and ``trust_scores`` (graph-wide PageRank-style propagation),
``fraud_features``' neighbour aggregates (a user's neighbours are in any shard) and training
(``fraud_model``, ``feed_ranker``) need every edge or row at once; see their docstrings.
No ``from __future__ import annotations`` here: Dagster inspects the context annotation.
"""

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import polars as pl
from dagster import AssetDep, AssetExecutionContext, MaterializeResult, asset

from features.platform_graph.store import snapshot_time
from features.shards import in_shard, reference_sample
from models.risk import user_scores
from models.risk.scoring import REASON_REFERENCE, fallback_scores
from models.tracking import champion_version, load_model
from pipelines.partitions import BY_DAY, DAY_SHARDS, partition_shard
from pipelines.resources import Storage, StorageParam

FRAUD_MODEL = "vouch-fraud"
SHARD_TABLE = "user_score_shards"  # the feature-store table of the shards' scores


@dataclass
class Scorer:
    """Scores rows of one day with the champion of the moment (loaded on first use). The
    reasons of every shard are judged against one reference batch of the day's users
    (``models.risk.scoring.REASON_REFERENCE``), so shards say what one batch would."""

    storage: Storage
    day: date
    everyone: pl.DataFrame  # the day's fraud_features
    version: str = field(init=False)
    _model: Any = field(init=False, default=None)

    def __post_init__(self) -> None:
        # No champion (none cleared its floors yet): the rules and the trust graph score.
        self.version = champion_version(self.storage.tracker, FRAUD_MODEL) or "fallback"

    def score(self, rows: pl.DataFrame) -> pl.DataFrame:
        at = snapshot_time(self.day)
        if self.version == "fallback":
            return fallback_scores(rows, model_version=f"{FRAUD_MODEL}/fallback", scored_at=at)
        if self._model is None:
            self._model = load_model(self.storage.tracker, FRAUD_MODEL)
        return user_scores(
            self._model,
            rows,
            features=list(self._model.feature_names_in_),
            model_version=f"{FRAUD_MODEL}/{self.version}",
            scored_at=at,
            reference=reference_sample(self.everyone, size=REASON_REFERENCE),
        )

    def source(self) -> dict[str, str]:
        """What a shard scored now is computed from: the features' write and the model."""
        return {
            "fraud_features": self.storage.features.fingerprint("fraud_features", self.day),
            "model_version": self.version,
        }


@dataclass(frozen=True)
class Gathered:
    scores: pl.DataFrame
    version: str
    scored_here: tuple[int, ...]  # shards the gather scored itself (missing or stale)


def gather_scores(storage: Storage, day: date, *, shards: int) -> Gathered:
    """Every user's scores for ``day``: the fresh shards as written, the others scored here,
    in the order of ``fraud_features`` (the order an unsharded run writes)."""
    rows = storage.features.read("fraud_features", day)
    scorer = Scorer(storage, day, rows)
    wanted = scorer.source()
    parts, here = [], []
    for shard in range(shards):
        found = storage.features.read_shard(SHARD_TABLE, day, shard=shard, shards=shards)
        if found is not None and found[1] == wanted:
            parts.append(found[0])
        else:
            part = in_shard(rows, shard=shard, shards=shards)
            if part.height:
                parts.append(scorer.score(part))
            here.append(shard)
    parts = [p for p in parts if p.height]
    scores = pl.concat(parts) if parts else scorer.score(rows)
    ordered = rows.select("user_id").join(scores, on="user_id", how="left", maintain_order="left")
    return Gathered(ordered, scorer.version, tuple(here))


@asset(
    name=SHARD_TABLE,
    partitions_def=DAY_SHARDS,
    deps=[
        AssetDep("fraud_model", partition_mapping=BY_DAY),
        AssetDep("fraud_features", partition_mapping=BY_DAY),
    ],
    group_name="models",
    kinds={"parquet"},
)
def user_score_shards(context: AssetExecutionContext, storage: StorageParam) -> MaterializeResult:
    """One shard's users scored by the champion as of D (the shard: features.shards)."""
    day, shard, shards = partition_shard(context)
    everyone = storage.features.read("fraud_features", day)
    rows = in_shard(everyone, shard=shard, shards=shards)
    scorer = Scorer(storage, day, everyone)
    source = scorer.source()  # before scoring: a features write landing meanwhile reads as stale
    scores = scorer.score(rows) if rows.height else pl.DataFrame()
    path = storage.features.write_shard(
        SHARD_TABLE, day, shard=shard, shards=shards, frame=scores, source=source
    )
    return MaterializeResult(
        metadata={
            "path": str(path),
            "users": scores.height,
            "shard": shard,
            "shards": shards,
            "model_version": scorer.version,
        }
    )
