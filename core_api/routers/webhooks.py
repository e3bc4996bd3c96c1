"""Calls from systems, not users: the card network's chargeback notifications.

Signed, not logged in: the caller sends ``X-Vouch-Timestamp`` (Unix seconds) and
``X-Vouch-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<raw body>">`` under the shared secret
``VOUCH_CHARGEBACK_WEBHOOK_SECRET``. A missing or wrong signature, or a timestamp more than
five minutes off, is 401; with no secret configured the route does not exist (404). A
notification delivered twice (same ``network_ref``) is answered 200 with the first record.

A chargeback names one of our payments (a transaction); the payer it charges back is that
transaction's initiator, and an order payment names the order's seller too. The row and the
CHARGEBACK_RECEIVED event commit together; the review queue's next sync opens a case for the
payer. Clawing the money back is the ledger's business, not this signal's.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated

from fastapi import APIRouter, Depends, Header, HTTPException, Request, Response, status
from pydantic import ValidationError
from sqlalchemy import select

from core_api.db.market import Order
from core_api.db.money import LedgerTransaction
from core_api.db.review import Chargeback
from core_api.deps import ServicesDep, SessionDep
from core_api.events import EventType
from core_api.schemas.safety import ChargebackIn, ChargebackOut
from core_api.services.guards import invalid, not_found
from core_api.services.outbox import emit

router = APIRouter(prefix="/webhooks", tags=["webhooks"])
TOLERANCE_S = 300


def sign(secret: str, *, timestamp: str, body: bytes) -> str:
    """The signature header's value for ``body`` sent at ``timestamp`` (what the network does)."""
    mac = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


async def signed_body(
    request: Request,
    services: ServicesDep,
    x_vouch_timestamp: Annotated[str | None, Header(max_length=20)] = None,
    x_vouch_signature: Annotated[str | None, Header(max_length=200)] = None,
) -> bytes:
    secret = services.settings.chargeback_webhook_secret
    if not secret:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail={"reason": "not_found"})
    body = await request.body()
    refused = HTTPException(status.HTTP_401_UNAUTHORIZED, detail={"reason": "bad_signature"})
    if not x_vouch_timestamp or not x_vouch_signature or not x_vouch_timestamp.isdigit():
        raise refused
    if abs(time.time() - int(x_vouch_timestamp)) > TOLERANCE_S:
        raise refused
    expected = sign(secret, timestamp=x_vouch_timestamp, body=body)
    if not hmac.compare_digest(expected.encode(), x_vouch_signature.encode()):
        raise refused
    return body


@router.post(
    "/chargebacks",
    status_code=status.HTTP_201_CREATED,
    response_model=ChargebackOut,
    openapi_extra={
        "requestBody": {
            "content": {"application/json": {"schema": ChargebackIn.model_json_schema()}}
        }
    },
)
def chargeback(
    body: Annotated[bytes, Depends(signed_body)], db: SessionDep, response: Response
) -> Chargeback:
    try:
        notice = ChargebackIn.model_validate_json(body)
    except ValidationError as exc:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT,
            detail=exc.errors(include_url=False, include_context=False, include_input=False),
        ) from None
    known = db.scalar(select(Chargeback).where(Chargeback.network_ref == notice.network_ref))
    if known is not None:
        response.status_code = status.HTTP_200_OK
        return known
    payment = db.get(LedgerTransaction, notice.transaction_id)
    if payment is None or payment.initiator_id is None:
        raise not_found("no_such_payment")
    if notice.currency != payment.currency or notice.amount > payment.amount:
        raise invalid("chargeback_exceeds_payment")
    order = db.get(Order, payment.order_id) if payment.order_id else None
    row = Chargeback(
        network_ref=notice.network_ref,
        user_id=payment.initiator_id,
        transaction_id=payment.id,
        order_id=payment.order_id,
        amount=notice.amount,
        currency=notice.currency,
        reason=notice.reason,
    )
    db.add(row)
    emit(
        db,
        EventType.CHARGEBACK_RECEIVED,
        actor_id=payment.initiator_id,
        subject_id=payment.id,
        payload={
            "amount": notice.amount,
            "currency": notice.currency,
            "chargeback_reason": notice.reason,
            "order_id": payment.order_id,
            "seller_id": order.seller_id if order else None,
        },
    )
    db.commit()
    return row
