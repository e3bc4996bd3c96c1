"""Takeover sequences: the story after a login from somewhere new, and nothing before it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl

from features.fraud.takeover import risky_logins, takeover_features
from features.lake import FLAT_SCHEMA

T0 = datetime(2026, 8, 1, tzinfo=UTC)
H = timedelta(hours=1)


def _events(rows: list[tuple[str, datetime, str, str | None, str | None]]) -> pl.DataFrame:
    """(event_type, at, user, device, country): the user is actor and subject."""
    frame = {name: [None] * len(rows) for name in FLAT_SCHEMA}
    for i, (kind, at, user, device, country) in enumerate(rows):
        frame["event_id"][i] = f"e{i}"
        frame["event_type"][i] = kind
        frame["at"][i] = at
        frame["actor_id"][i] = frame["subject_id"][i] = user
        frame["device_id"][i], frame["country"][i] = device, country
    return pl.DataFrame(frame, schema=FLAT_SCHEMA)


STORY = _events(
    [
        ("USER_LOGGED_IN", T0, "u", "d1", "FR"),
        ("USER_LOGGED_IN", T0 + 24 * H, "u", "d1", "FR"),
        ("LOGIN_FAILED", T0 + 47 * H, "u", "d9", "BR"),
        ("LOGIN_FAILED", T0 + 47.5 * H, "u", "d9", "BR"),
        ("USER_LOGGED_IN", T0 + 48 * H, "u", "d9", "BR"),  # the risky login
        ("CREDENTIAL_CHANGED", T0 + 49 * H, "u", "d9", "BR"),
        ("TRANSFER_SENT", T0 + 51 * H, "u", "d9", "BR"),
        ("USER_LOGGED_IN", T0, "v", "d2", "FR"),  # first login ever is never risky
    ]
)


def test_takeover_risky_login_is_new_device_or_country_after_the_first() -> None:
    found = risky_logins(STORY)
    assert found.rows() == [("u", T0 + 48 * H)]


def test_takeover_features_tell_the_story_as_of_each_time() -> None:
    queries = pl.DataFrame(
        {"user_id": ["u", "u", "v"], "at": [T0 + 52 * H, T0 + 48.5 * H, T0 + 52 * H]}
    )
    out = takeover_features(STORY, queries)
    later, early, other = out.rows(named=True)
    assert later == {
        "risky_login_hours_ago": 4.0,
        "risky_logins_n": 1.0,
        "takeover_story_steps": 3.0,
        "takeover_story_hours_ago": 4.0,
        "failed_logins_before_risky_login": 2.0,
        "credential_changes_after_risky_login": 1.0,
        "money_out_after_risky_login": 1.0,
        "risky_login_to_money_out_hours": 3.0,
        "money_out_from_new_device_n": 1.0,  # d9 was 4 hours old to the account
    }
    # Half an hour after the login: nothing that happened later is known yet.
    assert early["credential_changes_after_risky_login"] == 0.0
    assert early["money_out_after_risky_login"] == 0.0
    assert early["takeover_story_steps"] == 1.0
    assert early["risky_login_to_money_out_hours"] is None
    assert other.pop("money_out_from_new_device_n") == 0.0
    assert set(other.values()) == {None}
    assert early["money_out_from_new_device_n"] == 0.0  # the transfer comes later


def test_takeover_features_forget_a_login_past_the_lookback() -> None:
    out = takeover_features(
        STORY, pl.DataFrame({"user_id": ["u"], "at": [T0 + 48 * H + 61 * 24 * H]})
    )
    assert out["risky_login_hours_ago"][0] is None


def test_takeover_story_outlives_a_later_ordinary_new_device() -> None:
    later_phone = pl.concat(
        [STORY, _events([("USER_LOGGED_IN", T0 + 20 * 24 * H, "u", "d3", "FR")])]
    )
    out = takeover_features(
        later_phone, pl.DataFrame({"user_id": ["u"], "at": [T0 + 30 * 24 * H]})
    ).row(0, named=True)
    assert out["risky_logins_n"] == 2.0
    assert out["risky_login_hours_ago"] == 10 * 24.0  # the new phone is the latest
    assert out["takeover_story_steps"] == 3.0  # but the takeover is the story told
    assert out["takeover_story_hours_ago"] == 30 * 24.0 - 48.0


def test_takeover_money_from_a_device_weeks_old_is_not_new() -> None:
    out = takeover_features(
        STORY.with_columns(
            pl.when(pl.col("event_type") == "TRANSFER_SENT")
            .then(pl.col("at") + 15 * 24 * H)
            .otherwise(pl.col("at"))
            .alias("at")
        ),
        pl.DataFrame({"user_id": ["u"], "at": [T0 + 20 * 24 * H]}),
    )
    assert out["money_out_from_new_device_n"][0] == 0.0
