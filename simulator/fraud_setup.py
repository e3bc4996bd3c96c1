"""Recruiting the fraudsters: which accounts belong to which typology, and the traces they share.

New-account typologies take users who would have signed up during the window and move their
sign-up to when the scheme starts; account takeovers hit aged honest accounts; some mules are
recruited from existing members. All of it is ground truth only.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from simulator import catalog as cat
from simulator.base import DAY, HOUR, MINUTE, stream
from simulator.losses import Losses
from simulator.population import ATO, CARD, MULE, SCAM, SPAM, SYBIL, Population
from simulator.tactics import NORMAL, Tactics


@dataclass
class FraudState:
    rings: list[np.ndarray] = field(default_factory=list)  # sybil rings
    farms: list[np.ndarray] = field(default_factory=list)  # spam / engagement farms
    testers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    test_cards: dict[int, np.ndarray] = field(default_factory=dict)  # stolen card keys per tester
    scammers: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    mules: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    victims: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    attacker_device: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    attacker_country: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    attacker_ip: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint32))
    attacker_plat: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    tactics: Tactics = NORMAL
    pass_share: np.ndarray | None = None  # per user: share of incoming money a mule moves on
    losses: Losses = field(default_factory=Losses)


def live(pop: Population, users: np.ndarray, *, t: int) -> np.ndarray:
    """Members whose scheme has started by ``t`` and who are not banned yet."""
    return users[(pop.fraud_from[users] < t) & (pop.banned_us[users] > t)]


def datacenter_ips(rng: np.random.Generator, n: int) -> np.ndarray:
    first = rng.choice(cat.DATACENTER_BLOCKS, size=n)
    return (first << np.uint32(24)) | rng.integers(1 << 8, 1 << 24, size=n, dtype=np.uint32)


def _take(pool: list[int], k: int) -> np.ndarray:
    out = np.array(pool[:k], dtype=np.int64)
    del pool[:k]
    return out


def _groups(rng: np.random.Generator, total: int, *, lo: int, hi: int) -> list[int]:
    sizes: list[int] = []
    while sum(sizes) < total:
        sizes.append(int(rng.integers(lo, hi + 1)))
    return sizes


def assign_fraud(pop: Population, *, start_us: int, days: int, seed: int) -> FraudState:
    rng = stream(seed, "fraud_setup")
    n = pop.n
    st = FraudState()
    fresh = list(rng.permutation(np.flatnonzero(~pop.preexisting)))
    window = max(1, days) * DAY
    horizon = max(int(0.6 * window), DAY // 2)  # schemes start early enough to leave traces

    def launch(users: np.ndarray, typ: int, *, at: np.ndarray | int, cluster: int = -1) -> None:
        pop.typology[users] = typ
        pop.reg_us[users] = at
        pop.dev_since[users, 0] = pop.reg_us[users]
        pop.fraud_from[users] = pop.reg_us[users]
        pop.cluster[users] = cluster
        pop.referrer[users] = -1

    def scripted(
        users: np.ndarray, *, devices: np.ndarray, plat: int, ips: np.ndarray, disposable: float
    ) -> None:
        """Accounts run from a handful of shared devices and hosting IPs."""
        pop.dev[users] = -1
        pop.dev[users, 0] = rng.choice(devices, size=users.size)
        pop.dev_plat[users, 0] = plat
        pop.channel[users] = plat
        pop.home_ip[users] = rng.choice(ips, size=users.size)
        pop.mobile_ip[users] = pop.home_ip[users]
        dispo = rng.random(users.size) < disposable
        pop.email[users[dispo]] = rng.choice(cat.DISPOSABLE_EMAILS, size=int(dispo.sum()))

    # Every typology shows up in any realistic run; tiny test worlds are not made mostly of fraud.
    floor, crew_floor = (4, 6) if n >= 1000 else (1, 0)
    cluster = 0
    # Sybil rings: a burst of sign-ups within hours, sharing devices and IPs, posing as locals.
    for size in _groups(rng, max(crew_floor, int(0.01 * n)), lo=6, hi=18):
        ring = _take(fresh, size)
        if ring.size < 3:
            break
        t0 = start_us + int(rng.random() * horizon)
        launch(ring, SYBIL, at=t0 + np.sort(rng.integers(0, 3 * HOUR, ring.size)), cluster=cluster)
        pop.fraud_from[ring] = pop.reg_us[ring].min()
        home = rng.integers(0, pop.n_communities)
        pop.community[ring] = home
        pop.country[ring] = np.bincount(pop.country[pop.community == home]).argmax()
        scripted(
            ring,
            devices=pop.new_device_keys(int(rng.integers(2, 4))),
            plat=cat.WEB,
            ips=datacenter_ips(rng, int(rng.integers(1, 3))),
            disposable=0.7,
        )
        pop.referrer[ring[1:]] = ring[0]
        pop.is_seller[ring] = False
        pop.is_seller[ring[: max(1, ring.size // 6)]] = True
        pop.activity[ring] = rng.uniform(0.8, 2.0, ring.size)
        st.rings.append(ring)
        cluster += 1
    # Spam and engagement farms.
    for size in _groups(rng, max(crew_floor, int(0.01 * n)), lo=5, hi=12):
        farm = _take(fresh, size)
        if farm.size < 3:
            break
        t0 = start_us + int(rng.random() * horizon)
        launch(farm, SPAM, at=t0 + rng.integers(0, 2 * DAY, farm.size), cluster=cluster)
        scripted(
            farm,
            devices=pop.new_device_keys(int(rng.integers(1, 4))),
            plat=cat.ANDROID,
            ips=datacenter_ips(rng, int(rng.integers(1, 4))),
            disposable=0.6,
        )
        pop.activity[farm] = rng.uniform(2.0, 5.0, farm.size)
        pop.quality[farm] = rng.uniform(0.02, 0.15, farm.size)
        pop.is_seller[farm] = False
        st.farms.append(farm)
        cluster += 1
    # Card testers, in small crews sharing a scripted client.
    testers = _take(fresh, max(floor, int(0.005 * n)))
    launch(testers, CARD, at=start_us + (rng.random(testers.size) * horizon).astype(np.int64))
    for crew in np.array_split(testers, max(1, testers.size // 3)):
        scripted(
            crew,
            devices=pop.new_device_keys(1),
            plat=cat.API,
            ips=datacenter_ips(rng, 2),
            disposable=0.5,
        )
        pop.cluster[crew] = cluster
        cluster += 1
    base_card = 10 * n
    for i, t in enumerate(testers):
        st.test_cards[int(t)] = base_card + i * 32 + np.arange(int(rng.integers(6, 16)))
    pop.country[testers] = rng.choice(cat.N_COUNTRIES, size=testers.size, p=cat.COUNTRY_SHARE)
    pop.is_seller[testers] = False
    st.testers = testers
    # Scam sellers: new accounts that list under-priced goods and never ship.
    scammers = _take(fresh, max(floor, int(0.004 * n)))
    # Scams start early in the window: their disputes come one to three weeks after a sale.
    early = (rng.random(scammers.size) * horizon * 0.5).astype(np.int64)
    launch(scammers, SCAM, at=start_us + early)
    pop.is_seller[scammers] = True
    pop.seller_cat[scammers] = rng.choice([0, 1, 7], size=scammers.size, p=[0.6, 0.2, 0.2])
    hosted = scammers[rng.random(scammers.size) < 0.5]
    pop.home_ip[hosted] = datacenter_ips(rng, hosted.size)
    dispo = scammers[rng.random(scammers.size) < 0.4]
    pop.email[dispo] = rng.choice(cat.DISPOSABLE_EMAILS, size=dispo.size)
    st.scammers = scammers
    # Money mules: some recruited existing members, some fresh accounts; crews share bank accounts.
    n_mules = max(floor, int(0.004 * n))
    aged = np.flatnonzero(pop.preexisting & (pop.typology == 0))
    recruits = rng.choice(aged, size=min(aged.size, int(0.4 * n_mules)), replace=False)
    new_mules = _take(fresh, n_mules - recruits.size)
    launch(
        new_mules, MULE, at=start_us + (rng.random(new_mules.size) * horizon * 0.5).astype(np.int64)
    )
    pop.typology[recruits] = MULE
    pop.fraud_from[recruits] = start_us + (rng.random(recruits.size) * horizon * 0.5).astype(
        np.int64
    )
    mules = np.concatenate([recruits, new_mules])
    for crew in np.array_split(rng.permutation(mules), max(1, mules.size // 4)):
        pop.bank[crew] = pop.bank[crew[0]] if rng.random() < 0.7 else pop.bank[crew]
        pop.cluster[crew] = cluster
        cluster += 1
    st.mules = mules
    # Account takeover victims: aged honest accounts, taken over at some point in the window.
    aged = np.flatnonzero(
        pop.preexisting & (pop.typology == 0) & (pop.reg_us < start_us - 90 * DAY)
    )
    victims = rng.choice(aged, size=min(aged.size, max(floor, int(0.004 * n))), replace=False)
    pop.typology[victims] = ATO
    pop.fraud_from[victims] = (
        start_us + DAY // 2 + (rng.random(victims.size) * max(horizon, DAY)).astype(np.int64)
    )
    pop.fraud_from[victims] += (rng.random(victims.size) * 30 * MINUTE).astype(np.int64)
    st.victims = victims
    st.attacker_device = pop.new_device_keys(victims.size)
    st.attacker_country = np.array(
        [rng.choice(np.flatnonzero(np.arange(cat.N_COUNTRIES) != pop.country[v])) for v in victims],
        dtype=np.int64,
    )
    st.attacker_ip = datacenter_ips(rng, victims.size)
    st.attacker_plat = np.zeros(victims.size, np.int64)
    pop.index_communities()
    return st
