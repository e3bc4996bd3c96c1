"""The day loop: each day is drawn in bulk, future steps wait in a schedule, days are written."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import polars as pl
from tqdm import tqdm

from simulator import (
    collab,
    feed,
    fraud_ato,
    fraud_money,
    fraud_mules,
    fraud_social,
    fraud_spam,
    hard_ato,
    market,
    payments,
    social,
    subscribers,
)
from simulator.base import DAY, Day, epoch_us, stream
from simulator.config import SimConfig, SimSummary
from simulator.fraud_setup import assign_fraud
from simulator.hard import harden
from simulator.identity import sessions, signups
from simulator.labels import Labels
from simulator.population import TYPOLOGY_NAMES, assign_referrers, build_population
from simulator.subscriptions import Subs
from simulator.transport import Transport
from simulator.truth import write_truth
from simulator.wire import EMPTY, compact


class Schedule:
    """Rows drawn ahead of their time (chain steps, replies, labels) until their day comes."""

    def __init__(self, *, start: int, end: int) -> None:
        self.start, self.end = start, end
        self.rows: list[pl.DataFrame] = []

    def add(self, frames: list[pl.DataFrame]) -> None:
        frames = [f for f in frames if f.height]
        if frames:
            # What would happen after the run is never observed; nothing precedes the start.
            block = pl.concat(frames).filter(
                (pl.col("ts") < self.end) & (pl.col("ts") >= self.start)
            )
            self.rows.append(block)

    def pop(self, until: int) -> pl.DataFrame:
        if not self.rows:
            return EMPTY
        everything = pl.concat(self.rows)
        self.rows = [compact(everything.filter(pl.col("ts") >= until))]
        return everything.filter(pl.col("ts") < until)


def simulate(config: SimConfig, *, out: Path, truth_out: Path, progress: bool = True) -> SimSummary:
    start = epoch_us(config.start)
    end = start + config.days * DAY
    pop = build_population(users=config.users, start_us=start, days=config.days, seed=config.seed)
    assign_referrers(pop, stream(config.seed, "referrers"))
    fs = assign_fraud(pop, start_us=start, days=config.days, seed=config.seed)
    if config.hard:
        # Its own stream: normal mode's draws never depend on whether hard mode exists.
        harden(pop, fs, rng=stream(config.seed, "hard_setup"), start_us=start)
    takeovers = hard_ato.takeovers if config.hard else fraud_ato.takeovers
    graph = social.Graph(pop.n)
    pool = feed.PostPool()
    work = collab.Collab()
    mk = market.Market()
    ledger = payments.Ledger()
    subs = Subs.offer(pop, seed=config.seed)
    labels = Labels(pop, seed=config.seed)
    transport = Transport(Path(out), seed=config.seed, end=end, faults=config.faults)
    schedule = Schedule(start=start, end=end)

    before = np.flatnonzero(pop.reg_us < start)
    boot = pl.concat(
        [f for f in signups(pop, before, rng=stream(config.seed, "bootstrap")) if f.height]
    )
    transport.bootstrap(boot.filter(pl.col("ts") < start), start)
    schedule.add([boot.filter(pl.col("ts") >= start)])

    days = range(config.days)
    for i in tqdm(days, desc="simulating days", unit="day", disable=not progress):
        day = Day(index=i, d0=start + i * DAY, d1=start + (i + 1) * DAY, end=end, seed=config.seed)
        fresh = np.flatnonzero((pop.reg_us >= day.d0) & (pop.reg_us < day.d1))
        frames = signups(pop, fresh, rng=day.rng("signups"))
        sess, more = sessions(pop, day)
        frames += more
        graph.index()
        frames += takeovers(pop, fs, day=day)
        frames += fraud_money.scam_selling(pop, fs, mk=mk, day=day)
        frames += fraud_social.sybil_rings(
            pop, fs, graph=graph, pool=pool, mk=mk, ledger=ledger, day=day
        )
        frames += fraud_money.card_testing(pop, fs, mk=mk, graph=graph, ledger=ledger, day=day)
        frames += fraud_mules.mule_inflows(pop, fs, day=day)
        frames += fraud_spam.spam_farms(pop, graph, pool=pool, day=day, tactics=fs.tactics)
        frames += social.daily(pop, graph, sess=sess, day=day)
        frames += feed.daily(pop, graph, pool=pool, sess=sess, day=day)
        frames += collab.daily(pop, graph, st=work, sess=sess, day=day)
        frames += market.daily(pop, graph, mk=mk, ledger=ledger, sess=sess, day=day)
        frames += payments.daily(pop, graph, ledger=ledger, sess=sess, day=day)
        frames += subscribers.daily(pop, fs, subs=subs, ledger=ledger, sess=sess, day=day)
        schedule.add(frames)
        due = schedule.pop(day.d1)
        labels.observe(due, pop.n)
        schedule.add(labels.review(pop, day))
        transport.deliver(day, due)

    typ = {name: int((pop.typology == k).sum()) for k, name in enumerate(TYPOLOGY_NAMES) if name}
    summary = SimSummary(
        events=sum(transport.by_type.values()),
        lines=transport.lines,
        bytes=transport.bytes,
        counts_by_type=dict(sorted(transport.by_type.items())),
        faults_by_kind=dict(sorted(transport.faults.by_kind.items())),
        files=list(transport.files),
        fraud_users_by_typology=typ,
        late=transport.late,
        duplicates=transport.duplicates,
        lost_to_faults=transport.faults.lost,
        undelivered=transport.undelivered(),
        users=config.users,
        days=config.days,
    )
    write_truth(
        Path(truth_out),
        config=config,
        summary=summary,
        pop=pop,
        posts=pool.truth,
        orders=mk.orders,
        faults=transport.faults,
        transport=transport.transport_truth,
        analysts=labels.analysts.to_list(),
        losses=fs.losses,
    )
    return summary
