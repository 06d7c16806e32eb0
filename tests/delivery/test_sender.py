"""The outbox sender end to end: rows in the database → what the fake Telegram received."""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from pathlib import Path

from storage import OutboxKind, OutboxState, open_storage
from tests.delivery.conftest import StartFn, put, settled
from tests.harness import SECRET_KEY, Harness

OWNER = 500
MARKUP = json.dumps({"inline_keyboard": [[{"text": "Open", "callback_data": "o:1:A1"}]]})


async def _shop(h: Harness) -> int:
    h.tg.user(OWNER, "Owner")
    shop = await h.seed_shop(OWNER)
    return shop.id


async def _group(h: Harness, shop_id: int, title: str = "Team") -> int:
    chat_id = h.tg.create_group(title, bot_status="member")
    await h.storage.chats.upsert(chat_id, "group", title)
    await h.storage.links.link(chat_id, shop_id, created_by=OWNER)
    return chat_id


async def test_card_is_sent_then_edited_in_place_and_replied_to(fast: Harness) -> None:
    h = fast
    shop_id = await _shop(h)
    card = {"kind": OutboxKind.CARD, "shop_id": shop_id, "order_id": "A1", "reply_markup": MARKUP}
    first = await put(h, OWNER, "<b>Order A1</b>\nNew", **card)
    [row] = await settled(h, [first])
    messages = h.tg.sent_messages(OWNER)
    assert len(messages) == 1
    mid = messages[0]["message_id"]
    assert row.tg_message_id == mid
    assert h.tg.inline_buttons(messages[0])[0]["callback_data"] == "o:1:A1"
    stored = await h.storage.cards.get(OWNER, shop_id, "A1")
    assert stored is not None and stored.message_id == mid

    second = await put(h, OWNER, "<b>Order A1</b>\nPaid", **card)
    same = await put(h, OWNER, "<b>Order A1</b>\nPaid", **card)  # "message is not modified"
    reply = await put(h, OWNER, "💰 Paid", kind=OutboxKind.REPLY, shop_id=shop_id, order_id="A1")
    await settled(h, [second, same, reply])
    messages = h.tg.sent_messages(OWNER)
    assert len(messages) == 2  # the card and the reply; the card was edited, not re-sent
    assert messages[0]["message_id"] == mid
    assert messages[0]["text"] == "Order A1\nPaid"
    # the repeat may have superseded the first update (same card): one edit or two
    assert {c.params["message_id"] for c in h.tg.calls_of("editMessageText")} == {mid}
    assert messages[1]["reply_to_message"]["message_id"] == mid
    assert messages[1]["text"] == "💰 Paid"


async def test_queued_card_updates_collapse_into_the_newest(start: StartFn) -> None:
    h = await start(telegram_chat_interval=1.0)
    shop_id = await _shop(h)
    card = {"kind": OutboxKind.CARD, "shop_id": shop_id, "order_id": "S1", "reply_markup": MARKUP}
    reply = {"kind": OutboxKind.REPLY, "shop_id": shop_id, "order_id": "S1"}
    hello = await put(h, OWNER, "hello")  # the chat is paced for a second after this
    await settled(h, [hello])
    ids = [
        await put(h, OWNER, "S1: new", disable_notification=False, **card),
        await put(h, OWNER, "S1: paid", disable_notification=True, **card),
        await put(h, OWNER, "💰 paid", **reply),
        await put(h, OWNER, "S1: shipped", disable_notification=True, **card),
        await put(h, OWNER, "🚚 shipped", **reply),
    ]
    rows = await settled(h, ids)
    sends = [c for c in h.tg.calls_of("sendMessage") if c.params["chat_id"] == OWNER]
    assert [c.params["text"] for c in sends] == ["hello", "S1: shipped", "💰 paid", "🚚 shipped"]
    assert not sends[1].params.get("disable_notification")  # a new card still rings
    assert h.tg.calls_of("editMessageText") == []  # one call for three card states
    card_mid = rows[3].tg_message_id
    assert card_mid is not None
    stored = await h.storage.cards.get(OWNER, shop_id, "S1")
    assert stored is not None and stored.message_id == card_mid
    assert [r.last_error for r in rows[:2]] == [f"superseded by #{ids[3]}"] * 2
    for message in h.tg.sent_messages(OWNER)[2:]:
        assert message["reply_to_message"]["message_id"] == card_mid
    assert h.app.sender is not None and h.app.sender.status.superseded == 1


