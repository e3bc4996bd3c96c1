"""The ledger: wallets, balanced money movements, and the write lock that makes them safe.

Every movement runs inside ``begin_write``: on SQLite the transaction starts with ``BEGIN
IMMEDIATE`` (one writer at a time, so a balance read is never stale); on PostgreSQL the wallets
are locked with ``SELECT ... FOR UPDATE`` in id order, so two movements over the same wallets
queue instead of deadlocking. Callers take any other row lock (an order) before the wallets.
A movement debits one wallet and credits another by the same amount: the entries of every
transaction sum to zero, and money is only ever moved, never made, except out of ``external``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core_api.db.base import new_id, utcnow
from core_api.db.money import ZERO, Entry, LedgerTransaction, Wallet

# What NUMERIC(18, 4) holds (and SQLite's int64 ten-thousandths, with room to spare).
COLUMN_CEILING = Decimal("99999999999999.9999")
# The product's limits sit far below it: no single movement and no user's wallet comes near the
# column, so no number of users short of millions at their cap can fill a shared system wallet.
MAX_MOVEMENT = Decimal("1000000.0000")  # one deposit, transfer, payout or order
MAX_USER_BALANCE = Decimal("100000000.0000")  # one user's wallet in one currency
# The currencies the platform keeps wallets in: any other three letters are refused up front.
_EUROPE = ("EUR", "GBP", "CHF", "SEK", "NOK", "DKK", "PLN", "CZK", "HUF", "RON")
_AMERICAS = ("USD", "CAD", "BRL", "MXN")
_ASIA_PACIFIC_AFRICA = ("JPY", "AUD", "NZD", "SGD", "HKD", "INR", "ZAR")
CURRENCIES = frozenset((*_EUROPE, *_AMERICAS, *_ASIA_PACIFIC_AFRICA))


class LedgerError(Exception):
    """A movement the ledger refuses; ``reason`` is the API's reason code."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class Account:
    """Names a wallet without loading it: ``user`` needs an owner, system accounts do not."""

    kind: str
    currency: str
    owner_id: str | None = None

    @property
    def key(self) -> str:
        return (
            f"user:{self.owner_id}:{self.currency}"
            if self.owner_id
            else f"{self.kind}:{self.currency}"
        )


def user_account(owner_id: str, currency: str) -> Account:
    return Account("user", currency, owner_id)


def escrow_account(currency: str) -> Account:
    return Account("escrow", currency)


def external_account(currency: str) -> Account:
    return Account("external", currency)


def begin_write(session: Session) -> None:
    """Make the session's transaction a write transaction from here on (no-op on PostgreSQL,
    where the row locks do the work). Idempotent within one transaction."""
    connection = session.connection()
    if connection.dialect.name != "sqlite":
        return
    raw = connection.connection.dbapi_connection
    # pysqlite opens a deferred transaction only at the first write; a deferred one would read a
    # snapshot now and fail (SQLITE_BUSY) when it later tries to write after another writer.
    if raw is not None and not raw.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def ensure_wallet(session: Session, account: Account) -> None:
    """Create the account's wallet, empty, unless it exists; safe when two requests race."""
    values = {
        "id": new_id(),
        "key": account.key,
        "kind": account.kind,
        "owner_id": account.owner_id,
        "currency": account.currency,
        "balance": ZERO,
        "created_at": utcnow(),
        "updated_at": utcnow(),
    }
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(Wallet).values(values).on_conflict_do_nothing())


def lock_wallets(session: Session, accounts: Sequence[Account]) -> dict[str, Wallet]:
    """Lock (PostgreSQL) and freshly read the accounts' wallets, always in id order, creating
    the missing ones first; keyed by ``Account.key``. One statement when all exist."""
    query = (
        select(Wallet)
        .where(Wallet.key.in_(sorted({a.key for a in accounts})))
        .order_by(Wallet.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    wallets = {w.key: w for w in session.scalars(query)}
    missing = [a for a in accounts if a.key not in wallets]
    if not missing:
        return wallets
    # Locks are held to the end of the transaction: taking the found ones again is harmless,
    # and the new ones join them (a new wallet holds no money another movement could race for).
    for account in missing:
        ensure_wallet(session, account)
    return {w.key: w for w in session.scalars(query)}


def move(
    session: Session,
    *,
    kind: str,
    amount: Decimal,
    source: Account,
    target: Account,
    initiator_id: str | None,
    order_id: str | None = None,
    reference: str | None = None,
) -> LedgerTransaction:
    """Move ``amount`` from ``source`` to ``target`` as one balanced transaction."""
    if amount <= 0:
        raise LedgerError("amount_not_positive")
    if amount > MAX_MOVEMENT:
        raise LedgerError("amount_too_large")
    if source.currency not in CURRENCIES:
        raise LedgerError("unsupported_currency")
    if source.currency != target.currency:
        raise LedgerError("currency_mismatch")
    if source.key == target.key:
        raise LedgerError("same_wallet")
    begin_write(session)
    wallets = lock_wallets(session, [source, target])
    debit, credit = wallets[source.key], wallets[target.key]
    if debit.kind != "external" and debit.balance < amount:
        raise LedgerError("insufficient_funds")
    _check_room(debit, credit, amount)
    debit.balance -= amount
    credit.balance += amount
    txn = LedgerTransaction(
        id=new_id(),
        kind=kind,
        currency=source.currency,
        amount=amount,
        initiator_id=initiator_id,
        order_id=order_id,
        reference=reference,
    )
    session.add(txn)
    session.flush()  # no ORM relationships here, so the parent row goes first explicitly
    session.add_all(
        [
            Entry(transaction_id=txn.id, wallet_id=debit.id, amount=-amount),
            Entry(transaction_id=txn.id, wallet_id=credit.id, amount=amount),
        ]
    )
    session.flush()
    return txn


def _check_room(debit: Wallet, credit: Wallet, amount: Decimal) -> None:
    """Refuse a movement that would take a wallet past its limit, before the database would."""
    if credit.kind == "user" and credit.balance + amount > MAX_USER_BALANCE:
        raise LedgerError("balance_limit")
    if credit.balance + amount > COLUMN_CEILING or debit.balance - amount < -COLUMN_CEILING:
        # Only a system wallet can get here: said plainly, and logged by the caller's answer.
        raise LedgerError("system_wallet_full")


def wallets_of(session: Session, owner_id: str) -> list[Wallet]:
    return list(
        session.scalars(select(Wallet).where(Wallet.owner_id == owner_id).order_by(Wallet.currency))
    )


def involves(session: Session, txn_id: str, *, owner_id: str) -> bool:
    """Whether one of ``owner_id``'s wallets has an entry in the transaction."""
    return (
        session.scalar(
            select(Entry.id)
            .join(Wallet, Wallet.id == Entry.wallet_id)
            .where(Entry.transaction_id == txn_id, Wallet.owner_id == owner_id)
            .limit(1)
        )
        is not None
    )
