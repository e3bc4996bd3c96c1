"""One contract, both backends: versioned publish, pointer flip, reads, counters, novelty."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import polars as pl
import pytest

from serving import codes, keys
from serving.keys import Credit, Manifest
from serving.publish import prune, publish
from serving.store import Ask, Counter, RedisStore, SQLiteStore

Store = RedisStore | SQLiteStore
T0 = datetime(2026, 11, 26, 12, tzinfo=UTC)


def _users(n: int, seed: int = 1) -> list[str]:
    return [str(uuid.UUID(int=seed * 10_000 + i)) for i in range(n)]


def _scores(users: list[str], *, trust: float, model: str = "m1") -> pl.DataFrame:
    return pl.DataFrame(
        {
            "user_id": users,
            "trust": [trust] * len(users),
            "fraud_risk": [0.2] * len(users),
            "band": ["medium"] * len(users),
            "reasons": [["7 accounts share this device", "a | b"]] * len(users),
            "model_version": model,
            "scored_at": pl.Series([T0] * len(users), dtype=pl.Datetime("us", "UTC")),
        }
    )


def test_nothing_published_reads_as_unscored(store: Store) -> None:
    facts = store.fetch(Ask(user_id=_users(1)[0]))
    assert facts.manifest is None and facts.record is None


def test_publish_then_read_every_record(store: Store) -> None:
    users = _users(300)
    done = publish(store, _scores(users, trust=0.7), snapshot="2026-11-25", now=T0)
    for user in users[::37]:
        facts = store.fetch(Ask(user_id=user))
        assert facts.record is not None
        assert facts.record.trust == pytest.approx(0.7)
        assert facts.record.band == "medium"
        assert facts.record.reasons == ("7 accounts share this device", "a | b")
        assert facts.manifest is not None and facts.manifest.version == done.version
        assert facts.manifest.records == 300 and facts.manifest.snapshot == "2026-11-25"
    assert store.fetch(Ask(user_id=str(uuid.uuid4()))).record is None  # unscored user


def test_reader_sees_old_set_until_the_flip(store: Store) -> None:
    users = _users(50)
    publish(store, _scores(users, trust=0.3), snapshot="d1", now=T0)
    store.fetch(Ask(user_id=users[0]))  # the reader caches the current manifest
    version = keys.new_version(T0 + timedelta(hours=1))
    manifest = Manifest(
        version=version,
        published_at=T0 + timedelta(hours=1),
        scored_at=T0,
        model_version="m2",
        snapshot="d2",
        records=50,
    )
    store.write(version, _scores(users, trust=0.9, model="m2"), manifest=manifest)
    assert {store.fetch(Ask(user_id=u)).record.trust for u in users} == {0.3}
    store.flip(version)
    after = [store.fetch(Ask(user_id=u)) for u in users]
    assert {f.record.trust for f in after} == {0.9}
    assert {f.manifest.version for f in after} == {version}


def test_flip_refuses_an_unfinished_version(store: Store) -> None:
    with pytest.raises(ValueError, match="not complete"):
        store.flip(keys.new_version(T0))


def test_abandoned_publish_is_invisible_and_pruned(store: Store) -> None:
    users = _users(20)
    first = publish(store, _scores(users, trust=0.5), snapshot="d1", now=T0)
    # A publisher that died after writing records but before its manifest and the flip.
    dead = keys.new_version(T0 + timedelta(minutes=1))
    manifest = Manifest(
        version=dead,
        published_at=T0 + timedelta(minutes=1),
        scored_at=T0,
        model_version="m9",
        snapshot="d2",
        records=20,
    )
    store.write(dead, _scores(users, trust=0.1), manifest=manifest)
    if isinstance(store, RedisStore):  # the manifest's fields never came: only the page count
        meta = keys.meta_key(dead)
        store.client.hdel(meta, *[f for f in store.client.hkeys(meta) if f != b"pages"])
    else:
        store._conn.execute("UPDATE versions SET manifest = NULL WHERE version = ?", (dead,))
    assert store.fetch(Ask(user_id=users[0])).record.trust == 0.5
    current, listed = store.versions()
    assert current == first.version
    assert [m.records for m in listed if m.version == dead] == [-1]
    assert prune(store, now=T0 + timedelta(minutes=5)) == ()  # within its grace
    assert prune(store, now=T0 + timedelta(hours=1)) == (dead,)
    assert [m.version for m in store.versions()[1]] == [first.version]
    if isinstance(store, RedisStore):  # every page of the dead version is gone too
        assert store.client.keys(f"*{dead}*") == []
    assert _book(store, dead) is None


def test_old_version_dropped_after_grace_only(store: Store) -> None:
    users = _users(10)
    old = publish(store, _scores(users, trust=0.4), snapshot="d1", now=T0)
    new = publish(store, _scores(users, trust=0.6), snapshot="d2", now=T0 + timedelta(days=1))
    assert new.dropped == ()  # the old set stays for readers still holding it
    assert prune(store, now=T0 + timedelta(days=1, minutes=11)) == (old.version,)
    assert store.fetch(Ask(user_id=users[3])).record.trust == 0.6
    current, listed = store.versions()
    assert (current, [m.version for m in listed]) == (new.version, [new.version])
    assert _book(store, old.version) is None and _book(store, new.version) is not None


def test_counters_increment_per_key(store: Store) -> None:
    user = _users(1)[0]
    key = keys.rate_key("user", user, action="payout", window_s=60, now_s=0)
    other = keys.rate_key("ip", "10.0.0.1", action="payout", window_s=60, now_s=0)
    counts = [store.fetch(Ask(user_id=user, counters=(Counter(key, 60),))).counts for _ in range(3)]
    assert counts == [(1,), (2,), (3,)]
    both = store.fetch(Ask(user_id=user, counters=(Counter(key, 60), Counter(other, 60))))
    assert both.counts == (4, 1)


def test_device_and_country_novelty(store: Store) -> None:
    user = _users(1)[0]
    first = store.fetch(Ask(user_id=user, device="dev-1", country="FR"))
    assert (first.new_device, first.new_country) == (True, True)
    store.remember(user, device="dev-1", country="FR")
    again = store.fetch(Ask(user_id=user, device="dev-1", country="DE"))
    assert (again.new_device, again.new_country) == (False, True)
    assert store.fetch(Ask(user_id=user)).new_device is None


def test_publish_rejects_bad_scores(store: Store) -> None:
    bad = _scores(_users(3), trust=1.5)
    with pytest.raises(ValueError, match=r"trust outside \[0, 1\]"):
        publish(store, bad, snapshot="d1", now=T0)
    assert store.versions() == (None, [])


def test_publish_refuses_scores_without_a_scoring_time(store: Store) -> None:
    bad = _scores(_users(3), trust=0.5).with_columns(
        scored_at=pl.lit(None, dtype=pl.Datetime("us", "UTC"))
    )
    with pytest.raises(ValueError, match=r"nulls: .*scored_at"):
        publish(store, bad, snapshot="d1", now=T0)
    assert store.versions() == (None, [])  # refused before anything was written


def test_page_is_the_same_per_user_and_vectorised() -> None:
    ids = [*_users(200), str(uuid.uuid4()).upper(), "not-a-uuid", "bob"]
    for pages in (1, 7, 4096):
        assert keys.page_column(pl.Series(ids), pages).to_list() == [
            keys.page(u, pages) for u in ids
        ]


def test_find_record_matches_whole_ids_only() -> None:
    text = b"\nab|1|2|low|0|\nb|3|4|high|1|x;y"
    assert keys.find_record(text, "b") == b"3|4|high|1|x;y"
    assert keys.find_record(text, "ab") == b"1|2|low|0|"
    assert keys.find_record(text, "a") is None


def test_override_is_read_with_the_record_and_survives_a_publish(store: Store) -> None:
    users = _users(20, seed=7)
    publish(store, _scores(users, trust=0.6), snapshot="d1", now=T0)
    target, other = users[3], users[4]
    assert store.fetch(Ask(user_id=target)).override is None
    store.override(target, "deny")
    facts = store.fetch(Ask(user_id=target, counters=(Counter("ovr:c", 60),), device="d9"))
    assert facts.override == "deny" and facts.record is not None
    assert facts.counts == (1,) and facts.new_device is True  # the rest of the trip is intact
    assert store.fetch(Ask(user_id=other)).override is None
    publish(store, _scores(users, trust=0.9, model="m2"), snapshot="d2", now=T0 + timedelta(1))
    after = store.fetch(Ask(user_id=target))
    assert after.override == "deny" and after.record is not None and after.record.trust == 0.9
    store.override(target, None)
    assert store.fetch(Ask(user_id=target)).override is None


def test_override_for_an_unscored_user_and_a_bad_value(store: Store) -> None:
    stranger = str(uuid.uuid4())
    store.override(stranger, "deny")
    facts = store.fetch(Ask(user_id=stranger))
    assert facts.record is None and facts.override == "deny"
    with pytest.raises(ValueError, match="not an override"):
        store.override(stranger, "allow")


def test_credit_limits_ride_on_the_score_line(store: Store) -> None:
    users = _users(40, seed=9)
    limits = [Decimal(100 * i) for i in range(39)] + [None]
    scores = _scores(users, trust=0.6).with_columns(
        credit_limit=pl.Series(limits, dtype=pl.Decimal(18, 2)),
        credit_currency=pl.Series(["EUR"] * 39 + [None]),
        credit_reasons=pl.Series(
            [["limit lowered: 2 chargebacks in 90 days", "lent against 3 completed sales"]] * 40
        ),
    )
    publish(store, scores, snapshot="d1", now=T0)
    first = store.fetch(Ask(user_id=users[7])).record
    assert first is not None and first.reasons == ("7 accounts share this device", "a | b")
    assert first.credit == Credit(
        Decimal("700.00"),
        "EUR",
        ("limit lowered: 2 chargebacks in 90 days", "lent against 3 completed sales"),
    )
    assert store.fetch(Ask(user_id=users[-1])).record.credit is None  # no limit computed
    # A set published without limits (before them, or without the day's) serves none.
    publish(store, _scores(users, trust=0.6, model="m2"), snapshot="d2", now=T0 + timedelta(1))
    after = store.fetch(Ask(user_id=users[7])).record
    assert after is not None and after.credit is None and after.trust == 0.6


def test_publish_rejects_bad_credit_limits(store: Store) -> None:
    users = _users(3)
    bad = _scores(users, trust=0.5).with_columns(
        credit_limit=pl.Series([Decimal(-1)] * 3, dtype=pl.Decimal(18, 2)),
        credit_currency=pl.lit("EUR"),
        credit_reasons=pl.lit(["tab\there"]),
    )
    with pytest.raises(ValueError, match=r"negative credit_limit.*tab"):
        publish(store, bad, snapshot="d1", now=T0)
    assert store.versions() == (None, [])


def _book(store: Store, version: str) -> str | None:
    """The version's stored reason dictionary, as stored (``None``: there is none)."""
    if isinstance(store, RedisStore):
        raw = store.client.get(keys.codes_key(version))
        return raw.decode() if raw is not None else None
    row = store._conn.execute("SELECT book FROM codes WHERE version = ?", (version,)).fetchone()
    return row[0] if row else None


