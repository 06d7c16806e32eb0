"""Conversions between Python values and their stored text form.

Datetimes are stored as fixed-width ISO-8601 UTC text (``2024-05-01T12:00:00.000000Z``),
so that comparing the text compares the instants, in SQLite and in any other SQL engine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation

Clock = Callable[[], datetime]

_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"


def utcnow() -> datetime:
    """The current time, tz-aware UTC."""
    return datetime.now(UTC)


def to_db(value: datetime) -> str:
    """Format a tz-aware datetime for storage; naive datetimes are refused."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("naive datetime given to storage; use a tz-aware UTC datetime")
    return value.astimezone(UTC).strftime(_FORMAT)


def opt_to_db(value: datetime | None) -> str | None:
    """Like :func:`to_db`, passing ``None`` through."""
    return None if value is None else to_db(value)


def from_db(text: str) -> datetime:
    """Parse a stored timestamp back into a tz-aware UTC datetime."""
    if len(text) == 27 and text[-1] == "Z":  # our own format: fromisoformat is ~50× faster
        return datetime.fromisoformat(text)
    return datetime.strptime(text, _FORMAT).replace(tzinfo=UTC)


def opt_from_db(text: str | None) -> datetime | None:
    """Like :func:`from_db`, passing ``None`` through."""
    return None if text is None else from_db(text)


def set_to_db(values: Iterable[str]) -> str:
    """Store a set of strings as a sorted JSON array."""
    return json.dumps(sorted(set(values)), ensure_ascii=False)


def set_from_db(text: str | None) -> frozenset[str]:
    """Read a JSON array of strings back into a frozenset."""
    if not text:
        return frozenset()
    data = json.loads(text)
    return frozenset(str(item) for item in data)


def decimal_to_db(value: Decimal | None) -> str | None:
    """Store a Decimal exactly, as text."""
    if value is None:
        return None
    if not value.is_finite():
        raise ValueError("only finite amounts can be stored")
    return str(value)


def decimal_from_db(text: str | None) -> Decimal | None:
    """Read an exactly stored Decimal back."""
    if text is None:
        return None
    try:
        return Decimal(text)
    except InvalidOperation as exc:  # pragma: no cover - only on a hand-edited database
        raise ValueError("stored amount is not a number") from exc
