"""Outbox: idempotent enqueue, atomic claims, per-chat order, retries and stats."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from storage import OutboxKind, OutboxState, Shop, Storage, open_storage

from .conftest import SECRET, FakeClock


async def test_enqueue_is_idempotent(storage: Storage, shop: Shop, clock: FakeClock) -> None:
    first = await storage.outbox.enqueue(
        chat_id=-1,
        text="<b>New order</b>",
        dedupe_key="order:A-1:new:-1",
        kind="card",
        topic_id=4,
        reply_markup='{"inline_keyboard": []}',
        disable_notification=True,
        shop_id=shop.id,
        order_id="A-1",
        edit_message_id=None,
        reply_to_message_id=8,
    )
    assert first is not None
    again = await storage.outbox.enqueue(chat_id=-1, text="other", dedupe_key="order:A-1:new:-1")
    assert again is None
    row = await storage.outbox.get(first)
    assert row is not None
    assert (row.chat_id, row.topic_id, row.kind, row.text) == (
        -1,
        4,
        OutboxKind.CARD,
        "<b>New order</b>",
    )
    assert row.reply_markup == '{"inline_keyboard": []}' and row.disable_notification is True
    assert (row.shop_id, row.order_id, row.reply_to_message_id) == (shop.id, "A-1", 8)
    assert row.state is OutboxState.PENDING and row.attempts == 0
    assert row.not_before == row.created_at == clock.now
    assert row.sent_at is None and row.tg_message_id is None and row.last_error is None
    assert await storage.outbox.backlog() == 1


async def test_concurrent_enqueue_same_key(db_url: str, storage: Storage, clock: FakeClock) -> None:
    async with await open_storage(db_url, SECRET, clock=clock) as other:
        ids = await asyncio.gather(
            *(
                (storage if i % 2 else other).outbox.enqueue(chat_id=1, text="t", dedupe_key="same")
                for i in range(10)
            )
        )
    assert len([i for i in ids if i is not None]) == 1
    assert await storage.outbox.backlog() == 1


async def test_claim_send_cycle(storage: Storage, clock: FakeClock) -> None:
    a = await storage.outbox.enqueue(chat_id=1, text="a", dedupe_key="a")
    later = await storage.outbox.enqueue(
        chat_id=2, text="later", dedupe_key="later", not_before=clock.now + timedelta(minutes=1)
    )
    [claimed] = await storage.outbox.claim(10)
    assert claimed.id == a and claimed.state is OutboxState.SENDING
    assert await storage.outbox.claim(10) == []
    await storage.outbox.mark_sent(claimed.id, 555)
    sent = await storage.outbox.get(claimed.id)
    assert sent is not None
    assert (sent.state, sent.tg_message_id, sent.sent_at) == (OutboxState.SENT, 555, clock.now)
    # `now` lets a caller look ahead without moving the clock.
    [ahead] = await storage.outbox.claim(10, now=clock.now + timedelta(minutes=2))
    assert ahead.id == later


async def test_per_chat_fifo(storage: Storage, clock: FakeClock) -> None:
    c1 = [
        await storage.outbox.enqueue(chat_id=1, text=f"1-{i}", dedupe_key=f"1-{i}")
        for i in range(3)
    ]
    c2 = [
        await storage.outbox.enqueue(chat_id=2, text=f"2-{i}", dedupe_key=f"2-{i}")
        for i in range(2)
    ]
    batch = await storage.outbox.claim(10)
    assert [m.id for m in batch] == [c1[0], c2[0]]  # only each chat's head
    assert await storage.outbox.claim(10) == []  # both chats have one in flight

    # Chat 1's head fails and is retried later: the rest of chat 1 must wait for it.
    assert await storage.outbox.retry(
        c1[0], not_before=clock.now + timedelta(seconds=30), error="429"
    )
    await storage.outbox.mark_sent(c2[0], 1)
    assert [m.id for m in await storage.outbox.claim(10)] == [c2[1]]
    clock.advance(seconds=30)
    [head] = await storage.outbox.claim(10)
    assert head.id == c1[0] and head.attempts == 1 and head.last_error == "429"
    await storage.outbox.mark_sent(c1[0], 2)
    assert [m.id for m in await storage.outbox.claim(10)] == [c1[1]]


async def test_claim_limit_and_exclusions(storage: Storage) -> None:
    ids = [await storage.outbox.enqueue(chat_id=c, text="t", dedupe_key=f"k{c}") for c in range(5)]
    assert [m.id for m in await storage.outbox.claim(2, exclude_chats={0})] == ids[1:3]
    assert [m.id for m in await storage.outbox.claim(5, exclude_chats=[3, 4])] == [ids[0]]
    assert [m.id for m in await storage.outbox.claim(5)] == ids[3:]
    assert await storage.outbox.claim(0) == []


async def test_retry_without_counting(storage: Storage, clock: FakeClock) -> None:
    msg = await storage.outbox.enqueue(chat_id=1, text="t", dedupe_key="t")
    assert msg is not None
    await storage.outbox.claim(1)
    await storage.outbox.retry(msg, not_before=clock.now, error="flood", count_attempt=False)
    row = await storage.outbox.get(msg)
    assert row is not None and row.attempts == 0 and row.state is OutboxState.PENDING
    await storage.outbox.claim(1)
    await storage.outbox.mark_sent(msg, 3)
    assert not await storage.outbox.retry(msg, not_before=clock.now, error="late")  # stays sent
    assert not await storage.outbox.mark_dead(msg, "late")


async def test_dead_rows_and_kill_chat(storage: Storage) -> None:
    a = await storage.outbox.enqueue(chat_id=1, text="a", dedupe_key="a")
    b = await storage.outbox.enqueue(chat_id=1, text="b", dedupe_key="b")
    c = await storage.outbox.enqueue(chat_id=2, text="c", dedupe_key="c")
    assert a and b and c
    assert await storage.outbox.mark_dead(c, "message is too long")
    assert await storage.outbox.kill_chat(1, "bot was blocked by the user") == 2
    assert await storage.outbox.backlog() == 0
    assert [m.id for m in await storage.outbox.dead_rows()] == [c, b, a]
    assert [m.id for m in await storage.outbox.dead_rows(limit=1)] == [c]
    only_1 = await storage.outbox.dead_rows(chat_ids=[1])
    assert [(m.id, m.last_error) for m in only_1] == [
        (b, "bot was blocked by the user"),
        (a, "bot was blocked by the user"),
    ]
    assert await storage.outbox.dead_rows(chat_ids=[]) == []


async def test_recover_inflight(storage: Storage, clock: FakeClock) -> None:
    old = await storage.outbox.enqueue(chat_id=1, text="a", dedupe_key="a")
    await storage.outbox.claim(10)
    clock.advance(minutes=10)
    fresh = await storage.outbox.enqueue(chat_id=2, text="b", dedupe_key="b")
    await storage.outbox.claim(10)
    assert await storage.outbox.recover_inflight(older_than=timedelta(minutes=5)) == 1
    row = await storage.outbox.get(old)  # type: ignore[arg-type]
    assert row is not None and row.state is OutboxState.PENDING
    assert await storage.outbox.recover_inflight() == 1
    row = await storage.outbox.get(fresh)  # type: ignore[arg-type]
    assert row is not None and row.state is OutboxState.PENDING
    assert await storage.outbox.recover_inflight() == 0


async def test_stats_and_purge(storage: Storage, clock: FakeClock) -> None:
    empty = await storage.outbox.stats()
    assert empty == {"pending": 0, "sending": 0, "sent": 0, "dead": 0, "oldest_pending_age": None}
    ids = [await storage.outbox.enqueue(chat_id=c, text="t", dedupe_key=f"k{c}") for c in range(4)]
    clock.advance(seconds=90)
    claimed = await storage.outbox.claim(3)
    await storage.outbox.mark_sent(claimed[0].id, 1)
    await storage.outbox.mark_dead(claimed[1].id, "x")
    stats = await storage.outbox.stats()
    assert stats == {"pending": 1, "sending": 1, "sent": 1, "dead": 1, "oldest_pending_age": 90.0}
    assert await storage.outbox.backlog() == 2
    clock.advance(days=8)
    assert await storage.outbox.purge(timedelta(days=7)) == 2
    assert await storage.outbox.get(ids[0]) is None  # type: ignore[arg-type]


async def test_migrate_chat(storage: Storage) -> None:
    a = await storage.outbox.enqueue(chat_id=-5, text="a", dedupe_key="a")
    assert await storage.outbox.migrate_chat(-5, -1000000000005) == 1
    row = await storage.outbox.get(a)  # type: ignore[arg-type]
    assert row is not None and row.chat_id == -1000000000005


async def test_two_storages_claim_concurrently(
    db_url: str, storage: Storage, clock: FakeClock
) -> None:
    """Two Storage instances (two connections, two threads) on one file claim at the same
    moment, round after round: no row is handed out twice, and each chat's order holds."""
    chats, per_chat = 40, 5
    for n in range(per_chat):
        for chat in range(chats):
            await storage.outbox.enqueue(chat_id=chat, text=f"{chat}:{n}", dedupe_key=f"{chat}:{n}")
    claimed: dict[str, list[int]] = {"a": [], "b": []}
    order: dict[int, list[str]] = {}
    barrier = asyncio.Barrier(2)
    round_total = [0]

    async with await open_storage(db_url, SECRET, clock=clock) as other:

        async def sender(name: str, store: Storage) -> None:
            while True:
                batch = await store.outbox.claim(7)  # both claims race each round
                round_total[0] += len(batch)
                await barrier.wait()
                if round_total[0] == 0:
                    return
                for message in batch:
                    claimed[name].append(message.id)
                    order.setdefault(message.chat_id, []).append(message.text)
                    await store.outbox.mark_sent(message.id, message.id)
                await barrier.wait()
                round_total[0] = 0
                await barrier.wait()

        await asyncio.gather(sender("a", storage), sender("b", other))
    ids = claimed["a"] + claimed["b"]
    assert len(ids) == chats * per_chat
    assert len(set(ids)) == len(ids)
    assert claimed["a"] and claimed["b"]  # both instances took part
    for chat, texts in order.items():
        assert texts == [f"{chat}:{n}" for n in range(per_chat)]  # per-chat FIFO held
    stats = await storage.outbox.stats()
    assert stats["sent"] == chats * per_chat


