"""How well the platform trust separates the simulator's fraudsters, by typology.

    python -m bench.platform_trust [--users 20000 --days 21]

Simulates and ingests a platform (kept under $VOUCH_DATA_DIR/bench/platform_trust), scores every
user as of the end with ``features.platform_graph.trust`` and compares with the ground truth, which
nothing else reads. Prints ROC AUC of ``1 - trust`` against "fraudulent", overall and per
typology (each typology against the honest users), and the time the scoring took.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from datetime import UTC, datetime, timedelta

import polars as pl
from sklearn.metrics import average_precision_score, roc_auc_score

from features.platform_graph.trust import platform_trust
from pipelines.ingest import Lake, ingest_days, landing_partitions
from settings import Settings, get_settings
from simulator import SimConfig, simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.platform_trust", description=__doc__)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=21)
    parser.add_argument("--seed", type=int, default=23)
    args = parser.parse_args(argv)
    root = get_settings().bench / "platform_trust"
    shutil.rmtree(root, ignore_errors=True)
    config = SimConfig(users=args.users, days=args.days, seed=args.seed)
    layout = Settings(data_dir=root)
    simulate(config, out=layout.landing, truth_out=layout.truth, progress=True)
    lake = Lake(layout.lake)
    ingest_days(
        layout.landing, sorted(landing_partitions(layout.landing)), lake=lake, progress=True
    )
    at = datetime.combine(config.start, datetime.min.time(), UTC) + timedelta(days=args.days)
    started = time.perf_counter()
    scores = platform_trust(lake.events_dir, at)
    seconds = time.perf_counter() - started
    truth = pl.read_parquet(layout.truth / "users.parquet").select("user_id", "typology")
    rows = scores.join(truth, on="user_id")
    fraud = rows["typology"].is_not_null().to_numpy()
    risk = 1.0 - rows["trust"].to_numpy()
    result = {
        "users": rows.height,
        "fraudulent": int(fraud.sum()),
        "scoring_seconds": round(seconds, 2),
        "roc_auc": round(float(roc_auc_score(fraud, risk)), 4),
        "average_precision": round(float(average_precision_score(fraud, risk)), 4),
        "by_typology": {},
    }
    honest = ~fraud
    for typology in sorted(rows["typology"].drop_nulls().unique().to_list()):
        mine = (rows["typology"] == typology).fill_null(False).to_numpy()
        keep = mine | honest
        result["by_typology"][typology] = {
            "users": int(mine.sum()),
            "roc_auc": round(float(roc_auc_score(mine[keep], risk[keep])), 4),
            "mean_trust": round(float(rows.filter(pl.Series(mine))["trust"].mean()), 3),
        }
    result["honest_mean_trust"] = round(float(rows.filter(pl.Series(honest))["trust"].mean()), 3)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
