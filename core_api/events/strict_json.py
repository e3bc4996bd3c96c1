"""Strict JSON: the one home of what this platform refuses in a JSON document.

Python's ``json`` accepts things JSON (RFC 8259) does not promise to mean anything: a key twice
(last one silently wins), ``NaN`` / ``Infinity`` and numbers beyond any double (``1e400`` becomes
``inf``), and nesting as deep as the interpreter's stack. The event contract refuses duplicate keys
and the non-numbers (``core_api.events.parse_event`` uses the two hooks below); request bodies
are held to all of it by ``StrictJSONMiddleware`` (``core_api.body_guard``) through ``loads``.
"""

from __future__ import annotations

import json
import math
from typing import Any

MAX_DEPTH = 32  # request bodies nest 3 levels today; 32 leaves room and stays far from the stack
_INT64 = 2**63 - 1  # beyond it no database column or event field can hold the number


class StrictJSONError(ValueError):
    """A document refused; ``reason`` is a stable code, ``where`` a hint (a key, a token)."""

    def __init__(self, reason: str, message: str, *, where: str | None = None) -> None:
        super().__init__(message)
        self.reason, self.where = reason, where


def no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` refusing a key that appears twice in one object."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise StrictJSONError("duplicate_key", f"key {key!r} appears twice", where=key)
        out[key] = value
    return out


def reject_constant(name: str) -> Any:
    """``parse_constant`` hook: ``NaN``, ``Infinity`` and ``-Infinity`` are not JSON."""
    raise StrictJSONError("non_finite_number", f"{name} is not a JSON number", where=name)


def _finite_float(token: str) -> float:
    value = float(token)
    if not math.isfinite(value):
        raise StrictJSONError(
            "number_out_of_range", f"{token[:32]} is beyond a double's range", where=token[:32]
        )
    return value


def _int64(token: str) -> int:
    # Checked on the text first: int() of a 5,000-digit token is refused by Python itself.
    if len(token.lstrip("-")) > 19 or abs(value := int(token)) > _INT64:
        raise StrictJSONError(
            "number_out_of_range", f"{token[:32]} does not fit in 64 bits", where=token[:32]
        )
    return value


def depth(value: Any) -> int:
    """Nesting depth of a parsed document (a scalar is 0), without recursion."""
    deepest, stack = 0, [(value, 0)]
    while stack:
        node, level = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            deepest = max(deepest, level)
            continue
        deepest = max(deepest, level + 1)
        stack.extend((child, level + 1) for child in children)
    return deepest


def loads(text: str | bytes, *, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``text`` or raise ``StrictJSONError`` with a reason code."""
    try:
        value = json.loads(
            text,
            object_pairs_hook=no_duplicates,
            parse_constant=reject_constant,
            parse_float=_finite_float,
            parse_int=_int64,
        )
    except RecursionError:
        raise StrictJSONError("too_deep", f"nested deeper than {max_depth} levels") from None
    except json.JSONDecodeError as exc:
        raise StrictJSONError("invalid_json", f"{exc.msg} at {exc.pos}") from None
    except UnicodeDecodeError as exc:
        raise StrictJSONError("invalid_json", f"not UTF-8: {exc.reason}") from None
    if depth(value) > max_depth:
        raise StrictJSONError("too_deep", f"nested deeper than {max_depth} levels")
    return value
