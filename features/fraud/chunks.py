"""Groups of whole entities, a bounded number of rows each: what keeps a lookup's memory flat.

A ``windows.Stream`` costs ~10 int64 arrays per row (order, sorted codes and times, search keys,
running sums, ...). Built over a whole lake (10M events at 100,000 users) that is GBs of
temporaries for one feature. Every per-entity lookup only ever compares rows of one entity, so
it can run on groups of entities in turn (entity code modulo k) and give the very same results:
each group keeps its rows in input order, so ties break as they would in one pass.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

CHUNK_ROWS = 1 << 20  # rows per group: a few hundred MB of temporaries at most


def entity_chunks(
    codes: np.ndarray, queries: np.ndarray, *, rows: int | None = None
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per group of entities: (indices of its rows in ``codes``, indices of its ``queries``), both
    ascending; about ``rows`` rows a group (default ``CHUNK_ROWS``). Rows and queries with a
    code < 0 belong to no group."""
    k = min(max(1, -(-codes.size // (rows or CHUNK_ROWS))), 1 << 16)
    if k == 1:
        yield np.flatnonzero(codes >= 0), np.flatnonzero(queries >= 0)
        return
    row_bucket, query_bucket = (codes % k).astype(np.uint16), queries % k
    for b in range(k):
        yield (
            np.flatnonzero((row_bucket == b) & (codes >= 0)),
            np.flatnonzero((query_bucket == b) & (queries >= 0)),
        )
