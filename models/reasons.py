"""Top reasons in words: the features that pushed a user's risk up most, said the way an analyst
would say them ("7 accounts share this device"), from the model's per-feature contributions."""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import numpy as np
import polars as pl

Say = Callable[[float], str]
_WINDOW = {
    "1h": "in the last hour",
    "24h": "in the last 24 hours",
    "7d": "in the last 7 days",
    "30d": "in the last 30 days",
    "ever": "so far",
}
_FACTS = {
    "orders": "orders placed",
    "payments": "payments",
    "failed_payments": "failed payments",
    "transfers_out": "transfers sent",
    "transfers_in": "transfers received",
    "payouts": "payouts requested",
    "escrow_in": "escrow releases as seller",
    "logins": "logins",
    "failed_logins": "failed logins",
    "failed_subscription_charges": "failed subscription charges",
    "chargebacks": "chargebacks",
    "chargebacks_as_seller": "chargebacks as seller",
    "disputes_opened": "disputes opened",
    "disputes_received": "disputes against the user",
    "disputes_lost": "disputes lost",
    "reports_received": "reports against the user",
    "blocks_received": "blocks by other users",
    "fraud_confirmed": "confirmed-fraud decisions",
    "fraud_cleared": "cleared reviews",
    "sales": "sales",
    "sales_paid": "paid sales",
    "sales_shipped": "shipped sales",
    "listings": "listings",
    "listings_underpriced": "listings under half the category median",
    "devices": "devices",
    "ips": "IP addresses",
    "countries": "countries",
    "fan_in_senders": "different senders of money",
}


def _minutes(seconds: float) -> str:
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h" if seconds < 86400 else f"{seconds / 86400:.1f} days"


# Exact phrasings for the signals analysts ask about most.
PHRASES: dict[str, Say] = {
    "users_per_device_ever": lambda v: f"{v:.0f} accounts share this device",
    "users_per_device_30d": lambda v: f"{v:.0f} accounts used this device in 30 days",
    "users_per_ip_ever": lambda v: f"{v:.0f} accounts share this IP address",
    "users_per_ip_30d": lambda v: f"{v:.0f} accounts used this IP in 30 days",
    "new_device": lambda v: "acting from a device never seen before" if v else "known device",
    "new_country": lambda v: "acting from a new country" if v else "usual country",
    "new_ip": lambda v: "acting from a new IP address" if v else "known IP address",
    "account_age_days": lambda v: f"account is {v:.0f} days old",
    "device_age_hours": lambda v: f"device first seen {_minutes(v * 3600)} ago",
    "country_age_hours": lambda v: f"country first seen {_minutes(v * 3600)} ago",
    "last_money_in_to_out_secs": lambda v: f"money moved out {_minutes(v)} after it came in",
    "secs_since_money_in": lambda v: f"last money in {_minutes(v)} ago",
    "pass_through_ratio_7d": lambda v: f"{v:.0%} of money received in 7 days was sent on",
    "failed_payment_ratio_24h": lambda v: f"{v:.0%} of payments failed in the last 24 hours",
    "failed_payment_ratio_30d": lambda v: f"{v:.0%} of payments failed in 30 days",
    "fulfilment_rate": lambda v: f"ships {v:.0%} of paid orders",
    "seller_dispute_rate": lambda v: f"disputes on {v:.0%} of sales",
    "listing_price_ratio_mean": lambda v: f"listings at {v:.0%} of the category median price",
    "amount_ratio_30d": lambda v: f"amount {v:.1f}x the user's 30-day average",
    "account_restricted": lambda v: "account currently restricted" if v else "account active",
    "trust_trust": lambda v: f"low trust score ({v:.2f})",
    "trust_graph_risk": lambda v: f"in a dense ring of shared devices/IPs (graph risk {v:.2f})",
    "verified_phone": lambda v: "phone verified" if v else "phone not verified",
    "verified_id": lambda v: "identity verified" if v else "identity not verified",
    "verified_email": lambda v: "e-mail verified" if v else "e-mail not verified",
    "risky_login_hours_ago": lambda v: (
        f"login from a new device or country {_minutes(v * 3600)} ago"
    ),
    "anomaly_percentile": lambda v: f"behaves unlike {v:.0%} of accounts",
    "risky_logins_n": lambda v: f"{v:.0f} logins from new devices or countries in 60 days",
    "takeover_story_steps": lambda v: (
        f"{v:.0f} of 3 takeover steps (failed logins, changed credentials, money out) "
        "around a login from a new device or country"
    ),
    "takeover_story_hours_ago": lambda v: f"that login was {_minutes(v * 3600)} ago",
    "failed_logins_before_risky_login": lambda v: f"{v:.0f} failed logins just before that login",
    "credential_changes_after_risky_login": lambda v: (
        f"{v:.0f} credential changes within 6 hours of that login"
    ),
    "money_out_after_risky_login": lambda v: f"{v:.0f} transfers or payouts within a day of it",
    "risky_login_to_money_out_hours": lambda v: f"money out {_minutes(v * 3600)} after that login",
    "money_out_from_new_device_n": lambda v: (
        f"{v:.0f} transfers or payouts from a device new to the account"
    ),
    "trust_ring_device_density": lambda v: f"in a dense block of shared devices ({v:.2f})",
    "trust_ring_ip_density": lambda v: f"in a dense block of shared IP addresses ({v:.2f})",
    "trust_ring_device_ip_density": lambda v: f"in a dense device+IP block ({v:.2f})",
    "trust_flagged_neighbours": lambda v: f"{v:.0f} linked accounts banned for fraud",
    "trust_shared_flagged_neighbours": lambda v: f"{v:.0f} banned accounts share a device or IP",
    "trust_negative_in_share": lambda v: f"{v:.0%} of links to the user are reports or blocks",
    "trust_in_report": lambda v: f"reported by {v:.0f} users",
    "trust_in_block": lambda v: f"blocked by {v:.0f} users",
    "trust_component_burst_share": lambda v: f"{v:.0%} of linked accounts signed up in one burst",
    "trust_community_burst_share": lambda v: f"{v:.0%} of the community signed up in one burst",
    "trust_in_money": lambda v: f"money from {v:.0f} linked accounts",
    "trust_out_degree": lambda v: f"{v:.0f} follows, connections and ratings given",
    "trust_in_degree": lambda v: f"{v:.0f} follows, connections and ratings received",
    "trust_out_follow": lambda v: f"follows {v:.0f} accounts",
    "trust_negative_received": lambda v: f"{v:.0f} reports and blocks received",
    "trust_engine_trust": lambda v: f"little trust from endorsements ({v:.2f})",
}
_COUNT = re.compile(r"^(?P<fact>.+?)(_(?P<kind>n|amount))?_(?P<window>1h|24h|7d|30d|ever)$")


