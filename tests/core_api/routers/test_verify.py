from __future__ import annotations

from datetime import timedelta

import jwt
from fastapi.testclient import TestClient

from core_api.db.identity import AuthSession, User
from core_api.deps import Client
from core_api.services.enforce import decision_context
from tests.core_api.routers.helpers import events, last_code, signed_in


def _verify_email(api: TestClient, email: str, headers: dict[str, str]) -> None:
    assert api.post("/identity/verify/email", headers=headers).status_code == 202
    code = last_code(api, email)
    done = api.post("/identity/verify/email/confirm", json={"code": code}, headers=headers)
    assert done.status_code == 200, done.text


def test_email_verification_with_the_code_from_the_dev_outbox(api: TestClient) -> None:
    account, headers = signed_in(api)
    _verify_email(api, account["email"], headers)
    assert api.get("/identity/me", headers=headers).json()["email_verified_at"] is not None
    assert len(events(api, "VERIFICATION_COMPLETED")) == 1
    again = api.post("/identity/verify/email", headers=headers)
    assert again.status_code == 409 and again.json()["detail"]["reason"] == "already_verified"


def test_wrong_codes_run_out_after_five_attempts(api: TestClient) -> None:
    account, headers = signed_in(api)
    api.post("/identity/verify/email", headers=headers)
    right = last_code(api, account["email"])
    wrong = "000000" if right != "000000" else "111111"
    url = "/identity/verify/email/confirm"
    reasons = [
        api.post(url, json={"code": wrong}, headers=headers).json()["detail"]["reason"]
        for _ in range(5)
    ]
    assert reasons == ["wrong_code"] * 5
    late = api.post(url, json={"code": right}, headers=headers)
    assert late.status_code == 400 and late.json()["detail"]["reason"] == "too_many_attempts"
    assert api.post(url, json={"code": "12345"}, headers=headers).status_code == 422


def test_phone_code_proves_the_current_number_only(api: TestClient) -> None:
    _, headers = signed_in(api)
    assert api.post("/identity/verify/phone", headers=headers).status_code == 409  # no phone
    api.patch("/identity/profile", json={"phone": "+4915100000001"}, headers=headers)
    api.post("/identity/verify/phone", headers=headers)
    code = last_code(api, "+4915100000001")
    api.patch("/identity/profile", json={"phone": "+4915100000002"}, headers=headers)
    stale = api.post("/identity/verify/phone/confirm", json={"code": code}, headers=headers)
    assert stale.status_code == 400 and stale.json()["detail"]["reason"] == "no_valid_code"


def test_second_factor_raises_the_session_level_for_critical_actions(api: TestClient) -> None:
    account, headers = signed_in(api)
    assert api.post("/identity/mfa/challenge", headers=headers).status_code == 409
    _verify_email(api, account["email"], headers)
    services = api.app.state.services
    # Past the rules' first minutes, in which critical actions are denied outright.
    with services.sessions() as s:
        s.get(User, account["id"]).created_at -= timedelta(days=2)
        s.commit()
    client = Client(ip="203.0.113.7", device="dev-1", platform="web", user_agent=None)

    def payout_outcome() -> str:
        with services.sessions() as s:
            user = s.get(User, account["id"])
            session = s.query(AuthSession).filter_by(user_id=account["id"]).one()
            ctx = decision_context(client, user=user, auth_session=session)
        return services.decider.decide(account["id"], "payout", context=ctx).outcome

    assert payout_outcome() == "step_up"  # payout always needs a fresh second factor
    assert api.post("/identity/mfa/challenge", headers=headers).status_code == 202
    code = last_code(api, account["email"])
    raised = api.post("/identity/mfa/verify", json={"code": code}, headers=headers)
    assert raised.status_code == 200
    claims = jwt.decode(raised.json()["access_token"], options={"verify_signature": False})
    assert claims["acr"] == "mfa" and "auth_time" in claims
    assert payout_outcome() == "allow"


def test_too_many_codes_is_a_429_saying_when_the_next_is_allowed(any_api: TestClient) -> None:
    _, headers = signed_in(any_api)
    answers = [any_api.post("/identity/verify/email", headers=headers) for _ in range(6)]
    assert [a.status_code for a in answers] == [202] * 5 + [429]
    assert answers[-1].json()["detail"]["reason"] == "too_many_codes"
    # The first code turns an hour old in just under an hour: that is when to come back.
    assert 3500 <= int(answers[-1].headers["Retry-After"]) <= 3600
