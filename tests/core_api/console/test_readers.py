"""The case page's readers: linked accounts, the timeline, sightings, risk history, drawings."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
from fastapi.testclient import TestClient

from core_api.console import drawing, links, profile, warehouse
from core_api.db.identity import User
from pipelines.feature_store import FeatureStore
from tests.core_api.console.conftest import Platform


def test_linked_accounts_join_the_core_database_and_the_graph_snapshot(
    api: TestClient, platform: Platform
) -> None:
    settings = api.app.state.services.settings
    with api.app.state.services.sessions() as db:
        found = {
            link.user_id: link
            for link in links.linked_accounts(db, settings, user_id=platform.suspect["id"])
        }
    # Test clients share one address: the stranger is linked by IP only, never by device.
    assert set(found[platform.stranger["id"]].relations) == {"shared_ip"}
    twin = found[platform.device_twin["id"]]
    assert "shared_device" in twin.relations and twin.shares_evidence
    assert any("dev-shared" in said for said in twin.evidence)
    lake_twin = found[platform.lake_twin["id"]]
    assert {"shared_device", "money"} <= set(lake_twin.relations)
    assert "money" not in lake_twin.inbound  # the suspect sent it: the arrow points away


def test_the_timeline_pages_newest_first_without_gaps_or_repeats(
    api: TestClient, platform: Platform
) -> None:
    settings = api.app.state.services.settings
    user_id = platform.suspect["id"]
    seen: list[str] = []
    before = None
    with api.app.state.services.sessions() as db:
        while True:
            items, before = profile.timeline(db, settings, user_id=user_id, before=before, limit=2)
            seen += [i.key for i in items]
            times = [i.at for i in items]
            assert times == sorted(times, reverse=True)
            if before is None:
                break
    assert len(seen) == len(set(seen))
    with api.app.state.services.sessions() as db:
        everything, _ = profile.timeline(db, settings, user_id=user_id, limit=100)
    assert [i.key for i in everything] == seen
    sources = [i.source for i in everything]
    assert sources.count("lake") == 3  # two logins and the transfer
    assert "api" in sources  # registered and logged in through the API: not ingested yet


def test_sightings_say_devices_ips_and_countries(api: TestClient, platform: Platform) -> None:
    settings = api.app.state.services.settings
    seen = warehouse.sightings(settings, platform.suspect["id"])
    assert {(s.kind, s.value) for s in seen} >= {
        ("device", "dev-lake"),
        ("country", "DE"),
        ("country", "FR"),
        ("ip", "198.51.100.4"),
    }


def test_risk_history_has_one_point_per_snapshot(api: TestClient, platform: Platform) -> None:
    settings = api.app.state.services.settings
    history = warehouse.risk_history(settings, platform.suspect["id"])
    assert [round(p.risk, 2) for p in history] == [0.3, 0.45, 0.9]
    chart = drawing.risk_chart(history)
    assert chart is not None and len(chart.points) == 3
    assert chart.points[-1][1] < chart.points[0][1]  # higher risk is drawn higher up


def test_risk_history_prefers_the_models_own_table(api: TestClient, platform: Platform) -> None:
    settings = api.app.state.services.settings
    user_id = platform.suspect["id"]
    days = [datetime(2026, 11, d, tzinfo=UTC) for d in (1, 8, 15)]
    frame = pl.DataFrame(
        {
            "user_id": [user_id] * 3 + ["someone-else"],
            "at": [*days, days[0]],
            "fraud_risk": [0.05, 0.2, 0.7, 0.9],
            "band": ["low", "medium", "high", "high"],
        }
    )
    FeatureStore(settings.features).write("risk_history", days[-1].date(), frame=frame)
    history = warehouse.risk_history(settings, user_id)
    assert [(p.at, p.risk, p.band) for p in history] == [
        (days[0], 0.05, "low"),
        (days[1], 0.2, "medium"),
        (days[2], 0.7, "high"),
    ]


def test_readers_answer_nothing_before_any_pipeline_ran(api: TestClient) -> None:
    settings = api.app.state.services.settings
    assert warehouse.events(settings, "nobody") == []
    assert warehouse.risk_history(settings, "nobody") == []
    assert warehouse.graph_edges(settings, "nobody") == []
    assert drawing.risk_chart([]) is None


def test_the_graph_layout_is_deterministic_and_inside_the_picture(
    api: TestClient, platform: Platform
) -> None:
    settings = api.app.state.services.settings
    with api.app.state.services.sessions() as db:
        found = links.linked_accounts(db, settings, user_id=platform.suspect["id"])
        users = {u.id: u for u in db.query(User).all()}
    accounts = {
        uid: drawing.Account(uid, users[uid].email[:6], users[uid].status, 0.7, f"/x/{uid}")
        for uid in (link.user_id for link in found)
    }
    centre = drawing.Account(platform.suspect["id"], "me", "active", 0.9, "/x")
    first = drawing.layout(centre, found, accounts=accounts)
    assert first == drawing.layout(centre, found, accounts=accounts)
    assert all(0 < n.x < first.width and 0 < n.y < first.height for n in first.nodes)
    assert first.nodes[0].centre and first.nodes[0].fill == drawing.risk_colour(0.9)
    assert {e.relation for e in first.edges} >= {"shared_device", "money"}
    assert any(e.arrow for e in first.edges if e.relation == "money")


def test_layout_copies_match_their_homes() -> None:
    from features.platform_graph import store as graph_store
    from pipelines import feature_store
    from pipelines.ingest.lake import Lake

    assert Lake(__import__("pathlib").Path("/l")).events_dir.name == warehouse.EVENTS
    assert (
        Lake(__import__("pathlib").Path("/l"))
        .event_partition(datetime(2026, 1, 2, tzinfo=UTC).date())
        .name.startswith(warehouse.EVENT_PARTITION)
    )
    assert feature_store._PREFIX == warehouse.SNAPSHOT_PARTITION == graph_store._PREFIX
    path = feature_store.FeatureStore(__import__("pathlib").Path("/f")).partition(
        "t", datetime(2026, 1, 2).date()
    )
    assert path.parent.name == "t"
