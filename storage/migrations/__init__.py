"""Versioned schema migrations, applied in order at start-up.

The applied versions are rows of ``schema_migrations``. Each migration runs in its
own write transaction that first re-reads the version, so two processes starting
at once never apply one twice, and a crash leaves the schema at a whole version.
"""

from __future__ import annotations

import logging

from storage.db import Database, Executor
from storage.errors import SchemaTooNew, StorageError
from storage.migrations import v0001_initial, v0002_link_filters
from storage.migrations.base import Migration
from storage.timeutil import Clock, to_db, utcnow

log = logging.getLogger("storage.migrations")

MIGRATIONS: tuple[Migration, ...] = (v0001_initial.MIGRATION, v0002_link_filters.MIGRATION)
LATEST_VERSION = MIGRATIONS[-1].version

__all__ = ["LATEST_VERSION", "MIGRATIONS", "Migration", "apply_migrations", "schema_version"]

_CREATE_VERSION_TABLE = """
    CREATE TABLE IF NOT EXISTS schema_migrations (
        version INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        applied_at TEXT NOT NULL
    )
"""


def _check_sequence() -> None:
    for expected, migration in enumerate(MIGRATIONS, start=1):
        if migration.version != expected:  # pragma: no cover - a packaging mistake
            raise RuntimeError(f"migration {migration.name} has version {migration.version}")


_check_sequence()


async def schema_version(db: Executor) -> int:
    """The schema version of the database; 0 for an empty one."""
    if "schema_migrations" not in await db.table_names():
        return 0
    row = await db.fetchone("SELECT MAX(version) AS version FROM schema_migrations")
    return int(row["version"]) if row and row["version"] is not None else 0


async def _version_for_upgrade(tx: Executor, where: str) -> int:
    tables = await tx.table_names()
    if "schema_migrations" not in tables and tables:
        raise StorageError(
            f"database {where} has tables but no schema_migrations table; "
            "it was not created by this bot"
        )
    await tx.execute(_CREATE_VERSION_TABLE)
    version = await schema_version(tx)
    if version > LATEST_VERSION:
        raise SchemaTooNew(version, LATEST_VERSION)
    return version


async def apply_migrations(
    db: Database, *, target: int | None = None, where: str = "", clock: Clock = utcnow
) -> int:
    """Bring the schema up to ``target`` (default: the latest); returns the version reached.

    Raises :class:`SchemaTooNew` for a database written by a newer bot.
    """
    goal = LATEST_VERSION if target is None else target
    if not 0 <= goal <= LATEST_VERSION:
        raise ValueError(f"no migration to version {goal}")
    while True:
        async with db.transaction() as tx:
            version = await _version_for_upgrade(tx, where)
            if version >= goal:
                return version
            migration = MIGRATIONS[version]
            for statement in migration.statements:
                await tx.execute(statement)
            await tx.execute(
                "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
                (migration.version, migration.name, to_db(clock())),
            )
        log.info("database schema migrated to %04d_%s", migration.version, migration.name)
