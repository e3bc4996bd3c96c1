"""Does the review loop teach the fraud model? Day by day, with and without simulated analysts.

    python -m bench.review_loop --users 3000 --days 35 --eval-days 7 --reviews-per-day 20 \\
        --seed 11 [--error-rate 0.05] [--policy top|informative] [--retrain-every 1]

Simulates and ingests a platform once (under $VOUCH_DATA_DIR/bench/review_loop/<run>), copies
its lake for a second arm, then, for each of the last ``--eval-days`` days t, in both arms:
trust scores, training rows labelled with what the arm's lake observed by t, ``train_risk``,
``user_scores`` and ``review_queue`` (``bench.review_arm``: the daily assets' library calls,
minus MLflow and the release gate). In the *loop* arm a simulated team then reviews
``--reviews-per-day`` undecided cases through the real review service against a core database
seeded by ``vouch seed-core``, with the truth as oracle and ``--error-rate`` wrong verdicts;
the decisions (REVIEW_DECISION and the ban) go through the outbox to the landing and the lake,
and the next day's training reads them as labels (``bench.review_team``). The *without* arm
runs the same days with no reviews.

The simulation itself does not react to the bans: a banned fraudster's simulated activity
goes on (the platform's enforcement is not simulated), so the loop's effect measured here is
on what the model learns, not on losses prevented.

Prints per-day progress, then as its last line one JSON object whose lists have one entry per
evaluated day: ``truth_roc_auc`` (every scored user's ``fraud_risk`` against "fraudulent by t",
users whose scheme starts later left out, as ``bench.platform_fraud``), ``queue_precision``
(share of the day's reviewed cases truly fraud), both ``..._without_loop`` (there: the cases
the same policy would have picked from that arm's queue), ``truth_roc_auc_unreviewed`` (and
``_without_loop``: the same, leaving out every user the team reviewed by then, in both arms),
``train_positives`` (positive training rows), ``auc_gain`` (last day, with minus without),
``review_labels`` (REVIEW_DECISION ``confirmed_fraud`` labels the loop arm's lake holds) and
``seconds``. The truth is the analysts' oracle and the judge, never a feature or a label.
"""

from __future__ import annotations

import argparse
import json
import shutil
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import polars as pl
from tqdm import tqdm

from bench.review_arm import Arm, Day
from bench.review_team import Team, pick, seed_core
from features.fraud import observed_labels
from features.lake import read_flat
from models.metrics import roc_auc
from pipelines.ingest import Lake, ingest_days, landing_partitions
from settings import Settings, get_settings
from simulator import SimConfig, simulate


def truth_auc(day: Day, truth: pl.DataFrame, *, leave_out: set[str] = frozenset()) -> float | None:
    rows = day.scores.join(truth, on="user_id", how="left").filter(
        (pl.col("fraud_from").is_null() | (pl.col("fraud_from") <= day.at))
        & ~pl.col("user_id").is_in(list(leave_out))
    )
    y = rows["fraud_from"].is_not_null().to_numpy().astype(int)
    if not 0 < y.sum() < len(y):
        return None
    return round(float(roc_auc(y, rows["fraud_risk"].to_numpy())), 4)


def picked_precision(
    day: Day, truth: pl.DataFrame, *, k: int, policy: str, seen: set[str]
) -> float | None:
    """Share truly fraud of the ``k`` queue entries the policy would review, leaving out the
    users it reviewed on earlier days (``seen``, updated): the same team, whose verdicts never
    reach the model."""
    queue = day.queue.filter(~pl.col("user_id").is_in(list(seen))).sort(
        "fraud_risk", descending=True
    )
    chosen = pick(list(zip(queue["user_id"], queue["fraud_risk"], strict=True)), k=k, policy=policy)
    seen.update(chosen)
    return _share_fraud(chosen, truth, at=day.at + timedelta(hours=12))


def _share_fraud(users: list[str], truth: pl.DataFrame, *, at: datetime) -> float | None:
    if not users:
        return None
    starts = dict(truth.filter(pl.col("user_id").is_in(users)).iter_rows())
    return round(float(np.mean([(s := starts.get(u)) is not None and s <= at for u in users])), 4)


def _platform(args: argparse.Namespace) -> tuple[Settings, Settings, SimConfig]:
    run = f"{args.users}x{args.days}-seed{args.seed}-k{args.reviews_per_day}-{args.policy}"
    root = get_settings().bench / "review_loop" / run
    shutil.rmtree(root, ignore_errors=True)
    without = Settings(data_dir=root / "without", database_url=None)
    loop = Settings(data_dir=root / "loop", database_url=None)
    config = SimConfig(users=args.users, days=args.days, seed=args.seed)
    simulate(config, out=without.landing, truth_out=without.truth, progress=True)
    days = sorted(landing_partitions(without.landing))
    ingest_days(without.landing, days, lake=Lake(without.lake), progress=True)
    shutil.copytree(without.lake, loop.lake)
    return without, loop, config


