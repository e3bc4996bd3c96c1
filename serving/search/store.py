"""The released search ranker on disk: one folder per version, one pointer flipped last.

A release (``publish``) writes ``v<version>/`` with the LightGBM model as text (``model.txt``),
what it needs to be applied (``meta.json``: feature names, category price medians, the trust
policy) and the seller table (``sellers.parquet``: per seller the features as of the snapshot),
then replaces ``current.json`` atomically: a reader sees the old release or the new one, never a
mix. ``load`` answers the current release, cached until the pointer changes, or ``None`` when
there is none or it cannot be read (the caller then ranks by relevance).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import lightgbm as lgb
import polars as pl

log = logging.getLogger(__name__)
POINTER = "current.json"
SELLER_SCHEMA = {"seller_id": pl.String}


@dataclass(frozen=True)
class Release:
    version: str
    booster: lgb.Booster
    features: tuple[str, ...]
    medians: dict[tuple[str, str], float]  # (category, currency) -> median price
    sellers: dict[str, dict[str, float | None]]  # seller_id -> seller feature -> value
    policy: dict[str, float]  # min_trust, max_fraud_risk, demotion (score shift)
    as_of: str


def publish(
    root: Path,
    *,
    version: str,
    model_text: str,
    meta: dict[str, Any],
    sellers: pl.DataFrame,
) -> Path:
    """Write one release and point ``current.json`` at it; older releases are removed."""
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f"v{version}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    (folder / "model.txt").write_text(model_text)
    (folder / "meta.json").write_text(json.dumps({**meta, "version": version}))
    sellers.write_parquet(folder / "sellers.parquet")
    fd, tmp = tempfile.mkstemp(dir=root, suffix=".tmp")
    with os.fdopen(fd, "w") as out:
        json.dump({"version": version, "folder": folder.name}, out)
    os.replace(tmp, root / POINTER)
    for old in root.glob("v*"):
        if old.is_dir() and old.name != folder.name:
            shutil.rmtree(old, ignore_errors=True)
    return folder


def _read(folder: Path) -> Release:
    meta = json.loads((folder / "meta.json").read_text())
    booster = lgb.Booster(model_str=(folder / "model.txt").read_text())
    table = pl.read_parquet(folder / "sellers.parquet")
    names = [c for c in table.columns if c != "seller_id"]
    sellers = {row["seller_id"]: {n: row[n] for n in names} for row in table.iter_rows(named=True)}
    medians = {(m["category"], m["currency"]): float(m["median"]) for m in meta["medians"]}
    return Release(
        version=str(meta["version"]),
        booster=booster,
        features=tuple(meta["features"]),
        medians=medians,
        sellers=sellers,
        policy={k: float(v) for k, v in meta["policy"].items()},
        as_of=str(meta.get("as_of", "")),
    )


_cache: dict[Path, tuple[str, Release]] = {}


def load(root: Path) -> Release | None:
    """The current release, or ``None`` (none published, or unreadable: logged)."""
    pointer = root / POINTER
    try:
        text = pointer.read_text()
        cached = _cache.get(root)
        if cached is not None and cached[0] == text:
            return cached[1]
        release = _read(root / str(json.loads(text)["folder"]))
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError, lgb.basic.LightGBMError) as exc:
        log.warning("search ranker at %s unreadable, ranking by relevance: %s", root, exc)
        return None
    _cache[root] = (text, release)
    return release
