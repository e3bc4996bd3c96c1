"""The console's pages over the review service: queue, claim, case page, decisions, metrics,
and that nobody but staff reaches any of them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import delete, select

from core_api.console.pages import auth as pages_auth
from core_api.console.pages import case as pages_case
from core_api.console.pages import metrics as pages_metrics
from core_api.console.pages import queue as pages_queue
from core_api.console.pages import user as pages_user
from core_api.console.web import PREFIX
from core_api.db.admin import RoleGrant
from core_api.db.identity import User
from core_api.db.outbox import OutboxRow
from core_api.services import review
from tests.core_api.console.conftest import Platform
from tests.core_api.console.helpers import account, csrf, sign_in
from tests.core_api.routers.helpers import last_code
from tests.core_api.routers.money_helpers import fund, key, trusted


def _flag(api: TestClient, user_id: str, risk: float) -> str:
    with api.app.state.services.sessions() as db:
        flag = review.Flag(
            user_id=user_id,
            risk=risk,
            band="high" if risk >= 0.5 else "medium",
            reasons=("7 accounts share this device", "3 transfers sent in the last hour"),
            scored_at=datetime.now(UTC),
        )
        review.sync_cases(db, flags=[flag])
        found = db.scalar(
            select(
                review.CaseView.__module__
                and __import__("core_api.db.review", fromlist=["ReviewCase"]).ReviewCase.id
            ).where(
                __import__("core_api.db.review", fromlist=["ReviewCase"]).ReviewCase.user_id
                == user_id
            )
        )
    assert found
    return found


@pytest.fixture
def analyst(api: TestClient) -> dict:
    made = account(api, role="analyst")
    assert sign_in(api, made["email"]).status_code == 303
    return made


def test_the_queue_lists_cases_riskiest_first_and_pages_by_keyset(
    api: TestClient, platform: Platform, analyst: dict
) -> None:
    _flag(api, platform.suspect["id"], 0.9)
    _flag(api, platform.lake_twin["id"], 0.6)
    page = api.get("/review/queue")
    assert page.status_code == 200
    assert page.text.index(platform.suspect["email"]) < page.text.index(platform.lake_twin["email"])
    assert "7 accounts share this device" in page.text
    by_age = api.get("/review/queue", params={"sort": "age", "band": "high"})
    assert by_age.status_code == 200
    searched = api.get("/review/queue", params={"q": platform.lake_twin["email"]})
    assert platform.suspect["email"] not in searched.text
    assert api.get("/review/queue", params={"sort": "nonsense"}).status_code == 422


def test_claiming_from_the_queue_answers_the_row(
    api: TestClient, platform: Platform, analyst: dict
) -> None:
    case_id = _flag(api, platform.suspect["id"], 0.9)
    headers = {"X-CSRF-Token": csrf(api), "HX-Request": "true"}
    row = api.post(f"/review/cases/{case_id}/claim", headers=headers)
    assert row.status_code == 200 and row.text.startswith(f'<tr id="case-{case_id}"')
    assert ">you<" in row.text and "claimed" in row.text
    other = account(api, role="analyst")
    sign_in(api, other["email"])
    again = api.post(
        f"/review/cases/{case_id}/claim", headers={**headers, "X-CSRF-Token": csrf(api)}
    )
    assert again.status_code == 409


def test_the_case_page_shows_the_user_the_graph_and_the_timeline(
    api: TestClient, platform: Platform, analyst: dict
) -> None:
    case_id = _flag(api, platform.suspect["id"], 0.9)
    _flag(api, platform.lake_twin["id"], 0.6)
    page = api.get(f"/review/cases/{case_id}")
    assert page.status_code == 200
    html = page.text
    assert platform.suspect["email"] in html
    assert 'id="linked-graph"' in html
    nodes = re.findall(r'<a href="/review/users/([0-9a-f-]+)" class="node', html)
    assert platform.device_twin["id"] in nodes and platform.lake_twin["id"] in nodes
    assert "Risk over past snapshots" in html
    assert "transfer sent" in html and "dev-lake" in html
    assert 'name="ring" value="' + platform.lake_twin["id"] in html  # shares a device, has a case
    click = api.get(f"/review/users/{platform.lake_twin['id']}", follow_redirects=False)
    assert click.status_code == 303 and click.headers["location"].startswith("/review/cases/")
    assert api.get(f"/review/users/{platform.stranger['id']}").status_code == 200  # user page
    # Older timeline pages are fragments of the same list, past a keyset.
    older = api.get(
        f"/review/cases/{case_id}/timeline",
        params={"before_at": "2026-11-20T09:30:00+00:00", "before_key": "z"},
        headers={"HX-Request": "true"},
    )
    assert older.status_code == 200 and older.text.count('<li class="ev lake"') == 3
    bad = api.get(f"/review/cases/{case_id}/timeline", params={"before_at": "soon"})
    assert bad.status_code == 422


def test_confirming_fraud_needs_a_fresh_code_then_bans_at_once(
    api: TestClient, platform: Platform, analyst: dict
) -> None:
    case_id = _flag(api, platform.suspect["id"], 0.9)
    token = csrf(api)
    form = {"csrf_token": token, "action": "confirm", "reason": "money_mule", "note": "ring"}
    refused = api.post(f"/review/cases/{case_id}/decide", data=form)
    assert refused.status_code == 403 and "second factor" in refused.text
    api.post("/review/mfa", headers={"X-CSRF-Token": token})
    code = last_code(api, analyst["email"])
    done = api.post(f"/review/cases/{case_id}/decide", data={**form, "code": code})
    assert done.status_code == 200 and "Decision recorded: confirm" in done.text
    with api.app.state.services.sessions() as db:
        assert db.get(User, platform.suspect["id"]).status == "banned"  # type: ignore[union-attr]
        kinds = db.scalars(select(OutboxRow.event_type)).all()
    assert "REVIEW_DECISION" in kinds


def test_a_ring_is_decided_from_one_case(
    api: TestClient, platform: Platform, analyst: dict
) -> None:
    case_id = _flag(api, platform.suspect["id"], 0.9)
    _flag(api, platform.lake_twin["id"], 0.6)
    form = {
        "csrf_token": csrf(api),
        "action": "escalate",
        "reason": "large_exposure",
        "ring": [platform.lake_twin["id"]],
    }
    assert api.post(f"/review/cases/{case_id}/decide", data=form).status_code == 200
    with api.app.state.services.sessions() as db:
        decided = review.history(db, analyst_id=analyst["id"], user_id=platform.lake_twin["id"])
    assert [d.action for d in decided] == ["escalate"]
    stranger = {**form, "ring": [platform.stranger["id"]]}  # shares only an IP, has no case
    assert api.post(f"/review/cases/{case_id}/decide", data=stranger).status_code == 422


def test_a_ring_is_decided_all_or_none(api: TestClient, platform: Platform, analyst: dict) -> None:
    case_id = _flag(api, platform.suspect["id"], 0.9)
    twin_case = _flag(api, platform.device_twin["id"], 0.5)
    with api.app.state.services.sessions() as db:
        other = account(api, role="analyst")
        review.claim(db, twin_case, analyst_id=other["id"])
    form = {
        "csrf_token": csrf(api),
        "action": "clear",
        "reason": "false_positive",
        "ring": [platform.device_twin["id"]],
    }
    assert api.post(f"/review/cases/{case_id}/decide", data=form).status_code == 409
    with api.app.state.services.sessions() as db:
        assert review.history(db, analyst_id=analyst["id"], case_id=case_id) == ()


def test_an_analyst_cannot_decide_their_own_case(api: TestClient, analyst: dict) -> None:
    case_id = _flag(api, analyst["id"], 0.7)
    form = {"csrf_token": csrf(api), "action": "clear", "reason": "false_positive"}
    assert api.post(f"/review/cases/{case_id}/decide", data=form).status_code == 403


def test_the_metrics_page_counts_the_queue(
    api: TestClient, platform: Platform, analyst: dict
) -> None:
    _flag(api, platform.suspect["id"], 0.9)
    page = api.get("/review/metrics")
    assert page.status_code == 200 and 'id="m-open">1<' in page.text


def _console_routes() -> list[tuple[str, str]]:
    found = []
    for module in (pages_auth, pages_queue, pages_case, pages_user, pages_metrics):
        for route in module.router.routes:
            assert isinstance(route, APIRoute)
            found += [(m, f"{PREFIX}{route.path}") for m in sorted(route.methods)]
    return found


def _filled(path: str) -> str:
    ids = {
        "case_id": "00000000-0000-4000-8000-000000000001",
        "user_id": "00000000-0000-4000-8000-000000000002",
        "decision_id": "1",
    }
    return re.sub(r"\{(\w+)\}", lambda m: ids[m.group(1)], path)


def test_no_console_route_answers_anyone_but_staff(api: TestClient) -> None:
    routes = [(m, p) for m, p in _console_routes() if not p.startswith("/review/login")]
    assert len(routes) >= 10
    # Strangers: pages send them to the login form, forms are refused.
    for method, path in routes:
        answer = api.request(method, _filled(path), follow_redirects=False)
        if method == "GET":
            assert answer.status_code == 303, (method, path)
            assert answer.headers["location"].startswith("/review/login")
        else:
            assert answer.status_code == 403, (method, path, answer.status_code)
    # A user without a staff role gets no console session at all ...
    user = account(api, role=None)
    assert sign_in(api, user["email"]).status_code == 403
    # ... and an analyst whose role is revoked loses the session they had, on every route.
    former = account(api, role="analyst")
    assert sign_in(api, former["email"]).status_code == 303
    token = csrf(api)
    with api.app.state.services.sessions() as db:
        db.execute(delete(RoleGrant).where(RoleGrant.user_id == former["id"]))
        db.commit()
    for method, path in routes:
        answer = api.request(
            method, _filled(path), headers={"X-CSRF-Token": token}, follow_redirects=False
        )
        assert answer.status_code == 403, (method, path, answer.status_code)


def test_a_senior_analyst_reverses_a_decision_from_the_case_page(
    api: TestClient, platform: Platform, analyst: dict
) -> None:
    case_id = _flag(api, platform.suspect["id"], 0.9)
    form = {"csrf_token": csrf(api), "action": "clear", "reason": "false_positive"}
    assert api.post(f"/review/cases/{case_id}/decide", data=form).status_code == 200
    with api.app.state.services.sessions() as db:
        (decision,) = review.history(db, analyst_id=analyst["id"], case_id=case_id)
    assert "/reverse" not in api.get(f"/review/cases/{case_id}").text  # analysts cannot
    body = {"csrf_token": csrf(api), "reason": "new_evidence"}
    assert api.post(f"/review/decisions/{decision.id}/reverse", data=body).status_code == 403
    senior = account(api, role="senior_analyst")
    sign_in(api, senior["email"])
    page = api.get(f"/review/cases/{case_id}")
    assert f"/review/decisions/{decision.id}/reverse" in page.text
    body = {"csrf_token": csrf(api), "reason": "Cleared too early!"}
    assert api.post(f"/review/decisions/{decision.id}/reverse", data=body).status_code == 422
    body = {"csrf_token": csrf(api), "reason": "new_evidence", "note": "a chargeback came in"}
    done = api.post(f"/review/decisions/{decision.id}/reverse", data=body)
    assert done.status_code == 200 and "Decision recorded: reverse" in done.text
    assert "reversed" in done.text


def test_a_case_is_handed_to_another_analyst_and_released(
    api: TestClient, platform: Platform, analyst: dict
) -> None:
    case_id = _flag(api, platform.suspect["id"], 0.9)
    colleague = account(api, role="analyst")
    token = csrf(api)
    done = api.post(
        f"/review/cases/{case_id}/assign", data={"csrf_token": token, "assignee": colleague["id"]}
    )
    assert done.status_code == 200 and f"Assigned to <strong>{colleague['email']}" in done.text
    mine = api.get("/review/queue", params={"assignee": colleague["id"]})
    assert platform.suspect["email"] in mine.text
    released = api.post(f"/review/cases/{case_id}/assign", data={"csrf_token": token})
    assert "Nobody works this case yet" in released.text
    bad = {"csrf_token": token, "assignee": "not-a-uuid"}
    assert api.post(f"/review/cases/{case_id}/assign", data=bad).status_code == 422
    stranger = {"csrf_token": token, "assignee": platform.stranger["id"]}  # not staff
    assert api.post(f"/review/cases/{case_id}/assign", data=stranger).status_code == 422


def test_the_case_page_reads_links_on_each_database(any_api: TestClient) -> None:
    """Shared devices, money and trust read through the same queries on SQLite and PostgreSQL."""
    suspect, s_headers = trusted(any_api)
    mule, m_headers = trusted(any_api)
    fund(any_api, s_headers, "50")
    sent = any_api.post(
        "/payments/transfers",
        json={"to_user_id": mule["id"], "amount": "20", "currency": "EUR"},
        headers={**s_headers, **key()},
    )
    assert sent.status_code == 201, sent.text
    vouch = {"user_id": suspect["id"], "edge_type": "friend", "weight": 0.9}
    assert any_api.put("/identity/trust/connect", json=vouch, headers=m_headers).status_code in (
        200,
        201,
    )
    case_id = _flag(any_api, suspect["id"], 0.8)
    analyst = account(any_api, role="analyst")
    assert sign_in(any_api, analyst["email"]).status_code == 303
    page = any_api.get(f"/review/cases/{case_id}")
    assert page.status_code == 200
    assert f'data-user="{mule["id"]}"' in page.text
    assert "1 transfers, sent 20.00 EUR" in page.text and "friend 0.9" in page.text
    assert any_api.get("/review/queue", params={"sort": "amount"}).status_code == 200
    assert any_api.get("/review/metrics").status_code == 200


def test_a_note_is_added_without_a_decision_and_listed_with_them(
    api: TestClient, platform: Platform, analyst: dict
) -> None:
    case_id = _flag(api, platform.suspect["id"], 0.9)
    page = api.get(f"/review/cases/{case_id}")
    assert f'action="/review/cases/{case_id}/notes"' in page.text
    url = f"/review/cases/{case_id}/notes"
    assert api.post(url, data={"body": "no token"}).status_code == 403  # CSRF-less: refused
    token = csrf(api)
    done = api.post(url, data={"csrf_token": token, "body": "phoned: <b>no answer</b>"})
    assert done.status_code == 200 and "Note added." in done.text
    assert "phoned: &lt;b&gt;no answer&lt;/b&gt;" in done.text  # escaped
    assert 'id="case-status">open<' in done.text  # a note decides nothing
    form = {"csrf_token": token, "action": "escalate", "reason": "large_exposure"}
    assert api.post(f"/review/cases/{case_id}/decide", data=form).status_code == 200
    api.post(url, data={"csrf_token": token, "body": "senior asked for bank records"})
    html = api.get(f"/review/cases/{case_id}").text
    section = html[html.index('id="notes"') : html.index('id="timeline"')]
    order = [section.index(s) for s in ("phoned", "<strong>escalate</strong>", "bank records")]
    assert order == sorted(order)  # oldest first, notes and decisions in one list
    assert api.post(url, data={"csrf_token": token, "body": "  "}).status_code == 422
    with api.app.state.services.sessions() as db:
        assert len(review.notes(db, analyst_id=analyst["id"], case_id=case_id)) == 2


def test_a_linked_user_without_a_case_has_a_read_only_page_and_a_case_can_be_opened(
    api: TestClient, platform: Platform, analyst: dict
) -> None:
    lake_twin = platform.lake_twin["id"]  # no case: scores, lake events and links only
    page = api.get(f"/review/users/{lake_twin}", follow_redirects=False)
    assert page.status_code == 200
    html = page.text
    assert platform.lake_twin["email"] in html and "no case · read-only" in html
    assert 'id="linked-graph"' in html and f'data-user="{platform.suspect["id"]}"' in html
    assert "Risk over past snapshots" in html and "7 accounts share this device" in html
    assert "dev-lake" in html  # the lake's timeline and sightings
    assert 'name="action"' not in html  # nothing to decide before a case exists
    url = f"/review/users/{lake_twin}/cases"
    assert f'action="{url}"' in html
    assert api.post(url, data={"note": "no token"}).status_code == 403  # CSRF-less: refused
    older = api.get(
        f"/review/users/{lake_twin}/timeline",
        params={"before_at": "2026-11-21T00:00:00+00:00", "before_key": "z"},
        headers={"HX-Request": "true"},
    )
    assert older.status_code == 200 and 'class="ev lake"' in older.text
    token = csrf(api)
    opened = api.post(url, data={"csrf_token": token, "note": "sends money to the suspect"})
    assert opened.status_code == 200 and "Case opened: it is yours to decide." in opened.text
    assert "sends money to the suspect" in opened.text and 'name="action"' in opened.text
    click = api.get(f"/review/users/{lake_twin}", follow_redirects=False)
    assert click.status_code == 303 and click.headers["location"].startswith("/review/cases/")
    case_id = click.headers["location"].rsplit("/", 1)[1]
    form = {"csrf_token": token, "action": "clear", "reason": "legitimate_activity"}
    assert api.post(f"/review/cases/{case_id}/decide", data=form).status_code == 200
    with api.app.state.services.sessions() as db:
        (done,) = review.history(db, analyst_id=analyst["id"], user_id=lake_twin)
    assert (done.action, done.case_id) == ("clear", case_id)
    decided = api.get(f"/review/cases/{case_id}").text
    assert f'action="{url}"' in decided and "Open a new case" in decided
    assert api.post(url, data={"csrf_token": token}).status_code == 200  # decided: open anew
    assert "This user has an open case (analyst)" in api.get(f"/review/cases/{case_id}").text
    assert api.post(url, data={"csrf_token": token}).status_code == 409  # one is open now
    missing = "00000000-0000-4000-8000-00000000beef"
    assert api.get(f"/review/users/{missing}").status_code == 404
    own = api.get(f"/review/users/{analyst['id']}")
    assert own.status_code == 200 and "your own account" in own.text
    assert (
        api.post(f"/review/users/{analyst['id']}/cases", data={"csrf_token": token}).status_code
        == 403
    )
