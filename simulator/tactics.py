"""How blatant the fraudsters are: the knobs of every typology, in a normal and a hard setting.

``NORMAL`` holds the values the simulator always used (its output for a seed never changes);
``HARD`` is the adversarial setting of ``SimConfig(hard=True)``: the same schemes run slower,
quieter and in smaller amounts, so they still do harm and still differ from honest life, but
less loudly. Identity and account age are hidden separately, in ``simulator.hard``.
"""

from __future__ import annotations

from dataclasses import dataclass

from simulator.base import DAY, HOUR, MINUTE


@dataclass(frozen=True)
class Tactics:
    hard: bool
    # sybil rings: share of member pairs that vouch, over how long, then fake trades and scams
    ring_vouch_share: float
    ring_vouch_within: int
    ring_fake_trades: float  # per seller and day
    ring_scam_listings: float  # per seller and day
    ring_scam_price: tuple[float, float]  # share of the fair price
    ring_boost: tuple[float, float, float]  # posts per member and day, like and share rates
    # spam farms
    spam_boost: tuple[float, float, float]
    spam_messages: float  # link messages to strangers per member and day
    spam_follows: float
    # card testers
    test_probes: tuple[int, int]  # tiny charges per tester, [lo, hi)
    test_within: int  # the probes are spread over this long
    test_cents: tuple[int, int]  # local cents in normal mode, US cents converted in hard mode
    cash_in_rate: float  # daily chance of cashing in on the cards that worked
    cash_in_usd: float
    # scam sellers
    scam_listings: float
    scam_price: tuple[float, float]
    # money mules
    mule_inflows: float  # deposits per mule and day
    mule_deposit_usd: float
    mule_dwell_mean: int  # how long money rests in a mule's wallet before it moves on
    mule_dwell_floor: int
    # account takeover
    ato_tries: tuple[int, int]  # failed logins before the one that works, [lo, hi)


NORMAL = Tactics(
    hard=False,
    ring_vouch_share=0.8,
    ring_vouch_within=36 * HOUR,
    ring_fake_trades=0.8,
    ring_scam_listings=1.5,
    ring_scam_price=(0.3, 0.6),
    ring_boost=(0.6, 0.7, 0.3),
    spam_boost=(2.5, 0.5, 0.15),
    spam_messages=12.0,
    spam_follows=10.0,
    test_probes=(12, 40),
    test_within=75 * MINUTE,
    test_cents=(50, 501),
    cash_in_rate=0.3,
    cash_in_usd=400.0,
    scam_listings=0.8,
    scam_price=(0.3, 0.6),
    mule_inflows=1.6,
    mule_deposit_usd=150.0,
    mule_dwell_mean=90 * MINUTE,
    mule_dwell_floor=2 * MINUTE,
    ato_tries=(2, 7),
)

HARD = Tactics(
    hard=True,
    ring_vouch_share=0.45,
    ring_vouch_within=8 * DAY,
    ring_fake_trades=0.35,
    ring_scam_listings=0.5,
    ring_scam_price=(0.55, 0.8),
    ring_boost=(0.25, 0.3, 0.1),
    spam_boost=(0.8, 0.25, 0.05),
    spam_messages=4.0,
    spam_follows=3.0,
    test_probes=(5, 12),
    test_within=36 * HOUR,
    test_cents=(200, 2501),
    cash_in_rate=0.15,
    cash_in_usd=150.0,
    scam_listings=0.35,
    scam_price=(0.55, 0.8),
    mule_inflows=0.8,
    mule_deposit_usd=90.0,
    mule_dwell_mean=2 * DAY,
    mule_dwell_floor=6 * HOUR,
    ato_tries=(0, 3),
)
