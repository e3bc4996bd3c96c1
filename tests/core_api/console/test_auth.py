"""Signing in to the console, its cookie, CSRF on every form, and who is let in."""

from __future__ import annotations

from fastapi.testclient import TestClient

from core_api.console.auth import COOKIE
from tests.core_api.console.helpers import account, form_token, sign_in
from tests.core_api.routers.helpers import login


def test_an_analyst_signs_in_with_a_strict_http_only_cookie(api: TestClient) -> None:
    analyst = account(api)
    done = sign_in(api, analyst["email"], next_="/review/metrics")
    assert done.status_code == 303
    assert done.headers["location"] == "/review/metrics"
    cookie = done.headers["set-cookie"]
    assert f"{COOKIE}=" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert "Path=/review" in cookie and "Secure" not in cookie  # console_secure_cookie is off


def test_the_secure_flag_follows_the_setting(api: TestClient) -> None:
    api.app.state.services.settings.console_secure_cookie = True
    assert "Secure" in api.get("/review/login").headers["set-cookie"]
    api.base_url = api.base_url.copy_with(scheme="https")  # Secure cookies go back over TLS only
    analyst = account(api)
    assert "Secure" in sign_in(api, analyst["email"]).headers["set-cookie"]


def test_a_wrong_password_gets_the_form_again_and_no_cookie(api: TestClient) -> None:
    analyst = account(api)
    done = sign_in(api, analyst["email"], password="not the password")
    assert done.status_code == 401
    assert f"{COOKIE}=" not in done.headers.get("set-cookie", "")
    assert "Wrong e-mail or password" in done.text


def test_a_user_without_a_staff_role_gets_no_console_session(api: TestClient) -> None:
    user = account(api, role=None)
    done = sign_in(api, user["email"])
    assert done.status_code == 403
    assert f"{COOKIE}=" not in done.headers.get("set-cookie", "")


def test_login_without_its_csrf_cookie_is_refused(api: TestClient) -> None:
    analyst = account(api)
    token = form_token(api.get("/review/login").text)
    api.cookies.clear()
    body = {"email": analyst["email"], "password": "x", "csrf_token": token}
    assert api.post("/review/login", data=body).status_code == 403


def test_an_open_redirect_after_login_is_not_followed(api: TestClient) -> None:
    analyst = account(api)
    done = sign_in(api, analyst["email"], next_="//evil.example/review/x")
    assert done.headers["location"] == "/review/queue"


def test_pages_send_strangers_to_the_login_form(api: TestClient) -> None:
    page = api.get("/review/metrics", follow_redirects=False)
    assert page.status_code == 303
    assert page.headers["location"] == "/review/login?next=/review/metrics"


def test_logout_revokes_the_session_behind_the_cookie(api: TestClient) -> None:
    analyst = account(api)
    sign_in(api, analyst["email"])
    kept = api.cookies.get(COOKIE)
    page = api.get("/review/metrics")
    assert page.status_code == 200
    out = api.post("/review/logout", data={"csrf_token": form_token(page.text)})
    assert out.status_code == 200  # followed to the login form
    api.cookies.clear()
    api.cookies.set(COOKIE, kept or "", path="/review")  # a copy of the cookie kept by a thief
    assert api.get("/review/metrics", follow_redirects=False).status_code == 303


def test_a_forged_cookie_is_not_a_session(api: TestClient) -> None:
    analyst = account(api)
    sign_in(api, analyst["email"])
    session_id = (api.cookies.get(COOKIE) or "").split(".")[0]
    api.cookies.clear()
    api.cookies.set(COOKIE, f"{session_id}.{'0' * 64}", path="/review")
    assert api.get("/review/metrics", follow_redirects=False).status_code == 303


def test_posts_without_the_csrf_token_are_refused(api: TestClient) -> None:
    analyst = account(api)
    sign_in(api, analyst["email"])
    assert api.post("/review/logout").status_code == 403
    assert api.post("/review/mfa", data={"csrf_token": "nope"}).status_code == 403
    assert api.post("/review/mfa", headers={"X-CSRF-Token": "nope"}).status_code == 403
    assert api.get("/review/metrics").status_code == 200  # still signed in


def test_the_second_factor_code_goes_to_the_verified_address(api: TestClient) -> None:
    analyst = account(api)
    sign_in(api, analyst["email"])
    token = form_token(api.get("/review/metrics").text)
    sent = api.post("/review/mfa", headers={"X-CSRF-Token": token, "HX-Request": "true"})
    assert sent.status_code == 200 and "Code sent" in sent.text


def test_a_bearer_token_of_the_api_opens_no_console_page(api: TestClient) -> None:
    analyst = account(api)
    tokens = login(api, analyst["email"])
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    page = api.get("/review/metrics", headers=headers, follow_redirects=False)
    assert page.status_code == 303  # the console reads its own cookie only


def test_console_pages_carry_security_headers(api: TestClient) -> None:
    page = api.get("/review/login")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert page.headers["cache-control"] == "no-store"
