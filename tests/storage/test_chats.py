"""Chats, users' languages, and group → supergroup migration."""

from __future__ import annotations

import pytest

from storage import ChatType, OutboxMessage, OutboxState, Shop, Storage

from .conftest import FakeClock


async def test_upsert_get_and_flags(storage: Storage, clock: FakeClock) -> None:
    chat = await storage.chats.upsert(-5, "group", "Staff")
    assert (chat.id, chat.type, chat.title, chat.language, chat.is_active) == (
        -5,
        ChatType.GROUP,
        "Staff",
        None,
        True,
    )
    assert chat.created_at == clock.now
    assert await storage.chats.set_active(-5, False)
    clock.advance(seconds=10)
    chat = await storage.chats.upsert(-5, ChatType.GROUP, "Staff renamed")
    assert chat.title == "Staff renamed"
    assert chat.is_active is False  # upsert leaves the flag to set_active
    assert chat.updated_at == clock.now
    assert await storage.chats.set_language(-5, "en")
    got = await storage.chats.get(-5)
    assert got is not None and got.language == "en"
    assert await storage.chats.set_language(12345, "en") is False
    assert await storage.chats.set_active(12345, True) is False
    assert await storage.chats.get(12345) is None
    with pytest.raises(ValueError):
        await storage.chats.upsert(1, "bogus", None)


async def test_user_language(storage: Storage) -> None:
    assert await storage.users.get_language(7) is None
    await storage.users.set_language(7, "ru")
    await storage.users.set_language(7, "en")
    assert await storage.users.get_language(7) == "en"
    await storage.users.set_language(7, None)
    assert await storage.users.get_language(7) is None


async def _all_outbox(storage: Storage, ids: tuple[int, ...]) -> list[OutboxMessage]:
    rows = [await storage.outbox.get(i) for i in ids]
    return [row for row in rows if row is not None]


async def test_migration_rewrites_everything_in_one_go(storage: Storage, shop: Shop) -> None:
    other = await storage.shops.create("pub-2", "private-2")
    old, new = -1001, -1001234567890
    await storage.chats.upsert(old, "group", "Shop staff")
    await storage.chats.set_language(old, "en")
    await storage.links.link(old, shop.id, topic_id=None)
    await storage.links.update_prefs(old, shop.id, statuses={"ready"})
    await storage.links.link(old, other.id)
    await storage.cards.upsert(old, shop.id, "A-1", message_id=11, history="new")
    sent = await storage.outbox.enqueue(chat_id=old, text="x", dedupe_key="x")
    assert sent is not None
    [claimed] = await storage.outbox.claim(10)
    await storage.outbox.mark_sent(sent, 99)
    sending = await storage.outbox.enqueue(chat_id=old, text="s", dedupe_key="s")
    pending = await storage.outbox.enqueue(chat_id=old, text="p", dedupe_key="p")
    assert sending and pending
    [claimed] = await storage.outbox.claim(10)
    assert claimed.id == sending  # in flight while the group migrates
    other_chat_msg = await storage.outbox.enqueue(chat_id=-77, text="o", dedupe_key="o")

    moved = await storage.chats.migrate(old, new)
    assert moved is not None
    assert (moved.id, moved.type, moved.title, moved.language) == (
        new,
        ChatType.SUPERGROUP,
        "Shop staff",
        "en",
    )
    assert await storage.chats.get(old) is None
    assert await storage.links.for_chat(old) == []
    links = await storage.links.for_chat(new)
    assert {link.shop_id for link in links} == {shop.id, other.id}
    moved_link = await storage.links.get(new, shop.id)
    assert moved_link is not None and moved_link.statuses == {"ready"}
    assert await storage.cards.get(old, shop.id, "A-1") is None
    card = await storage.cards.get(new, shop.id, "A-1")
    assert card is not None and card.message_id == 11 and card.history == "new"

    rows = {m.id: m for m in await _all_outbox(storage, (pending, sending, sent))}
    assert (rows[pending].chat_id, rows[pending].state) == (new, OutboxState.PENDING)
    assert (rows[sending].chat_id, rows[sending].state) == (new, OutboxState.SENDING)
    assert (rows[sent].chat_id, rows[sent].state) == (old, OutboxState.SENT)  # history stays
    assert other_chat_msg is not None
    untouched = await storage.outbox.get(other_chat_msg)
    assert untouched is not None and untouched.chat_id == -77

    assert await storage.chats.resolve(old) == new
    assert await storage.chats.resolve(new) == new
    assert await storage.chats.resolve(-999) == -999

    # Idempotent: a second call (a repeated Telegram update) changes nothing.
    again = await storage.chats.migrate(old, new)
    assert again == await storage.chats.get(new)
    assert len(await storage.links.for_chat(new)) == 2

    # Messages enqueued later for the old id go to the supergroup.
    late = await storage.outbox.enqueue(chat_id=old, text="late", dedupe_key="late")
    assert late is not None
    late_row = await storage.outbox.get(late)
    assert late_row is not None and late_row.chat_id == new


async def test_migration_into_known_supergroup_keeps_new_rows(storage: Storage, shop: Shop) -> None:
    old, new = -2002, -1002000000000
    await storage.chats.upsert(old, "group", "Old")
    await storage.chats.upsert(new, "supergroup", "New")
    await storage.links.link(old, shop.id, topic_id=1)
    await storage.links.link(new, shop.id, topic_id=2)
    await storage.cards.upsert(old, shop.id, "O", message_id=1)
    await storage.cards.upsert(new, shop.id, "O", message_id=2)
    await storage.cards.upsert(old, shop.id, "P", message_id=3)
    chat = await storage.chats.migrate(old, new)
    assert chat is not None and chat.title == "New"
    link = await storage.links.get(new, shop.id)
    assert link is not None and link.topic_id == 2
    card_o = await storage.cards.get(new, shop.id, "O")
    card_p = await storage.cards.get(new, shop.id, "P")
    assert card_o is not None and card_o.message_id == 2
    assert card_p is not None and card_p.message_id == 3


async def test_migration_chains_resolve(storage: Storage) -> None:
    await storage.chats.upsert(-1, "group", "A")
    await storage.chats.migrate(-1, -2)
    await storage.chats.migrate(-2, -3)
    assert await storage.chats.resolve(-1) == -3
    assert await storage.chats.resolve(-2) == -3
    assert await storage.chats.migrate(-3, -3) is not None


async def test_migration_of_unknown_chat_moves_outbox(storage: Storage) -> None:
    msg = await storage.outbox.enqueue(chat_id=-10, text="t", dedupe_key="t")
    assert await storage.chats.migrate(-10, -1000000000010) is None
    assert msg is not None
    row = await storage.outbox.get(msg)
    assert row is not None and row.chat_id == -1000000000010
