"""Who is flagged as of a time, and per-user neighbourhood statistics of a graph snapshot.

Flags come from the lake only once their event has arrived: a user is flagged at t if the latest
flag-setting or flag-clearing event before t set it. Setting: REVIEW_DECISION ``confirmed_fraud``
or ACCOUNT_STATUS_CHANGED to a status in ``statuses`` (default: banned). Clearing: a
REVIEW_DECISION ``cleared`` or a status change back to ``active``. Escalations, restrictions and
automatic report-threshold suspensions change nothing: they are suspicions, not findings.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import numpy as np
import polars as pl

from features.lake import EventSource, read_events, utc
from features.trust_engine.graph import RELATIONS, SignedGraph

TRUST_RELATIONS = ("friend", "follow", "verified_connection")
# Statements other users make about a user; shared_* edges are observations, not statements.
STATEMENT_RELATIONS = ("rating", "friend", "follow", "verified_connection", "money")
NEGATIVE_RELATIONS = ("report", "block")
SHARED_RELATIONS = ("shared_device", "shared_ip")


def flag_history(
    source: EventSource, *, before: datetime | None = None, statuses: Iterable[str] = ("banned",)
) -> pl.DataFrame:
    """Flag changes (user_id, changed_at, flagged), one row per setting or clearing event."""
    statuses = sorted(set(statuses))
    quoted = ", ".join(f"'{s}'" for s in statuses)
    events = read_events(
        source,
        {
            "user_id": "subject_id",
            "changed_at": "occurred_at",
            "flagged": (
                "CASE WHEN payload.decision = 'confirmed_fraud' THEN TRUE "
                "WHEN payload.decision = 'cleared' THEN FALSE "
                f"WHEN payload.account_status IN ({quoted}) THEN TRUE "
                "WHEN payload.account_status = 'active' THEN FALSE END"
            ),
            "event_id": "event_id",
        },
        types=("REVIEW_DECISION", "ACCOUNT_STATUS_CHANGED"),
        before=before,
    )
    return (
        events.drop_nulls("flagged")
        .sort("user_id", "changed_at", "event_id")
        .select("user_id", "changed_at", "flagged")
    )


def flagged_as_of(
    keys: pl.DataFrame, history: pl.DataFrame, *, user: str, at: str, name: str = "flagged"
) -> pl.DataFrame:
    """``keys`` with a boolean ``name``: was ``keys[user]`` flagged strictly before ``keys[at]``."""
    # Same-instant changes keep the history's order (event id): the last one wins, every run.
    hist = history.select(
        pl.col("user_id").alias(user),
        pl.col("changed_at").alias("_changed_at"),
        pl.col("flagged").alias(name),
    ).sort("_changed_at", maintain_order=True)
    slim = keys.select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_row"), user, at)
    found = (
        slim.sort(at)
        .join_asof(
            hist,
            left_on=at,
            right_on="_changed_at",
            by=user,
            strategy="backward",
            allow_exact_matches=False,
            check_sortedness=False,  # sorted by ``at`` above; polars cannot verify it per group
        )
        .sort("_row")
        .get_column(name)
        .fill_null(False)
    )
    return keys.with_columns(found)


def flagged_users(
    source: EventSource, at: datetime, *, statuses: Iterable[str] = ("banned",)
) -> set[str]:
    """Users flagged by events before ``at``."""
    return flagged_in(flag_history(source, before=utc(at), statuses=statuses))


def flagged_in(history: pl.DataFrame) -> set[str]:
    """Users whose last change in ``history`` (``flag_history``'s frame) flags them."""
    latest = history.group_by("user_id").agg(pl.col("flagged").last())
    return set(latest.filter(pl.col("flagged")).get_column("user_id").to_list())


def _codes(names: Iterable[str]) -> np.ndarray:
    return np.array([RELATIONS.index(r) for r in names], dtype=np.int8)


def neighbourhood_stats(graph: SignedGraph, *, flagged: Iterable[str] = ()) -> pl.DataFrame:
    """One row per node of ``graph`` (which must carry ``relation``); columns in schema.py."""
    if graph.relation is None:
        raise ValueError("neighbourhood statistics need a graph with relation codes")
    n, src, dst, rel, w = graph.n, graph.src, graph.dst, graph.relation, graph.weight
    cols: dict[str, object] = {"user_id": graph.ids}
    for code, name in enumerate(RELATIONS):
        keep = rel == code
        cols[f"in_{name}"] = np.bincount(dst[keep], minlength=n).astype(np.uint32)
        cols[f"out_{name}"] = np.bincount(src[keep], minlength=n).astype(np.uint32)

    trust = np.isin(rel, _codes(TRUST_RELATIONS)) & (w > 0)
    pair = np.unique(src[trust].astype(np.int64) * n + dst[trust])
    back = np.isin(dst[trust].astype(np.int64) * n + src[trust], pair)
    trust_out = np.bincount(src[trust], minlength=n)
    linked_back = np.bincount(src[trust], weights=back, minlength=n)
    # A pair with several trust relations counts once per relation on both sides: a share still.
    cols["trust_out"] = trust_out.astype(np.uint32)
    cols["trust_in"] = np.bincount(dst[trust], minlength=n).astype(np.uint32)
    cols["trust_reciprocity"] = _share(linked_back, trust_out)

    negative = np.isin(rel, _codes(NEGATIVE_RELATIONS))
    statement = np.isin(rel, _codes(STATEMENT_RELATIONS)) | negative
    neg_in = np.bincount(dst[negative], minlength=n)
    cols["negative_in_share"] = _share(neg_in, np.bincount(dst[statement], minlength=n))
    # bincount of no edges at all returns int64 whatever the weights' dtype: keep the schema's f64
    # (a young platform with no report or block yet has no negative edge).
    cols["in_weight_positive"] = np.bincount(
        dst[statement & ~negative], w[statement & ~negative], n
    ).astype(np.float64)
    cols["in_weight_negative"] = np.bincount(dst[negative], np.abs(w[negative]), n).astype(
        np.float64
    )

    is_flagged = np.isin(graph.ids, np.asarray(list(flagged), dtype=graph.ids.dtype))
    for prefix, keep in (
        ("", np.ones(src.size, bool)),
        ("shared_", np.isin(rel, _codes(SHARED_RELATIONS))),
    ):
        a, b = _undirected(src[keep], dst[keep], n=n)
        count = np.bincount(a, minlength=n) + np.bincount(b, minlength=n)
        bad = np.bincount(a, is_flagged[b], n) + np.bincount(b, is_flagged[a], n)
        cols[f"{prefix}neighbours"] = count.astype(np.uint32)
        cols[f"{prefix}flagged_neighbours"] = bad.astype(np.uint32)
        cols[f"{prefix}flagged_neighbour_share"] = _share(bad, count)
    cols["is_flagged"] = is_flagged
    return pl.DataFrame(cols).with_columns(pl.col("user_id").cast(pl.String))


def _undirected(src: np.ndarray, dst: np.ndarray, *, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Distinct unordered neighbour pairs (a < b), whatever the relations and directions."""
    lo, hi = np.minimum(src, dst).astype(np.int64), np.maximum(src, dst).astype(np.int64)
    key = np.unique(lo[lo != hi] * n + hi[lo != hi])
    return key // n, key % n


def _share(part: np.ndarray, whole: np.ndarray) -> pl.Series:
    """part / whole, null where whole is 0 (no evidence is not a share of zero)."""
    whole = np.asarray(whole, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(whole > 0, np.asarray(part, dtype=np.float64) / whole, np.nan)
    return pl.Series(ratio).fill_nan(None)
