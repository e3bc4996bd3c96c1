"""Column-wise rendering of events into the byte-exact wire form of ``core_api.events.to_wire``.

Every generator returns a *frame*: one row per event with the timestamp, type, actor, subject and
the context and payload objects already rendered as JSON text. Rendering per column (instead of
pydantic per event) is what makes ten million events affordable; the tests compare samples with
``to_wire`` byte for byte.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from simulator.catalog import COUNTRY, UA_PER_PLATFORM, UA_TABLE

FRAME_SCHEMA: dict[str, Any] = {
    "ts": pl.Int64,
    "et": pl.String,
    "actor": pl.String,
    "subject": pl.String,
    "ctx": pl.String,
    "payload": pl.String,
    "target": pl.Int32,  # user the event counts against (reports, disputes, chargebacks)
}
EMPTY = pl.DataFrame(schema=FRAME_SCHEMA)
Field = tuple[str, str, Any]  # (name, kind, value); kinds: s i b f2 f4 m


def _broadcast(value: Any, n: int) -> pl.Series:
    if isinstance(value, pl.Series):
        return value
    if isinstance(value, np.ndarray):
        return pl.Series(value)
    return pl.repeat(value, n, eager=True)


def _units(value: Any, places: int) -> Any:
    """Floats as integer 1/10**places units: the wire text is then built without float printing."""
    if isinstance(value, pl.Series):
        value = value.to_numpy()
    return np.round(np.asarray(value, dtype=np.float64) * 10**places).astype(np.int64)


def _expr(kind: str, col: pl.Expr) -> pl.Expr:
    q = pl.lit('"')
    if kind == "s":
        return pl.concat_str(q, col.cast(pl.String), q)
    if kind == "m":
        cents = col.cast(pl.Int64)
        frac = (cents % 100).cast(pl.String).str.zfill(2)
        return pl.concat_str(q, (cents // 100).cast(pl.String), pl.lit("."), frac, q)
    if kind == "i":
        return col.cast(pl.Int64).cast(pl.String)
    if kind == "b":
        return pl.when(col).then(pl.lit("true")).otherwise(pl.lit("false"))
    if kind in ("f2", "f4"):
        # Shortest decimal text, as Python's float repr (and so pydantic) prints rounded values.
        scale = 10 ** int(kind[1])
        units = col.cast(pl.Int64)
        frac = (units.abs() % scale).cast(pl.String).str.zfill(int(kind[1]))
        frac = frac.str.strip_chars_end("0")
        return pl.concat_str(
            pl.when(units < 0).then(pl.lit("-")).otherwise(pl.lit("")),
            (units.abs() // scale).cast(pl.String),
            pl.lit("."),
            pl.when(frac == "").then(pl.lit("0")).otherwise(frac),
        )
    if kind == "ip":
        v = col.cast(pl.Int64)
        octets = [((v // (1 << s)) % 256).cast(pl.String) for s in (24, 16, 8, 0)]
        return pl.concat_str([q, pl.concat_str(octets, separator="."), q])
    raise ValueError(kind)


def obj(n: int, fields: Sequence[Field]) -> pl.Series:
    """JSON objects in field order; a null value leaves its field out, as ``exclude_none`` does.

    Everything happens in one polars ``select``: per-call overhead, not per-row work, is what
    costs most in small batches.
    """
    if n == 0:
        return pl.Series([], dtype=pl.String)
    if not fields:
        return pl.repeat("{}", n, eager=True)
    cols: dict[str, Any] = {"_n": np.zeros(n, np.int8)}
    parts = []
    for i, (name, kind, value) in enumerate(fields):
        if kind in ("f2", "f4"):
            value = _units(value, int(kind[1]))
        if isinstance(value, pl.Series | np.ndarray):
            cols[f"c{i}"] = value
            col = pl.col(f"c{i}")
        else:
            col = pl.lit(value)
        parts.append(pl.concat_str(pl.lit(f',"{name}":'), _expr(kind, col)))
    inner = pl.concat_str(parts, ignore_nulls=True).str.slice(1)
    frame = pl.DataFrame(cols)
    text = frame.select(pl.concat_str(pl.lit("{"), inner, pl.lit("}"))).to_series()
    return text if text.len() == n else pl.repeat(text[0], n, eager=True)


def money_text(cents: np.ndarray) -> pl.Series:
    """Minor units as a two-decimal amount string (the contract keeps money out of floats)."""
    text = pl.DataFrame({"c": np.asarray(cents, dtype=np.int64)}).select(_expr("m", pl.col("c")))
    return text.to_series().str.strip_chars('"')


def nullify(values: pl.Series, mask: np.ndarray) -> pl.Series:
    """``values`` with nulls where ``mask`` is set (an optional field left out of those rows)."""
    return pl.select(
        pl.when(pl.lit(pl.Series(mask))).then(pl.lit(None)).otherwise(pl.lit(values))
    ).to_series()


def context(
    *,
    device: pl.Series,
    platform: np.ndarray,
    ip: np.ndarray,
    country: np.ndarray,
    ua_variant: np.ndarray,
) -> pl.Series:
    """A full client context (device, IP, country, user agent) per event."""
    ua = UA_TABLE[
        np.asarray(platform, dtype=np.int64) * UA_PER_PLATFORM + ua_variant % UA_PER_PLATFORM
    ]
    return obj(
        len(device),
        [
            ("device_id", "s", device),
            ("ip", "ip", np.asarray(ip, dtype=np.int64)),
            ("country", "s", pl.Series(COUNTRY[country])),
            ("user_agent", "s", pl.Series(ua)),
        ],
    )


def frame(
    et: str,
    ts: np.ndarray,
    *,
    actor: pl.Series | str,
    subject: pl.Series,
    payload: pl.Series,
    ctx: pl.Series | None = None,
    target: np.ndarray | None = None,
) -> pl.DataFrame:
    """One event type's rows in the frame schema (server-side events get an empty context)."""
    n = len(ts)
    if n == 0:
        return EMPTY
    cols = {
        "ts": pl.Series(np.asarray(ts, dtype=np.int64)),
        "et": pl.repeat(et, n, eager=True),
        "actor": _broadcast(actor, n),
        "subject": subject,
        "ctx": ctx if ctx is not None else pl.repeat("{}", n, eager=True),
        "payload": payload,
        "target": pl.Series(
            np.asarray(target, dtype=np.int32)
            if target is not None
            else np.full(n, -1, dtype=np.int32)
        ),
    }
    return pl.DataFrame(cols, schema=FRAME_SCHEMA)


def compact(df: pl.DataFrame) -> pl.DataFrame:
    """A copy that owns only its rows' bytes: a filtered string column otherwise keeps the whole
    buffer it was cut from alive, and rows carried over day after day would pin every day's text."""
    return pl.DataFrame(pl.from_arrow(df.to_arrow()))


def format_ts(ts: pl.Series) -> pl.Series:
    return ts.cast(pl.Datetime("us")).dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ")


def render_lines(frames: pl.DataFrame, event_ids: pl.Series) -> pl.Series:
    """Whole wire lines, keys in ``ENVELOPE_FIELDS`` order, without the trailing newline."""
    return (
        frames.with_columns(eid=event_ids, occ=format_ts(frames["ts"]))
        .select(
            pl.concat_str(
                pl.lit('{"event_id":"'),
                "eid",
                pl.lit('","event_type":"'),
                "et",
                pl.lit('","occurred_at":"'),
                "occ",
                pl.lit('","actor_id":"'),
                "actor",
                pl.lit('","subject_id":"'),
                "subject",
                pl.lit('","context":'),
                "ctx",
                pl.lit(',"payload":'),
                "payload",
                pl.lit(',"schema_version":1}'),
            )
        )
        .to_series()
    )
