"""The one module that talks to MLflow: runs, the registry, and the champion gate.

A trained candidate is logged with its parameters, metrics, plots, feature-schema version, data
snapshot and git commit, and registered as a new version of a named model. The ``champion`` alias
moves to it only if it beats the current champion on the *same* hold-out set, scored here by
loading the champion; otherwise it stays a candidate (both outcomes are tagged on the version).
"""

from __future__ import annotations

import logging
import os
import subprocess
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl

if TYPE_CHECKING:
    from types import ModuleType

    from mlflow import MlflowClient


@cache
def _mlflow() -> ModuleType:
    """mlflow, imported on first use: it costs seconds, and every process that only builds the
    Dagster definitions (an ingest, a sensor tick) would pay them for nothing."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    # MLflow narrates every registration and warns about integer columns in the signature (ours
    # are counts, never missing); runs and versions are reported by the callers instead.
    # Importing mlflow sets its loggers' level from MLFLOW_LOGGING_LEVEL, so the level set below
    # alone would not last.
    os.environ.setdefault("MLFLOW_LOGGING_LEVEL", "ERROR")
    logging.getLogger("mlflow").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="mlflow")
    import mlflow  # after the telemetry switch above

    return mlflow


CHAMPION = "champion"
# The MLflow UI's experiment kind: ours train classic models, so it opens them as "training runs"
# rather than asking (or showing the GenAI pages of traces and prompts).
EXPERIMENT_KIND = {"mlflow.experimentKind": "custom_model_development"}
Metric = Callable[[np.ndarray, np.ndarray], float]


@dataclass(frozen=True)
class Tracker:
    """Where runs go: a tracking URI (default: SQLite under the data dir) and its artifacts."""

    uri: str
    artifacts: Path

    @classmethod
    def local(cls, *, database: Path, artifacts: Path, uri: str | None = None) -> Tracker:
        """A tracking server at ``uri``, else an SQLite ``database`` file; artifacts beside."""
        database.parent.mkdir(parents=True, exist_ok=True)
        return cls(uri or f"sqlite:///{database.resolve()}", artifacts.resolve())

    def _client(self) -> MlflowClient:
        mlflow = _mlflow()
        mlflow.set_tracking_uri(self.uri)
        return mlflow.MlflowClient(self.uri)

    def _experiment(self, name: str) -> str:
        client = self._client()
        found = client.get_experiment_by_name(name)
        if found is None:
            artifacts = (self.artifacts / name).as_uri()
            return client.create_experiment(name, artifact_location=artifacts, tags=EXPERIMENT_KIND)
        for key, value in EXPERIMENT_KIND.items():  # experiments made before the tag
            if found.tags.get(key) != value:
                client.set_experiment_tag(found.experiment_id, key, value)
        return found.experiment_id


@dataclass(frozen=True)
class Candidate:
    run_id: str
    model_name: str
    version: str


@dataclass(frozen=True)
class GateResult:
    promoted: bool
    candidate_score: float
    champion_score: float | None  # None: there was no champion yet
    champion_version: str | None  # the champion after the gate


def git_commit() -> str:
    try:
        done = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parent,
        )
        return done.stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def log_candidate(
    tracker: Tracker,
    *,
    experiment: str,
    model_name: str,
    model: Any,
    example: pl.DataFrame,
    params: Mapping[str, Any],
    metrics: Mapping[str, float],
    tags: Mapping[str, str],
    figures: Mapping[str, Any] | None = None,
    predict_fn: str = "predict_proba",
) -> Candidate:
    """Log one trained model with everything needed to judge and reproduce it; register it."""
    tracker._client()
    mlflow = _mlflow()
    from mlflow.models import infer_signature

    sample = example.head(50).to_pandas()
    output = getattr(model, predict_fn)(example.head(50))
    # A name that says what the run is, rather than MLflow's random pair of words; the version
    # is added once the registry has numbered it.
    snapshot = f" · snapshot {tags['data_snapshot']}" if "data_snapshot" in tags else ""
    with mlflow.start_run(
        experiment_id=tracker._experiment(experiment), run_name=model_name + snapshot
    ) as run:
        mlflow.log_params({k: str(v)[:500] for k, v in params.items()})
        mlflow.log_metrics({k: float(v) for k, v in metrics.items() if v == v})  # drop NaN
        mlflow.set_tags({"git_commit": git_commit(), **tags})
        with tempfile.TemporaryDirectory() as tmp:
            for name, figure in (figures or {}).items():
                path = Path(tmp) / f"{name}.png"
                figure.savefig(path, dpi=100, bbox_inches="tight")
                mlflow.log_artifact(str(path), artifact_path="plots")
        info = mlflow.sklearn.log_model(
            model,
            name="model",
            signature=infer_signature(sample, np.asarray(output)),
            pyfunc_predict_fn=predict_fn,
            serialization_format="cloudpickle",
            pip_requirements=_requirements(),
        )
    version = _register(tracker._client(), model_name, run_id=run.info.run_id, info=info)
    tracker._client().update_run(run.info.run_id, name=f"{model_name} v{version}{snapshot}")
    return Candidate(run.info.run_id, model_name, version)


def _register(client: MlflowClient, model_name: str, *, run_id: str, info: Any) -> str:
    """A new version of ``model_name`` from a logged model, through the client: the fluent
    ``registered_model_name`` path prints "Successfully registered model" to stderr, past any
    logger, into every CLI run."""
    from mlflow.exceptions import MlflowException
    from mlflow.protos.databricks_pb2 import RESOURCE_ALREADY_EXISTS, ErrorCode

    try:
        client.create_registered_model(model_name)
    except MlflowException as exc:
        if exc.error_code != ErrorCode.Name(RESOURCE_ALREADY_EXISTS):
            raise
    created = client.create_model_version(
        model_name, source=info.model_uri, run_id=run_id, model_id=info.model_id
    )
    return str(created.version)


def _requirements() -> list[str]:
    """What a model needs to load, pinned as installed (MLflow would otherwise spend ~10 s per
    model importing it in a subprocess to find out)."""
    wanted = ("scikit-learn", "lightgbm", "numpy", "polars", "pandas", "cloudpickle", "mlflow")
    found = []
    for name in wanted:
        try:
            found.append(f"{name}=={metadata.version(name)}")
        except metadata.PackageNotFoundError:
            continue
    return found


def load_model(tracker: Tracker, model_name: str, *, alias: str = CHAMPION) -> Any:
    tracker._client()
    return _mlflow().sklearn.load_model(f"models:/{model_name}@{alias}")


def champion_version(tracker: Tracker, model_name: str) -> str | None:
    client = tracker._client()
    try:
        return str(client.get_model_version_by_alias(model_name, CHAMPION).version)
    except _mlflow().exceptions.MlflowException:
        return None


def gate(
    tracker: Tracker,
    candidate: Candidate,
    *,
    holdout: pl.DataFrame,
    target: np.ndarray,
    metric: Metric,
    metric_name: str,
    predict_fn: str = "predict_proba",
    candidate_scores: np.ndarray | None = None,
) -> GateResult:
    """Move ``champion`` to the candidate only if it scores higher on ``holdout`` than the current
    champion does on the same rows (a first candidate becomes champion). ``candidate_scores``:
    the candidate's own out-of-fold scores of those rows, when it was trained on them. A champion
    that cannot score the rows (an older feature schema) does not hold the candidate back."""
    client = tracker._client()

    def score(model: Any) -> float:
        out = np.asarray(getattr(model, predict_fn)(holdout))
        return float(metric(target, out[:, 1] if out.ndim == 2 else out))

    current = champion_version(tracker, candidate.model_name)
    if candidate_scores is not None:
        mine = float(metric(target, candidate_scores))
    else:
        mine = score(
            _mlflow().sklearn.load_model(f"models:/{candidate.model_name}/{candidate.version}")
        )
    theirs: float | None = None
    note = "none"
    if current is not None:
        try:
            theirs = score(load_model(tracker, candidate.model_name))
            note = f"{theirs:.6f}"
        except (KeyError, ValueError, AttributeError, pl.exceptions.PolarsError) as exc:
            note = f"cannot score these rows: {type(exc).__name__}"
    promoted = theirs is None or mine > theirs
    if promoted:
        client.set_registered_model_alias(candidate.model_name, CHAMPION, candidate.version)
    verdict = {
        "gate_metric": metric_name,
        "gate_candidate": f"{mine:.6f}",
        "gate_champion": note,
        "gate_result": "promoted" if promoted else "kept as candidate",
    }
    for key, value in verdict.items():
        client.set_model_version_tag(candidate.model_name, candidate.version, key, value)
    return GateResult(promoted, mine, theirs, candidate.version if promoted else current)


def reject(tracker: Tracker, candidate: Candidate, *, failed: list[str]) -> GateResult:
    """Record a candidate that failed its floors: registered, tagged, never champion."""
    client = tracker._client()
    client.set_model_version_tag(
        candidate.model_name, candidate.version, "gate_result", "rejected: " + "; ".join(failed)
    )
    current = champion_version(tracker, candidate.model_name)
    return GateResult(False, float("nan"), None, current)
