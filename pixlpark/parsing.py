"""Lenient converters for the API's dates, money and ids (`pixlpark-api.md` §5)."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

_NET_DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")
_LOCAL_FORMATS = ("%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y")


def parse_datetime(value: object) -> datetime | None:
    """Parse any date the API sends into an aware datetime.

    Accepts `/Date(ms)/`, `/Date(ms+0300)/`, `/Date(-ms)/` (API v1), ISO 8601 with or without
    `Z`/offset (webhooks), `dd.MM.yyyy HH:mm` (status-change results) and epoch numbers.
    Naive values are taken as UTC. Empty strings and None give None.
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, bool):
        raise ValueError("not a date")
    if isinstance(value, (int, float)):
        seconds = value / 1000 if abs(value) >= 100_000_000_000 else value
        return datetime.fromtimestamp(0, UTC) + timedelta(seconds=seconds)
    if not isinstance(value, str):
        raise ValueError(f"not a date: {type(value).__name__}")
    text = value.strip().replace("\\/", "/")
    if not text:
        return None
    match = _NET_DATE_RE.match(text)
    if match:
        instant = datetime.fromtimestamp(0, UTC) + timedelta(milliseconds=int(match.group(1)))
        offset = match.group(2)
        if offset:
            sign = 1 if offset[0] == "+" else -1
            delta = timedelta(hours=int(offset[1:3]), minutes=int(offset[3:5]))
            instant = instant.astimezone(timezone(sign * delta))
        return instant
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        parsed = _parse_local(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _parse_local(text: str) -> datetime:
    for fmt in _LOCAL_FORMATS:
        try:
            return datetime.strptime(text, fmt)
        except ValueError:
            continue
    raise ValueError("unrecognised date format")


def to_decimal(value: object) -> Decimal | None:
    """Money to Decimal; floats go through `str` so 0.1 stays 0.1. Empty → None."""
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError("not a number")
    if isinstance(value, (int, float)):
        return Decimal(str(value))
    if isinstance(value, str):
        text = value.strip().replace(",", ".").replace(" ", "")
        if not text:
            return None
        try:
            return Decimal(text)
        except InvalidOperation:
            raise ValueError("not a number") from None
    raise ValueError(f"not a number: {type(value).__name__}")


def to_str_id(value: object) -> str | None:
    """Ids as strings: 5811695 → "5811695", 5811695.0 → "5811695", " 12 " → "12"."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("not an id")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, (int, float, Decimal)):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    raise ValueError(f"not an id: {type(value).__name__}")


def to_loose_str(value: object) -> str | None:
    """Text fields whose JSON type is uncertain: numbers and booleans become strings."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, Decimal)):
        return to_str_id(value)
    raise ValueError(f"not text: {type(value).__name__}")
