"""`vouch fraud evaluate`: the fraud model on the Fraud Detection Handbook's benchmark protocol."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, timedelta
from pathlib import Path


def _dates(text: str) -> tuple[date, ...]:
    from models.handbook.protocol import parse_dates

    try:
        return parse_dates(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from e


def _evaluate(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `vouch --help` should not pay for LightGBM and sklearn.
    import polars as pl

    from models.handbook.benchmark import DEFAULT_GRID, evaluate
    from models.handbook.protocol import (
        TEST_TRAIN_STARTS,
        VALID_TRAIN_STARTS,
        check_covered,
        folds,
        with_day,
    )

    if not args.transactions.exists():
        print(f"vouch fraud evaluate: no such file: {args.transactions}", file=sys.stderr)
        return 2
    tx = pl.read_parquet(args.transactions)
    lengths = {
        "train_days": args.train_days,
        "delay_days": args.delay_days,
        "test_days": args.test_days,
    }
    test = folds(args.test_train_starts or TEST_TRAIN_STARTS, **lengths)
    valid = folds(args.valid_train_starts or VALID_TRAIN_STARTS, **lengths)
    if "TX_DATETIME" in tx.columns:
        uncovered = check_covered(with_day(tx.select("TX_DATETIME")), [*valid, *test])
        if uncovered:
            print("vouch fraud evaluate: " + "; ".join(uncovered), file=sys.stderr)
            return 2
    progress = None if args.quiet else (lambda line: print(line, file=sys.stderr, flush=True))
    try:
        result = evaluate(
            tx,
            test_folds=test,
            valid_folds=valid,
            grid=DEFAULT_GRID,
            select_by=args.select_by,
            label_delay=timedelta(days=args.delay_days),
            jobs=args.jobs,
            progress=progress,
        )
    except ValueError as e:
        print(f"vouch fraud evaluate: {e}", file=sys.stderr)
        return 2
    print(json.dumps({"transactions_file": str(args.transactions), **result}))
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """fraud evaluate."""
    fraud = sub.add_parser(
        "fraud",
        help="fraud model: evaluate it on external card-transaction benchmarks",
        description="The fraud model (LightGBM, early stopping and calibration on held-out "
        "days) with the platform's point-in-time card features.",
    )
    commands = fraud.add_subparsers(dest="fraud_command", required=True, metavar="COMMAND")
    ev = commands.add_parser(
        "evaluate",
        help="the Fraud Detection Handbook's prequential protocol; prints one JSON line",
        description="Prequential evaluation as in the Fraud Detection Handbook: each fold trains "
        "on 7 days, skips a 7-day label delay and is assessed on the next 7 days, with cards "
        "known to be compromised removed from each assessment day. Hyper-parameters and the "
        "feature set are chosen by their mean on the validation folds only, then measured on "
        "the test folds. Features come from the platform's card-feature machinery, computed once "
        "over the whole table and point in time: a label counts only --delay-days after its "
        "transaction. Progress goes to stderr; stdout gets one JSON line: roc_auc, "
        "average_precision, card_precision_at_100 (means over the test folds), per_fold, the "
        "chosen candidate, every candidate tried with its validation means, and timings.",
    )
    ev.add_argument(
        "--transactions",
        type=Path,
        required=True,
        metavar="PATH",
        help="Parquet file of card transactions with the handbook's column names: TX_DATETIME, "
        "CUSTOMER_ID, TERMINAL_ID, TX_AMOUNT, TX_FRAUD (others are ignored)",
    )
    ev.add_argument(
        "--test-train-starts",
        type=_dates,
        metavar="D,D,..",
        help="training start dates of the test folds, comma-separated YYYY-MM-DD "
        "(default 2018-07-25,2018-08-01,2018-08-08,2018-08-15)",
    )
    ev.add_argument(
        "--valid-train-starts",
        type=_dates,
        metavar="D,D,..",
        help="training start dates of the validation folds used to choose hyper-parameters "
        "(default 2018-06-20,2018-06-27,2018-07-04,2018-07-11)",
    )
    ev.add_argument(
        "--select-by",
        choices=["average_precision", "card_precision_at_100", "roc_auc"],
        default="average_precision",
        help="validation mean that chooses the candidate (default average_precision)",
    )
    ev.add_argument(
        "--train-days", type=int, default=7, metavar="N", help="training days per fold (7)"
    )
    ev.add_argument(
        "--delay-days",
        type=int,
        default=7,
        metavar="N",
        help="days between training and assessment; also how late a label arrives (7)",
    )
    ev.add_argument(
        "--test-days", type=int, default=7, metavar="N", help="assessment days per fold (7)"
    )
    ev.add_argument(
        "--jobs",
        type=int,
        default=2,
        metavar="N",
        help="folds trained at once, one thread each (default 2)",
    )
    ev.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    ev.set_defaults(func=_evaluate)
