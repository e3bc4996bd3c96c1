"""One arm of the review-loop bench: a platform's lake, retrained and rescored day by day.

Each day ``t`` the arm does what the daily assets do (``trust_scores``, ``fraud_features``,
``fraud_model``, ``user_scores``, ``review_queue``) with the same library calls, minus MLflow
and the release gate: trust scores as of ``t``, training rows (``models.risk``) labelled with
what the lake has observed by ``t``, ``train_risk``, ``user_scores`` and ``review_queue``.

Training rows are built incrementally, with the result of ``models.risk.training_rows``: a
snapshot's features only read events before it, and the bench only ever adds events (the
analysts' decisions) after the day being trained, so a snapshot's rows never change once built
and are kept; only the labels (``labelled_rows``) are recomputed each day from the whole lake.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from features.fraud.events import read_fraud_events
from features.platform_graph.trust import platform_trust
from models.risk import review_queue, train_risk, user_scores
from models.risk.data import snapshot_rows, trust_inputs
from models.risk.labels import labelled_rows

# The daily assets' own constants (pipelines.assets.models): benches may not import pipelines'
# assets without Dagster, and these are plain numbers.
HORIZON = timedelta(days=7)
LOOKBACK = timedelta(days=60)
EVERY = timedelta(days=2)
TRUST_EVERY = timedelta(days=7)
CAPACITY = 50


@dataclass
class Day:
    """What the arm published on day ``at``: every user's scores, the features they were
    scored on and the review queue; ``positives``: positive training rows."""

    at: datetime
    scores: pl.DataFrame
    rows: pl.DataFrame
    queue: pl.DataFrame
    positives: int
    train_rows: int


@dataclass
class Arm:
    events_dir: Path
    params: dict[str, Any] = field(default_factory=dict)
    model: Any = None
    features: list[str] = field(default_factory=list)
    _trust: list[pl.DataFrame] = field(default_factory=list)
    _snapshots: dict[datetime, pl.DataFrame] = field(default_factory=dict)

    def _trust_at(self, t: datetime) -> pl.DataFrame:
        frame = trust_inputs(platform_trust(self.events_dir, t))
        self._trust.append(frame)
        return frame

    def _has_trust(self, t: datetime) -> bool:
        times = [f.get_column("snapshot_at")[0] for f in self._trust if f.height]
        return any(timedelta(0) <= t - s < TRUST_EVERY for s in times)

    def _rows(self, events: pl.DataFrame, t: datetime) -> pl.DataFrame:
        if t not in self._snapshots:
            if not self._has_trust(t):
                self._trust_at(t)
            self._snapshots[t] = snapshot_rows(events, [t], trust=pl.concat(self._trust))
        return self._snapshots[t]

    def adopt(self, other: Arm, *, until: datetime) -> None:
        """Take ``other``'s snapshots and trust scores up to ``until`` (the arms' lakes are
        the same before it): the first days' rows are built once, not once per arm."""
        for at, rows in other._snapshots.items():
            if at <= until:
                self._snapshots.setdefault(at, rows)
        mine = {f.get_column("snapshot_at")[0] for f in self._trust if f.height}
        self._trust += [
            f
            for f in other._trust
            if f.height
            and f.get_column("snapshot_at")[0] <= until
            and f.get_column("snapshot_at")[0] not in mine
        ]

    def training_rows(self, events: pl.DataFrame, *, as_of: datetime) -> pl.DataFrame:
        """``models.risk.training_rows(events_dir, as_of=..., horizon=HORIZON, every=EVERY,
        lookback=LOOKBACK)``, from the kept snapshots."""
        first = events.get_column("at").min()
        start = max(as_of - LOOKBACK, first) if isinstance(first, datetime) else as_of
        n = int((as_of - start) / EVERY)
        snapshots = [as_of - EVERY * k for k in range(n, 0, -1)]
        rows = pl.concat([self._rows(events, s) for s in snapshots], how="vertical_relaxed")
        return labelled_rows(rows, events, horizon=HORIZON, as_of=as_of)

    def day(self, t: datetime, *, retrain: bool = True) -> Day:
        """Trust, (re)training, scores and queue as of ``t``; without ``retrain`` the last
        model scores today's rows."""
        events = read_fraud_events(self.events_dir, until=t)
        if t not in {f.get_column("snapshot_at")[0] for f in self._trust if f.height}:
            self._trust_at(t)  # the daily trust_scores
        positives = train_n = 0
        if retrain or self.model is None:
            rows = self.training_rows(events, as_of=t)
            trained = train_risk(rows, capacity=CAPACITY, params=self.params)
            self.model, self.features = trained.model, trained.features
            positives, train_n = int(trained.metrics["train_positives"]), rows.height
        today = self._rows(events, t)  # fraud_features of day t (kept: a later day's snapshot)
        scores = user_scores(
            self.model,
            today,
            features=self.features,
            model_version="bench/review_loop",
            scored_at=t,
        )
        queue = review_queue(scores, today, capacity=CAPACITY)
        return Day(t, scores, today, queue, positives, train_n)
