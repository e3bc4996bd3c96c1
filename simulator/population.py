"""Who lives on the platform: communities, countries, interests, devices, money and sellers.

Struct-of-arrays over user indices 0..n-1; the fraud setup later rewrites the rows it recruits.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.base import DAY, NEVER, csr, stream
from simulator.ids import random_uuids

MAX_DEVICES = 3
# Fraud typologies (0 is honest); names are what the ground truth and REVIEW_DECISION carry.
HONEST, SYBIL, ATO, CARD, SCAM, MULE, SPAM = range(7)
TYPOLOGY_NAMES = (
    None,
    "sybil_ring",
    "account_takeover",
    "card_testing",
    "scam_seller",
    "money_mule",
    "spam_farm",
)
HISTORY_DAYS = 540  # pre-existing users joined over the previous ~18 months


@dataclass
class Population:
    n: int
    uid: pl.Series
    reg_us: np.ndarray
    preexisting: np.ndarray
    community: np.ndarray
    country: np.ndarray
    interests: np.ndarray
    activity: np.ndarray
    creator: np.ndarray  # how much more than average this user posts
    quality: np.ndarray  # latent quality of what the user writes
    is_seller: np.ndarray
    seller_cat: np.ndarray
    latlon: np.ndarray
    dev: np.ndarray  # device keys, -1 for an empty slot
    dev_plat: np.ndarray
    dev_since: np.ndarray  # when each device slot was first seen
    home_ip: np.ndarray
    mobile_ip: np.ndarray
    pm: np.ndarray  # payment method key
    bank: np.ndarray  # payout destination key
    email: np.ndarray
    mfa: np.ndarray
    channel: np.ndarray
    referrer: np.ndarray
    # fraud ground truth, filled by fraud_setup
    typology: np.ndarray
    fraud_from: np.ndarray
    cluster: np.ndarray
    # mutable state carried across days
    banned_us: np.ndarray
    balance: np.ndarray  # wallet cents in the user's own currency
    followers: np.ndarray
    next_device: int = 0
    comm_order: np.ndarray | None = None
    comm_ptr: np.ndarray | None = None
    camouflage: np.ndarray | None = None  # hard mode: fraud accounts that also live honestly

    @property
    def n_communities(self) -> int:
        return int(self.community.max()) + 1

    def index_communities(self) -> None:
        self.comm_order, self.comm_ptr = csr(self.community, self.n_communities)

    def new_device_keys(self, count: int) -> np.ndarray:
        keys = np.arange(self.next_device, self.next_device + count, dtype=np.int64)
        self.next_device += count
        return keys

    def honest_life(self) -> np.ndarray:
        """Accounts whose everyday behaviour is a real person's (victims and recruits included,
        and in hard mode the fraudsters who pose as ordinary members)."""
        real = (self.typology == 0) | (self.typology == ATO) | (self.typology == MULE)
        return real if self.camouflage is None else real | self.camouflage


def random_ips(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Residential IPv4 addresses inside the country's blocks."""
    first = np.empty(country.size, dtype=np.uint32)
    for c in np.unique(country):
        m = country == c
        first[m] = rng.choice(cat.IP_BLOCKS[c], size=int(m.sum()))
    rest = rng.integers(1 << 8, 1 << 24, size=country.size, dtype=np.uint32)
    return (first << np.uint32(24)) | rest


