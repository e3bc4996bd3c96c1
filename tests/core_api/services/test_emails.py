"""Look-alike addresses: one normal form, one skeleton, and a refusal on each database."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from core_api.services.emails import email_skeleton, normalize_email
from tests.core_api.routers.helpers import PASSWORD, login, register

OWNER = "paypal@example.com"
LOOK_ALIKES = {
    "cyrillic_a": "p\u0430ypal@example.com",  # Cyrillic а
    "full_width": "\uff50aypal@example.com",  # full-width ｐ
    "zero_width_space": "pay\u200bpal@example.com",
    "soft_hyphen": "pay\u00adpal@example.com",
    "upper_case": "PayPal@Example.com",
    "rn_for_m": "rnary@example.com",
}


def test_normal_form_folds_width_case_ignorables_and_accents() -> None:
    assert normalize_email("\uff50aypal@example.com") == OWNER
    assert normalize_email(" Pay\u200bPal@EXAMPLE.com ") == OWNER
    assert normalize_email("jose\u0301@example.com") == normalize_email("jos\u00e9@example.com")


def test_skeletons_match_for_confusables_only() -> None:
    assert email_skeleton("p\u0430ypal@example.com") == email_skeleton(OWNER)
    assert email_skeleton("rnary@example.com") == email_skeleton("mary@example.com")
    assert email_skeleton("paypal@example.com") != email_skeleton("paypals@example.com")


@pytest.mark.parametrize("case", LOOK_ALIKES, ids=list(LOOK_ALIKES))
def test_a_look_alike_of_an_existing_address_is_refused(any_api: TestClient, case: str) -> None:
    register(any_api, OWNER)
    register(any_api, "mary@example.com")
    body = {"email": LOOK_ALIKES[case], "password": PASSWORD, "display_name": "Eve"}
    refused = any_api.post("/identity/register", json=body)
    assert refused.status_code == 409, refused.text
    assert refused.json()["detail"]["reason"] in ("email_taken", "email_confusable")


def test_decomposed_and_precomposed_accents_are_one_account(any_api: TestClient) -> None:
    made = register(any_api, "jos\u00e9@example.com")
    body = {"email": "jose\u0301@example.com", "password": PASSWORD, "display_name": "J"}
    assert any_api.post("/identity/register", json=body).status_code == 409
    # ... and the owner logs in with either spelling.
    assert login(any_api, "jose\u0301@example.com")["access_token"]
    assert made["email"] == "jos\u00e9@example.com"
