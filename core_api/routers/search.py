"""``GET /marketplace/search``: listings by text, category, price range and distance, ranked by
the released search ranker (relevance when there is none), paged; every listing shown is
recorded as a LISTING_SEARCHED event (``core_api.services.search``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status

from core_api.deps import ClientDep, CurrentUser, ServicesDep, SessionDep
from core_api.schemas.marketplace import Category
from core_api.schemas.payments import Currency
from core_api.schemas.search import SearchHit, SearchPage
from core_api.services import search

router = APIRouter(tags=["marketplace"])
_explore = random.Random()  # which first pages explore: not a secret, no need for secrets
Price = Annotated[Decimal | None, Query(ge=0, le=10**12, max_digits=18, decimal_places=4)]


def _invalid(reason: str) -> HTTPException:
    return HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail={"reason": reason})


@router.get("/search", response_model=SearchPage)
def search_listings(
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
    q: Annotated[str, Query(max_length=200)] = "",
    category: Category | None = None,
    currency: Currency | None = None,
    min_price: Price = None,
    max_price: Price = None,
    lat: Annotated[float | None, Query(ge=-90.0, le=90.0, allow_inf_nan=False)] = None,
    lon: Annotated[float | None, Query(ge=-180.0, le=180.0, allow_inf_nan=False)] = None,
    radius_km: Annotated[float | None, Query(gt=0.0, le=20_000.0, allow_inf_nan=False)] = None,
    sort: Literal["best", "newest"] = "best",
    limit: Annotated[int, Query(ge=1, le=50)] = 20,
    offset: Annotated[int, Query(ge=0, le=450)] = 0,
) -> SearchPage:
    if "\x00" in q:
        raise _invalid("bad_query_text")
    if (lat is None) != (lon is None):
        raise _invalid("lat_and_lon_together")
    if radius_km is not None and lat is None:
        raise _invalid("radius_needs_a_point")
    if min_price is not None and max_price is not None and min_price > max_price:
        raise _invalid("min_price_above_max_price")
    query = search.Query(
        text=q.strip(),
        category=category,
        currency=currency,
        min_price=min_price,
        max_price=max_price,
        lat=lat,
        lon=lon,
        radius_km=radius_km,
        sort=sort,
    )
    now = datetime.now(UTC)
    hits = search.candidates(db, query, user_id=me.user.id)
    ordered, ranking, version = search.rank(
        hits, sort=sort, root=services.settings.search_ranker, now=now
    )
    if (
        sort == "best"
        and offset == 0
        and _explore.random() < services.settings.search_explore_share
    ):
        ordered, ranking = search.shuffle_top(ordered, rng=_explore), "shuffled"
    page = ordered[offset : offset + limit]
    found = search.record(
        db,
        query,
        user_id=me.user.id,
        page=page,
        offset=offset,
        ranking=ranking,
        context=client.event_context(),
    )
    db.commit()
    items = [
        SearchHit.model_validate(
            {
                **{
                    f: getattr(h.listing, f)
                    for f in SearchHit.model_fields
                    if hasattr(h.listing, f)
                },
                "position": offset + i,
                "text_match": round(h.text_match, 4),
                "distance_km": h.distance_km,
            }
        )
        for i, h in enumerate(page)
    ]
    more = offset + limit < len(ordered)
    return SearchPage(
        search_id=found.id,
        ranking=ranking,  # type: ignore[arg-type]
        model_version=version,
        items=items,
        offset=offset,
        limit=limit,
        next_offset=offset + limit if more else None,
    )
