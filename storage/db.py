"""The small database interface the repositories are written against.

SQLite implements it in :mod:`storage.sqlite`; a PostgreSQL backend would implement
the same protocol (translating ``?`` placeholders) and the repositories stay as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Row = dict[str, Any]
Params = Sequence[Any]


class Executor(Protocol):
    """Something that runs SQL: the database itself or an open transaction."""

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """Run a statement and return its first row (all rows are read)."""
        ...

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a statement and return every row."""
        ...

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run a statement and return the number of rows it changed."""
        ...

    async def table_names(self) -> set[str]:
        """Names of the tables in the database (the engine's own excluded)."""
        ...


class Database(Executor, Protocol):
    """A database connection; ``execute`` outside a transaction commits at once."""

    def transaction(self) -> AbstractAsyncContextManager[Executor]:
        """A write transaction: committed on normal exit, rolled back on error."""
        ...

    async def close(self) -> None:
        """Close the connection."""
        ...
