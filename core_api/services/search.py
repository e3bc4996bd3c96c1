"""Listing search: filter in the database, measure text match and distance, rank, record.

Candidates are active listings of active sellers other than the searcher, filtered by
category, currency, price range and (with a point and radius) a bounding box, newest first, at
most ``MAX_CANDIDATES``; a query's text must have at least one
term in the title or description. Each candidate's
``text_match`` is the mean over the query's terms of 1 (in the title), 0.5 (only in the
description) or 0, and ``distance_km`` the great-circle distance from the query's point.

Ranking ``best`` uses the released ranker (``serving.search``) when there is one; without it,
or when it cannot be read or fails, the documented fallback is relevance: text match, then
distance, then newest. ``newest`` is newest first. A share of first pages
(``VOUCH_SEARCH_EXPLORE_SHARE``) shows the best ``EXPLORE_TOP`` in a random order, marked
``shuffled``: orders on them are free of position bias, the data rankers are judged on. Every
listing shown is a LISTING_SEARCHED event with its position: the ranker's training data.
"""

from __future__ import annotations

import logging
import math
import random
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from core_api.db.identity import User
from core_api.db.market import Listing
from core_api.db.search import Search
from core_api.events import EventType
from core_api.services.outbox import emit
from serving import search as ranker

log = logging.getLogger(__name__)
MAX_CANDIDATES = 500
MAX_TERMS = 8
EXPLORE_TOP = 10  # how many of the best listings an exploration page shuffles
EARTH_KM = 6371.0088


@dataclass(frozen=True)
class Query:
    text: str = ""
    category: str | None = None
    currency: str | None = None
    min_price: Decimal | None = None
    max_price: Decimal | None = None
    lat: float | None = None
    lon: float | None = None
    radius_km: float | None = None
    sort: str = "best"

    def terms(self) -> list[str]:
        seen = dict.fromkeys(t[:40] for t in re.findall(r"\w+", self.text.lower()))
        return list(seen)[:MAX_TERMS]


@dataclass(frozen=True)
class Hit:
    listing: Listing
    text_match: float
    distance_km: float | None


def distance_km(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Great-circle kilometres between two (lat, lon) points."""
    (lat1, lon1), (lat2, lon2) = a, b
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(min(1.0, math.sqrt(h)))


def text_match(terms: list[str], *, title: str, description: str) -> float:
    if not terms:
        return 0.0
    title, description = title.lower(), description.lower()
    got = [1.0 if t in title else 0.5 if t in description else 0.0 for t in terms]
    return sum(got) / len(got)


def candidates(db: Session, query: Query, *, user_id: str) -> list[Hit]:
    stmt = (
        select(Listing)
        .join(User, User.id == Listing.seller_id)
        .where(Listing.status == "active", User.status == "active", Listing.seller_id != user_id)
    )
    if query.category:
        stmt = stmt.where(Listing.category == query.category)
    if query.currency:
        stmt = stmt.where(Listing.currency == query.currency)
    if query.min_price is not None:
        stmt = stmt.where(Listing.price >= query.min_price)
    if query.max_price is not None:
        stmt = stmt.where(Listing.price <= query.max_price)
    terms = query.terms()
    if terms:  # any of the terms; text_match then scores how many
        stmt = stmt.where(
            or_(
                *(Listing.title.icontains(t, autoescape=True) for t in terms),
                *(Listing.description.icontains(t, autoescape=True) for t in terms),
            )
        )
    point = query.lat is not None and query.lon is not None
    if point and query.radius_km is not None:
        dlat = query.radius_km / 111.0
        stmt = stmt.where(Listing.lat.between(query.lat - dlat, query.lat + dlat))  # type: ignore[operator]
    rows = db.scalars(stmt.order_by(Listing.created_at.desc()).limit(MAX_CANDIDATES)).all()
    hits = []
    for row in rows:
        far = distance_km((query.lat, query.lon), (row.lat, row.lon)) if point else None  # type: ignore[arg-type]
        if far is not None and query.radius_km is not None and far > query.radius_km:
            continue
        match = text_match(terms, title=row.title, description=row.description)
        hits.append(Hit(row, match, None if far is None else round(far, 3)))
    return hits


def _relevance_key(hit: Hit) -> tuple[float, float, float]:
    far = hit.distance_km if hit.distance_km is not None else 0.0
    return (-hit.text_match, far, -hit.listing.created_at.timestamp())


def shuffle_top(hits: list[Hit], *, rng: random.Random) -> list[Hit]:
    """The exploration order: the first ``EXPLORE_TOP`` hits in a random order, then the rest."""
    top = hits[:EXPLORE_TOP]
    rng.shuffle(top)
    return top + hits[EXPLORE_TOP:]


def rank(
    hits: list[Hit], *, sort: str, root: Path, now: datetime
) -> tuple[list[Hit], str, str | None]:
    """``(hits in order, ranking used, model version)``; removed hits (flagged sellers) gone."""
    if sort == "newest":
        return sorted(hits, key=lambda h: -h.listing.created_at.timestamp()), "newest", None
    by_relevance = sorted(hits, key=_relevance_key)
    release = ranker.load(root)
    if release is None or not hits:
        return by_relevance, "relevance", None
    cands = [
        ranker.Candidate(
            listing_id=h.listing.id,
            seller_id=h.listing.seller_id,
            text_match=h.text_match,
            distance_km=h.distance_km,
            listing_age_days=max(0.0, (now - h.listing.created_at).total_seconds() / 86400),
            price=float(h.listing.price),
            category=h.listing.category,
            currency=h.listing.currency,
            item_new=h.listing.item_condition == "new",
        )
        for h in by_relevance
    ]
    try:
        scores = ranker.score(release, cands)
    except Exception:  # a broken release must not break search: relevance is the fallback
        log.exception("search ranker %s failed, ranking by relevance", release.version)
        return by_relevance, "relevance", None
    ranked = sorted(
        (pair for pair in zip(scores, by_relevance, strict=True) if pair[0] > -math.inf),
        key=lambda pair: -pair[0],
    )  # stable: equal scores keep the relevance order
    return [h for _, h in ranked], "model", release.version


def _money(value: Decimal | None) -> str | None:
    return None if value is None else format(value.quantize(Decimal("0.0001")), "f")


def record(
    db: Session,
    query: Query,
    *,
    user_id: str,
    page: list[Hit],
    offset: int,
    ranking: str,
    context: dict[str, Any],
) -> Search:
    """The search row and one LISTING_SEARCHED event per listing shown, in order."""
    search = Search(user_id=user_id, shown=len(page), created_at=datetime.now(UTC))
    db.add(search)
    db.flush()
    filters: dict[str, Any] = {
        "search_ranking": ranking,
        "query_length": min(len(query.text), 200),
        "search_category": query.category,
        "min_price": _money(query.min_price),
        "max_price": _money(query.max_price),
        "radius_km": query.radius_km,
    }
    for i, hit in enumerate(page):
        emit(
            db,
            EventType.LISTING_SEARCHED,
            actor_id=user_id,
            subject_id=hit.listing.id,
            payload={
                "search_id": search.id,
                "search_position": offset + i,
                "text_match": round(hit.text_match, 4),
                "distance_km": hit.distance_km,
                **filters,
            },
            context=context,
        )
    return search
