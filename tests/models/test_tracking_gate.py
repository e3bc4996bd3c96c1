from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import polars as pl
from mlflow import MlflowClient
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from models.tracking import Tracker, champion_version, gate, load_model, log_candidate

warnings.filterwarnings("ignore")


def _data(seed: int) -> tuple[pl.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pl.DataFrame({"signal": rng.normal(size=400), "noise": rng.normal(size=400)})
    y = (x["signal"].to_numpy() + 0.5 * rng.normal(size=400) > 0).astype(int)
    return x, y


def _fit(x: pl.DataFrame, y: np.ndarray, *, blind: bool) -> LogisticRegression:
    # A "blind" model only sees the noise column: a worse candidate on the same hold-out.
    train = x.with_columns(pl.lit(0.0).alias("signal")) if blind else x
    return LogisticRegression().fit(train.to_pandas(), y)


def test_champion_moves_only_for_a_better_candidate(tmp_path: Path) -> None:
    tracker = Tracker.local(database=tmp_path / "mlflow.db", artifacts=tmp_path / "mlruns")
    x, y = _data(0)
    holdout, target = _data(1)
    versions = []
    for blind in (True, False, True):
        candidate = log_candidate(
            tracker,
            experiment="gate-test",
            model_name="fraud-test",
            model=_fit(x, y, blind=blind),
            example=x,
            params={"blind": blind},
            metrics={},
            tags={"feature_schema": "t/1", "data_snapshot": "2026-08-09"},
        )
        result = gate(
            tracker,
            candidate,
            holdout=holdout,
            target=target,
            metric=roc_auc_score,
            metric_name="roc_auc",
        )
        versions.append((candidate.version, result.promoted))
    assert [p for _, p in versions] == [True, True, False]  # first always, then better, not worse
    assert champion_version(tracker, "fraud-test") == versions[1][0]
    client = MlflowClient(tracker.uri)
    experiment = client.get_experiment_by_name("gate-test")
    assert experiment is not None
    assert experiment.tags["mlflow.experimentKind"] == "custom_model_development"
    runs = client.search_runs([experiment.experiment_id], order_by=["attributes.start_time"])
    names = [r.info.run_name for r in runs]
    assert names == [f"fraud-test v{v} · snapshot 2026-08-09" for v, _ in versions]
    champion = load_model(tracker, "fraud-test")
    assert roc_auc_score(target, champion.predict_proba(holdout.to_pandas())[:, 1]) > 0.8
