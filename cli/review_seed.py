"""The simulated platform's users as the lake knows them: registration, status, verification,
devices; plus anyone the latest scores name that the lake never saw register."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import polars as pl

from core_api.services.seed import SeedDevice, SeedUser
from features.lake import read_events
from pipelines.feature_store import FeatureStore
from pipelines.ingest import Lake
from settings import Settings

FALLBACK_DOMAIN = "sim.example"


def platform_users(settings: Settings) -> list[SeedUser]:
    events = Lake(settings.lake).events_dir
    if not any(events.glob("*/*.parquet")):
        return []
    registered = read_events(
        events,
        {"user_id": "subject_id", "at": "min(occurred_at)", "domain": "min(payload.email_domain)"},
        types=["USER_REGISTERED"],
        group_by=["user_id"],
    )
    first_seen = read_events(
        events, {"user_id": "actor_id", "at": "min(occurred_at)"}, group_by=["user_id"]
    )
    statuses = read_events(
        events,
        {"user_id": "subject_id", "status": "arg_max(payload.account_status, occurred_at)"},
        types=["ACCOUNT_STATUS_CHANGED"],
        group_by=["user_id"],
    )
    verified = read_events(
        events,
        {"user_id": "subject_id", "kind": "payload.verification", "at": "min(occurred_at)"},
        types=["VERIFICATION_COMPLETED"],
        where="payload.verification IN ('email', 'phone')",
        group_by=["user_id", "kind"],
    )
    devices = read_events(
        events,
        {
            "user_id": "subject_id",
            "device": "payload.device_id",
            "platform": "min(payload.platform)",
            "at": "min(occurred_at)",
        },
        types=["DEVICE_ADDED"],
        group_by=["user_id", "device"],
    )
    features = FeatureStore(settings.features)
    days = features.days("user_scores")
    scored = features.read("user_scores", days[-1]).get_column("user_id") if days else None
    return _users(registered, first_seen, statuses, verified, devices, scored=scored)


def _users(
    registered: pl.DataFrame,
    first_seen: pl.DataFrame,
    statuses: pl.DataFrame,
    verified: pl.DataFrame,
    devices: pl.DataFrame,
    *,
    scored: pl.Series | None,
) -> list[SeedUser]:
    status = dict(statuses.select("user_id", "status").iter_rows())
    proofs: dict[str, dict[str, datetime]] = defaultdict(dict)
    for user, kind, at in verified.select("user_id", "kind", "at").iter_rows():
        proofs[user][kind] = at
    kit: dict[str, list[SeedDevice]] = defaultdict(list)
    for user, device, platform, at in devices.iter_rows():
        if device:
            kit[user].append(SeedDevice(device, platform or "web", at))
    born = {u: (at, domain) for u, at, domain in registered.iter_rows()}
    seen = dict(first_seen.iter_rows())
    for user in scored.to_list() if scored is not None else ():
        if user not in born:
            born[user] = (seen.get(user) or datetime(2026, 1, 1, tzinfo=UTC), FALLBACK_DOMAIN)
    return [
        SeedUser(
            id=user,
            email_domain=(domain or FALLBACK_DOMAIN).lower(),
            created_at=at,
            status=status.get(user) or "active",
            email_verified_at=proofs[user].get("email"),
            phone_verified_at=proofs[user].get("phone"),
            devices=tuple(kit[user]),
        )
        for user, (at, domain) in sorted(born.items())
    ]
