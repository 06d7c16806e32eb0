"""/health: what an owner sees about delivery and about Pixlpark reaching the bot."""

from __future__ import annotations

from storage import OutboxState
from storage.timeutil import utcnow
from tests.delivery.conftest import put, settled
from tests.harness import Harness

OWNER = 600
MANAGER = 601


async def test_health_for_owner_shows_backlog_dead_rows_and_shop_contact(fast: Harness) -> None:
    h = fast
    owner = h.tg.user(OWNER, "Olga")
    shop = await h.seed_shop(OWNER, title="Photo <Lab>")
    await h.storage.shops.touch_event(shop.id, utcnow())
    group = h.tg.create_group("Front desk", bot_status="member")
    await h.storage.chats.upsert(group, "group", "Front desk")
    await h.storage.links.link(group, shop.id, created_by=OWNER)
    h.tg.block_chat(group)
    await settled(h, [await put(h, group, "alert")], (OutboxState.DEAD,))
    await h.tg.wait_message(OWNER, lambda m: "Front desk" in m.get("text", ""))

    await h.tg.send_text(owner, OWNER, "/health")
    report = await h.tg.wait_message(OWNER, lambda m: "Состояние" in m.get("text", ""))
    text = report["text"]
    assert "Очередь: пусто" in text
    assert "Недоставленных сообщений в ваших чатах: 1" in text
    assert "TelegramForbiddenError" in text
    assert "Недоступны (бот заблокирован или удалён): «Front desk»" in text
    assert "Photo <Lab>" in text  # escaped on the way, shown as typed
    assert "Последний вебхук:" in text and "назад" in text
    assert "Последний опрос: никогда" in text


async def test_health_in_english_and_not_for_managers(fast: Harness) -> None:
    h = fast
    owner = h.tg.user(OWNER, "Olga", language_code="en")
    manager = h.tg.user(MANAGER, "Max")
    shop = await h.seed_shop(OWNER)
    await h.storage.users.set_language(OWNER, "en")
    await h.storage.members.set_role(shop.id, MANAGER, "manager")
    await h.storage.chats.upsert(MANAGER, "private", None)
    await h.storage.links.link(MANAGER, shop.id, created_by=OWNER)
    await put(h, 99999, "never delivered: unknown chat")  # backlog, dies quickly

    await h.tg.send_text(owner, OWNER, "/health")
    report = await h.tg.wait_message(OWNER, lambda m: "Health" in m.get("text", ""))
    assert "Delivery" in report["text"]
    assert "Last poll: never" in report["text"]

    await h.tg.send_text(manager, MANAGER, "/health")
    denial = await h.tg.next_bot_message(MANAGER)
    assert "Health" not in denial["text"]
