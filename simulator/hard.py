"""Hard mode's setup: the same recruits as normal mode, then hidden like careful fraudsters hide.

Runs right after ``assign_fraud`` (so who is recruited, and when each scheme starts, match normal
mode for the seed) with its own random stream. New accounts are aged weeks before their scheme
starts (often before the run, so they arrive with the bootstrap import), get their own devices,
residential and carrier IPs and ordinary e-mail domains, and live an ordinary life beside the
fraud (``Population.camouflage``). Crews still share a little: a phone here, a flat's IP there.
Attackers of taken-over accounts come through residential proxies in the victim's country.
"""

from __future__ import annotations

import numpy as np

from simulator import catalog as cat
from simulator.base import DAY, NEVER
from simulator.fraud_setup import FraudState
from simulator.population import (
    CARD,
    MAX_DEVICES,
    MULE,
    SCAM,
    SPAM,
    SYBIL,
    Population,
    carrier_ips,
    random_ips,
)
from simulator.tactics import HARD

AGED_DAYS = (14, 60)  # how long before its scheme starts an account is opened
DEVICES = [0.3, 0.4, 0.3]  # one, two or three devices: a little more than honest members
SHARED_DEVICE = 0.2  # share of crew members still using the crew's shared phone or laptop
SHARED_IP = 0.15  # share of crew members on the crew's home connection
DISPOSABLE = 0.05
SHARED_BANK = 0.25  # share of mule crews still paying out to one bank account
PASS_SHARE = (0.55, 0.9)  # share of each deposit a hiding mule moves on


def harden(pop: Population, st: FraudState, *, rng: np.random.Generator, start_us: int) -> None:
    st.tactics = HARD
    new = np.flatnonzero(
        np.isin(pop.typology, [SYBIL, SPAM, CARD, SCAM])
        | ((pop.typology == MULE) & ~pop.preexisting)
    )
    _age(pop, new, rng=rng, start_us=start_us)
    pop.referrer[new] = -1  # no invitation chain from one ring member to the next
    _identities(pop, new, rng=rng)
    crews = [c for c in np.unique(pop.cluster[new]) if c >= 0]
    for c in crews:
        crew = new[(pop.cluster[new] == c) & (pop.typology[new] != MULE)]
        if crew.size > 1:
            _share_a_little(pop, crew, rng=rng)
    pop.channel[new] = pop.dev_plat[new, 0]
    # Rings and farms were given scripted activity and junk quality; they act like people now.
    posers = new[np.isin(pop.typology[new], [SYBIL, SPAM])]
    pop.activity[posers] = np.clip(rng.lognormal(np.log(0.45), 1.0, posers.size), 0.02, 20.0)
    pop.quality[posers] = rng.beta(2.5, 2.5, posers.size)
    pop.camouflage = np.isin(pop.typology, [SYBIL, SPAM, CARD, SCAM])
    _mules(pop, st, rng=rng)
    _proxies(pop, st, rng=rng)


def _age(pop: Population, users: np.ndarray, *, rng: np.random.Generator, start_us: int) -> None:
    lo, hi = AGED_DAYS
    age = (rng.uniform(lo, hi, users.size) * DAY).astype(np.int64)
    pop.reg_us[users] = pop.fraud_from[users] - age
    pop.preexisting[users] = pop.reg_us[users] < start_us
    pop.dev_since[users] = NEVER
    pop.dev_since[users, 0] = pop.reg_us[users]


def _identities(pop: Population, users: np.ndarray, *, rng: np.random.Generator) -> None:
    """Devices, IPs and e-mail drawn the way an ordinary member's are."""
    n = users.size
    count = rng.choice([1, 2, 3], size=n, p=DEVICES)
    slots = np.arange(MAX_DEVICES)[None, :]
    # Each user's own device keys (user * MAX_DEVICES + slot) are unused by anyone else.
    own = users[:, None] * MAX_DEVICES + slots
    pop.dev[users] = np.where(slots < count[:, None], own, -1)
    pop.dev_plat[users] = rng.choice(3, size=(n, MAX_DEVICES), p=[0.35, 0.3, 0.35])
    country = pop.country[users]
    pop.home_ip[users] = random_ips(rng, country)
    pop.mobile_ip[users] = _carrier_of_peers(pop, users, rng=rng)
    email = rng.choice(
        len(cat.EMAIL_DOMAINS), size=n, p=cat.HONEST_EMAIL_SHARE / cat.HONEST_EMAIL_SHARE.sum()
    )
    dispo = rng.random(n) < DISPOSABLE
    email[dispo] = rng.choice(cat.DISPOSABLE_EMAILS, size=int(dispo.sum()))
    pop.email[users] = email


def _carrier_of_peers(
    pop: Population, users: np.ndarray, *, rng: np.random.Generator
) -> np.ndarray:
    """The mobile address of a random honest member of the same country: the same carrier NAT."""
    out = carrier_ips(rng, pop.country[users])
    for c in np.unique(pop.country[users]):
        peers = np.flatnonzero((pop.country == c) & (pop.typology == 0))
        mine = pop.country[users] == c
        if peers.size:
            out[mine] = pop.mobile_ip[rng.choice(peers, size=int(mine.sum()))]
    return out


def _share_a_little(pop: Population, crew: np.ndarray, *, rng: np.random.Generator) -> None:
    device = pop.new_device_keys(1)[0]
    plat = rng.integers(0, 3)
    on_device = crew[rng.random(crew.size) < SHARED_DEVICE]
    pop.dev[on_device, 0] = device
    pop.dev_plat[on_device, 0] = plat
    home = random_ips(rng, pop.country[crew[:1]])[0]
    pop.home_ip[crew[rng.random(crew.size) < SHARED_IP]] = home


def _mules(pop: Population, st: FraudState, *, rng: np.random.Generator) -> None:
    """Own bank accounts for most crews, and mules that keep part of every deposit a while."""
    mules = st.mules
    pop.bank[mules] = mules
    for c in np.unique(pop.cluster[mules]):
        crew = mules[pop.cluster[mules] == c]
        if rng.random() < SHARED_BANK:
            pop.bank[crew] = pop.bank[crew[0]]
    st.pass_share = np.ones(pop.n)
    st.pass_share[mules] = rng.uniform(*PASS_SHARE, mules.size)


def _proxies(pop: Population, st: FraudState, *, rng: np.random.Generator) -> None:
    """Takeovers through residential proxies in the victim's own country, on a phone or a PC."""
    v = st.victims
    st.attacker_country = pop.country[v].astype(np.int64)
    st.attacker_ip = random_ips(rng, pop.country[v])
    st.attacker_plat = rng.choice(3, size=v.size).astype(np.int64)