# Neighbours' features (features.platform_graph.aggregates): nb_{group}_count and
# nb_{group}_{mean|max}_{column}, said through the column's own phrase.
_NEIGHBOURS = re.compile(r"^nb_(?P<group>[a-z]+)_(?:count|(?P<stat>mean|max)_(?P<column>\w+))$")
_LINKED = {
    "shared": "accounts sharing a device or IP",
    "money": "accounts exchanging money with the user",
    "social": "connected accounts",
}


def _neighbours(group: str, stat: str | None, column: str | None, value: float) -> str:
    linked = _LINKED.get(group, f"{group} neighbours")
    if stat is None or column is None:
        return f"{value:.0f} {linked}"
    said = phrase(column, value)
    return f"one of the {linked}: {said}" if stat == "max" else f"{linked}, on average: {said}"


def phrase(feature: str, value: float | None) -> str:
    """One feature's value in words."""
    if value is None or math.isnan(value):  # ints and numpy scalars too
        return f"{feature.replace('_', ' ')} unknown"
    if feature in PHRASES:
        return PHRASES[feature](value)
    if m := _NEIGHBOURS.match(feature):
        return _neighbours(m["group"], m["stat"], m["column"], value)
    if m := _COUNT.match(feature):
        fact = _FACTS.get(m["fact"], m["fact"].replace("_", " "))
        when = _WINDOW[m["window"]]
        return (
            f"{value:.0f} {fact} {when}"
            if m["kind"] != "amount"
            else f"{value:,.2f} in {fact} {when}"
        )
    return f"{feature.replace('_', ' ')} = {value:.3g}"


Sides = list[tuple[float, float]]  # per feature: (median, sign of its push on the risk)


def risky_sides(contributions: np.ndarray, values: pl.DataFrame, *, features: list[str]) -> Sides:
    """The sides of a reference batch, for :func:`top_reasons` over other batches (a shard of
    the users says what the whole population's reference says, not what its own slice says)."""
    contributions = np.asarray(contributions)[:, : len(features)]
    return _risky_side(
        contributions, [values.get_column(f).cast(pl.Float64).to_numpy() for f in features]
    )


def _risky_side(contributions: np.ndarray, cols: list[np.ndarray]) -> Sides:
    """Per feature, its median over the batch and the sign of its values' correlation with its
    contributions: which side of the median raises the risk."""
    out = []
    for j, col in enumerate(cols):
        x = np.asarray(col, dtype=np.float64)
        ok = ~np.isnan(x)
        if ok.sum() < 3 or np.ptp(x[ok]) == 0:
            out.append((np.nan, 0.0))
            continue
        c = contributions[ok, j]
        corr = np.corrcoef(x[ok], c)[0, 1] if np.ptp(c) > 0 else 0.0
        out.append((float(np.median(x[ok])), float(np.sign(np.nan_to_num(corr)))))
    return out


def top_reasons(
    contributions: np.ndarray,
    values: pl.DataFrame,
    *,
    features: list[str],
    k: int = 3,
    sides: Sides | None = None,
) -> list[list[str]]:
    """Per row, the ``k`` features that raised the risk most (positive contributions), in words.

    ``contributions``: rows x features (a trailing bias column is ignored), from the model. Over
    a batch, a feature is said only when the row's value sits on the side of the batch median
    that raises the risk (a tree's interactions can credit "1 account shares this device" with a
    push up; an analyst would not call that a reason). A batch of one says every push up.
    ``sides`` (:func:`risky_sides` of a reference batch) replace the batch's own.
    """
    contributions = np.asarray(contributions)[:, : len(features)]
    cols = [values.get_column(f).cast(pl.Float64).to_numpy() for f in features]
    if sides is None and len(values) >= 3:
        sides = _risky_side(contributions, cols)
    order = np.argsort(-contributions, axis=1)
    out = []
    for i, row in enumerate(order):
        said: list[str] = []
        for j in row:
            if contributions[i, j] <= 0 or len(said) == k:
                break
            value = cols[j][i]
            if sides is not None:
                median, sign = sides[j]
                if np.isnan(value) or sign == 0 or (value - median) * sign <= 0:
                    continue
            said.append(phrase(features[j], None if np.isnan(value) else float(value)))
        out.append(said)
    return out
