"""Listing search features, point-in-time, and the search ranker's labelled groups.

A plain library in one direction: ``inputs`` (the one reader of the lake: impressions, orders
named by a search, listings, sales, reviews, disputes, registrations, flags) -> ``features``
(the seller table as of a snapshot, the category price medians, labelled search groups).
"""

from features.search.features import (
    LABEL_WINDOW,
    LISTING_FEATURES,
    SEARCH_FEATURES,
    SELLER_FEATURES,
    category_medians,
    search_groups,
    seller_table,
)
from features.search.inputs import SearchInputs, load_inputs

__all__ = [
    "LABEL_WINDOW",
    "LISTING_FEATURES",
    "SEARCH_FEATURES",
    "SELLER_FEATURES",
    "SearchInputs",
    "category_medians",
    "load_inputs",
    "search_groups",
    "seller_table",
]
