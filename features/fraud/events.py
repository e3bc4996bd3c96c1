"""The fraud features' own read of the lake: the flat frame's rows, only the columns they use,
in types that cost a few bytes a row.

``features.lake.read_flat`` gives every field as a String (16 bytes a row for a view, plus the
text of every id longer than 12 characters: ~52 bytes a row for a UUID, null or not). That frame
cost ~500 bytes an event, and every fraud step held the whole lake in it. Here instead:

- ids (users, devices, IPs) and every low-cardinality field (event type, country, currency,
  statuses, decisions) are ``Categorical``: 4 bytes a row, each distinct text kept once. polars'
  categories are global, so the same text has the same code in every column and frame (joins
  and ``windows.key_codes`` work on the codes, never on the text);
- ``subject_id`` only where it names a user (``USER_SUBJECTS``); the features never read the
  post, order or payment a subject id names, and those ids are most of the distinct texts;
- ``amount`` and ``price`` as Float64 (what ``encode.money`` turns them into anyway, by the same
  cast), not 16-byte Decimals;
- no ``event_id``, ``order_id`` or ``purpose`` (the order is fixed by the read itself).

Every value a feature reads is the one ``read_flat`` gives, so the features are the same.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import polars as pl

from features.lake import CONTEXT_FIELDS, PAYLOAD_FIELDS, USER_SUBJECTS, read_sorted

_CAT = pl.Categorical()
_DROPPED = ("order_id", "purpose")
_FLOATS = ("amount", "price")
FRAUD_SCHEMA: dict[str, pl.DataType] = {
    "event_type": _CAT,
    "at": pl.Datetime("us", "UTC"),
    "actor_id": _CAT,
    "subject_id": _CAT,
    **dict.fromkeys(CONTEXT_FIELDS, _CAT),
    **{
        name: (pl.Float64() if name in _FLOATS else _CAT)
        for name in PAYLOAD_FIELDS.values()
        if name not in _DROPPED
    },
}


def _select() -> list[str]:
    users = ", ".join(f"'{t}'" for t in sorted(USER_SUBJECTS))
    return (
        [
            "event_type",
            'occurred_at AS "at"',
            "actor_id",
            f"CASE WHEN event_type IN ({users}) THEN subject_id END AS subject_id",
        ]
        + [f"context.{f} AS {f}" for f in CONTEXT_FIELDS]
        + [f"payload.{f} AS {name}" for f, name in PAYLOAD_FIELDS.items() if name not in _DROPPED]
    )


def read_fraud_events(events_dir: str | Path, *, until: datetime | None = None) -> pl.DataFrame:
    """Events with ``occurred_at <= until`` (all if None) in ``FRAUD_SCHEMA``, in the order and
    with the values of ``features.lake.read_flat``: what ``user_features``,
    ``snapshot_queries`` and ``observed_labels`` take."""
    # The lake stores amounts as Decimal(18, 4) (core_api.events.fields.MONEY_TYPE): each batch
    # is cast from it to Float64 by polars' cast, the one money() applies to read_flat's frame.
    return read_sorted(events_dir, columns=_select(), schema=FRAUD_SCHEMA, until=until)
