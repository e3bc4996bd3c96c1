"""The fraud feature-schema contract: every output column, its dtype and what it means.

Conventions for every platform feature "at t" (the query's ``at``): only events with
``occurred_at <= t`` are read; windows are ``(t - w, t]``; "ever" is all history up to t; amounts
are in the reference currency when ``fx`` is given, else in the event's own. Card features: see
``cards``; label-based ones use labels of transactions at or before ``t - label_delay`` only.
Null means "undefined" (a ratio with an empty denominator, an age with no first sighting).
"""

from __future__ import annotations

from dataclasses import replace

import polars as pl

from features.columns import Feature, problems
from features.fraud.takeover import TAKEOVER_FEATURES

__all__ = ["Feature", "problems"]  # the shared column description, re-exported

SCHEMA_VERSION = "fraud-features/1"


I64, F64, I8 = pl.Int64, pl.Float64, pl.Int8
VELOCITY_WINDOWS = ("1h", "24h", "7d", "30d")
HISTORY_WINDOWS = ("30d", "ever")

# fact -> (what one occurrence is, has an amount)
_VELOCITY = {
    "orders": ("order the user placed (ORDER_PLACED, as buyer)", True),
    "payments": ("successful payment by the user (PAYMENT_SUCCESS)", True),
    "failed_payments": ("failed payment attempt by the user (PAYMENT_FAILED)", True),
    "transfers_out": ("transfer the user sent (TRANSFER_SENT, as sender)", True),
    "transfers_in": ("transfer the user received (TRANSFER_SENT, as receiver)", True),
    "payouts": ("payout the user requested (PAYOUT_REQUESTED)", True),
    "escrow_in": ("escrow released to the user as seller (ESCROW_RELEASED)", True),
    "logins": ("login to the account (USER_LOGGED_IN)", False),
    "failed_logins": ("failed login to the account (LOGIN_FAILED)", False),
    "failed_subscription_charges": (
        "subscription charge the user's wallet failed (SUBSCRIPTION_PAYMENT_FAILED: a first "
        "charge when subscribing, or a renewal)",
        True,
    ),
}
_HISTORY = {
    "chargebacks": "chargeback on a payment the user made (CHARGEBACK_RECEIVED, as payer)",
    "chargebacks_as_seller": "chargeback on an order the user sold (CHARGEBACK_RECEIVED.seller_id)",
    "disputes_opened": "dispute the user opened as buyer (DISPUTE_OPENED)",
    "disputes_received": "dispute opened against the user as seller (DISPUTE_OPENED.seller_id)",
    "disputes_lost": "dispute the user lost as seller (DISPUTE_RESOLVED buyer_won)",
    "reports_received": "report against the user (USER_REPORTED)",
    "blocks_received": "block of the user by another (USER_BLOCKED)",
    "fraud_confirmed": "analyst review confirming fraud (REVIEW_DECISION confirmed_fraud)",
    "fraud_cleared": "analyst review clearing the user (REVIEW_DECISION cleared)",
    "sales": "order placed with the user as seller (ORDER_PLACED.seller_id)",
    "sales_paid": "sale marked paid (ORDER_STATUS_CHANGED paid, as seller)",
    "sales_shipped": "sale marked shipped (ORDER_STATUS_CHANGED shipped, as seller)",
    "listings": "listing the user created (LISTING_CREATED)",
    "listings_underpriced": "listing priced below half its category's trailing-30d median",
}


