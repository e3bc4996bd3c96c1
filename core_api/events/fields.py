"""Field kinds of the event contract.

Each payload field is declared with one of these aliases, with a parameterised kind inside
``Annotated`` (``Annotated[str, text(n)]``, ``Annotated[int, integer(...)]``,
``Annotated[float, number(...)]``) or as a ``Literal`` of strings (a choice). Besides pydantic's
own validation, every kind carries a :class:`Rule`: the same constraints in a plain form, so the
ingest can check a whole batch column-wise (regexes run in Rust's regex engine on both paths) and
build the Arrow schemas without a second hand-written copy of the contract. A choice's Rule is read
off its ``Literal``.
"""

from __future__ import annotations

import typing
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal
from uuid import UUID

import pyarrow as pa
from annotated_types import Ge, GroupedMetadata, Le, MaxLen
from pydantic import AllowInfNan, BeforeValidator, StringConstraints
from pydantic.fields import FieldInfo

UUID_RE = r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Positive amounts with at most 4 decimals (enough for every ISO 4217 minor unit), sent as strings
# so that no JSON parser can turn them into binary floats on the way.
MONEY_RE = r"^[0-9]{1,14}(\.[0-9]{1,4})?$"
MONEY_TYPE = pa.decimal128(18, 4)
CURRENCY_RE = r"^[A-Z]{3}$"
COUNTRY_RE = r"^[A-Z]{2}$"
TOKEN_RE = r"^[A-Za-z0-9_.:\-]{1,128}$"  # device ids, card and bank fingerprints
_OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])"
_IPV4 = rf"{_OCTET}(\.{_OCTET}){{3}}"
_IPV6 = r"[0-9a-fA-F]{0,4}(:[0-9a-fA-F]{0,4}){2,7}"
IP_RE = rf"^({_IPV4}|{_IPV6})$"
# UTC only, microseconds at most: a finer or zone-shifted stamp would be silently rounded or moved.
TIMESTAMP_RE = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
    r"T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|\+00:00)$"
)


@dataclass(frozen=True)
class Rule:
    """One field's contract in column-checkable form."""

    wire: pa.DataType
    lake: pa.DataType
    pattern: str | None = None
    choices: tuple[str, ...] | None = None
    ge: float | None = None
    le: float | None = None
    max_length: int | None = None
    is_id: bool = False


def _as_text(value: Any) -> Any:
    """Let Python producers pass UUID / Decimal objects; the wire form stays a string."""
    if isinstance(value, UUID):
        return str(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


Id = Annotated[
    str,
    BeforeValidator(_as_text),
    StringConstraints(pattern=UUID_RE),
    Rule(pa.string(), pa.string(), pattern=UUID_RE, is_id=True),
]
Money = Annotated[
    str,
    BeforeValidator(_as_text),
    StringConstraints(pattern=MONEY_RE),
    Rule(pa.string(), MONEY_TYPE, pattern=MONEY_RE),
]
Currency = Annotated[
    str, StringConstraints(pattern=CURRENCY_RE), Rule(pa.string(), pa.string(), pattern=CURRENCY_RE)
]
Country = Annotated[
    str, StringConstraints(pattern=COUNTRY_RE), Rule(pa.string(), pa.string(), pattern=COUNTRY_RE)
]
Token = Annotated[
    str, StringConstraints(pattern=TOKEN_RE), Rule(pa.string(), pa.string(), pattern=TOKEN_RE)
]
Ip = Annotated[str, StringConstraints(pattern=IP_RE), Rule(pa.string(), pa.string(), pattern=IP_RE)]
Flag = Annotated[bool, Rule(pa.bool_(), pa.bool_())]


@dataclass(frozen=True)
class Kind(GroupedMetadata):
    """A parameterised kind: pydantic's constraints and the Rule, as one piece of metadata.

    Written inside ``Annotated`` (a call is not a type), so a type checker sees the base type.
    """

    constraints: tuple[object, ...]
    rule: Rule

    def __iter__(self) -> Iterator[object]:
        yield from self.constraints
        yield self.rule


def text(max_length: int) -> Kind:
    return Kind((MaxLen(max_length),), Rule(pa.string(), pa.string(), max_length=max_length))


def integer(*, ge: int, le: int) -> Kind:
    return Kind((Ge(ge), Le(le)), Rule(pa.int64(), pa.int64(), ge=ge, le=le))


def number(*, ge: float, le: float) -> Kind:
    return Kind(
        (Ge(ge), Le(le), AllowInfNan(False)), Rule(pa.float64(), pa.float64(), ge=ge, le=le)
    )


def rule_of(info: FieldInfo) -> Rule:
    """The Rule behind a model field (pydantic moves a required field's metadata onto FieldInfo)."""
    arms = (info.annotation, *typing.get_args(info.annotation))  # ``X | None`` keeps X's form
    candidates = list(info.metadata)
    for arm in arms:
        candidates.extend(getattr(arm, "__metadata__", ()))
    for meta in candidates:
        if isinstance(meta, Kind):
            return meta.rule
        if isinstance(meta, Rule):
            return meta
    for arm in arms:
        values = typing.get_args(arm)
        if typing.get_origin(arm) is Literal and all(isinstance(v, str) for v in values):
            return Rule(pa.string(), pa.string(), choices=values)
    raise TypeError(f"field annotation {info.annotation!r} is not one of this module's kinds")
