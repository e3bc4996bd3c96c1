"""The credit rule: a limit in money from payment history, trust and fraud risk, with reasons.

A documented rule rather than a model (there is no label for "would have repaid"): the limit is
lent against what the user has already completed, scaled down by every sign against them, and
capped. For each scored user (``user_scores``: trust, fraud_risk, band, confirmed_fraud) and
their history (``features.credit.history``):

    base    = sales_share x completed sales + purchases_share x completed purchases
              (in the user's currency, over the last 180 days)
    limit   = min(base x trust x risk x tenure x chargebacks x disputes,
                  cap_orders x the platform's median completed order in that currency)

each factor in [0, 1] (``Policy``): trust from 0 at ``trust_floor`` to 1 at ``trust_full``;
risk by the published band, as the access rules read it (1 in the low band, ``medium_band``
in the medium one; the high band lends nothing), so the limit does not swing with the
calibration inside a band; tenure ``age / mature_days``;
``per_chargeback`` to the power of the chargebacks in 90 days, ``per_dispute_lost`` likewise.
Rounded down to whole units. Zero outright for banned, suspended or closed accounts, confirmed
fraud and the high band. The limit never rises with a chargeback, a lost dispute or more risk,
and never falls with more completed volume, trust or age (monotone in each input).

Reasons, in words, strongest first: what cut the limit most (factors under ``said``, up to
``reasons - 1`` of them, e.g. "limit lowered: 2 chargebacks in 90 days"), then what it is lent
against ("lent against 14 completed sales worth 2340 EUR in 180 days"); a zero limit from a
hard rule says that rule alone ("no limit: account banned").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import polars as pl

from features.credit.history import HISTORY, RECENT_DAYS, VOLUME_DAYS

LIMIT = pl.Decimal(18, 2)
CLOSED = ("banned", "suspended", "closed")


@dataclass(frozen=True)
class Policy:
    sales_share: float = 0.5  # of completed sales value lent early
    purchases_share: float = 0.1  # a buyer's completed purchases count a little
    cap_orders: float = 20.0  # the cap, in typical (median) orders of the currency
    mature_days: float = 60.0  # account age from which tenure no longer lowers the limit
    trust_floor: float = 0.1  # trust at or below which nothing is lent
    trust_full: float = 0.5  # trust from which trust no longer lowers the limit
    medium_band: float = 0.5  # what the medium fraud band keeps of the limit
    per_chargeback: float = 0.5  # each chargeback in 90 days halves the limit
    per_dispute_lost: float = 0.7  # each dispute lost in 90 days takes 30 % off
    said: float = 0.9  # factors under this are said as reasons
    reasons: int = 3  # at most this many reasons


POLICY = Policy()


def _clip(expr: pl.Expr) -> pl.Expr:
    return expr.clip(0.0, 1.0).fill_nan(0.0).fill_null(0.0)


def _factors(p: Policy) -> dict[str, pl.Expr]:
    return {
        "f_trust": _clip((pl.col("trust") - p.trust_floor) / (p.trust_full - p.trust_floor)),
        "f_risk": pl.when(pl.col("band") == "low").then(1.0).otherwise(p.medium_band),
        "f_tenure": _clip(pl.col("account_age_days") / p.mature_days),
        "f_chargebacks": pl.lit(p.per_chargeback).pow(pl.col("chargebacks")),
        "f_disputes": pl.lit(p.per_dispute_lost).pow(pl.col("disputes_lost")),
    }


def _plural(n: pl.Expr, one: str, many: str) -> pl.Expr:
    return pl.when(n == 1).then(pl.lit(one)).otherwise(pl.lit(many))


def _lowered(p: Policy) -> list[pl.Expr]:
    """(factor, text) of each way the limit can be lowered, as structs."""
    n_cb, n_lost = pl.col("chargebacks"), pl.col("disputes_lost")
    texts = {
        "f_chargebacks": pl.format(
            "limit lowered: {} {} in {} days",
            n_cb,
            _plural(n_cb, "chargeback", "chargebacks"),
            pl.lit(RECENT_DAYS),
        ),
        "f_disputes": pl.format(
            "limit lowered: {} {} lost in {} days",
            n_lost,
            _plural(n_lost, "dispute", "disputes"),
            pl.lit(RECENT_DAYS),
        ),
        "f_tenure": pl.when(pl.col("account_age_days").is_null())
        .then(pl.lit("limit lowered: account age unknown"))
        .otherwise(
            pl.format(
                "limit lowered: account is {} days old",
                pl.col("account_age_days").floor().cast(pl.Int64),
            )
        ),
        "f_trust": pl.format("limit lowered: trust score {}", pl.col("trust").round(2)),
        "f_risk": pl.format(
            "limit lowered: fraud risk {}% ({} band)",
            (pl.col("fraud_risk") * 100).round(0).cast(pl.Int64),
            pl.col("band"),
        ),
        "f_cap": pl.format(
            "limit capped at {} typical orders",
            pl.lit(int(p.cap_orders) if p.cap_orders.is_integer() else p.cap_orders),
        ),
    }
    return [pl.struct(f=pl.col(name), t=text) for name, text in texts.items()]


def _lent_against() -> pl.Expr:
    amount = pl.col("sales_amount").round(0).cast(pl.Int64)
    bought = pl.col("purchases_amount").round(0).cast(pl.Int64)
    sales = pl.format(
        "{} completed {} worth {} {}",
        pl.col("sales_n"),
        _plural(pl.col("sales_n"), "sale", "sales"),
        amount,
        pl.col("credit_currency"),
    )
    purchases = pl.format(
        "{} completed {} worth {} {}",
        pl.col("purchases_n"),
        _plural(pl.col("purchases_n"), "purchase", "purchases"),
        bought,
        pl.col("credit_currency"),
    )
    what = (
        pl.when((pl.col("sales_n") > 0) & (pl.col("purchases_n") > 0))
        .then(pl.concat_str(sales, pl.lit(" and "), purchases))
        .when(pl.col("sales_n") > 0)
        .then(sales)
        .otherwise(purchases)
    )
    return pl.format("lent against {} in {} days", what, pl.lit(VOLUME_DAYS))


def _hard_zero() -> pl.Expr:
    """The reason a hard rule gives no limit at all (null when none applies)."""
    risk = (pl.col("fraud_risk") * 100).round(0).cast(pl.Int64)
    return (
        pl.when(pl.col("account_status").is_in(CLOSED))
        .then(pl.format("no limit: account {}", pl.col("account_status")))
        .when(pl.col("confirmed_fraud"))
        .then(pl.lit("no limit: fraud confirmed by an analyst"))
        .when(pl.col("band") == "high")
        .then(pl.format("no limit: fraud risk {}% (high band)", risk))
        .when(pl.col("base") <= 0)
        .then(pl.lit(f"no limit: no completed sales or purchases in {VOLUME_DAYS} days"))
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def credit_limits(
    history: pl.DataFrame, scores: pl.DataFrame, *, at: datetime, policy: Policy = POLICY
) -> pl.DataFrame:
    """One row per user of ``scores``: ``credit_limit`` (Decimal, whole units),
    ``credit_currency``, ``credit_reasons``, the factors and the inputs they came from."""
    p = policy
    confirmed = (
        pl.col("confirmed_fraud").fill_null(False)
        if "confirmed_fraud" in scores.columns
        else pl.lit(False)
    )
    rows = (
        scores.select("user_id", "trust", "fraud_risk", "band", confirmed.alias("confirmed_fraud"))
        .join(history.select(list(HISTORY)), on="user_id", how="left", maintain_order="left")
        .with_columns(
            pl.col("account_status").fill_null("active"),
            pl.col("^(sales|purchases)_(n|amount)$", "disputes_lost", "chargebacks").fill_null(0),
        )
        .with_columns(
            base=p.sales_share * pl.col("sales_amount")
            + p.purchases_share * pl.col("purchases_amount"),
            cap=p.cap_orders * pl.col("typical_order"),
            **_factors(p),
        )
    )
    factors = [c for c in rows.columns if c.startswith("f_")]
    scaled = pl.col("base") * pl.reduce(lambda a, b: a * b, [pl.col(f) for f in factors])
    rows = rows.with_columns(raw=scaled, zero_reason=_hard_zero()).with_columns(
        f_cap=pl.when(pl.col("cap").is_null() | (pl.col("raw") <= 0))
        .then(1.0)
        .otherwise(pl.min_horizontal(pl.col("cap") / pl.col("raw"), pl.lit(1.0))),
    )
    limit = pl.min_horizontal("raw", "cap").fill_null(0.0).floor()
    factor = pl.element().struct.field("f")
    said = (
        pl.concat_list(_lowered(p))
        .list.eval(pl.element().sort_by(factor))
        .list.eval(pl.element().filter(factor < p.said).struct.field("t"))
        .list.head(p.reasons - 1)
    )
    rows = rows.with_columns(
        credit_limit=pl.when(pl.col("zero_reason").is_null())
        .then(limit)
        .otherwise(0.0)
        .cast(LIMIT),
        credit_reasons=pl.when(pl.col("zero_reason").is_not_null())
        .then(pl.concat_list(pl.col("zero_reason")))
        .otherwise(pl.concat_list(said, _lent_against())),
        scored_at=pl.lit(at).cast(pl.Datetime("us", "UTC")),
    )
    return rows.drop("zero_reason", "raw")


def limit_problems(limits: pl.DataFrame, scores: pl.DataFrame) -> list[str]:
    """What is wrong with a day's limits (empty when fine): one row per scored user, limits
    non-negative and within the cap, zero for the hard rules, every limit explained."""
    problems = []
    if limits.height != scores.height or set(limits["user_id"]) != set(scores["user_id"]):
        problems.append("not one row per scored user")
    if limits.get_column("user_id").n_unique() != limits.height:
        problems.append("duplicate users")
    value = limits.get_column("credit_limit").cast(pl.Float64)
    if value.null_count() or (value < 0).any():
        problems.append("a limit null or negative")
    over = value > limits.get_column("cap").fill_null(float("inf")) + 1e-6
    if over.any():
        problems.append(f"{int(over.sum())} limits above their cap")
    hard = (
        limits.get_column("account_status").is_in(CLOSED)
        | limits.get_column("confirmed_fraud")
        | (limits.get_column("band") == "high")
    )
    if (hard & (value > 0)).any():
        problems.append("a limit above zero for a closed, confirmed or high-risk account")
    if (limits.get_column("credit_reasons").list.len() == 0).any():
        problems.append("a limit without reasons")
    lent = value > 0
    if (lent & limits.get_column("credit_currency").is_null()).any():
        problems.append("a limit without a currency")
    return problems
