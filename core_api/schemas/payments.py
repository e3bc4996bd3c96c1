"""Payments requests and responses. Money travels as decimal strings, never JSON numbers."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    StringConstraints,
    WithJsonSchema,
)
from pydantic_core import PydanticCustomError

from core_api.events.fields import CURRENCY_RE, MONEY_RE, TOKEN_RE
from core_api.schemas.base import In
from core_api.services.payments import CURRENCIES, MAX_MOVEMENT

_SCALE = Decimal("0.0001")


def _amount(value: Any) -> Decimal:
    # A JSON number has already been through a binary float by the time it gets here.
    if not isinstance(value, str):
        raise PydanticCustomError("money_type", 'amounts are decimal strings, like "12.50"')
    if not re.match(MONEY_RE, value):
        raise PydanticCustomError(
            "money_format", "at most 14 digits before the point and 4 after it"
        )
    try:
        amount = Decimal(value).quantize(_SCALE)  # one form: 10, 10.0 and 10.0000 are equal
    except InvalidOperation:  # unreachable after the pattern, kept as a guard
        raise PydanticCustomError("money_format", "not a decimal") from None
    if amount <= 0:
        raise PydanticCustomError("money_not_positive", "the amount must be above zero")
    if amount > MAX_MOVEMENT:
        raise PydanticCustomError(
            "money_too_large", "at most {limit} in one movement", {"limit": str(MAX_MOVEMENT)}
        )
    return amount


Amount = Annotated[
    Decimal,
    BeforeValidator(_amount),
    WithJsonSchema({"type": "string", "pattern": MONEY_RE, "examples": ["12.50"]}),
]


def _currency(value: Any) -> Any:
    if isinstance(value, str) and re.match(CURRENCY_RE, value) and value not in CURRENCIES:
        raise PydanticCustomError(
            "currency_unsupported", "not a currency the platform keeps wallets in"
        )
    return value


Currency = Annotated[
    str,
    StringConstraints(pattern=CURRENCY_RE),
    AfterValidator(_currency),
    WithJsonSchema({"type": "string", "enum": sorted(CURRENCIES)}),
]
Token = Annotated[str, StringConstraints(pattern=TOKEN_RE)]


_In = In  # refuses unknown fields and text a database cannot store


class DepositIn(_In):
    """A card top-up (development stand-in): ``pm_card_declined`` simulates a decline."""

    amount: Amount
    currency: Currency
    payment_method_id: Token


class TransferIn(_In):
    to_user_id: UUID
    amount: Amount
    currency: Currency


class PayoutIn(_In):
    amount: Amount
    currency: Currency
    destination_id: Token  # the bank account's token


class WalletOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    currency: str
    balance: Decimal
    created_at: datetime


class TransactionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)
    id: str
    kind: str
    amount: Decimal
    currency: str
    order_id: str | None
    created_at: datetime


class EntryOut(BaseModel):
    """One line of a wallet's statement: negative left the wallet."""

    transaction_id: str
    kind: str
    amount: Decimal
    created_at: datetime
