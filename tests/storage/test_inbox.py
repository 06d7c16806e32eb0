"""Inbox of received events."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest

from storage import Shop, Storage, open_storage
from storage.errors import ConstraintError
from storage.repos.inbox import InboxWriter, NewEvent

from .conftest import SECRET, FakeClock


async def test_add_is_idempotent(storage: Storage, shop: Shop, clock: FakeClock) -> None:
    event, created = await storage.inbox.add(shop.id, "order_created", "A-1", '{"x":1}', "k1")
    assert created is True
    assert (event.shop_id, event.kind, event.order_id, event.body, event.dedupe_key) == (
        shop.id,
        "order_created",
        "A-1",
        '{"x":1}',
        "k1",
    )
    assert event.received_at == clock.now and event.processed_at is None and event.attempts == 0
    clock.advance(seconds=5)
    again, created = await storage.inbox.add(shop.id, "order_created", "A-1", '{"x":2}', "k1")
    assert created is False
    assert again == event  # the first delivery is kept as it was
    assert await storage.inbox.pending_count() == 1
    assert await storage.inbox.last_received_at() == event.received_at


async def test_claim_lease_and_outcomes(storage: Storage, shop: Shop, clock: FakeClock) -> None:
    ids = [(await storage.inbox.add(shop.id, "k", None, "{}", f"d{i}"))[0].id for i in range(4)]
    first = await storage.inbox.claim(limit=2, lease_seconds=30)
    assert [e.id for e in first] == ids[:2]
    assert all(e.attempts == 1 for e in first)
    second = await storage.inbox.claim(limit=10, lease_seconds=30)
    assert [e.id for e in second] == ids[2:]
    assert await storage.inbox.claim() == []  # everything is leased

    await storage.inbox.mark_processed(ids[0])
    await storage.inbox.mark_failed(ids[1], "boom", retry_at=clock.now + timedelta(seconds=100))
    await storage.inbox.mark_failed(ids[2], "fatal", retry_at=None)  # give up
    assert await storage.inbox.release([ids[3]]) == 1
    assert await storage.inbox.pending_count() == 2

    [released] = await storage.inbox.claim()
    assert released.id == ids[3] and released.attempts == 1
    clock.advance(seconds=61)  # ids[3]'s lease (60 s by default) runs out; ids[1] not due yet
    [expired] = await storage.inbox.claim(lease_seconds=1000)
    assert expired.id == ids[3] and expired.attempts == 2
    clock.advance(seconds=100)
    [retried] = await storage.inbox.claim()
    assert retried.id == ids[1] and retried.last_error == "boom" and retried.attempts == 2

    failed = await storage.inbox.get(ids[2])
    assert failed is not None and failed.processed_at == clock.now - timedelta(seconds=161)
    assert failed.last_error == "fatal"

    await storage.inbox.mark_processed(ids[1])
    await storage.inbox.mark_processed(ids[3])
    assert await storage.inbox.pending_count() == 0
    clock.advance(days=2)
    assert await storage.inbox.purge_processed(timedelta(days=1)) == 4
    assert await storage.inbox.last_received_at() is None


async def test_empty_inbox(storage: Storage) -> None:
    assert await storage.inbox.claim() == []
    assert await storage.inbox.claim(limit=0) == []
    assert await storage.inbox.pending_count() == 0
    assert await storage.inbox.last_received_at() is None
    assert await storage.inbox.release([]) == 0


async def test_concurrent_claimers_never_share(
    db_url: str, storage: Storage, shop: Shop, clock: FakeClock
) -> None:
    for i in range(120):
        await storage.inbox.add(shop.id, "k", str(i), "{}", f"d{i}")
    async with await open_storage(db_url, SECRET, clock=clock) as other:
        seen: list[int] = []

        async def worker(store: Storage) -> None:
            while batch := await store.inbox.claim(limit=7):
                seen.extend(e.id for e in batch)
                await asyncio.sleep(0)

        await asyncio.gather(worker(storage), worker(other), worker(storage), worker(other))
    assert len(seen) == 120
    assert len(set(seen)) == 120


async def test_add_many_one_transaction_with_repeats(
    storage: Storage, shop: Shop, clock: FakeClock
) -> None:
    old, _ = await storage.inbox.add(shop.id, "k", "O0", '{"old":1}', "seen")
    clock.advance(seconds=5)
    results = await storage.inbox.add_many(
        [
            NewEvent(shop.id, "k", "O1", '{"a":1}', "a"),
            NewEvent(shop.id, "k", "O0", '{"old":2}', "seen"),  # stored before
            NewEvent(shop.id, "k", "O2", '{"b":1}', "b"),
            NewEvent(shop.id, "k", "O1", '{"a":2}', "a"),  # repeated within the batch
        ],
        touch_shops=True,
    )
    assert [created for _, created in results] == [True, False, True, False]
    assert results[1][0] == old
    assert results[3][0] == results[0][0] and results[0][0].body == '{"a":1}'
    assert results[0][0].received_at == clock.now
    assert await storage.inbox.pending_count() == 3
    touched = await storage.shops.get(shop.id)
    assert touched is not None and touched.last_event_at == clock.now
    assert await storage.inbox.add_many([]) == []


def count_transactions(storage: Storage, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the write transactions opened on ``storage``'s connection from now on."""
    db: Any = storage._db
    opened = [0]
    original = db.transaction

    def counting() -> Any:
        opened[0] += 1
        return original()

    monkeypatch.setattr(db, "transaction", counting)
    return opened


