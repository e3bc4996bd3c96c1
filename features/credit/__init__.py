"""Credit scoring from the trust graph: a per-user limit in money, explained in words.

- ``history``: per-user payment history from the lake, strictly before the scoring time
  (completed orders as seller and buyer, disputes lost, chargebacks, account age and status);
- ``limits``: the documented rule that turns history, trust and fraud risk (``user_scores``)
  into ``credit_limit``, ``credit_currency`` and ``credit_reasons``, and the checks on it.

The platform lends the limit as early escrow release: a seller may receive an order's money
before the buyer confirms delivery, up to their limit less what is already out
(``core_api.services.credit``). Frames in, frames out; no I/O beyond the lake read.
"""

from features.credit.history import HISTORY, payment_history, read_history_events
from features.credit.limits import POLICY, Policy, credit_limits, limit_problems

__all__ = [
    "HISTORY",
    "POLICY",
    "Policy",
    "credit_limits",
    "limit_problems",
    "payment_history",
    "read_history_events",
]
