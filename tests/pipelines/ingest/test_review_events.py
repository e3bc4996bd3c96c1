"""The review service's events through the real outbox, landing and ingest: request_info's
REVIEW_INFO_REQUESTED reaches the lake (not the quarantine), and training reads verdicts only."""

from __future__ import annotations

from pathlib import Path

import polars as pl
from sqlalchemy.orm import Session, sessionmaker

from core_api.db.engine import make_engine, make_sessionmaker, upgrade
from core_api.services import review
from core_api.services.outbox import LandingSink, relay_pending
from features.fraud.training import observed_labels
from features.lake import read_flat
from pipelines.ingest import Lake, ingest_days, landing_partitions
from settings import Settings
from tests.core_api.services.review_helpers import T0, case, user


def test_request_info_lands_in_the_lake_and_is_no_label(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, database_url=None, redis_url=None, nats_url=None)
    engine = make_engine(settings)
    upgrade(engine)
    sessions: sessionmaker[Session] = make_sessionmaker(engine)
    analyst, asked, cleared = user(sessions, role="analyst"), user(sessions), user(sessions)
    asked_case, cleared_case = case(sessions, asked), case(sessions, cleared)
    with sessions() as db:
        for case_id, action, reason in (
            (asked_case, "request_info", "source_of_funds"),
            (cleared_case, "clear", "false_positive"),
        ):
            review.decide(db, case_id, analyst_id=analyst, action=action, reason=reason, now=T0)
    assert relay_pending(sessions, LandingSink(settings.landing)) >= 2
    engine.dispose()
    lake = Lake(settings.lake)
    (report,) = ingest_days(
        settings.landing, sorted(landing_partitions(settings.landing)), lake=lake
    )
    assert report.quarantined == 0 and report.balanced, report.by_reason
    events = read_flat(lake.events_dir)
    step = events.filter(events["event_type"] == "REVIEW_INFO_REQUESTED")
    assert step.select("subject_id", "actor_id", "reason_code", "decision").rows() == [
        (asked, analyst, "source_of_funds", None)
    ]
    raw = pl.read_parquet(lake.events_dir / "*" / "*.parquet")
    said = raw.filter(pl.col("event_type") == "REVIEW_INFO_REQUESTED")["payload"]
    assert said.struct.field("case_id").to_list() == [asked_case]
    labels = observed_labels(events)
    assert labels.select("user_id", "kind", "label").rows() == [(cleared, "review_cleared", 0)]
