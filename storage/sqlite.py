"""Everything specific to SQLite: DATABASE_URL parsing, connecting, PRAGMAs, transactions.

One :class:`SqliteDatabase` wraps one aiosqlite connection. All statements of a
:class:`Storage` go through it under an asyncio lock, so a transaction never sees
another coroutine's statements. Write transactions start with ``BEGIN IMMEDIATE``:
they take SQLite's write lock up front, so two processes claiming work serialize
instead of both reading the same rows, and a commit returns only after the WAL
is synced (``synchronous=FULL``).
"""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import aiosqlite

from storage.db import Params, Row
from storage.errors import ConstraintError, StorageError

DEFAULT_BUSY_TIMEOUT = 10.0
"""Seconds a statement waits for another connection's write lock."""

MIN_SQLITE_VERSION = (3, 35, 0)
"""RETURNING and ON CONFLICT ... DO UPDATE need at least this version."""


@dataclass(frozen=True, slots=True)
class SqliteTarget:
    """Where a ``sqlite://`` DATABASE_URL points; ``path`` is None for an in-memory database."""

    path: Path | None

    @property
    def is_memory(self) -> bool:
        """Whether the database lives only in memory."""
        return self.path is None

    def describe(self) -> str:
        """A human-readable location for messages."""
        return ":memory:" if self.path is None else str(self.path)


def parse_database_url(url: str) -> SqliteTarget:
    """Parse DATABASE_URL.

    ``sqlite:///data/bot.sqlite3`` is relative to the working directory,
    ``sqlite:////var/lib/bot/bot.sqlite3`` is absolute, and ``sqlite:///:memory:``
    (or ``sqlite://``) is an in-memory database.
    """
    url = url.strip()
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise StorageError("DATABASE_URL must look like sqlite:///path/to/file.sqlite3")
    scheme = scheme.lower()
    if scheme in {"postgres", "postgresql"} or scheme.startswith("postgresql+"):
        raise StorageError("PostgreSQL is not supported yet; use DATABASE_URL=sqlite:///path")
    if scheme != "sqlite":
        raise StorageError(f"unsupported DATABASE_URL scheme {scheme!r}; use sqlite:///path")
    if "?" in rest or "#" in rest:
        raise StorageError("DATABASE_URL options (?...) are not supported for sqlite")
    if rest in {"", "/", "/:memory:"}:
        return SqliteTarget(None)
    if not rest.startswith("/"):
        raise StorageError("DATABASE_URL for sqlite needs three slashes: sqlite:///path")
    path = unquote(rest[1:])
    if not path:  # pragma: no cover - handled above
        return SqliteTarget(None)
    return SqliteTarget(Path(path))


def _dict_row(cursor: sqlite3.Cursor, row: tuple[Any, ...]) -> Row:
    return {column[0]: value for column, value in zip(cursor.description, row, strict=True)}


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn sqlite3 exceptions into StorageError (their messages hold no values)."""
    try:
        yield
    except sqlite3.IntegrityError as exc:
        raise ConstraintError(f"constraint failed: {exc}") from exc
    except sqlite3.Error as exc:
        raise StorageError(f"database error: {exc}") from exc
    except ValueError as exc:  # aiosqlite's "Connection closed" / "no active connection"
        raise StorageError(f"database connection is closed ({exc})") from exc


class _Executor:
    """Runs statements on the connection; the caller holds the lock."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        with translate_errors():
            rows = await self._conn.execute_fetchall(sql, tuple(params))
        return list(rows)  # type: ignore[arg-type]

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def execute(self, sql: str, params: Params = ()) -> int:
        with translate_errors():
            cursor = await self._conn.execute(sql, tuple(params))
            count = cursor.rowcount
            await cursor.close()
        return count

    async def table_names(self) -> set[str]:
        rows = await self.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )
        return {str(row["name"]) for row in rows}


