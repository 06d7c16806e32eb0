"""Inbox of received events."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from storage import Shop, Storage, open_storage

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