def _platform() -> tuple[Feature, ...]:
    out = []
    for w in VELOCITY_WINDOWS:
        for fact, (what, has_amount) in _VELOCITY.items():
            out.append(Feature(f"{fact}_n_{w}", I64, f"number of {what} in the last {w}"))
            if has_amount:
                out.append(Feature(f"{fact}_amount_{w}", F64, f"sum of amounts of {what}, {w}"))
    for w in HISTORY_WINDOWS:
        span = "ever (as known at t)" if w == "ever" else f"in the last {w} (as known at t)"
        out += [
            Feature(f"{fact}_n_{w}", I64, f"number of {what}, {span}")
            for fact, what in _HISTORY.items()
        ]
    out += [
        Feature("account_age_days", F64, "days since USER_REGISTERED; null if not registered by t"),
        Feature(
            "account_restricted",
            I8,
            "latest account status by t is restricted, suspended, banned or closed",
        ),
        Feature("devices_n_24h", I64, "distinct devices the user was seen on, last 24h"),
        Feature("devices_n_30d", I64, "distinct devices the user was seen on, last 30d"),
        Feature("devices_n_ever", I64, "distinct devices the user was seen on or registered, ever"),
        Feature("ips_n_24h", I64, "distinct IPs the user acted from, last 24h"),
        Feature("ips_n_ever", I64, "distinct IPs the user acted from, ever"),
        Feature("countries_n_30d", I64, "distinct countries the user acted from, last 30d"),
        Feature("countries_n_ever", I64, "distinct countries the user acted from, ever"),
        Feature("users_per_device_ever", I64, "distinct users seen on the query's device, ever"),
        Feature("users_per_device_30d", I64, "distinct users seen on the query's device, 30d"),
        Feature("users_per_ip_ever", I64, "distinct users seen on the query's IP, ever"),
        Feature("users_per_ip_30d", I64, "distinct users seen on the query's IP, 30d"),
        Feature("new_device", I8, "the user was never seen on the query's device before t"),
        Feature("device_age_hours", F64, "hours since the user was first seen on this device"),
        Feature("new_ip", I8, "the user never acted from the query's IP before t"),
        Feature("new_country", I8, "the user never acted from the query's country before t"),
        Feature("country_age_hours", F64, "hours since the user first acted from this country"),
        Feature("fan_in_senders_24h", I64, "distinct senders of transfers to the user, 24h"),
        Feature("fan_in_senders_7d", I64, "distinct senders of transfers to the user, 7d"),
        Feature("fan_in_senders_30d", I64, "distinct senders of transfers to the user, 30d"),
        Feature("secs_since_money_in", F64, "seconds since the last transfer in or escrow release"),
        Feature(
            "last_money_in_to_out_secs",
            F64,
            "for the user's latest payout by t: seconds "
            "from the money-in before it to the payout (mule speed)",
        ),
        *(
            Feature(f"verified_{v}", I8, f"{v} verification completed by t")
            for v in ("email", "phone", "id", "bank")
        ),
        Feature("failed_payment_ratio_24h", F64, "failed / (failed + successful) payments, 24h"),
        Feature("failed_payment_ratio_30d", F64, "failed / (failed + successful) payments, 30d"),
        Feature("fulfilment_rate", F64, "seller: sales shipped / sales paid, ever"),
        Feature("seller_dispute_rate", F64, "seller: disputes received / sales, ever"),
        Feature(
            "listing_price_ratio_mean",
            F64,
            "seller: mean over the user's listings of price "
            "/ trailing-30d median price of its category and currency",
        ),
        Feature(
            "pass_through_ratio_7d",
            F64,
            "(payouts + transfers out) / (transfers in + escrow released), amounts over 7d",
        ),
        Feature(
            "amount_ratio_30d",
            F64,
            "the query's amount / the user's mean payment, transfer out and payout amount over 30d",
        ),
    ]
    return tuple(out)


# Null: no registration by t; the query has no device/IP/country; never seen there before; no
# money in / payout yet; an empty denominator.
_NULLABLE = {
    "account_age_days",
    "users_per_device_ever",
    "users_per_device_30d",
    "users_per_ip_ever",
    "users_per_ip_30d",
    "new_device",
    "new_ip",
    "new_country",
    "device_age_hours",
    "country_age_hours",
    "secs_since_money_in",
    "last_money_in_to_out_secs",
    "failed_payment_ratio_24h",
    "failed_payment_ratio_30d",
    "fulfilment_rate",
    "seller_dispute_rate",
    "listing_price_ratio_mean",
    "pass_through_ratio_7d",
    "amount_ratio_30d",
    # cards: too little history for a z-score or ratio; no previous transaction; no known fraud
    "CUSTOMER_ID_AMOUNT_Z_7DAY_WINDOW",
    "CUSTOMER_ID_AMOUNT_Z_30DAY_WINDOW",
    "CUSTOMER_ID_AMOUNT_Z_BASELINE",
    "CUSTOMER_ID_AMOUNT_RATIO_30DAY_WINDOW",
    "CUSTOMER_ID_SECS_SINCE_PREV_TX",
    "TERMINAL_ID_DAYS_SINCE_KNOWN_FRAUD",
    "CUSTOMER_ID_DAYS_SINCE_KNOWN_FRAUD",
}


def _mark(features: tuple[Feature, ...]) -> tuple[Feature, ...]:
    return tuple(replace(f, nullable=f.name in _NULLABLE) for f in features)


PLATFORM_FEATURES: tuple[Feature, ...] = _mark(_platform())
# A user's snapshot row (the fraud_features table): the platform features and the takeover story.
USER_FEATURES: tuple[Feature, ...] = PLATFORM_FEATURES + TAKEOVER_FEATURES

