"""One-time invite and group-link codes."""

from __future__ import annotations

import asyncio
import re
import sqlite3
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest

from storage import CodeKind, ConstraintError, Role, Shop, Storage, open_storage

from .conftest import SECRET, FakeClock


async def test_create_and_consume(storage: Storage, shop: Shop, clock: FakeClock) -> None:
    code = await storage.codes.create(
        "invite", shop.id, created_by=1, role=Role.MANAGER, ttl=timedelta(hours=1)
    )
    assert re.fullmatch(r"[A-Za-z0-9_-]{16,32}", code.code)
    assert len("https://t.me/SomeBot?start=" + code.code) < 100
    assert len(code.code) * 6 >= 128
    assert (code.kind, code.shop_id, code.role, code.created_by) == (
        CodeKind.INVITE,
        shop.id,
        Role.MANAGER,
        1,
    )
    assert code.expires_at == clock.now + timedelta(hours=1)
    assert code.used_by is None and code.used_at is None
    assert code.code not in repr(code)

    assert await storage.codes.consume(code.code, kind="group", user_id=2) is None  # wrong kind
    used = await storage.codes.consume(code.code, kind=CodeKind.INVITE, user_id=2)
    assert used is not None
    assert (used.used_by, used.used_at, used.role) == (2, clock.now, Role.MANAGER)
    assert await storage.codes.consume(code.code, kind="invite", user_id=3) is None  # one time


async def test_codes_are_unique_and_hashed(storage: Storage, shop: Shop, db_path: Path) -> None:
    codes = [
        (await storage.codes.create("group", shop.id, created_by=1, ttl=timedelta(minutes=5))).code
        for _ in range(20)
    ]
    assert len(set(codes)) == 20
    with closing(sqlite3.connect(db_path)) as raw:
        stored = {row[0] for row in raw.execute("SELECT code_hash FROM codes")}
    assert not stored & set(codes)


async def test_expiry_and_purge(storage: Storage, shop: Shop, clock: FakeClock) -> None:
    short = await storage.codes.create("invite", shop.id, created_by=1, ttl=timedelta(minutes=10))
    long = await storage.codes.create("invite", shop.id, created_by=1, ttl=timedelta(days=1))
    clock.advance(minutes=10)
    assert await storage.codes.consume(short.code, kind="invite", user_id=2) is None
    assert await storage.codes.purge_expired() == 1
    assert await storage.codes.purge_expired() == 0
    assert await storage.codes.consume(long.code, kind="invite", user_id=2) is not None


async def test_bad_input(storage: Storage, shop: Shop) -> None:
    with pytest.raises(ValueError):
        await storage.codes.create("invite", shop.id, created_by=1, ttl=timedelta(0))
    with pytest.raises(ValueError):
        await storage.codes.create("bogus", shop.id, created_by=1, ttl=timedelta(hours=1))
    with pytest.raises(ConstraintError):
        await storage.codes.create("invite", 404, created_by=1, ttl=timedelta(hours=1))
    for junk in ["", "short", "has space in it!!!!!!", "x" * 200]:
        assert await storage.codes.consume(junk, kind="invite", user_id=1) is None


async def test_concurrent_consumers_only_one_wins(
    db_url: str, storage: Storage, shop: Shop, clock: FakeClock
) -> None:
    code = await storage.codes.create("invite", shop.id, created_by=1, ttl=timedelta(hours=1))
    async with await open_storage(db_url, SECRET, clock=clock) as second:
        results = await asyncio.gather(
            *(
                (storage if i % 2 else second).codes.consume(code.code, kind="invite", user_id=i)
                for i in range(10)
            )
        )
    winners = [r for r in results if r is not None]
    assert len(winners) == 1
