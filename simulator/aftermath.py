"""What follows a paid order: disputes, refunds, escrow release, chargebacks, reviews, vouching.

``order_chains`` is the entry point: checkout and delivery (``chains``), then the aftermath.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from core_api.events import SYSTEM_ACTOR_ID
from simulator.base import DAY, HOUR, MINUTE, SECOND, uniform_times
from simulator.chains import FAKE, HONEST, MODES, SCAMMED, STOLEN, Chain, checkout, fulfil
from simulator.payments import Ledger
from simulator.population import Population
from simulator.social import VERIFIED, Graph, edge_weight, trust_frames
from simulator.wire import nullify

OUTCOMES = np.array(["buyer_won", "seller_won", "withdrawn"])
RATINGS = [0.03, 0.04, 0.1, 0.28, 0.55]  # honest buyers' star ratings 1..5


def aftermath(
    c: Chain,
    graph: Graph,
    *,
    ledger: Ledger,
    paid: np.ndarray,
    quit_: np.ndarray,
    ships: np.ndarray,
    deliv_t: np.ndarray,
) -> pl.DataFrame:
    rng, n, mode = c.rng, c.n, c.mode
    fake = mode == FAKE
    # Disputes: honest ones after delivery, scam victims when the parcel never comes.
    scam = ~quit_ & (mode == SCAMMED)
    route = rng.random(n)
    disputed = (ships & (mode == HONEST) & (route < 0.03)) | (scam & (route < 0.75))
    charge_nr = scam & (route >= 0.75) & (route < 0.95)
    late_open = paid + uniform_times(rng, n, lo=7 * DAY, hi=21 * DAY)
    open_t = np.where(scam, late_open, deliv_t + uniform_times(rng, n, lo=12 * HOUR, hi=5 * DAY))
    d = np.flatnonzero(disputed)
    described = np.where(rng.random(n) < 0.75, "not_as_described", "other")
    reason = pl.Series(np.where(scam, "not_received", described))
    c.emit(
        "DISPUTE_OPENED",
        d,
        ts=open_t[d],
        ctx=c.b_home,
        target=c.seller,
        fields=[("dispute_reason", "s", reason), *c.money, ("seller_id", "s", c.s_uid)],
    )
    c.status(d, open_t[d] + SECOND, status="disputed")
    res_t = open_t + uniform_times(rng, n, lo=2 * DAY, hi=10 * DAY)
    oc = rng.random(n)
    outcome = np.where(
        scam, np.where(oc < 0.9, 0, 2), np.where(oc < 0.5, 0, np.where(oc < 0.85, 1, 2))
    )
    c.emit(
        "DISPUTE_RESOLVED",
        d,
        ts=res_t[d],
        actor=SYSTEM_ACTOR_ID,
        fields=[
            ("dispute_outcome", "s", pl.Series(OUTCOMES[outcome])),
            ("seller_id", "s", c.s_uid),
        ],
    )
    won = disputed & (outcome == 0)
    refund = np.flatnonzero(won)
    c.emit("REFUND_ISSUED", refund, ts=res_t[refund] + HOUR, fields=c.money_to)
    c.status(refund, res_t[refund] + HOUR + SECOND, status="refunded")
    # Escrow goes to the seller after delivery, a lost dispute, or a scam buyer who gave up.
    after = deliv_t + uniform_times(rng, n, lo=HOUR, hi=3 * DAY)
    release_t = np.where(disputed, res_t + HOUR, np.where(scam, paid + 30 * DAY, after))
    rel = np.flatnonzero(~quit_ & ~won & ~charge_nr)
    c.emit("ESCROW_RELEASED", rel, ts=release_t[rel], fields=c.money_to)
    ledger.credit(ts=release_t[rel], user=c.seller[rel], cents=c.cents[rel])
    # Chargebacks: stolen cards weeks later (mostly after the window), scam victims via their bank.
    stolen = mode == STOLEN
    cb = np.flatnonzero(charge_nr | (~quit_ & stolen))
    delay = np.where(
        stolen,
        uniform_times(rng, n, lo=14 * DAY, hi=56 * DAY),
        uniform_times(rng, n, lo=14 * DAY, hi=45 * DAY),
    )
    cb_t = paid + delay
    cb_reason = pl.Series(np.where(stolen, "fraudulent", "not_received"))
    c.emit(
        "CHARGEBACK_RECEIVED",
        cb,
        ts=cb_t[cb],
        subject=c.pay_id,
        target=np.where(stolen, c.buyer, c.seller),
        fields=[
            *c.money,
            ("chargeback_reason", "s", cb_reason),
            ("order_id", "s", c.oid),
            ("seller_id", "s", c.s_uid),
        ],
    )
    rep = np.flatnonzero(disputed & scam & (rng.random(n) < 0.6))
    c.emit(
        "USER_REPORTED",
        rep,
        ts=open_t[rep] + 10 * MINUTE,
        subject=c.s_uid,
        ctx=c.b_home,
        target=c.seller,
        fields=[("report_reason", "s", "scam")],
    )
    # Reviews: fake trades always praise, scam victims sometimes warn others.
    p_rev = np.where(fake, 0.95, np.where(scam, 0.3, 0.55))
    rv = np.flatnonzero(~quit_ & (rng.random(n) < p_rev) & (ships | scam))
    honest_stars = rng.choice([1, 2, 3, 4, 5], size=n, p=RATINGS)
    rating = np.where(fake, 5, np.where(scam, 1, honest_stars))
    wait = uniform_times(rng, n, lo=HOUR, hi=np.where(fake, DAY // 2, 4 * DAY))
    rv_t = np.where(scam, open_t, release_t) + wait
    c.emit(
        "REVIEW_POSTED",
        rv,
        ts=rv_t[rv],
        ctx=c.b_home,
        fields=[("reviewee_id", "s", c.s_uid), ("rating", "i", rating)],
    )
    sv = np.flatnonzero(ships & (rng.random(n) < np.where(fake, 0.8, 0.25)))
    c.emit(
        "REVIEW_POSTED",
        sv,
        ts=rv_t[sv] + HOUR,
        actor=c.s_uid,
        ctx=c.s_home,
        fields=[
            ("reviewee_id", "s", c.b_uid),
            ("rating", "i", np.where(rng.random(n) < 0.85, 5, 4)),
        ],
    )
    # A good trade often turns into a verified connection.
    vc = np.flatnonzero(ships & ~disputed & (rng.random(n) < np.where(fake, 0.9, 0.15)))
    vc_t = release_t[vc] + uniform_times(rng, vc.size, lo=HOUR, hi=2 * DAY)
    kind = np.full(vc.size, VERIFIED, np.int8)
    acc = graph.add_trust(c.buyer[vc], c.seller[vc], kind=kind, since=vc_t)
    vc, vc_t, kind = vc[acc], vc_t[acc], kind[acc]
    c.out.append(
        trust_frames(
            c.pop,
            src=c.buyer[vc],
            dst=c.seller[vc],
            kind=kind,
            ts=vc_t,
            weight=edge_weight(rng, kind),
            ctx=c.b_home.gather(vc),
        )
    )
    charged = nullify(pl.Series(cb_t), ~np.isin(np.arange(n), cb))
    return pl.DataFrame(
        {
            "order_id": c.oid,
            "buyer_id": c.b_uid,
            "seller_id": c.s_uid,
            "listing_id": c.listing_id,
            "amount_cents": c.cents,
            "currency": c.cur,
            "mode": pl.Series(MODES[mode]),
            "cancelled": quit_,
            "disputed": disputed,
            "chargeback_at": charged.cast(pl.Datetime("us", "UTC")),
        }
    )


def order_chains(
    pop: Population,
    graph: Graph,
    *,
    ledger: Ledger,
    buyer: np.ndarray,
    seller: np.ndarray,
    listing_id: pl.Series,
    cents: np.ndarray,
    cur: pl.Series,
    qty: np.ndarray,
    ts: np.ndarray,
    ctx: pl.Series,
    pm: pl.Series,
    mode: np.ndarray,
    rng: np.random.Generator,
    search_id: pl.Series | None = None,
) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    c = Chain(
        pop=pop,
        buyer=buyer,
        seller=seller,
        listing_id=listing_id,
        cents=cents,
        cur=cur,
        mode=mode,
        ctx=ctx,
        pm=pm,
        rng=rng,
        search_id=search_id,
    )
    paid, quit_ = checkout(c, ts, qty=qty)
    ships = ~quit_ & (mode != SCAMMED)
    deliv_t = fulfil(c, paid, ships=ships)
    truth = aftermath(c, graph, ledger=ledger, paid=paid, quit_=quit_, ships=ships, deliv_t=deliv_t)
    truth = truth.with_columns(placed_at=pl.Series(ts).cast(pl.Datetime("us", "UTC")))
    return c.out, truth
