"""Wallets, top-ups, transfers and payouts over the double-entry ledger (``services.payments``).

Money-moving calls need an ``Idempotency-Key``; transfers and payouts are critical actions and
ask ``serving`` first. A wallet is only ever visible to its owner: another user's wallet or
transaction answers 404, the same as one that does not exist.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from uuid import UUID

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import JSONResponse
from sqlalchemy import select

from core_api.db.base import new_id
from core_api.db.identity import User
from core_api.db.money import Entry, LedgerTransaction, Wallet
from core_api.deps import ClientDep, CurrentUser, Principal, Services, ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.payments import (
    DepositIn,
    EntryOut,
    PayoutIn,
    TransactionOut,
    TransferIn,
    WalletOut,
)
from core_api.services import idempotency, notices, payments
from core_api.services.enforce import decision_context, enforce
from core_api.services.idempotency import IdempotencyKey
from core_api.services.outbox import emit

router = APIRouter(prefix="/payments", tags=["payments"])
DECLINED_CARD = "pm_card_declined"  # the test card that always declines, as in card sandboxes
_LEDGER_STATUS = {
    "insufficient_funds": status.HTTP_409_CONFLICT,
    "currency_mismatch": status.HTTP_422_UNPROCESSABLE_CONTENT,
    "same_wallet": status.HTTP_422_UNPROCESSABLE_CONTENT,
    "amount_not_positive": status.HTTP_422_UNPROCESSABLE_CONTENT,
    "amount_too_large": status.HTTP_422_UNPROCESSABLE_CONTENT,
    "unsupported_currency": status.HTTP_422_UNPROCESSABLE_CONTENT,
    "balance_limit": status.HTTP_409_CONFLICT,
    "system_wallet_full": status.HTTP_409_CONFLICT,
}


def ledger_http(exc: payments.LedgerError) -> HTTPException:
    code = _LEDGER_STATUS.get(exc.reason, status.HTTP_409_CONFLICT)
    return HTTPException(code, detail={"reason": exc.reason})


def money(amount: Decimal) -> str:
    return format(amount, "f")


def ask(services: Services, me: Principal, client: ClientDep, action: str) -> None:
    context = decision_context(client, user=me.user, auth_session=me.session)
    enforce(services.decider, action, user_id=me.user.id, context=context)


def _not_found() -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, detail={"reason": "not_found"})


@router.get("/wallets", response_model=list[WalletOut])
def my_wallets(me: CurrentUser, db: SessionDep) -> Sequence[Wallet]:
    return payments.wallets_of(db, me.user.id)


@router.get("/wallets/{wallet_id}", response_model=WalletOut)
def wallet(wallet_id: UUID, me: CurrentUser, db: SessionDep) -> Wallet:
    found = db.get(Wallet, str(wallet_id))
    if found is None or found.owner_id != me.user.id:
        raise _not_found()
    return found


@router.get("/wallets/{wallet_id}/entries", response_model=list[EntryOut])
def statement(wallet_id: UUID, me: CurrentUser, db: SessionDep) -> list[EntryOut]:
    wallet(wallet_id, me, db)
    rows = db.execute(
        select(Entry.transaction_id, LedgerTransaction.kind, Entry.amount, Entry.created_at)
        .join(LedgerTransaction, LedgerTransaction.id == Entry.transaction_id)
        .where(Entry.wallet_id == str(wallet_id))
        .order_by(Entry.id.desc())
        .limit(200)
    ).all()
    return [EntryOut.model_validate(row, from_attributes=True) for row in rows]


@router.get("/transactions/{transaction_id}", response_model=TransactionOut)
def transaction(transaction_id: UUID, me: CurrentUser, db: SessionDep) -> LedgerTransaction:
    found = db.get(LedgerTransaction, str(transaction_id))
    if found is None or not payments.involves(db, found.id, owner_id=me.user.id):
        raise _not_found()
    return found


@router.post("/deposits", status_code=status.HTTP_201_CREATED, response_model=TransactionOut)
def deposit(
    body: DepositIn,
    key: IdempotencyKey,
    me: CurrentUser,
    db: SessionDep,
    client: ClientDep,
    services: ServicesDep,
) -> TransactionOut | JSONResponse:
    if not services.settings.dev_deposits:  # a card top-up without a card processor
        raise _not_found()
    request = idempotency.keyed(me.user.id, key, route="POST /payments/deposits", body=body)
    if (earlier := idempotency.replay(db, request)) is not None:
        return earlier
    payload = {
        "amount": money(body.amount),
        "currency": body.currency,
        "payment_method_id": body.payment_method_id,
        "purpose": "top_up",
    }
    if body.payment_method_id == DECLINED_CARD:
        emit(
            db,
            EventType.PAYMENT_FAILED,
            actor_id=me.user.id,
            subject_id=new_id(),
            payload={**payload, "failure_code": "card_declined"},
            context=client.event_context(),
        )
        db.commit()
        raise HTTPException(status.HTTP_402_PAYMENT_REQUIRED, detail={"reason": "card_declined"})

    def work() -> TransactionOut:
        txn = payments.move(
            db,
            kind="deposit",
            amount=body.amount,
            source=payments.external_account(body.currency),
            target=payments.user_account(me.user.id, body.currency),
            initiator_id=me.user.id,
            reference=body.payment_method_id,
        )
        emit(
            db,
            EventType.PAYMENT_SUCCESS,
            actor_id=me.user.id,
            subject_id=txn.id,
            payload=payload,
            context=client.event_context(),
        )
        return TransactionOut.model_validate(txn)

    return _run(db, request, work)


@router.post("/transfers", status_code=status.HTTP_201_CREATED, response_model=TransactionOut)
def transfer(
    body: TransferIn,
    key: IdempotencyKey,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> TransactionOut | JSONResponse:
    request = idempotency.keyed(me.user.id, key, route="POST /payments/transfers", body=body)
    if (earlier := idempotency.replay(db, request)) is not None:
        return earlier
    recipient_id = str(body.to_user_id)
    if recipient_id == me.user.id:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail={"reason": "self_transfer"}
        )
    recipient = db.get(User, recipient_id)
    if recipient is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={"reason": "no_such_user"})
    if recipient.status not in ("active", "restricted"):
        raise HTTPException(status.HTTP_409_CONFLICT, detail={"reason": "recipient_unavailable"})
    ask(services, me, client, "transfer")

    def work() -> TransactionOut:
        txn = payments.move(
            db,
            kind="transfer",
            amount=body.amount,
            source=payments.user_account(me.user.id, body.currency),
            target=payments.user_account(recipient_id, body.currency),
            initiator_id=me.user.id,
        )
        emit(
            db,
            EventType.TRANSFER_SENT,
            actor_id=me.user.id,
            subject_id=recipient_id,
            payload={
                "transfer_id": txn.id,
                "amount": money(body.amount),
                "currency": body.currency,
            },
            context=client.event_context(),
        )
        return TransactionOut.model_validate(txn)

    return _run(db, request, work)


@router.post("/payouts", status_code=status.HTTP_201_CREATED, response_model=TransactionOut)
def payout(
    body: PayoutIn,
    key: IdempotencyKey,
    me: CurrentUser,
    db: SessionDep,
    services: ServicesDep,
    client: ClientDep,
) -> TransactionOut | JSONResponse:
    request = idempotency.keyed(me.user.id, key, route="POST /payments/payouts", body=body)
    if (earlier := idempotency.replay(db, request)) is not None:
        return earlier
    ask(services, me, client, "payout")

    def work() -> TransactionOut:
        txn = payments.move(
            db,
            kind="payout",
            amount=body.amount,
            source=payments.user_account(me.user.id, body.currency),
            target=payments.external_account(body.currency),
            initiator_id=me.user.id,
            reference=body.destination_id,
        )
        payload = {
            "amount": money(body.amount),
            "currency": body.currency,
            "destination_id": body.destination_id,
        }
        # The bank rail is simulated: the payout completes in the transaction that requests it.
        for kind in (EventType.PAYOUT_REQUESTED, EventType.PAYOUT_COMPLETED):
            emit(
                db,
                kind,
                actor_id=me.user.id,
                subject_id=txn.id,
                payload=payload,
                context=client.event_context(),
            )
        notices.payout_completed(
            db, me.user.id, amount=body.amount, currency=body.currency, transaction_id=txn.id
        )
        return TransactionOut.model_validate(txn)

    return _run(db, request, work)


def _run(
    db: SessionDep, request: idempotency.Keyed, work: Callable[[], TransactionOut]
) -> TransactionOut | JSONResponse:
    try:
        return idempotency.run(db, request, work=work, status_code=status.HTTP_201_CREATED)
    except payments.LedgerError as exc:
        raise ledger_http(exc) from None
