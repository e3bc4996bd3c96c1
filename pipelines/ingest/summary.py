"""What is in the lake, in numbers and in one picture: for the demo and for a first look."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import duckdb
import matplotlib

matplotlib.use("Agg")  # files only: no screen needed
import matplotlib.pyplot as plt

# Which part of the product an event comes from, for the picture's colours.
DOMAINS = {
    "identity": "USER_REGISTERED USER_LOGGED_IN LOGIN_FAILED DEVICE_ADDED VERIFICATION_COMPLETED "
    "CREDENTIAL_CHANGED ACCOUNT_STATUS_CHANGED REVIEW_DECISION REVIEW_INFO_REQUESTED "
    "NOTIFICATION_PREFERENCE_CHANGED",
    "trust & social": "TRUST_CONNECTION_ADDED TRUST_CONNECTION_REMOVED USER_FOLLOWED "
    "USER_REPORTED USER_BLOCKED MESSAGE_SENT GROUP_CREATED GROUP_JOINED GROUP_JOIN_REJECTED "
    "GROUP_MEMBER_LEFT",
    "feed": "POST_CREATED POST_ENGAGED POST_EDITED",
    "marketplace": "LISTING_CREATED LISTING_SEARCHED ORDER_PLACED ORDER_STATUS_CHANGED "
    "REVIEW_POSTED "
    "DISPUTE_OPENED DISPUTE_RESOLVED",
    "payments": "PAYMENT_SUCCESS PAYMENT_FAILED CHARGEBACK_RECEIVED ESCROW_HELD ESCROW_RELEASED "
    "REFUND_ISSUED TRANSFER_SENT PAYOUT_REQUESTED PAYOUT_COMPLETED",
    "collaboration": "WORKSPACE_CREATED WORKSPACE_MEMBER_ADDED PROJECT_CREATED TASK_CREATED "
    "TASK_UPDATED FILE_ATTACHED",
}
_DOMAIN_OF = {t: domain for domain, types in DOMAINS.items() for t in types.split()}


def lake_summary(database: Path) -> dict[str, list[tuple]]:
    """Events by type, by day, by day and domain; quarantine by reason (from the views)."""
    with duckdb.connect(str(database), read_only=True) as con:
        by_day_type = con.execute(
            "SELECT event_date, event_type, count(*) FROM events GROUP BY ALL ORDER BY 1"
        ).fetchall()
        return {
            "by_type": con.execute(
                "SELECT event_type, count(*) AS n FROM events GROUP BY 1 ORDER BY n DESC"
            ).fetchall(),
            "by_day": con.execute(
                "SELECT event_date, count(*) AS n, count(DISTINCT actor_id) AS actors "
                "FROM events GROUP BY 1 ORDER BY 1"
            ).fetchall(),
            "by_day_domain": [(d, _DOMAIN_OF.get(t, "other"), n) for d, t, n in by_day_type],
            "quarantine": con.execute(
                "SELECT reason, coalesce(field, '') AS field, count(*) AS n "
                "FROM quarantine GROUP BY 1, 2 ORDER BY n DESC"
            ).fetchall(),
        }


def plot_summary(summary: dict[str, list[tuple]], path: Path, *, days: int = 30) -> Path:
    """Events per day by domain (the last ``days`` calendar days) and quarantine by reason."""
    last = max((d for d, _, _ in summary["by_day_domain"]), default=None)
    dates = [] if last is None else [last - timedelta(days=k) for k in range(days - 1, -1, -1)]
    fig, (left, right) = plt.subplots(1, 2, figsize=(14, 5), gridspec_kw={"width_ratios": [3, 2]})
    bottom = [0] * len(dates)
    for domain in DOMAINS:
        counts = dict.fromkeys(dates, 0)
        for d, dom, n in summary["by_day_domain"]:
            if dom == domain and d in counts:
                counts[d] += n
        heights = [counts[d] for d in dates]
        left.bar(range(len(dates)), heights, bottom=bottom, label=domain)
        bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    left.set_xticks(range(0, len(dates), max(1, len(dates) // 10)))
    left.set_xticklabels(
        [str(dates[i]) for i in range(0, len(dates), max(1, len(dates) // 10))],
        rotation=45,
        ha="right",
    )
    left.set_title("Events per day (by the day they happened)")
    left.legend(fontsize=8)
    reasons = summary["quarantine"][::-1]
    right.barh([f"{r} {f}".strip() for r, f, _ in reasons], [n for *_, n in reasons], color="C3")
    right.set_title(f"Quarantined lines by reason ({sum(n for *_, n in reasons):,})")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path