async def test_supersede_cards_keeps_only_the_newest_update(
    storage: Storage, shop: Shop, clock: FakeClock
) -> None:
    async def put(text: str, **fields: Any) -> int:
        row_id = await storage.outbox.enqueue(
            chat_id=7, text=text, dedupe_key=f"k:{text}", **fields
        )
        assert row_id is not None
        return row_id

    card: dict[str, Any] = {"kind": OutboxKind.CARD, "shop_id": shop.id, "order_id": "A1"}
    first = await put("new", disable_notification=False, **card)  # a new card rings
    reply = await put("paid!", kind=OutboxKind.REPLY, shop_id=shop.id, order_id="A1")
    middle = await put("paid", disable_notification=True, **card)
    other_order = await put("B1 new", kind=OutboxKind.CARD, shop_id=shop.id, order_id="B1")
    other_chat = await storage.outbox.enqueue(
        chat_id=8, text="A1 elsewhere", dedupe_key="k8", **card
    )
    newest = await put("shipped", disable_notification=True, **card)

    assert await storage.outbox.supersede_cards(first) is None  # not claimed: untouched
    [claimed] = await storage.outbox.claim(10, exclude_chats=[8])
    assert claimed.id == first
    clock.advance(seconds=1)
    replacement = await storage.outbox.supersede_cards(first)
    assert replacement is not None and replacement.id == newest
    assert replacement.state is OutboxState.SENDING and replacement.text == "shipped"
    assert replacement.disable_notification is False  # rings, as the first card would have
    for row_id in (first, middle):
        row = await storage.outbox.get(row_id)
        assert row is not None and row.state is OutboxState.SENT
        assert row.last_error == f"superseded by #{newest}" and row.sent_at == clock.now
    for row_id in (reply, other_order, other_chat):
        row = await storage.outbox.get(row_id)
        assert row is not None and row.state is OutboxState.PENDING
    # nothing newer now; a reply or an unclaimed row is never touched
    assert await storage.outbox.supersede_cards(newest) is None
    assert await storage.outbox.supersede_cards(reply) is None
    await storage.outbox.mark_sent(newest, 99)
    # the chat's queue goes on in order: the reply, then the other order's card
    assert [m.id for m in await storage.outbox.claim(10, exclude_chats=[8])] == [reply]
