"""The lake reader's copies of contract names agree with the contract (``core_api.events``)."""

from __future__ import annotations

from core_api.events import envelope
from features import lake


def test_lake_system_actor_matches_the_envelope() -> None:
    assert lake.SYSTEM_ACTOR_ID == envelope.SYSTEM_ACTOR_ID


def test_lake_user_subjects_match_the_envelope() -> None:
    users = {str(t.value) for t, kind in envelope.SUBJECT.items() if kind == "user"}
    assert set(lake.USER_SUBJECTS) == users


def test_lake_payload_fields_exist_in_the_contract() -> None:
    fields = {name for model in envelope.PAYLOADS.values() for name in model.model_fields}
    assert set(lake.PAYLOAD_FIELDS) <= fields


def test_lake_context_fields_exist_in_the_contract() -> None:
    assert set(lake.CONTEXT_FIELDS) <= set(envelope.Context.model_fields)
