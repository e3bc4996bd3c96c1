"""Ground truth of what fraud cost: who took money, when, how much. Never a feature.

Each stolen amount is counted once, at the moment it is out of its owner's reach, and charged to
the account it went through first:

- ``ato_payout``: a taken-over wallet (and its saved card) drained to a mule or a mule's bank;
  charged to the victim's account, which the attacker controlled;
- ``card_testing``: successful charges on stolen cards (probes and cash-in top-ups);
- ``stolen_card_order``: orders paid with a stolen card; charged to the buyer;
- ``scam_order``: orders paid for goods that never ship; charged to the seller (scam sellers
  and sybil rings), gross of any later refund or chargeback;
- ``mule_cashout``: deposits talked out of honest users, paid out by a mule to a bank. Money that
  reached a mule from a takeover or a stolen card is already counted above.

Amounts are exact in the local currency (``amount_cents``, ``currency``) and converted to USD at
the simulator's fixed rates, rounded to the cent, as a Decimal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

import numpy as np
import polars as pl

from simulator import catalog as cat
from simulator.population import Population

USD = pl.Decimal(18, 2)
AT = pl.Datetime("us", "UTC")
COLUMNS: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "at": AT,
    "amount_usd": USD,
    "kind": pl.String(),
    "amount_cents": pl.Int64(),
    "currency": pl.String(),
}
SCHEMA = pl.Schema(COLUMNS)
ORDER_KINDS = {
    "scam_listing": ("scam_order", "seller_id"),
    "stolen_card": ("stolen_card_order", "buyer_id"),
}


@dataclass
class Losses:
    """Losses recorded as the fraud modules draw them (future times included, cut at the end)."""

    parts: list[tuple[str, np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = field(
        default_factory=list
    )

    def add(
        self,
        pop: Population,
        kind: str,
        *,
        user: np.ndarray,
        at: np.ndarray,
        cents: np.ndarray,
        payer: np.ndarray | None = None,
    ) -> None:
        """``cents`` are in the currency of ``payer`` (``user`` when not given)."""
        where = pop.country[user if payer is None else payer].astype(np.int64)
        self.parts.append((kind, user.copy(), at.copy(), cents.copy(), where))


def _usd(cents: np.ndarray, fx: np.ndarray) -> pl.Series:
    whole = np.rint(cents / fx).astype(np.int64)
    return pl.Series([Decimal(int(c)).scaleb(-2) for c in whole], dtype=USD)


def losses_frame(
    losses: Losses, pop: Population, *, orders: pl.DataFrame, start: datetime, end: datetime
) -> pl.DataFrame:
    """Recorded losses plus the ones the order truth already holds, inside [start, end)."""
    frames = []
    for kind, user, at, cents, where in losses.parts:
        frames.append(
            pl.DataFrame(
                {
                    "user_id": pop.uid.gather(user),
                    "at": pl.Series(at).cast(AT),
                    "amount_usd": _usd(cents, cat.FX[where]),
                    "kind": pl.Series([kind] * user.size, dtype=pl.String),
                    "amount_cents": pl.Series(cents, dtype=pl.Int64),
                    "currency": pl.Series(cat.CURRENCY[where], dtype=pl.String),
                },
                schema=SCHEMA,
            )
        )
    rates = dict(zip(cat.CURRENCY.tolist(), cat.FX.tolist(), strict=False))
    for mode, (kind, who) in ORDER_KINDS.items():
        paid = orders.filter((pl.col("mode") == mode) & ~pl.col("cancelled"))
        fx = np.array([rates[c] for c in paid["currency"]], dtype=np.float64)
        frames.append(
            pl.DataFrame(
                {
                    "user_id": paid[who],
                    "at": paid["placed_at"],
                    "amount_usd": _usd(paid["amount_cents"].to_numpy(), fx),
                    "kind": pl.Series([kind] * paid.height, dtype=pl.String),
                    "amount_cents": paid["amount_cents"],
                    "currency": paid["currency"],
                },
                schema=SCHEMA,
            )
        )
    every = pl.concat(frames) if frames else pl.DataFrame(schema=SCHEMA)
    window = pl.col("at").is_between(start, end, closed="left")
    return every.filter(window & (pl.col("amount_cents") > 0)).sort("at", "user_id", "kind")