async def test_card_whose_message_is_gone_is_sent_anew(fast: Harness) -> None:
    h = fast
    shop_id = await _shop(h)
    card = {"kind": OutboxKind.CARD, "shop_id": shop_id, "order_id": "B2"}
    [row] = await settled(h, [await put(h, OWNER, "Order B2: new", **card)])
    old_mid = row.tg_message_id
    assert old_mid is not None
    h.tg.deleted.add((OWNER, old_mid))  # someone deleted the card

    [row] = await settled(h, [await put(h, OWNER, "Order B2: paid", **card)])
    assert row.tg_message_id != old_mid
    stored = await h.storage.cards.get(OWNER, shop_id, "B2")
    assert stored is not None and stored.message_id == row.tg_message_id
    assert [m["text"] for m in h.tg.sent_messages(OWNER)] == ["Order B2: paid"]
    assert h.tg.calls_of("editMessageText")[0].error is not None


async def test_pacing_per_chat_and_order_kept(fast: Harness) -> None:
    h = fast
    a, b = 701, 702
    h.tg.user(a)
    h.tg.user(b)
    ids = []
    for i in range(5):
        ids.append(await put(h, a, f"a{i}"))
        ids.append(await put(h, b, f"b{i}"))
    started = time.monotonic()
    await settled(h, ids)
    elapsed = time.monotonic() - started
    for chat, prefix in ((a, "a"), (b, "b")):
        calls = [c for c in h.tg.calls_of("sendMessage") if c.params["chat_id"] == chat]
        assert [c.params["text"] for c in calls] == [f"{prefix}{i}" for i in range(5)]
        gaps = [y.t - x.t for x, y in itertools.pairwise(calls)]
        assert min(gaps) >= 0.19, gaps
    assert elapsed < 2.5  # the two chats were served side by side, not one after the other
    assert h.tg.too_many_requests == 0


async def test_429_storm_pauses_one_chat_while_others_continue(fast: Harness) -> None:
    h = fast
    slow, other = 711, 712
    h.tg.user(slow)
    h.tg.user(other)
    h.tg.fail_next("sendMessage", 429, retry_after=1, times=3, chat_id=slow)
    slow_ids = [await put(h, slow, f"s{i}") for i in range(3)]
    other_ids = [await put(h, other, f"o{i}") for i in range(3)]
    rows = await settled(h, slow_ids + other_ids, timeout=15)
    assert all(r.attempts == 0 for r in rows)  # flood control is not a failure
    assert h.tg.too_many_requests == 3
    ok = [c for c in h.tg.calls_of("sendMessage") if c.ok]
    assert [c.params["text"] for c in ok if c.params["chat_id"] == slow] == ["s0", "s1", "s2"]
    first_slow_ok = min(c.t for c in ok if c.params["chat_id"] == slow)
    last_other = max(c.t for c in ok if c.params["chat_id"] == other)
    assert last_other < first_slow_ok  # the other chat did not wait for the paused one
    refused = [c for c in h.tg.calls_of("sendMessage") if c.status == 429]
    gaps = [y.t - x.t for x, y in itertools.pairwise(refused)]
    assert min(gaps) >= 1.0  # nothing went to the paused chat during retry_after
    assert h.app.sender is not None and h.app.sender.status.throttled == 3


async def test_sender_faster_than_telegram_recovers_from_429s(fast: Harness) -> None:
    """Configured for 0.2 s per chat against a Telegram enforcing 1 s: 429s, nothing lost."""
    h = fast
    h.tg.enforce_limits(30, 1.0, 20)
    chats = [721, 722, 723]
    for chat in chats:
        h.tg.user(chat)
    ids = [await put(h, chat, f"{chat}:{i}") for i in range(3) for chat in chats]
    rows = await settled(h, ids, timeout=20)
    assert h.tg.too_many_requests > 0
    assert all(r.attempts == 0 and r.state is OutboxState.SENT for r in rows)
    for chat in chats:
        texts = [m["text"] for m in h.tg.sent_messages(chat)]
        assert texts == [f"{chat}:{i}" for i in range(3)]


async def test_blocked_chat_dies_with_reason_and_owner_is_told(fast: Harness) -> None:
    h = fast
    shop_id = await _shop(h)
    group = await _group(h, shop_id, "Front desk")
    h.tg.block_chat(group)
    ids = [await put(h, group, f"alert {i}") for i in range(3)]
    rows = await settled(h, ids, (OutboxState.DEAD,))
    assert all("Forbidden" in (r.last_error or "") for r in rows)
    chat = await h.storage.chats.get(group)
    assert chat is not None and not chat.is_active
    notice = await h.tg.next_bot_message(OWNER, timeout=5)
    assert "Front desk" in notice["text"]
    assert "заблокировали или удалили" in notice["text"]  # the owner's language: ru default
    assert "Demo Print" in notice["text"]
    dead = await h.storage.outbox.dead_rows(chat_ids=[group])
    assert len(dead) == 3


