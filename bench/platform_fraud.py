"""How well the platform's published fraud risk finds the simulator's fraud, hidden or not.

    python -m bench.platform_fraud --users 20000 --days 35 --seed 11 [--hard]

Simulates and ingests a platform (under $VOUCH_DATA_DIR/bench/platform_fraud/<run>), runs the real
Dagster assets as of the end (trust graph and scores, fraud features, model release with its
floors and gate, user scores, review queue), then, and only then, reads the simulator's ground
truth to judge what was published. Prints, as its last line, one JSON object:

- ``truth_roc_auc``, ``truth_average_precision``: the published ``fraud_risk`` of every scored
  user against "fraudulent by the snapshot" (users whose scheme starts later are left out);
- ``queue_precision_at_50``: share of the review queue's 50 first cases that are truly fraud;
- ``by_typology``: ROC AUC of each typology against the honest users;
- ``top50_distinct_risks``: distinct risks among the queue's first 50 (ties don't rank);
- ``honest_critical_friction``: share of honest users whose next payout, made with a fresh
  second factor, the access rules would still deny (risk band, confirmed fraud);
- ``loss_caught_share``: share of the truth's fraud losses (USD) incurred after the user first
  reached the high band in the model's snapshot history (0 if never);
- ``observed_positives``, ``promoted``, ``floors_failed``, ``seconds``.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta

import dagster
import numpy as np
import polars as pl
from sklearn.metrics import average_precision_score, roc_auc_score

from pipelines.assets.features import fraud_features, trust_graph, trust_scores
from pipelines.assets.models import fraud_model, review_queue_asset, user_scores_asset
from pipelines.ingest import Lake, ingest_days, landing_partitions
from pipelines.resources import Storage
from serving.rules import BAND_ORDER, default_rules
from settings import Settings, get_settings
from simulator import SimConfig, simulate

ASSETS = [trust_graph, trust_scores, fraud_features, fraud_model, user_scores_asset]


def _auc(y: np.ndarray, s: np.ndarray) -> float | None:
    return round(float(roc_auc_score(y, s)), 4) if 0 < y.sum() < len(y) else None


def judge(storage: Storage, *, day: datetime) -> dict[str, object]:
    """Every figure of the module docstring, from what the assets wrote and the truth."""
    at = day.date()
    scores = storage.features.read("user_scores", at)
    queue = storage.features.read("review_queue", at)
    truth = pl.read_parquet(storage.truth / "users.parquet").select(
        "user_id", "typology", "fraud_from"
    )
    rows = scores.join(truth, on="user_id", how="left").filter(
        pl.col("fraud_from").is_null() | (pl.col("fraud_from") <= day)
    )
    fraud = rows["fraud_from"].is_not_null().to_numpy()
    risk = rows["fraud_risk"].to_numpy()
    out: dict[str, object] = {
        "users": rows.height,
        "fraudulent": int(fraud.sum()),
        "truth_roc_auc": _auc(fraud.astype(int), risk),
        "truth_average_precision": round(float(average_precision_score(fraud, risk)), 4),
    }
    typ = rows["typology"].to_numpy()
    out["by_typology"] = {
        str(t): _auc(
            ((typ == t) & fraud)[~fraud | (typ == t)].astype(int), risk[~fraud | (typ == t)]
        )
        for t in sorted({str(x) for x in typ[fraud]})
    }
    head = queue.sort("position").head(50).join(truth, on="user_id", how="left")
    out["queue_precision_at_50"] = round(float(head["fraud_from"].is_not_null().mean() or 0), 4)
    out["top50_distinct_risks"] = head["fraud_risk"].n_unique()
    rules = default_rules()
    deny_band = BAND_ORDER[rules.risk.deny_band_critical]
    honest = rows.filter(pl.col("fraud_from").is_null())
    denied = honest["band"].replace_strict(BAND_ORDER, default=0) >= deny_band
    denied = denied | honest["confirmed_fraud"]
    out["honest_critical_friction"] = round(float(denied.mean()), 4)
    out["loss_caught_share"] = loss_caught_share(storage, at=at)
    return out


def loss_caught_share(storage: Storage, *, at: object) -> float | None:
    """Share of the truth's losses incurred after the user's first high-band snapshot."""
    losses_path = storage.truth / "losses.parquet"
    if not losses_path.exists():
        return None
    losses = pl.read_parquet(losses_path).select(
        "user_id", "at", pl.col("amount_usd").cast(pl.Float64).alias("usd")
    )
    history = storage.features.read("risk_history", at)
    high = (
        history.filter(pl.col("band") == "high")
        .group_by("user_id")
        .agg(pl.col("at").min().alias("high_from"))
    )
    joined = losses.join(high, on="user_id", how="left")
    caught = joined.filter(pl.col("high_from").is_not_null() & (pl.col("at") > pl.col("high_from")))
    total = float(losses["usd"].sum())
    return round(float(caught["usd"].sum()) / total, 4) if total else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.platform_fraud", description=__doc__)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=35)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--hard", action="store_true", help="fraudsters that hide (simulator)")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep the simulated and ingested lake of an earlier run with the same settings "
        "(features, models and scores are computed afresh): for iterating on the model",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    run = f"{args.users}x{args.days}-seed{args.seed}{'-hard' if args.hard else ''}"
    root = get_settings().bench / "platform_fraud" / run
    config = SimConfig(users=args.users, days=args.days, seed=args.seed, hard=args.hard)
    settings = Settings(data_dir=root)
    if args.reuse and (settings.truth / "users.parquet").exists():
        for folder in (settings.features, settings.mlflow_artifacts):
            shutil.rmtree(folder, ignore_errors=True)
        settings.mlflow_database.unlink(missing_ok=True)
    else:
        shutil.rmtree(root, ignore_errors=True)
        simulate(config, out=settings.landing, truth_out=settings.truth, progress=True)
        lake = Lake(settings.lake)
        days = sorted(landing_partitions(settings.landing))
        ingest_days(settings.landing, days, lake=lake, progress=True)
    end = datetime.combine(config.start, datetime.min.time(), UTC) + timedelta(days=args.days)
    result = dagster.materialize(
        [*ASSETS, review_queue_asset],
        resources={"storage": Storage(settings)},
        partition_key=end.date().isoformat(),
        raise_on_error=False,
    )
    if not result.success:
        print("the assets failed; see the log above", file=sys.stderr)
        return 1
    released = {
        k: v.value
        for e in result.get_asset_materialization_events()
        if e.asset_key.to_user_string() == "fraud_model"
        for k, v in e.step_materialization_data.materialization.metadata.items()
    }
    out = {
        "users": args.users,
        "days": args.days,
        "seed": args.seed,
        "hard": args.hard,
        **judge(Storage(settings), day=end),
        "observed_positives": released.get("positives"),
        "promoted": released.get("promoted"),
        "floors_failed": released.get("floors_failed"),
        "seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