# Columns ``asof_join`` / ``label_rows`` add (trust score columns keep their own names, prefixed).
TRAINING_COLUMNS: tuple[Feature, ...] = (
    Feature("trust_snapshot_age_hours", F64, "hours between the trust snapshot and the row"),
    Feature("label", I8, "a positive label for the user arrived in (at, at + horizon], by as_of"),
    Feature("label_complete", pl.Boolean, "the whole label horizon lies before as_of"),
)


def _handbook(days: tuple[int, ...] = (1, 7, 30)) -> tuple[Feature, ...]:
    out = [
        Feature("TX_DURING_WEEKEND", I8, "transaction on a Saturday or Sunday"),
        Feature("TX_DURING_NIGHT", I8, "transaction hour <= 6 (00:00-06:59)"),
    ]
    for n in days:
        out += [
            Feature(
                f"CUSTOMER_ID_NB_TX_{n}DAY_WINDOW",
                I64,
                f"customer's transactions in (t - {n}d, t], the current one included",
            ),
            Feature(
                f"CUSTOMER_ID_AVG_AMOUNT_{n}DAY_WINDOW",
                F64,
                f"customer's mean amount in (t - {n}d, t], the current one included",
            ),
        ]
    for n in days:
        out += [
            Feature(
                f"TERMINAL_ID_NB_TX_{n}DAY_WINDOW",
                I64,
                f"terminal's transactions in (t - {n}d - delay, t - delay]",
            ),
            Feature(
                f"TERMINAL_ID_RISK_{n}DAY_WINDOW",
                F64,
                f"terminal's fraud share in (t - {n}d - delay, t - delay]; 0 if empty",
            ),
        ]
    return tuple(out)


CARD_HANDBOOK_FEATURES: tuple[Feature, ...] = _handbook()
CARD_EXTRA_FEATURES: tuple[Feature, ...] = (
    Feature(
        "CUSTOMER_ID_AMOUNT_Z_7DAY_WINDOW",
        F64,
        "amount z-score against the customer's "
        "earlier transactions in the last 7d (>= 2 of them; std floored at 1 cent)",
    ),
    Feature(
        "CUSTOMER_ID_AMOUNT_Z_30DAY_WINDOW",
        F64,
        "amount z-score against the customer's earlier transactions in the last 30d",
    ),
    Feature(
        "CUSTOMER_ID_AMOUNT_Z_BASELINE",
        F64,
        "amount z-score against the customer's "
        "transactions in (t - 44d, t - 14d], before any 14-day compromise began",
    ),
    Feature(
        "CUSTOMER_ID_AMOUNT_RATIO_30DAY_WINDOW",
        F64,
        "amount / the customer's mean amount over earlier transactions in the last 30d",
    ),
    Feature(
        "CUSTOMER_ID_SECS_SINCE_PREV_TX",
        F64,
        "seconds since the customer's previous transaction; null for the first",
    ),
    Feature(
        "CUSTOMER_ID_NB_TERMINALS_7DAY_WINDOW",
        I64,
        "distinct terminals of the customer, (t - 7d, t]",
    ),
    Feature(
        "CUSTOMER_ID_NB_TERMINALS_30DAY_WINDOW",
        I64,
        "distinct terminals of the customer, (t - 30d, t]",
    ),
    Feature(
        "CUSTOMER_ID_NEW_TERMINAL_30DAY",
        I8,
        "the customer did not use this terminal in the previous 30 days",
    ),
    Feature(
        "TERMINAL_ID_RISK_14DAY_WINDOW",
        F64,
        "terminal's fraud share in (t - 14d - delay, t - delay]; 0 if empty",
    ),
    Feature(
        "TERMINAL_ID_RISK_60DAY_WINDOW",
        F64,
        "terminal's fraud share in (t - 60d - delay, t - delay]; 0 if empty",
    ),
    Feature(
        "CUSTOMER_ID_NB_FRAUD_30DAY_WINDOW",
        I64,
        "customer's known frauds in (t - 30d - delay, t - delay]",
    ),
    Feature(
        "TERMINAL_ID_DAYS_SINCE_KNOWN_FRAUD",
        F64,
        "days since the terminal's latest fraud known at t (at or before t - delay); null if none",
    ),
    Feature(
        "CUSTOMER_ID_DAYS_SINCE_KNOWN_FRAUD",
        F64,
        "days since the customer's latest fraud known at t; null if none",
    ),
)
CARD_EXTRA_FEATURES = _mark(CARD_EXTRA_FEATURES)
CARD_FEATURES: tuple[Feature, ...] = CARD_HANDBOOK_FEATURES + CARD_EXTRA_FEATURES
