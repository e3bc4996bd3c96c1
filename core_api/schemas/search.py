"""Listing search responses (its input is query parameters, validated in the router)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel

from core_api.schemas.marketplace import ListingOut

Ranking = Literal["model", "relevance", "newest", "shuffled"]


class SearchHit(ListingOut):
    position: int  # 0-based, across pages
    text_match: float  # share of the query's terms in the title (1) or only the description (0.5)
    distance_km: float | None  # from the query's point, if it gave one


class SearchPage(BaseModel):
    search_id: str  # name it in ``POST /marketplace/orders`` when ordering from this page
    ranking: Ranking  # what ordered the page: "relevance" is the documented fallback
    model_version: str | None
    items: list[SearchHit]
    offset: int
    limit: int
    next_offset: int | None
