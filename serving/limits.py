"""Rate limits: which counters a request increments, when a window lets go, and the in-process
counters that keep limits binding while the shared store is down.

Windows are fixed (the window's index is in the key), so a refused caller may retry when the
window it overflowed ends: that is the ``Retry-After`` a 429 carries. A limit's subject is the
user, the client IP, or the pair of both (``user_ip``): a login throttled per account *and*
source means a stranger guessing a victim's password from elsewhere fills only their own
bucket, never the owner's.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence

from serving import keys
from serving.rules import Limit
from serving.store.base import Counter


def subject(limit: Limit, *, user_id: str | None, ip: str | None, device: str | None) -> str | None:
    """What the limit counts for this request, or ``None`` when it does not apply."""
    if limit.scope == "user":
        return user_id
    if limit.scope == "ip":
        return ip
    # An account from one source; a request without an address is told apart by its device.
    return f"{user_id}@{ip or device or '-'}" if user_id else None


def counters(
    limits: Sequence[Limit],
    subjects: Sequence[str],
    *,
    action: str,
    now_s: float,
    user_id: str | None = None,
) -> tuple[Counter, ...]:
    """The counters to increment; the user's own (per user, per user and IP) under the user's
    hash tag, beside the rest of the decision's keys (``serving.keys``)."""
    return tuple(
        Counter(
            keys.rate_key(
                lim.scope,
                who,
                action=action,
                window_s=lim.window_s,
                now_s=now_s,
                user_id=user_id if lim.scope != "ip" else None,
            ),
            lim.window_s,
        )
        for lim, who in zip(limits, subjects, strict=True)
    )


def retry_after_s(limits: Sequence[Limit], *, now_s: float) -> int:
    """Seconds until the last of ``limits``' current windows ends (at least 1)."""
    return max(1, *(math.ceil(lim.window_s - now_s % lim.window_s) for lim in limits))


class LocalCounters:
    """Fixed-window counters in this process: a fallback, not a replacement.

    While the store is unreachable each worker process counts on its own, so a limit binds at
    up to (workers x limit): loose, but never unlimited, which is what a dead store would
    otherwise mean for logins and money movements."""

    def __init__(self, *, max_keys: int = 100_000) -> None:
        self._counts: dict[str, tuple[int, float]] = {}  # key -> (count, window end)
        self._max_keys = max_keys
        self._lock = threading.Lock()

    def incr(self, counters: Sequence[Counter], *, now_s: float) -> tuple[int, ...]:
        with self._lock:
            if len(self._counts) >= self._max_keys:
                self._counts = {k: v for k, v in self._counts.items() if v[1] > now_s}
            out = []
            for c in counters:
                count, ends = self._counts.get(c.key, (0, now_s - now_s % c.window_s + c.window_s))
                self._counts[c.key] = (count + 1, ends)
                out.append(count + 1)
            return tuple(out)
