"""The notification list, read marks and preferences over HTTP, fed by real orders, messages
and payouts, on both databases."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from core_api.db.admin import RoleGrant
from core_api.db.identity import DevMessage, User
from tests.core_api.routers.helpers import events, signed_in
from tests.core_api.routers.money_helpers import fund, key, trusted

LISTING = {
    "title": "Lamp",
    "category": "home",
    "price": "12.50",
    "currency": "EUR",
    "quantity": 3,
    "item_condition": "used",
    "lat": 48.85,
    "lon": 2.35,
}


def _page(api: TestClient, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    got = api.get("/notifications", params=params, headers=headers)
    assert got.status_code == 200, got.text
    return got.json()


def _mail(api: TestClient, recipient: str) -> list[DevMessage]:
    with api.app.state.services.sessions() as s:
        query = select(DevMessage).where(DevMessage.recipient == recipient)
        return list(s.scalars(query.order_by(DevMessage.id)))


def test_order_steps_notify_the_other_party_and_mail_them(any_api: TestClient) -> None:
    seller, s_headers = trusted(any_api)
    buyer, b_headers = trusted(any_api)
    listing = any_api.post("/marketplace/listings", json=LISTING, headers=s_headers).json()
    fund(any_api, b_headers, "50")
    body = {"listing_id": listing["id"], "quantity": 1}
    order = any_api.post("/marketplace/orders", json=body, headers=b_headers).json()
    url = f"/marketplace/orders/{order['id']}"
    assert any_api.post(f"{url}/pay", headers={**b_headers, **key()}).status_code == 200
    assert any_api.post(f"{url}/ship", headers=s_headers).status_code == 200
    # An illegal step rolls back, and leaves no notice behind.
    assert any_api.post(f"{url}/ship", headers=s_headers).status_code == 409
    seller_page = _page(any_api, s_headers)
    assert [n["title"] for n in seller_page["items"]] == ["Order paid", "New order"]
    assert {n["subject_id"] for n in seller_page["items"]} == {order["id"]}
    assert seller_page["unread"] == 2
    assert [n["title"] for n in _page(any_api, b_headers)["items"]] == ["Order shipped"]
    sent = [m.body for m in _mail(any_api, buyer["email"]) if "Order" in m.body]
    assert sent == [f"Order shipped\n\nOrder {order['id'][:8]} (12.5 EUR) is shipped."]
    assert seller["id"] != buyer["id"]


def test_paging_read_marks_and_others_answer_404(any_api: TestClient) -> None:
    a, ha = signed_in(any_api)
    _b, hb = signed_in(any_api)
    made = any_api.post("/social/conversations", json={"participant_ids": [a["id"]]}, headers=hb)
    conversation = made.json()["id"]
    # Three conversations' worth of notices for a: messages in one conversation coalesce.
    others = [signed_in(any_api)[1] for _ in range(4)]
    for headers in others:
        c = any_api.post(
            "/social/conversations", json={"participant_ids": [a["id"]]}, headers=headers
        )
        url = f"/social/conversations/{c.json()['id']}/messages"
        assert any_api.post(url, json={"body": "hi"}, headers=headers).status_code == 201
    url = f"/social/conversations/{conversation}/messages"
    for text in ("one", "two"):
        assert any_api.post(url, json={"body": text}, headers=hb).status_code == 201
    first = _page(any_api, ha, limit=2)
    assert first["unread"] == 5 and len(first["items"]) == 2 and first["next_before"]
    assert first["items"][0]["subject_id"] == conversation and first["items"][0]["count"] == 2
    second = _page(any_api, ha, limit=2, before=first["next_before"])
    third = _page(any_api, ha, limit=2, before=second["next_before"])
    assert third["next_before"] is None
    seen = [n["id"] for page in (first, second, third) for n in page["items"]]
    assert len(seen) == len(set(seen)) == 5
    mine = seen[0]
    # b cannot read, mark, or page from a's notification: it does not exist for them.
    stranger = [
        any_api.get(f"/notifications/{mine}", headers=hb),
        any_api.post(f"/notifications/{mine}/read", headers=hb),
        any_api.get("/notifications", params={"before": mine}, headers=hb),
        any_api.get(f"/notifications/{uuid.uuid4()}", headers=ha),
    ]
    assert [r.status_code for r in stranger] == [404, 404, 404, 404]
    assert any_api.get(f"/notifications/{mine}", headers=ha).json()["read_at"] is None
    read = any_api.post(f"/notifications/{mine}/read", headers=ha).json()
    assert read["read_at"] is not None
    assert any_api.get("/notifications/unread", headers=ha).json() == {"unread": 4}
    assert len(_page(any_api, ha, unread_only=True)["items"]) == 4
    assert any_api.post("/notifications/read-all", headers=ha).json() == {"marked": 4}
    assert any_api.get("/notifications/unread", headers=ha).json() == {"unread": 0}
    # A read conversation notice is not reopened: the next message makes a new line.
    assert any_api.post(url, json={"body": "three"}, headers=hb).status_code == 201
    assert _page(any_api, ha)["unread"] == 1 and len(_page(any_api, ha)["items"]) == 6


def test_preferences_choose_the_channels_and_emit_a_change(any_api: TestClient) -> None:
    me, headers = trusted(any_api)
    with any_api.app.state.services.sessions() as s:
        user = s.get(User, me["id"])
        user.phone, user.phone_verified_at = "+33600000001", datetime.now(UTC)
        s.commit()
    prefs = any_api.get("/notifications/preferences", headers=headers).json()
    payout = next(p for p in prefs if p["kind"] == "payout")
    assert payout == {
        "kind": "payout",
        "in_app": True,
        "email": True,
        "sms": True,
        "customised": False,
    }
    fund(any_api, headers, "30")
    out = {"amount": "5", "currency": "EUR", "destination_id": "ba_1"}
    assert (
        any_api.post("/payments/payouts", json=out, headers={**headers, **key()}).status_code == 201
    )
    sms = _mail(any_api, "+33600000001")
    assert [m.channel for m in sms] == ["sms"] and sms[0].body.startswith("Payout sent\n\n5 EUR")
    # The owner turns SMS and e-mail off: the next payout is told in the app only.
    quiet = {"in_app": True, "email": False, "sms": False}
    changed = any_api.put("/notifications/preferences/payout", json=quiet, headers=headers)
    assert changed.status_code == 200 and changed.json()["customised"] is True
    again = any_api.put("/notifications/preferences/payout", json=quiet, headers=headers)
    assert again.status_code == 200
    (event,) = [json.loads(e.line) for e in events(any_api, "NOTIFICATION_PREFERENCE_CHANGED")]
    assert event["payload"] == {
        "notification_kind": "payout",
        "in_app_enabled": True,
        "email_enabled": False,
        "sms_enabled": False,
    }
    assert event["subject_id"] == event["actor_id"] == me["id"]
    mails = len(_mail(any_api, me["email"]))
    assert (
        any_api.post("/payments/payouts", json=out, headers={**headers, **key()}).status_code == 201
    )
    assert len(_mail(any_api, "+33600000001")) == 1 and len(_mail(any_api, me["email"])) == mails
    assert [n["title"] for n in _page(any_api, headers)["items"]] == ["Payout sent"] * 2
    # Account decisions always show in the app; an unknown kind is refused.
    required = {"in_app": False, "email": True, "sms": False}
    refused = any_api.put(
        "/notifications/preferences/review_decision", json=required, headers=headers
    )
    assert refused.status_code == 422
    unknown = any_api.put("/notifications/preferences/weather", json=quiet, headers=headers)
    assert unknown.status_code == 422


def test_a_failed_payout_leaves_no_notice(any_api: TestClient) -> None:
    _me, headers = trusted(any_api)
    out = {"amount": "5", "currency": "EUR", "destination_id": "ba_1"}
    refused = any_api.post("/payments/payouts", json=out, headers={**headers, **key()})
    assert refused.status_code == 409  # nothing in the wallet
    assert _page(any_api, headers) == {"items": [], "next_before": None, "unread": 0}
    assert any_api.get("/notifications").status_code == 401


def test_a_suspended_user_reads_why_but_changes_nothing(any_api: TestClient) -> None:
    admin, ah = signed_in(any_api)
    user, uh = signed_in(any_api)
    with any_api.app.state.services.sessions() as s:
        s.add(RoleGrant(user_id=admin["id"], role="admin", granted_by=admin["id"]))
        s.commit()
    body = {"status": "suspended", "reason_code": "spam_wave", "note": ""}
    assert (
        any_api.post(f"/admin/users/{user['id']}/status", json=body, headers=ah).status_code == 200
    )
    page = _page(any_api, uh)
    assert [(n["kind"], n["title"]) for n in page["items"]] == [
        ("review_decision", "Your account has been suspended")
    ]
    notice = page["items"][0]["id"]
    assert any_api.post(f"/notifications/{notice}/read", headers=uh).status_code == 200
    quiet = {"in_app": True, "email": False, "sms": False}
    locked = any_api.put("/notifications/preferences/payout", json=quiet, headers=uh)
    assert locked.status_code == 403