def _as_published_before_codes(store: Store, version: str) -> None:
    """Leave ``version`` as a publisher before reason codes did: no dictionary, and no
    ``reason_codes`` in its manifest."""
    if isinstance(store, RedisStore):
        store.client.hdel(keys.meta_key(version), "reason_codes")
        store.client.delete(keys.codes_key(version))
        return
    conn = store._conn
    (text,) = conn.execute("SELECT manifest FROM versions WHERE version = ?", (version,)).fetchone()
    manifest = json.loads(text)
    del manifest["reason_codes"]
    conn.execute(
        "UPDATE versions SET manifest = ? WHERE version = ?", (json.dumps(manifest), version)
    )
    conn.execute("DELETE FROM codes WHERE version = ?", (version,))


def _with_reasons(scores: pl.DataFrame, reasons: list[list[str]]) -> pl.DataFrame:
    return scores.with_columns(reasons=pl.Series(reasons, dtype=pl.List(pl.String)))


def test_reasons_are_coded_once_per_version_and_read_back(store: Store) -> None:
    users = _users(30, seed=11)
    said = [["7 accounts share this device", "12", "a;b", "", f"said once {i}"] for i in range(30)]
    scores = _with_reasons(_scores(users, trust=0.6), said).with_columns(
        credit_limit=pl.lit(Decimal("80.00")).cast(pl.Decimal(18, 2)),
        credit_currency=pl.lit("EUR"),
        credit_reasons=pl.lit(["lent against 3 completed sales"]),
    )
    done = publish(store, scores, snapshot="d1", now=T0)
    # "12", "a;b" and "" could not stand as text; the two repeated sentences are worth a code
    book = codes.loads(_book(store, done.version) or "null")
    assert set(book) == {
        "12",
        "a;b",
        "",
        "7 accounts share this device",
        "lent against 3 completed sales",
    }
    assert [m.reason_codes for m in store.versions()[1]] == [5]
    for i in (0, 13, 29):
        record = store.fetch(Ask(user_id=users[i])).record
        assert record is not None and record.reasons == tuple(said[i])
        assert record.credit is not None
        assert record.credit.reasons == ("lent against 3 completed sales",)