async def test_supergroup_migration_moves_rows_and_cards(fast: Harness) -> None:
    h = fast
    shop_id = await _shop(h)
    group = await _group(h, shop_id)
    card = {"kind": OutboxKind.CARD, "shop_id": shop_id, "order_id": "C3"}
    await settled(h, [await put(h, group, "Order C3: new", **card)])

    new_id = await h.tg.migrate_group(group)
    ids = [
        await put(h, group, "Order C3: paid", **card),
        await put(h, group, "plain alert"),
    ]
    rows = await settled(h, ids)
    assert {r.chat_id for r in rows} == {new_id}
    assert [m["text"] for m in h.tg.sent_messages(new_id)] == ["Order C3: paid", "plain alert"]
    assert await h.storage.chats.resolve(group) == new_id
    moved = await h.storage.cards.get(new_id, shop_id, "C3")
    assert moved is not None
    assert [link.shop_id for link in await h.storage.links.for_chat(new_id)] == [shop_id]
    assert all(r.state is OutboxState.SENT for r in rows)


async def test_outage_backs_off_then_delivers(fast: Harness) -> None:
    h = fast
    h.tg.user(731)
    h.tg.user(732)
    h.tg.down_status = 502
    ids = [await put(h, 731, "during outage"), await put(h, 732, "also")]
    await asyncio.sleep(1.5)
    failed = len(h.tg.calls_of("sendMessage"))
    assert 2 <= failed <= 8  # backing off, one probe at a time, not hammering
    h.tg.down_status = None
    rows = await settled(h, ids, timeout=10)
    assert max(r.attempts for r in rows) >= 1
    assert [m["text"] for m in h.tg.sent_messages(731)] == ["during outage"]


async def test_dead_after_max_attempts_keeps_reason(start: StartFn) -> None:
    h = await start(outbox_max_attempts=3, outbox_retry_base=0.1)
    h.tg.user(741)
    h.tg.fail_next("sendMessage", 500, times=100, chat_id=741)
    [row] = await settled(h, [await put(h, 741, "doomed")], (OutboxState.DEAD,))
    assert row.attempts == 2  # two counted retries, the third failure gives up
    assert row.last_error is not None
    assert "TelegramServerError" in row.last_error and "3 attempts" in row.last_error
    assert len(h.tg.calls_of("sendMessage")) == 3


async def test_bad_request_is_dead_at_once(fast: Harness) -> None:
    h = fast
    h.tg.user(751)
    [row] = await settled(h, [await put(h, 751, "<b>unclosed")], (OutboxState.DEAD,))
    assert row.last_error is not None and "can't parse entities" in row.last_error
    nxt = await put(h, 751, "next one goes out")
    await settled(h, [nxt])


async def test_rows_in_flight_at_a_crash_are_delivered_after_restart(tmp_path: Path) -> None:
    from tests.harness import start_harness, stop_harness

    storage = await open_storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", SECRET_KEY)
    await storage.outbox.enqueue(chat_id=761, text="claimed before the crash", dedupe_key="k1")
    await storage.outbox.enqueue(chat_id=761, text="queued behind it", dedupe_key="k2")
    claimed = await storage.outbox.claim(10)
    assert len(claimed) == 1
    await storage.close()

    h = await start_harness(tmp_path, telegram_chat_interval=0.2)
    try:
        h.tg.user(761)
        h.app.signals.outbox.set()
        await h.tg.wait_for("sendMessage", 2, timeout=10)
        texts = [c.params["text"] for c in h.tg.calls_of("sendMessage")]
        assert texts == ["claimed before the crash", "queued behind it"]
    finally:
        await stop_harness(h)


async def test_shutdown_drains_the_send_in_flight(start: StartFn, tmp_path: Path) -> None:
    from bot.app import stop_app

    h = await start()
    h.tg.user(771)
    h.tg.set_delay("sendMessage", 0.6)
    first = await put(h, 771, "in flight at shutdown")
    second = await put(h, 771, "still queued")
    await asyncio.sleep(0.3)  # the first call is waiting on the fake
    began = time.monotonic()
    await stop_app(h.app)
    assert time.monotonic() - began < 5
    await h.tg.stop()
    await h.pp.stop()
    storage = await open_storage(f"sqlite:///{tmp_path / 'bot.sqlite3'}", SECRET_KEY)
    try:
        done = await storage.outbox.get(first)
        queued = await storage.outbox.get(second)
        assert done is not None and done.state is OutboxState.SENT
        assert queued is not None and queued.state is OutboxState.PENDING
    finally:
        await storage.close()
