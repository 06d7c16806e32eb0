"""DATABASE_URL parsing, PRAGMAs and the connection's transactions."""

from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from storage import StorageError, open_storage
from storage.sqlite import connect, parse_database_url

from .conftest import SECRET, write_file


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite:///data/bot.sqlite3", Path("data/bot.sqlite3")),
        ("sqlite:////var/lib/bot/bot.sqlite3", Path("/var/lib/bot/bot.sqlite3")),
        ("sqlite:///:memory:", None),
        ("sqlite://", None),
        ("SQLITE:///x.db", Path("x.db")),
        ("sqlite:///dir%20with%20space/x.db", Path("dir with space/x.db")),
    ],
)
def test_parse_url(url: str, expected: Path | None) -> None:
    assert parse_database_url(url).path == expected


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://u@h/db",
        "mysql://x",
        "data/bot.sqlite3",
        "sqlite://relative",
        "sqlite:///x?a=1",
    ],
)
def test_bad_urls_are_refused(url: str) -> None:
    with pytest.raises(StorageError):
        parse_database_url(url)


async def test_relative_url_creates_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    async with await open_storage("sqlite:///data/nested/bot.sqlite3", SECRET) as storage:
        assert await storage.ping()
    db = tmp_path / "data" / "nested" / "bot.sqlite3"
    assert db.is_file()
    assert os.stat(db).st_mode & 0o777 == 0o600


async def test_memory_database_works() -> None:
    async with await open_storage("sqlite:///:memory:", None) as storage:
        shop = await storage.shops.create("pk", "secret-private")
        assert (await storage.shops.get(shop.id)) == shop


async def test_pragmas(db_path: Path) -> None:
    db = await connect(parse_database_url(f"sqlite:///{db_path}"))
    try:
        assert (await db.fetchone("PRAGMA journal_mode")) == {"journal_mode": "wal"}
        assert (await db.fetchone("PRAGMA foreign_keys")) == {"foreign_keys": 1}
        assert (await db.fetchone("PRAGMA synchronous")) == {"synchronous": 2}  # FULL
        timeout = await db.fetchone("PRAGMA busy_timeout")
        assert timeout is not None and next(iter(timeout.values())) > 0
    finally:
        await db.close()


async def test_transaction_rolls_back_on_error(db_path: Path) -> None:
    db = await connect(parse_database_url(f"sqlite:///{db_path}"))
    try:
        await db.execute("CREATE TABLE t (x INTEGER PRIMARY KEY)")
        with pytest.raises(RuntimeError):
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t (x) VALUES (1)")
                raise RuntimeError("boom")
        assert await db.fetchall("SELECT * FROM t") == []
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO t (x) VALUES (2)")
        assert await db.fetchall("SELECT * FROM t") == [{"x": 2}]
    finally:
        await db.close()


async def test_not_a_database_is_a_clear_error(db_path: Path) -> None:
    write_file(db_path, b"this is certainly not sqlite" * 100)
    with pytest.raises(StorageError, match="not an SQLite database"):
        await open_storage(f"sqlite:///{db_path}", SECRET)


async def test_commit_is_visible_to_another_connection(db_url: str, db_path: Path) -> None:
    async with await open_storage(db_url, SECRET) as storage:
        await storage.outbox.enqueue(chat_id=1, text="x", dedupe_key="k")
        # A plain sqlite3 connection sees the row as soon as enqueue returned.
        with closing(sqlite3.connect(db_path)) as raw, raw:
            assert raw.execute("SELECT COUNT(*) FROM outbox").fetchone() == (1,)