async def test_writer_group_commits_concurrent_adds(
    db_url: str, storage: Storage, shop: Shop, clock: FakeClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = InboxWriter(storage.inbox, touch_shops=True)
    opened = count_transactions(storage, monkeypatch)
    async with await open_storage(db_url, SECRET, clock=clock) as other:

        async def add(i: int) -> tuple[int, bool]:
            key = f"k{i % 40}"  # events 40..49 repeat events 0..9
            event, created = await writer.add(NewEvent(shop.id, "k", str(i), "{}", key))
            # Durable on return: another connection sees the committed row.
            seen = await other.inbox.get(event.id)
            assert seen is not None and seen.dedupe_key == key
            return event.id, created

        results = await asyncio.gather(*(add(i) for i in range(50)))
    assert opened[0] == writer.transactions <= 3  # 50 adds, not 50 transactions
    assert sum(created for _, created in results) == 40
    for i in range(10):  # a repeat gets the first event's row, not a new one
        assert results[i + 40] == (results[i][0], False)
    assert await storage.inbox.pending_count() == 40
    touched = await storage.shops.get(shop.id)
    assert touched is not None and touched.last_event_at == clock.now


async def test_writer_alone_commits_at_once(
    storage: Storage, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    writer = InboxWriter(storage.inbox)
    opened = count_transactions(storage, monkeypatch)
    for i in range(3):
        _, created = await writer.add(NewEvent(shop.id, "k", None, "{}", f"solo{i}"))
        assert created
    assert opened[0] == writer.transactions == 3


async def test_writer_isolates_a_failing_event(storage: Storage, shop: Shop) -> None:
    writer = InboxWriter(storage.inbox)
    good = [writer.add(NewEvent(shop.id, "k", None, "{}", f"g{i}")) for i in range(5)]
    bad = writer.add(NewEvent(shop.id + 999, "k", None, "{}", "no-such-shop"))
    results = await asyncio.gather(*good, bad, return_exceptions=True)
    assert isinstance(results[-1], ConstraintError)
    assert all(isinstance(r, tuple) and r[1] is True for r in results[:-1])
    assert await storage.inbox.pending_count() == 5


async def test_release_all_frees_leases_left_by_a_dead_worker(storage: Storage, shop: Shop) -> None:
    for i in range(3):
        await storage.inbox.add(shop.id, "k", None, "{}", f"r{i}")
    claimed = await storage.inbox.claim(limit=2, lease_seconds=3600)
    await storage.inbox.mark_processed(claimed[0].id)
    assert await storage.inbox.release_all() == 1  # the processed one keeps no lease anyway
    again = await storage.inbox.claim(limit=10)
    assert [e.id for e in again] == [claimed[1].id, claimed[1].id + 1]
    assert again[0].attempts == 2  # the killed worker's attempt stays counted


async def test_postpone_does_not_count_and_wake_makes_due(
    storage: Storage, shop: Shop, clock: FakeClock
) -> None:
    other = await storage.shops.create("pub-other", "priv-other", title="Other", site_id=2)
    held = [
        (await storage.inbox.add(shop.id, "recheck", "A", "{}", f"p{i}"))[0].id for i in range(3)
    ]
    foreign = (await storage.inbox.add(other.id, "recheck", "B", "{}", "p-other"))[0].id
    await storage.inbox.claim(limit=10)
    later = clock.now + timedelta(minutes=5)
    await storage.inbox.postpone(held[0], later, "held")
    await storage.inbox.postpone(held[1], later, "held")
    await storage.inbox.mark_failed(held[2], "boom", retry_at=later)  # another reason
    await storage.inbox.postpone(foreign, later, "held")  # another shop
    assert await storage.inbox.claim(limit=10) == []  # nothing due
    postponed = await storage.inbox.get(held[0])
    assert postponed is not None
    assert postponed.attempts == 0 and postponed.last_error == "held"
    assert postponed.not_before == later

    assert await storage.inbox.wake(shop.id, ["held", "other"]) == 2
    assert await storage.inbox.wake(shop.id, []) == 0
    woken = await storage.inbox.claim(limit=10)
    assert [e.id for e in woken] == held[:2] and all(e.attempts == 1 for e in woken)
    assert await storage.inbox.wake(shop.id, ["held"]) == 0  # leased, but not waiting
    for event in woken:
        await storage.inbox.mark_processed(event.id)
    clock.advance(minutes=5)
    assert sorted(e.id for e in await storage.inbox.claim(limit=10)) == [held[2], foreign]
