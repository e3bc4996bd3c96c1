"""Subscription periods keep their anchor: months clamp to shorter months and come back."""

from __future__ import annotations

from datetime import UTC, datetime

from core_api.services.subscriptions import period_bound

JAN31 = datetime(2027, 1, 31, 9, 30, tzinfo=UTC)


def test_periods_count_from_the_anchor_and_clamp_month_ends() -> None:
    months = [period_bound(JAN31, "month", n=n).date().isoformat() for n in range(4)]
    assert months == ["2027-01-31", "2027-02-28", "2027-03-31", "2027-04-30"]
    assert period_bound(JAN31, "year", n=1) == datetime(2028, 1, 31, 9, 30, tzinfo=UTC)
    assert period_bound(datetime(2028, 2, 29, tzinfo=UTC), "year", n=1).day == 28
    assert period_bound(JAN31, "week", n=2) == datetime(2027, 2, 14, 9, 30, tzinfo=UTC)
    assert period_bound(datetime(2027, 12, 15, tzinfo=UTC), "month", n=1).year == 2028