class SqliteDatabase:
    """A serialized aiosqlite connection implementing :class:`storage.db.Database`."""

    def __init__(self, conn: aiosqlite.Connection, target: SqliteTarget) -> None:
        self._conn = conn
        self._executor = _Executor(conn)
        self._lock = asyncio.Lock()
        self.target = target

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """Run a read outside any transaction."""
        async with self._lock:
            return await self._executor.fetchall(sql, params)

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        """Run a read and return its first row."""
        async with self._lock:
            return await self._executor.fetchone(sql, params)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """Run one write in its own transaction; committed when this returns."""
        async with self.transaction() as tx:
            return await tx.execute(sql, params)

    async def table_names(self) -> set[str]:
        """Names of the tables in the database."""
        async with self._lock:
            return await self._executor.table_names()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[_Executor]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``; rolled back if the block raises."""
        async with self._lock:
            try:
                await self._executor.execute("BEGIN IMMEDIATE")
                yield self._executor
                await self._executor.execute("COMMIT")
            except BaseException:
                await self._rollback_quietly()
                raise

    async def _rollback_quietly(self) -> None:
        # Errors mean no transaction was open (BEGIN failed) or the connection is gone.
        with suppress(StorageError):
            await self._executor.execute("ROLLBACK")

    async def close(self) -> None:
        """Close the connection (SQLite checkpoints the WAL if it is the last one)."""
        async with self._lock:
            with suppress(StorageError):
                await self._executor.execute("PRAGMA optimize")
            await self._conn.close()


def _create_private_file(path: Path) -> None:
    """Create the directory and, for a new database, an empty file only we can read.

    SQLite gives the -wal and -shm files the database file's permissions.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except FileExistsError as exc:
        raise StorageError(
            f"cannot create the directory {path.parent}: a file is in the way"
        ) from exc
    except OSError as exc:
        raise StorageError(f"cannot create the directory {path.parent}: {exc}") from exc
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    except OSError as exc:
        raise StorageError(f"cannot create database {path}: {exc}") from exc
    os.close(fd)


async def connect(
    target: SqliteTarget, *, busy_timeout: float = DEFAULT_BUSY_TIMEOUT
) -> SqliteDatabase:
    """Open the database (creating its directory), set the PRAGMAs and check them."""
    if sqlite3.sqlite_version_info < MIN_SQLITE_VERSION:
        wanted = ".".join(map(str, MIN_SQLITE_VERSION))
        raise StorageError(f"SQLite {sqlite3.sqlite_version} is too old; {wanted} or newer needed")
    if target.path is not None:
        _create_private_file(target.path)
    location = ":memory:" if target.path is None else str(target.path)
    connection = aiosqlite.connect(location, isolation_level=None, timeout=busy_timeout)
    try:
        conn = await connection
    except sqlite3.Error as exc:
        # aiosqlite stops its worker thread without waiting; wait for it, or it may
        # report to an event loop that is already closed (a traceback at exit).
        await asyncio.to_thread(connection._thread.join, 2.0)
        raise StorageError(f"cannot open database {target.describe()}: {exc}") from exc
    conn.row_factory = _dict_row  # type: ignore[assignment]  # aiosqlite types it as a class
    try:
        await _configure(conn, target, busy_timeout)
    except BaseException:
        await conn.close()
        raise
    return SqliteDatabase(conn, target)


async def _configure(conn: aiosqlite.Connection, target: SqliteTarget, busy_timeout: float) -> None:
    executor = _Executor(conn)
    try:
        await executor.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
        mode = await executor.fetchone("PRAGMA journal_mode = WAL")
    except StorageError as exc:
        cause = exc.__cause__
        if isinstance(cause, sqlite3.DatabaseError) and "not a database" in str(cause):
            raise StorageError(f"{target.describe()} is not an SQLite database") from cause
        raise
    journal = str(next(iter(mode.values()))).lower() if mode else ""
    if target.path is not None and journal != "wal":
        raise StorageError(f"cannot switch {target.describe()} to WAL mode (got {journal!r})")
    await executor.execute("PRAGMA synchronous = FULL")
    await executor.execute("PRAGMA foreign_keys = ON")
    await executor.execute("PRAGMA trusted_schema = OFF")
    check = await executor.fetchone("PRAGMA foreign_keys")
    if not check or not next(iter(check.values())):
        raise StorageError("this SQLite build cannot enforce foreign keys")
