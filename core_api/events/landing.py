"""The NDJSON landing's file rule, shared by every producer (the API's outbox relay, the
JetStream drain): one file per batch under ``<landing>/<arrival UTC day>/``, visible to the
ingest only once complete (written as a dot-file, fsynced, then renamed)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path


def write_landing_file(
    landing: Path, lines: Sequence[bytes], *, now: datetime, source: str
) -> Path | None:
    """Write ``lines`` as one landing file named after ``source``; ``None`` for no lines."""
    if not lines:
        return None
    folder = landing / now.strftime("%Y-%m-%d")
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{source}-{now:%H%M%S%f}-{uuid.uuid4().hex[:8]}.ndjson"
    tmp = folder / f".{name}.tmp"  # not *.ndjson: invisible to the ingest until renamed
    with open(tmp, "wb") as f:
        f.write(b"".join(line + b"\n" for line in lines))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, folder / name)
    return folder / name
