"""Alerts for ops: one structured log record per alert, and a JSON POST to a webhook when one is
configured (``settings.alert_webhook_url``). A plain module: the Dagster sensor that calls it
lives in ``pipelines.sensors``.

The webhook is best effort: a receiver that is down or slow must not fail the sensor (Dagster
would retry the tick and alert twice), so a failed POST is logged and reported, never raised.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from typing import Any

log = logging.getLogger("vouch.alerts")


def alert(record: dict[str, Any], *, webhook_url: str | None, timeout_s: float = 5.0) -> int | None:
    """Log ``record`` (an ERROR whose ``alert`` attribute is the record itself, for JSON log
    handlers) and POST it to ``webhook_url``; the receiver's HTTP status, or None when there is
    no webhook or the POST failed."""
    body = json.dumps(record, sort_keys=True, default=str)
    log.error("vouch alert %s", body, extra={"alert": record})
    if not webhook_url:
        return None
    if not webhook_url.startswith(("http://", "https://")):  # urllib would also open file://
        log.warning("alert webhook %r is not an http(s) URL: not sent", webhook_url)
        return None
    request = urllib.request.Request(
        webhook_url,
        data=body.encode(),
        headers={"Content-Type": "application/json", "User-Agent": "vouch-alerts"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        log.warning("alert webhook %s answered %s", webhook_url, exc.code)
        return int(exc.code)
    except (urllib.error.URLError, OSError) as exc:
        log.warning("alert webhook %s unreachable: %s", webhook_url, exc)
        return None