def carrier_ips(rng: np.random.Generator, country: np.ndarray) -> np.ndarray:
    """Mobile carriers NAT many subscribers behind few addresses: honest IP sharing exists too."""
    pool = rng.integers(0, max(32, min(2000, country.size // 200)), size=country.size)
    pool = pool.astype(np.uint32)
    block = cat.IP_BLOCKS_FIRST[country]
    third = (np.uint32(200) + (pool >> np.uint32(8))) << np.uint32(16)
    return (
        (block << np.uint32(24))
        | third
        | (country.astype(np.uint32) << np.uint32(8))
        | (pool & np.uint32(255))
    )


def build_population(*, users: int, start_us: int, days: int, seed: int) -> Population:
    rng = stream(seed, "population")
    n = users
    n_comm = max(3, n // 150)
    # Community sizes differ by orders of magnitude (a few big hobby groups, many small circles).
    size_w = rng.lognormal(0.0, 1.2, n_comm)
    community = rng.choice(n_comm, size=n, p=size_w / size_w.sum()).astype(np.int32)
    comm_country = rng.choice(cat.N_COUNTRIES, size=n_comm, p=cat.COUNTRY_SHARE)
    country = np.where(
        rng.random(n) < 0.85,
        comm_country[community],
        rng.choice(cat.N_COUNTRIES, size=n, p=cat.COUNTRY_SHARE),
    ).astype(np.int16)
    # Interests: a community-wide taste plus personal variation (homophily in the feed).
    k = len(cat.TOPICS)
    comm_taste = rng.dirichlet(np.full(k, 0.6), size=n_comm)
    alpha = 6.0 * comm_taste[community] + 0.25
    interests = rng.gamma(alpha)
    interests /= interests.sum(axis=1, keepdims=True)

    activity = np.clip(rng.lognormal(np.log(0.45), 1.0, n), 0.02, 20.0)
    creator = np.clip(rng.lognormal(0.0, 1.1, n), 0.05, 30.0)
    quality = rng.beta(2.5, 2.5, n)
    is_seller = rng.random(n) < 0.12
    seller_cat = rng.choice(
        len(cat.CATEGORIES), size=n, p=cat.CATEGORY_SHARE / cat.CATEGORY_SHARE.sum()
    )
    city = (rng.random(n) * cat.CITY_COUNT[country]).astype(np.int64)
    latlon = cat.CITY_LATLON[country, city] + rng.normal(0, 0.08, (n, 2))

    n_dev = rng.choice([1, 2, 3], size=n, p=[0.5, 0.35, 0.15])
    dev = (np.arange(n, dtype=np.int64)[:, None] * MAX_DEVICES + np.arange(MAX_DEVICES)).astype(
        np.int64
    )
    dev[np.arange(MAX_DEVICES)[None, :] >= n_dev[:, None]] = -1
    dev_plat = rng.choice(3, size=(n, MAX_DEVICES), p=[0.35, 0.3, 0.35]).astype(np.int8)

    pre = rng.random(n) < 0.5
    reg = np.empty(n, dtype=np.int64)
    age = (rng.beta(1.3, 1.0, int(pre.sum())) * HISTORY_DAYS * DAY).astype(np.int64)
    reg[pre] = start_us - DAY // 2 - age
    n_new = int((~pre).sum())
    # Growth: later days see slightly more sign-ups than earlier ones.
    reg[~pre] = start_us + (rng.beta(1.15, 1.0, n_new) * days * DAY).astype(np.int64)

    referrer = np.full(n, -1, dtype=np.int64)
    return Population(
        n=n,
        uid=random_uuids(rng, n),
        reg_us=reg,
        preexisting=pre,
        community=community,
        country=country,
        interests=interests,
        activity=activity,
        creator=creator,
        quality=quality,
        is_seller=is_seller,
        seller_cat=seller_cat.astype(np.int8),
        latlon=latlon,
        dev=dev,
        dev_plat=dev_plat,
        dev_since=np.where(np.arange(MAX_DEVICES)[None, :] == 0, reg[:, None], NEVER),
        home_ip=random_ips(rng, country),
        mobile_ip=carrier_ips(rng, country),
        pm=np.arange(n, dtype=np.int64),
        bank=np.arange(n, dtype=np.int64),
        email=rng.choice(
            len(cat.EMAIL_DOMAINS), size=n, p=cat.HONEST_EMAIL_SHARE / cat.HONEST_EMAIL_SHARE.sum()
        ),
        mfa=rng.random(n) < 0.3,
        channel=dev_plat[:, 0].copy(),
        referrer=referrer,
        typology=np.zeros(n, dtype=np.int8),
        fraud_from=np.full(n, NEVER, dtype=np.int64),
        cluster=np.full(n, -1, dtype=np.int32),
        banned_us=np.full(n, NEVER, dtype=np.int64),
        balance=np.zeros(n, dtype=np.int64),
        followers=np.zeros(n, dtype=np.int64),
        next_device=n * MAX_DEVICES,
    )


def assign_referrers(pop: Population, rng: np.random.Generator) -> None:
    """A fifth of sign-ups were invited by an earlier member of their community."""
    pop.index_communities()
    invited = rng.random(pop.n) < 0.2
    idx = np.flatnonzero(invited)
    ref = pop.comm_order[
        pop.comm_ptr[pop.community[idx]]
        + (rng.random(idx.size) * np.diff(pop.comm_ptr)[pop.community[idx]]).astype(np.int64)
    ]
    ok = (pop.reg_us[ref] < pop.reg_us[idx]) & (ref != idx)
    pop.referrer[idx[ok]] = ref[ok]
