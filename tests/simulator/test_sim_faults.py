"""Injected transport faults cover every rejection reason, each rejected for exactly that reason."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from core_api.events import REASONS, Rejection, parse_event
from simulator.faults import KINDS, corrupt

from .conftest import Run

LINE = (
    '{"event_id":"4f0e2a8e-7c1b-4f0a-9a51-6a2e8f3b9c10","event_type":"USER_LOGGED_IN",'
    '"occurred_at":"2026-08-01T10:00:00.000000Z","actor_id":"0b7f3f0c-2a55-4d5b-8e0b-1f2d3c4b5a69",'
    '"subject_id":"0b7f3f0c-2a55-4d5b-8e0b-1f2d3c4b5a69","context":{"device_id":"dev_ab12",'
    '"ip":"10.1.2.3","country":"FR","user_agent":"curl/8.7.1"},"payload":{"login_method":"password",'
    '"mfa_used":false,"session_id":"9c1d2e3f-4a5b-4c6d-8e7f-0a1b2c3d4e5f"},"schema_version":1}'
)


def test_kinds_are_the_contract_reasons() -> None:
    assert set(KINDS) == set(REASONS)


@pytest.mark.parametrize("kind", KINDS)
def test_each_corruption_is_rejected_for_its_reason(kind: str) -> None:
    from datetime import UTC, datetime

    now = datetime(2026, 8, 2, tzinfo=UTC)
    assert not isinstance(parse_event(LINE.encode(), now=now), Rejection)
    rng = np.random.default_rng(0)
    for _ in range(20):
        bad = corrupt(LINE, kind, rng=rng)
        result = parse_event(bad, now=now)
        assert isinstance(result, Rejection) and result.reason == kind, (kind, result, bad[:300])


def test_run_with_faults(faulty: Run) -> None:
    now = faulty.end + timedelta(days=1)
    faults = pl.read_parquet(faulty.truth / "faults.parquet")
    assert set(faults["kind"]) == set(KINDS)
    assert faulty.summary.faults_by_kind == dict(
        faults.group_by("kind").len().sort("kind").iter_rows()
    )
    assert faulty.summary.faults_by_kind["oversized_line"] == 1
    expected = 0.01 * faulty.summary.lines
    assert 0.5 * expected <= faults.height <= 2 * expected + len(KINDS)
    bad = {(f, line): kind for f, line, kind, _ in faults.iter_rows()}
    files = {f for f, _ in bad}
    assert len(files) > 1  # spread over files, not all in one
    good = 0
    for path in faulty.files():
        rel = str(path.relative_to(faulty.out))
        for i, line in enumerate(path.read_bytes().split(b"\n")[:-1]):
            result = parse_event(line, now=now)
            if (rel, i) in bad:
                assert isinstance(result, Rejection), (rel, i)
                assert result.reason == bad[rel, i], (rel, i, result)
            else:
                assert not isinstance(result, Rejection), (rel, i, result)
                good += 1
    s = faulty.summary
    assert good == s.events + s.duplicates
    assert s.lines == good + faults.height
    assert s.lost_to_faults == int(faults["replaced"].sum())
