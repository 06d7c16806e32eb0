"""Housekeeping deletes only what is old and finished: pending work always stays."""

from __future__ import annotations

from datetime import timedelta

from bot.pipeline.housekeeping import Housekeeper
from storage import CodeKind, Shop, Storage
from tests.storage.conftest import FakeClock


async def test_old_finished_rows_go_and_pending_work_stays(
    storage: Storage, shop: Shop, clock: FakeClock
) -> None:
    old_done, _ = await storage.inbox.add(shop.id, "order-changed", "1", "{}", "old-done")
    await storage.inbox.mark_processed(old_done.id)
    old_waiting, _ = await storage.inbox.add(shop.id, "order-changed", "2", "{}", "old-waiting")
    sent = await storage.outbox.enqueue(chat_id=10, text="sent", dedupe_key="sent")
    assert sent is not None
    await storage.outbox.mark_sent(sent, 555)
    pending = await storage.outbox.enqueue(chat_id=10, text="pending", dedupe_key="pending")
    await storage.codes.create(CodeKind.INVITE, shop.id, created_by=1, ttl=timedelta(hours=48))

    housekeeper = Housekeeper(storage, retention=timedelta(days=14))
    assert await housekeeper.run_once() == {"inbox": 0, "outbox": 0, "codes": 0}

    clock.advance(days=15)
    fresh_done, _ = await storage.inbox.add(shop.id, "order-changed", "3", "{}", "fresh")
    await storage.inbox.mark_processed(fresh_done.id)

    assert await housekeeper.run_once() == {"inbox": 1, "outbox": 1, "codes": 1}
    assert await storage.inbox.get(old_done.id) is None
    assert await storage.inbox.get(old_waiting.id) is not None, "unprocessed events stay"
    assert await storage.inbox.get(fresh_done.id) is not None
    assert await storage.outbox.get(sent) is None
    assert pending is not None and await storage.outbox.get(pending) is not None
    # the forgotten key may be used again (never happens for alerts: keys carry event ids)
    assert await storage.outbox.enqueue(chat_id=10, text="again", dedupe_key="sent") is not None
