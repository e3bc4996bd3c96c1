"""``/review/api``: who may call it, and a confirm that denies the user's next transfer."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update

from core_api.db.admin import RoleGrant
from core_api.db.identity import AuthSession
from core_api.services import review
from tests.core_api.routers.helpers import events, last_code, signed_in
from tests.core_api.routers.money_helpers import fund, key, trusted

H = dict[str, str]
SOME_ID = str(uuid.uuid4())


def _grant(api: TestClient, user_id: str, role: str) -> None:
    with api.app.state.services.sessions() as s:
        s.add(RoleGrant(user_id=user_id, role=role))
        s.commit()


def _mfa(api: TestClient, account: dict[str, Any], headers: H) -> None:
    assert api.post("/identity/mfa/challenge", headers=headers).status_code == 202
    code = last_code(api, account["email"])
    assert api.post("/identity/mfa/verify", json={"code": code}, headers=headers).status_code == 200


def _calls(api: TestClient) -> list[tuple[str, str]]:
    out = []
    for path, operations in api.app.openapi()["paths"].items():
        if path.startswith("/review/api"):
            path = path.replace("{case_id}", SOME_ID).replace("{decision_id}", "1")
            out += [(method.upper(), path) for method in operations]
    return out


def test_every_review_route_refuses_non_analysts(any_api: TestClient) -> None:
    calls = _calls(any_api)
    assert len(calls) >= 8
    _, plain = signed_in(any_api)
    body = {"action": "clear", "reason": "x", "assignee_id": None}
    for method, path in calls:
        anonymous = any_api.request(method, path, json=body)
        assert anonymous.status_code == 401, (method, path)
        refused = any_api.request(method, path, json=body, headers=plain)
        assert refused.status_code == 403, (method, path, refused.text)
        assert refused.json()["detail"]["reason"] == "analyst_required"


def test_confirm_needs_mfa_and_denies_the_next_transfer(any_api: TestClient) -> None:
    fraudster, fh = trusted(any_api)
    friend, _ = trusted(any_api)
    fund(any_api, fh, "50")
    move = {"to_user_id": friend["id"], "amount": "5", "currency": "EUR"}
    assert (
        any_api.post("/payments/transfers", json=move, headers={**fh, **key()}).status_code == 201
    )
    analyst, ah = trusted(any_api)
    _grant(any_api, analyst["id"], "analyst")
    with any_api.app.state.services.sessions() as s:
        s.execute(update(AuthSession).values(mfa_at=None))  # the second factor is stale
        s.commit()
        flag = review.Flag(fraudster["id"], 0.8, "high", ("ring",), scored_at=review_now())
        assert review.sync_cases(s, flags=[flag]).opened == 1
    page = any_api.get("/review/api/cases", params={"q": fraudster["email"]}, headers=ah).json()
    (case,) = page["cases"]
    assert case["amount_at_stake"] == "45.0000" and case["reasons"] == ["ring"]
    assert any_api.post(f"/review/api/cases/{case['id']}/claim", headers=ah).status_code == 200
    decision = {"action": "confirm", "reason": "ring_member", "note": "shares 7 cards"}
    url = f"/review/api/cases/{case['id']}/decisions"
    needs = any_api.post(url, json=decision, headers=ah)
    assert (
        needs.status_code == 401
        and "insufficient_user_authentication" in needs.headers["www-authenticate"]
    )
    _mfa(any_api, analyst, ah)
    done = any_api.post(url, json=decision, headers=ah)
    assert done.status_code == 201, done.text
    denied = any_api.post("/payments/transfers", json=move, headers={**fh, **key()})
    assert (denied.status_code, denied.json()["detail"]["reason"]) == (403, "account_banned")
    verdict = json.loads(events(any_api, "REVIEW_DECISION")[-1].line)
    assert verdict["payload"]["decision"] == "confirmed_fraud"
    # the analyst cannot reverse (seniors only); the history shows the confirm
    reversal = any_api.post(
        f"/review/api/decisions/{done.json()['id']}/reversal", json={"reason": "x"}, headers=ah
    )
    assert reversal.status_code == 403
    history = any_api.get(f"/review/api/cases/{case['id']}/history", headers=ah).json()
    assert [h["action"] for h in history] == ["confirm"]
    assert any_api.get("/review/api/metrics", headers=ah).json()["share_confirmed"] == 1.0


def test_analyst_cannot_decide_their_own_case_and_bad_input_is_4xx(api: TestClient) -> None:
    analyst, ah = signed_in(api)
    _grant(api, analyst["id"], "analyst")
    with api.app.state.services.sessions() as s:
        flag = review.Flag(analyst["id"], 0.8, "high", ("ring",), scored_at=review_now())
        review.sync_cases(s, flags=[flag])
    (case,) = api.get("/review/api/cases", headers=ah).json()["cases"]
    url = f"/review/api/cases/{case['id']}/decisions"
    own = api.post(url, json={"action": "clear", "reason": "fine"}, headers=ah)
    assert (own.status_code, own.json()["detail"]["reason"]) == (403, "own_account")
    assert api.post(url, json={"action": "ban", "reason": "x"}, headers=ah).status_code == 422
    assert api.get("/review/api/cases", params={"cursor": "zz"}, headers=ah).status_code == 422
    assert api.get(f"/review/api/cases/{SOME_ID}", headers=ah).status_code == 404
    assert (
        api.post("/review/api/decisions/0/reversal", json={"reason": "x"}, headers=ah).status_code
        == 422
    )


def review_now() -> datetime:
    return datetime.now(UTC)


def test_a_ring_is_cleared_in_one_call(api: TestClient) -> None:
    analyst, ah = signed_in(api)
    _grant(api, analyst["id"], "analyst")
    members = [signed_in(api)[0]["id"] for _ in range(2)]
    with api.app.state.services.sessions() as s:
        flags = [review.Flag(m, 0.6, "high", ("ring",), scored_at=review_now()) for m in members]
        review.sync_cases(s, flags=flags)
    ids = [c["id"] for c in api.get("/review/api/cases", headers=ah).json()["cases"]]
    body = {"case_ids": ids, "action": "clear", "reason": "family_devices"}
    done = api.post("/review/api/decisions", json=body, headers=ah)
    assert done.status_code == 201 and {d["case_id"] for d in done.json()} == set(ids)
    assert api.post("/review/api/decisions", json=body, headers=ah).status_code == 409
    empty = api.post("/review/api/decisions", json={**body, "case_ids": []}, headers=ah)
    assert empty.status_code == 422


def test_an_admin_reinstating_lifts_the_override(
    api: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    admin, adm = trusted(api)
    monkeypatch.setattr(api.app.state.services.settings, "admin_emails", admin["email"])
    assert api.post("/admin/bootstrap", headers=adm).status_code == 201
    target, _ = signed_in(api)
    with api.app.state.services.sessions() as s:
        flag = review.Flag(target["id"], 0.9, "high", ("ring",), scored_at=review_now())
        review.sync_cases(s, flags=[flag])
    (case,) = api.get("/review/api/cases", headers=adm).json()["cases"]
    body = {"action": "confirm", "reason": "ring"}
    assert (
        api.post(f"/review/api/cases/{case['id']}/decisions", json=body, headers=adm).status_code
        == 201
    )
    decider = api.app.state.services.decider
    assert decider.decide(target["id"], "transfer").reasons[0] == "analyst_override"
    back = {"status": "active", "reason_code": "appeal_upheld"}
    assert (
        api.post(f"/admin/users/{target['id']}/status", json=back, headers=adm).status_code == 200
    )
    assert "analyst_override" not in decider.decide(target["id"], "transfer").reasons


def test_notes_are_added_and_listed_without_a_decision(any_api: TestClient) -> None:
    analyst, ah = signed_in(any_api)
    _grant(any_api, analyst["id"], "analyst")
    target, th = signed_in(any_api)
    with any_api.app.state.services.sessions() as s:
        flags = [
            review.Flag(who, 0.7, "high", ("ring",), scored_at=review_now())
            for who in (target["id"], analyst["id"])
        ]
        review.sync_cases(s, flags=flags)
    cases = any_api.get("/review/api/cases", headers=ah).json()["cases"]
    theirs = next(c["id"] for c in cases if c["user_id"] == target["id"])
    mine = next(c["id"] for c in cases if c["user_id"] == analyst["id"])
    url = f"/review/api/cases/{theirs}/notes"
    added = any_api.post(url, json={"body": "called the bank"}, headers=ah)
    assert added.status_code == 201, added.text
    assert added.json()["author_id"] == analyst["id"] and added.json()["body"] == "called the bank"
    any_api.post(url, json={"body": "no answer yet"}, headers=ah)
    listed = any_api.get(url, headers=ah).json()
    assert [n["body"] for n in listed] == ["called the bank", "no answer yet"]
    case = any_api.get(f"/review/api/cases/{theirs}", headers=ah).json()
    assert case["status"] == "open"  # a note decides nothing
    assert any_api.get(f"/review/api/cases/{theirs}/history", headers=ah).json() == []
    refused = {
        "own account": (f"/review/api/cases/{mine}/notes", {"body": "me"}, ah, 403),
        "not staff": (url, {"body": "hi"}, th, 403),
        "no case": (f"/review/api/cases/{SOME_ID}/notes", {"body": "hi"}, ah, 404),
        "blank": (url, {"body": "   "}, ah, 422),
        "too long": (url, {"body": "x" * 2001}, ah, 422),
        "a verdict smuggled in": (url, {"body": "x", "action": "confirm"}, ah, 422),
    }
    for said, (path, body, headers, expected) in refused.items():
        answer = any_api.post(path, json=body, headers=headers)
        assert answer.status_code == expected, (said, answer.text)
    assert any_api.get(f"/review/api/cases/{SOME_ID}/notes", headers=ah).status_code == 404
