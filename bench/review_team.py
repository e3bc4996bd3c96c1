"""The simulated analyst team of the review-loop bench, working through the real review service.

The arm's core database (SQLite under the arm's data dir) is seeded by ``vouch seed-core
--no-staff`` itself (a subprocess: benches may not import the CLI) each day from the lake as it
stood that morning, so every user the scores name is an account, with the status the platform
knew then (seeding never touches an existing account: a ban the simulation's own analysts give
later is not copied; the team may then confirm a user already banned in the lake); three
analyst accounts come from ``core_api.services.seed.staff_account``. Each day the team:

1. opens or refreshes cases from the day's queue (``review.sync_cases``, flags as
   ``vouch queue --sync`` builds them);
2. reads the undecided cases (``review.queue``), ranks them by the user's risk today and
   picks ``k`` by the policy:
   ``top`` the ``k`` riskiest; ``informative`` ``TOP_SHARE`` of them from the top and the rest
   where the model is least sure (risk nearest ``UNSURE_AT``);
3. decides each through ``review.decide`` (confirm or clear), on the day, from the simulator's
   truth (fraudulent by the decision time), wrong with probability ``error_rate``;
4. relays the outbox (``relay_pending`` into a ``LandingSink`` dated on the day) and ingests
   the landing file into the arm's lake (``ingest_landing``), where the next day's training
   reads the REVIEW_DECISION and the ban as labels.

The truth is the analysts' oracle only: nothing else here reads it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.engine import Engine

from core_api.db.engine import make_engine, make_sessionmaker, upgrade
from core_api.db.identity import User
from core_api.services import review
from core_api.services.outbox import LandingSink, relay_pending
from core_api.services.seed import staff_account
from pipelines.ingest import Lake, ingest_landing
from settings import Settings

TOP_SHARE = 0.6  # informative policy: share of the day's reviews taken from the top
UNSURE_AT = 0.5  # the calibrated risk where the model is least sure (the high band's cut)
TEAM = 3  # analysts
WORKDAY = (timedelta(hours=9), timedelta(hours=17))  # decisions spread over the day


def seed_core(settings: Settings, *, before: datetime) -> str:
    """``vouch seed-core --no-staff`` into the arm's core database from the arm's lake as it
    stood at ``before`` (a view of its event partitions before that day, so no account starts
    with a status the simulation only gives it later); its JSON line."""
    view = settings.data_dir / "seed-view"
    shutil.rmtree(view, ignore_errors=True)
    lake, seen = Lake(settings.lake), Lake(Settings(data_dir=view).lake)
    seen.events_dir.mkdir(parents=True)
    for part in sorted(lake.events_dir.glob("event_date=*")):
        if part.name < lake.event_partition(before.date()).name:
            (seen.events_dir / part.name).symlink_to(part.resolve(), target_is_directory=True)
    env = {k: v for k, v in os.environ.items() if k != "VOUCH_DATABASE_URL"}
    env["VOUCH_DATA_DIR"] = str(view)
    env["VOUCH_DATABASE_URL"] = f"sqlite:///{settings.core_database}"
    vouch = str(Path(sys.executable).parent / "vouch")
    done = subprocess.run(
        [vouch, "seed-core", "--no-staff"], env=env, check=True, capture_output=True, text=True
    )
    return done.stdout.strip().splitlines()[-1]


def pick(cases: list[tuple[str, float]], *, k: int, policy: str) -> list[str]:
    """``k`` of ``cases`` ((id, risk), riskiest first) by the policy."""
    if policy == "top" or len(cases) <= k:
        return [c for c, _ in cases[:k]]
    head = max(1, round(k * TOP_SHARE))
    rest = sorted(cases[head:], key=lambda c: abs(c[1] - UNSURE_AT))
    return [c for c, _ in cases[:head]] + [c for c, _ in rest[: k - head]]


@dataclass
class Team:
    settings: Settings
    truth: pl.DataFrame  # user_id, fraud_from: the oracle
    error_rate: float = 0.0
    seed: int = 0
    engine: Engine = field(init=False)
    analysts: list[str] = field(init=False)
    decided: int = 0
    confirmed: int = 0
    reviewed_users: set[str] = field(default_factory=set)
    _ingested: set[Path] = field(default_factory=set)

    def __post_init__(self) -> None:
        self.engine = make_engine(self.settings)
        upgrade(self.engine)
        self.sessions = make_sessionmaker(self.engine)
        self.rng = np.random.default_rng(self.seed)
        self.fraud_from = dict(self.truth.select("user_id", "fraud_from").iter_rows())
        with self.sessions() as db:
            self.analysts = [
                staff_account(db, email=f"analyst{i}@bench.example", role="analyst", name="a")
                for i in range(TEAM)
            ]
            emails = [a.email for a in self.analysts]
            self.ids = list(db.scalars(select(User.id).where(User.email.in_(emails))))

    def sync(self, queue: pl.DataFrame) -> review.SyncResult:
        flags = [
            review.Flag(
                user_id=row["user_id"],
                risk=float(row["fraud_risk"]),
                band=row["band"],
                reasons=tuple(row["reasons"] or ()),
                rules=tuple(row["rule_hits"] or ()),
                scored_at=row["scored_at"],
            )
            for row in queue.iter_rows(named=True)
        ]
        with self.sessions() as db:
            return review.sync_cases(db, flags=flags, now=queue["scored_at"][0])

    def undecided(self, *, limit: int = 2000) -> list[tuple[str, float, str]]:
        """(case id, risk, user id) of every undecided case, riskiest first."""
        out: list[tuple[str, float, str]] = []
        cursor = None
        with self.sessions() as db:
            while len(out) < limit:
                page = review.queue(db, analyst_id=self.ids[0], cursor=cursor, limit=200)
                out += [(c.id, c.risk, c.user_id) for c in page.rows]
                cursor = page.next_cursor
                if cursor is None:
                    break
        return out

    def verdict(self, user_id: str, at: datetime) -> tuple[str, bool]:
        """(action, truly fraud): the truth, flipped with probability ``error_rate``."""
        start = self.fraud_from.get(user_id)
        fraud = start is not None and start <= at
        right = self.rng.random() >= self.error_rate
        return ("confirm" if fraud == right else "clear"), fraud

    def review_day(
        self, day: datetime, *, k: int, policy: str, risk: dict[str, float]
    ) -> list[bool]:
        """Review ``k`` cases on ``day``, ranked by today's ``risk`` of their user (a case
        keeps the risk of the last sync that flagged its user: after a retrain that moved the
        calibration, yesterday's risks would sit on top); whether each user was truly fraud."""
        cases = [(c, risk.get(u, r), u) for c, r, u in self.undecided()]
        cases.sort(key=lambda c: -c[1])
        users = {c: u for c, _, u in cases}
        chosen = pick([(c, r) for c, r, _ in cases], k=k, policy=policy)
        start, end = WORKDAY
        truths = []
        for i, case_id in enumerate(chosen):
            at = day + start + (end - start) * (i / max(len(chosen), 1))
            action, fraud = self.verdict(users[case_id], at)
            with self.sessions() as db:
                review.decide(
                    db,
                    case_id,
                    analyst_id=self.ids[i % len(self.ids)],
                    action="confirm" if action == "confirm" else "clear",
                    reason="simulated_review",
                    now=at,
                )
            truths.append(fraud)
            self.reviewed_users.add(users[case_id])
            self.decided += 1
            self.confirmed += action == "confirm"
        return truths

    def deliver(self, day: datetime, *, lake: Lake) -> int:
        """Relay the outbox into the landing (dated ``day``) and ingest it; events ingested."""
        landing = self.settings.landing
        relay_pending(self.sessions, LandingSink(landing, clock=lambda: day + WORKDAY[1]))
        folder = landing / day.strftime("%Y-%m-%d")
        files = sorted(folder.glob("*.ndjson")) if folder.exists() else []
        fresh = [f for f in files if f not in self._ingested]
        if not fresh:
            return 0
        report = ingest_landing(fresh, landing=landing, lake=lake, landing_date=day.date())
        self._ingested.update(fresh)
        return report.ingested

    def close(self) -> None:
        self.engine.dispose()
