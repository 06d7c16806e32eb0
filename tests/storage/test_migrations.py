"""Schema migrations: from empty, from version 1, refusing a newer schema."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import pytest

from storage import LATEST_VERSION, SchemaOutdated, SchemaTooNew, StorageError, open_storage
from storage.crypto import CHECK_CONTEXT, CHECK_PLAINTEXT, Cipher
from storage.migrations import MIGRATIONS, apply_migrations, schema_version
from storage.sqlite import connect, parse_database_url

from .conftest import SECRET, write_file


def _schema(path: Path) -> dict[str, set[tuple[object, ...]]]:
    """Every table's columns and every index's name, to compare two databases."""
    with closing(sqlite3.connect(path)) as raw, raw:
        tables = [
            row[0]
            for row in raw.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        ]
        shape: dict[str, set[tuple[object, ...]]] = {
            table: {tuple(col[1:]) for col in raw.execute(f"PRAGMA table_info({table})")}
            for table in tables
        }
        shape["<indexes>"] = {
            row
            for row in raw.execute("SELECT name, tbl_name FROM sqlite_master WHERE type='index'")
        }
    return shape


def test_at_least_two_migrations() -> None:
    assert len(MIGRATIONS) >= 2
    assert [m.version for m in MIGRATIONS] == list(range(1, LATEST_VERSION + 1))


async def test_empty_file_becomes_current_schema(db_path: Path) -> None:
    write_file(db_path, b"")
    async with await open_storage(f"sqlite:///{db_path}", SECRET) as storage:
        assert await storage.schema_version() == LATEST_VERSION
        assert await storage.migrate() == LATEST_VERSION  # nothing left to do
    with closing(sqlite3.connect(db_path)) as raw, raw:
        versions = [row[0] for row in raw.execute("SELECT version FROM schema_migrations")]
    assert versions == list(range(1, LATEST_VERSION + 1))


async def _create_version_1(path: Path) -> None:
    """A database exactly as the first release of the bot left it, with data."""
    db = await connect(parse_database_url(f"sqlite:///{path}"))
    try:
        assert await apply_migrations(db, target=1) == 1
        cipher = Cipher(SECRET)
        now = "2024-01-01T00:00:00.000000Z"
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES ('secret_check', ?)",
                (cipher.encrypt(CHECK_PLAINTEXT, context=CHECK_CONTEXT),),
            )
            await tx.execute(
                "INSERT INTO shops (id, public_key, private_key_enc, webhook_token, created_at, "
                "updated_at) VALUES (7, 'old-pub', ?, 'old-token-abcdefghijklmnop', ?, ?)",
                (cipher.encrypt("old-private", context="shop-private-key:old-pub"), now, now),
            )
            await tx.execute(
                "INSERT INTO chats (id, type, title, created_at, updated_at) "
                "VALUES (-42, 'group', 'Staff', ?, ?)",
                (now, now),
            )
            await tx.execute(
                "INSERT INTO links (chat_id, shop_id, topic_id, events, statuses, created_at, "
                "updated_at) VALUES (-42, 7, 3, '[\"paid\"]', '[\"ready\"]', ?, ?)",
                (now, now),
            )
            await tx.execute(
                "INSERT INTO outbox (chat_id, text, dedupe_key, not_before, created_at) "
                "VALUES (-42, 'queued before upgrade', 'old-1', ?, ?)",
                (now, now),
            )
        assert await schema_version(db) == 1
    finally:
        await db.close()


async def test_upgrade_from_version_1_keeps_data(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    await _create_version_1(old)
    async with await open_storage(f"sqlite:///{old}", SECRET) as storage:
        assert await storage.schema_version() == LATEST_VERSION
        shop = await storage.shops.get(7)
        assert shop is not None
        assert shop.private_key == "old-private"
        assert shop.webhook_token == "old-token-abcdefghijklmnop"
        link = await storage.links.get(-42, 7)
        assert link is not None
        assert link.events == {"paid"} and link.statuses == {"ready"} and link.topic_id == 3
        assert link.min_total is None and link.quiet_hours is None
        # The new columns work on the old row.
        link = await storage.links.update_prefs(
            -42, 7, min_total=Decimal("1500.50"), quiet_hours=(22, 8)
        )
        assert link.min_total == Decimal("1500.50") and link.quiet_hours == (22, 8)
        claimed = await storage.outbox.claim(10)
        assert [m.text for m in claimed] == ["queued before upgrade"]

    fresh = tmp_path / "fresh.sqlite3"
    async with await open_storage(f"sqlite:///{fresh}", SECRET):
        pass
    assert _schema(old) == _schema(fresh)


async def test_newer_schema_is_refused(db_url: str, db_path: Path) -> None:
    async with await open_storage(db_url, SECRET):
        pass
    with closing(sqlite3.connect(db_path)) as raw, raw:
        raw.execute(
            "INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, 'future', 'x')",
            (LATEST_VERSION + 1,),
        )
    with pytest.raises(SchemaTooNew, match="newer than this bot supports") as info:
        await open_storage(db_url, SECRET)
    assert info.value.found == LATEST_VERSION + 1
    assert info.value.supported == LATEST_VERSION


async def test_outdated_schema_without_auto_migrate(tmp_path: Path) -> None:
    old = tmp_path / "old.sqlite3"
    await _create_version_1(old)
    with pytest.raises(SchemaOutdated, match="python -m bot migrate"):
        await open_storage(f"sqlite:///{old}", SECRET, auto_migrate=False)
    async with await open_storage(f"sqlite:///{old}", SECRET) as storage:
        assert await storage.migrate() == LATEST_VERSION


async def test_foreign_database_is_refused(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    with closing(sqlite3.connect(db_path)) as raw, raw:
        raw.execute("CREATE TABLE something_else (x)")
    with pytest.raises(StorageError, match="not created by this bot"):
        await open_storage(f"sqlite:///{db_path}", SECRET)


async def test_migrate_database_helper(db_url: str) -> None:
    from storage import migrate_database

    assert await migrate_database(db_url, SECRET) == LATEST_VERSION
    assert await migrate_database(db_url, SECRET) == LATEST_VERSION