def test_a_version_published_before_codes_still_reads(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    users = _users(30, seed=12)
    said = [["7 accounts share this device", "12"]] * 30
    with monkeypatch.context() as old_publisher:  # it wrote every reason as text
        old_publisher.setattr(codes, "code_reasons", lambda scores: ((), scores))
        old = publish(store, _with_reasons(_scores(users, trust=0.4), said), snapshot="d1", now=T0)
    _as_published_before_codes(store, old.version)
    assert [m.reason_codes for m in store.versions()[1]] == [None]
    before = store.fetch(Ask(user_id=users[5])).record
    assert before is not None and before.reasons == ("7 accounts share this device", "12")
    scores = _with_reasons(_scores(users, trust=0.8, model="m2"), said)
    publish(store, scores, snapshot="d2", now=T0 + timedelta(1))
    after = store.fetch(Ask(user_id=users[5])).record  # the same reader, a coded version
    assert after is not None and after.trust == 0.8
    assert after.reasons == ("7 accounts share this device", "12")


def test_a_coded_version_without_its_dictionary_does_not_read(store: Store) -> None:
    users = _users(5, seed=13)
    done = publish(store, _scores(users, trust=0.5), snapshot="d1", now=T0)
    if isinstance(store, RedisStore):
        store.client.delete(keys.codes_key(done.version))
    else:
        store._conn.execute("DELETE FROM codes WHERE version = ?", (done.version,))
    with pytest.raises(LookupError, match="no dictionary"):
        store.fetch(Ask(user_id=users[0]))


def test_page_keys_are_page_key_vectorised() -> None:
    numbers = [0, 1, 1023, 1024, 4097, 31743]
    assert pl.select(keys.page_keys("20261207T1", pl.Series(numbers))).to_series().to_list() == [
        keys.page_key("20261207T1", n) for n in numbers
    ]
