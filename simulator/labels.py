"""How labels arrive: reports and disputes pile up, analysts review a few cases a day, bans follow.

Analysts see the truth imperfectly (they clear some fraud and confirm some honest accounts) and
have limited capacity, so most fraud is never labelled at all.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from core_api.events import SYSTEM_ACTOR_ID
from simulator.base import DAY, HOUR, MINUTE, Day, stream, uniform_times
from simulator.fraud_ato import status_frames
from simulator.ids import random_uuids
from simulator.population import TYPOLOGY_NAMES, Population
from simulator.wire import frame, nullify, obj

AUTO_SUSPEND_REPORTS = 25
DECISIONS = np.array(["confirmed_fraud", "cleared", "escalated"])
SIGNALS = {
    "USER_REPORTED": "reports",
    "USER_BLOCKED": "blocks",
    "DISPUTE_OPENED": "disputes",
    "CHARGEBACK_RECEIVED": "chargebacks",
}


class Labels:
    def __init__(self, pop: Population, *, seed: int) -> None:
        self.counts = {name: np.zeros(pop.n, np.int64) for name in SIGNALS.values()}
        self.reviewed = np.zeros(pop.n, bool)
        self.auto = np.zeros(pop.n, bool)
        self.analysts = random_uuids(stream(seed, "analysts"), 4)
        self.capacity = max(2, pop.n // 1500)

    def observe(self, due: pl.DataFrame, n: int) -> None:
        """Counts the negative signals that became visible today."""
        hits = due.filter(pl.col("target") >= 0).select("et", "target")
        for et, name in SIGNALS.items():
            tgt = hits.filter(pl.col("et") == et)["target"].to_numpy()
            self.counts[name] += np.bincount(tgt, minlength=n)

    def review(self, pop: Population, day: Day) -> list[pl.DataFrame]:
        rng = day.rng("labels")
        c = self.counts
        out: list[pl.DataFrame] = []
        alive = pop.banned_us > day.d1
        # Automatic suspension once reports pass a hard threshold.
        auto = np.flatnonzero(alive & ~self.auto & (c["reports"] >= AUTO_SUSPEND_REPORTS))
        self.auto[auto] = True
        t = day.d1 + uniform_times(rng, auto.size, lo=MINUTE, hi=2 * HOUR)
        pop.banned_us[auto] = np.minimum(pop.banned_us[auto], t)
        out.append(
            status_frames(
                pop,
                auto,
                ts=t,
                status="suspended",
                previous="active",
                reason="report_threshold",
                actor=SYSTEM_ACTOR_ID,
            )
        )
        # The review queue: strongest signals first, limited by analyst capacity.
        score = c["reports"] + 0.5 * c["blocks"] + 2 * c["disputes"] + 3 * c["chargebacks"]
        queued = (
            alive
            & ~self.reviewed
            & (
                (c["reports"] >= 3)
                | (c["disputes"] >= 2)
                | (c["chargebacks"] >= 1)
                | (c["blocks"] >= 4)
            )
        )
        cand = np.flatnonzero(queued)
        cand = cand[np.argsort(-score[cand], kind="stable")][: self.capacity]
        self.reviewed[cand] = True
        t = day.d1 + uniform_times(rng, cand.size, lo=HOUR, hi=3 * DAY)
        fraud = (pop.typology[cand] > 0) & (pop.fraud_from[cand] < t)
        r = rng.random(cand.size)
        decision = np.where(
            fraud,
            np.where(r < 0.75, 0, np.where(r < 0.8, 1, 2)),
            np.where(r < 0.03, 0, np.where(r < 0.88, 1, 2)),
        )
        typ = np.asarray(
            [TYPOLOGY_NAMES[k] or "spam_farm" for k in pop.typology[cand]], dtype=object
        )
        typ_s = nullify(pl.Series(typ.astype(str), dtype=pl.String), decision != 0)
        analyst = self.analysts.gather(rng.integers(0, len(self.analysts), cand.size))
        pay = obj(
            cand.size,
            [
                ("decision", "s", pl.Series(DECISIONS[decision])),
                ("case_id", "s", random_uuids(rng, cand.size)),
                ("typology", "s", typ_s),
            ],
        )
        out.append(
            frame("REVIEW_DECISION", t, actor=analyst, subject=pop.uid.gather(cand), payload=pay)
        )
        ban = np.flatnonzero(decision == 0)
        b_t = t[ban] + uniform_times(rng, ban.size, lo=MINUTE, hi=10 * MINUTE)
        status = np.where(rng.random(ban.size) < 0.6, "banned", "suspended")
        for s in ("banned", "suspended"):
            m = ban[status == s]
            tm = b_t[status == s]
            out.append(
                status_frames(
                    pop,
                    cand[m],
                    ts=tm,
                    status=s,
                    previous="active",
                    reason="confirmed_fraud",
                    actor=analyst.gather(m),
                )
            )
            pop.banned_us[cand[m]] = np.minimum(pop.banned_us[cand[m]], tm)
        return out
