"""The base of every request body."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator


def _unstorable(value: Any) -> bool:
    # A walk with its own stack: a body may nest as deep as ``strict_json.MAX_DEPTH``, and
    # validators of nested models see the same values again; recursion is not needed for either.
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
            try:
                item.encode("utf-8")
            except UnicodeEncodeError:  # a lone surrogate, which JSON's \ud800 escapes can carry
                return True
        elif isinstance(item, list | tuple | set):
            stack.extend(item)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
    return False


class In(BaseModel):
    """Unknown fields are refused, and so is text no database can store: a NUL character
    (PostgreSQL refuses it in text) or a lone UTF-16 surrogate (not encodable as UTF-8). Either
    would otherwise fail at the database or the event encoder as a 500, not a 422."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*", mode="before")
    @classmethod
    def _refuse_unstorable_text(cls, value: Any) -> Any:
        if _unstorable(value):
            raise ValueError("text with NUL characters or lone surrogates is not allowed")
        return value
