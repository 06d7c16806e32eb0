"""What every repository shares."""

from __future__ import annotations

from storage.db import Database
from storage.timeutil import Clock

MAX_ERROR_LEN = 2000
"""Longest error text kept on an inbox or outbox row."""


class Repository:
    """A repository over one database, with a clock for its timestamps."""

    def __init__(self, db: Database, clock: Clock) -> None:
        self._db = db
        self._clock = clock


def clip_error(error: str) -> str:
    """Error text short enough to store."""
    return error if len(error) <= MAX_ERROR_LEN else error[: MAX_ERROR_LEN - 1] + "…"


def placeholders(count: int) -> str:
    """``?, ?, ?`` for an IN list of ``count`` values."""
    return ", ".join("?" * count)