def run(args: argparse.Namespace) -> dict[str, Any]:
    started = time.perf_counter()
    without_s, loop_s, config = _platform(args)
    truth = pl.read_parquet(without_s.truth / "users.parquet").select("user_id", "fraud_from")
    end = datetime.combine(config.start, datetime.min.time(), UTC) + timedelta(days=args.days)
    first = end - timedelta(days=args.eval_days - 1)
    seeded = json.loads(seed_core(loop_s, before=first))["users_added"]
    team = Team(loop_s, truth, error_rate=args.error_rate, seed=args.seed)
    params = {"n_jobs": args.threads}
    arms = {
        "without": Arm(Lake(without_s.lake).events_dir, params),
        "loop": Arm(Lake(loop_s.lake).events_dir, params),
    }
    out: dict[str, list[Any]] = {}
    seen_without: set[str] = set()

    def put(name: str, value: Any) -> None:
        out.setdefault(name, []).append(value)

    bar = tqdm(range(args.eval_days), desc="review loop", unit="day")
    for i in bar:
        t = end - timedelta(days=args.eval_days - 1 - i)
        retrain = i % args.retrain_every == 0
        days = {"without": arms["without"].day(t, retrain=retrain)}
        arms["loop"].adopt(arms["without"], until=first)  # identical before the first review
        days["loop"] = arms["loop"].day(t, retrain=retrain)
        if i:  # accounts registered since
            seeded += json.loads(seed_core(loop_s, before=t))["users_added"]
        team.sync(days["loop"].queue)
        risk = dict(days["loop"].scores.select("user_id", "fraud_risk").iter_rows())
        truths = team.review_day(t, k=args.reviews_per_day, policy=args.policy, risk=risk)
        reviewed = set(team.reviewed_users)
        team.deliver(t, lake=Lake(loop_s.lake))
        for name, suffix in (("loop", ""), ("without", "_without_loop")):
            put(f"truth_roc_auc{suffix}", truth_auc(days[name], truth))
            put(
                f"truth_roc_auc_unreviewed{suffix}",
                truth_auc(days[name], truth, leave_out=reviewed),
            )
            put(f"train_positives{suffix}", days[name].positives)
        put("queue_precision", round(float(np.mean(truths)), 4) if truths else None)
        put(
            "queue_precision_without_loop",
            picked_precision(
                days["without"],
                truth,
                k=args.reviews_per_day,
                policy=args.policy,
                seen=seen_without,
            ),
        )
        bar.set_postfix(auc=out["truth_roc_auc"][-1], without=out["truth_roc_auc_without_loop"][-1])
    team.close()
    events = read_flat(Lake(loop_s.lake).events_dir, types=["REVIEW_DECISION"])
    ours = events.filter(pl.col("actor_id").is_in(team.ids))
    labels = observed_labels(ours, kinds=["review_confirmed"])
    last, base = out["truth_roc_auc"][-1], out["truth_roc_auc_without_loop"][-1]
    return {
        "users": args.users,
        "days": args.days,
        "eval_days": args.eval_days,
        "reviews_per_day": args.reviews_per_day,
        "seed": args.seed,
        "error_rate": args.error_rate,
        "policy": args.policy,
        "retrain_every": args.retrain_every,
        **out,
        "auc_gain": round(last - base, 4) if last is not None and base is not None else None,
        "decided": team.decided,
        "confirmed": team.confirmed,
        "review_labels": labels.height,
        "seeded_users": seeded,
        "seconds": round(time.perf_counter() - started, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.review_loop", description=__doc__)
    parser.add_argument("--users", type=int, default=3000)
    parser.add_argument("--days", type=int, default=35, help="simulated days")
    parser.add_argument("--eval-days", type=int, default=7, help="last days run day by day")
    parser.add_argument("--reviews-per-day", type=int, default=20)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--error-rate", type=float, default=0.05, help="wrong verdicts' share")
    parser.add_argument("--policy", choices=("top", "informative"), default="top")
    parser.add_argument("--retrain-every", type=int, default=1, help="days between trainings")
    parser.add_argument(
        "--threads",
        type=int,
        default=1,
        help="LightGBM threads (1: on a shared 2-core machine 2 threads ran 15x slower)",
    )
    args = parser.parse_args(argv)
    if not 1 <= args.eval_days < args.days or args.retrain_every < 1:
        parser.error("need 1 <= --eval-days < --days and --retrain-every >= 1")
    print(json.dumps(run(args)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
