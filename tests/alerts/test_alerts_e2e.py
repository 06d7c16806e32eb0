"""Processing end to end, the bot as a subprocess: every kind reaches the right chats only,
routing preferences, a card edited in place with loud replies, repeats, Pixlpark down."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from pathlib import Path
from typing import Any

from tests.alerts.conftest import metric
from tests.process_harness import FAST_SENDER, BotProcess, until

OWNER = 1001


def send_calls(bot: BotProcess, chat_id: int) -> list[dict[str, Any]]:
    """sendMessage calls that reached this chat, oldest first (params)."""
    return [
        c.params
        for c in bot.tg.calls_of("sendMessage")
        if c.ok and int(c.params.get("chat_id", 0)) == chat_id
    ]


def loud(params: dict[str, Any]) -> bool:
    return str(params.get("disable_notification", "")).lower() not in ("true", "1")


async def test_event_kinds_routing_cards_and_outage(tmp_path: Path) -> None:
    async with BotProcess.launch(
        tmp_path,
        poll_interval=0,
        recheck_delay=0.3,
        alert_fetch_timeout=1.0,
        alert_fetch_cooldown=0.5,
        **FAST_SENDER,
    ) as bot:
        fake = bot.pixlpark_shop()
        other_fake = bot.pixlpark_shop("pub-2", "priv-2")
        shop = await bot.seed_shop(OWNER)
        other = await bot.seed_shop(2002, "pub-2", "priv-2", title="Other Shop")
        staff = await bot.seed_group(
            shop,
            "Staff",
            language="en",
            events={"new_order", "paid", "status_changed", "archive_failed", "comment"},
            loud_statuses={"Printed"},
        )
        other_group = await bot.seed_group(other, "Other staff")
        big_only = await bot.seed_group(shop, "Big orders", min_total=Decimal(1_000_000))
        cancelled_only = await bot.seed_group(
            shop, "Cancellations", statuses={"Cancelled"}, events={"cancelled"}
        )
        await bot.start()
        tg = bot.tg
        order = fake.add_order()
        oid = order["Id"]
        phone = order["DeliveryAddress"]["Phone"]

        async def hook(event: str) -> None:
            assert await bot.send_webhook(shop, fake, oid, event) == 200

        # 1. new order: a card in the owner's chat and in the staff group
        await hook("order-created")
        owner_card = await tg.wait_message(OWNER, lambda m: oid in m["text"], timeout=10)
        staff_card = await tg.wait_message(staff, lambda m: oid in m["text"], timeout=10)
        assert "Заказ" in owner_card["text"] and "Order" in staff_card["text"]
        assert phone in owner_card["text"]  # the owner's private chat: full contacts
        assert phone not in staff_card["text"]  # groups: masked, as in lookups
        assert tg.inline_buttons(owner_card), "cards carry the lookup buttons"
        assert loud(send_calls(bot, OWNER)[-1])

        # 2. paid: the card is edited in place and a loud reply rings
        fake.update_order(oid, PaymentStatus="Paid", PaidPrice=order["TotalPrice"])
        await hook("order-changed")
        reply = await tg.wait_message(OWNER, lambda m: "💰" in m["text"], timeout=10)
        assert reply["reply_to_message"]["message_id"] == owner_card["message_id"]
        assert loud(send_calls(bot, OWNER)[-1])
        card = tg.message(OWNER, owner_card["message_id"])
        assert card is not None and "Оплачен" in card["text"]
        await tg.wait_message(staff, lambda m: "💰" in m["text"] and "paid" in m["text"])

        # 3. comment: a quiet reply
        fake.add_comment(oid, "Please use glossy paper")
        await hook("order-comment")
        await tg.wait_message(OWNER, lambda m: "💬" in m["text"], timeout=10)
        assert not loud(send_calls(bot, OWNER)[-1])
        await tg.wait_message(staff, lambda m: "💬" in m["text"])

        # 4. status change: the owner's card only changes (status changes are off by
        #    default); the staff group chose it and made "Printed" loud
        fake.update_order(oid, Status="Printed")
        await hook("order-changed")
        staff_reply = await tg.wait_message(staff, lambda m: "🔄" in m["text"], timeout=10)
        assert "Done" in staff_reply["text"]
        assert loud(send_calls(bot, staff)[-1])
        await until(
            "the owner's card shows the new status",
            lambda: "Выполнен" in (tg.message(OWNER, owner_card["message_id"]) or {})["text"],
        )
        assert not any("🔄" in m["text"] for m in tg.sent_messages(OWNER))

        # 5. the print archive failed: only the staff group asked for it
        fake.update_order(oid, RenderStatus="ArchiveError")
        await hook("render-status")
        await tg.wait_message(staff, lambda m: "⚠️" in m["text"], timeout=10)

        # 6. cancelled: loud replies; the cancellations group gets its first card now
        fake.update_order(oid, Status="Cancelled")
        await hook("order-changed")
        await tg.wait_message(OWNER, lambda m: "❌" in m["text"], timeout=10)
        assert loud(send_calls(bot, OWNER)[-1])
        # the staff group did not choose "cancelled", but it follows status changes
        await tg.wait_message(staff, lambda m: "🔄" in m["text"] and "Cancelled" in m["text"])
        first = await tg.wait_message(cancelled_only, lambda m: oid in m["text"])
        assert first.get("reply_to_message") is None

        # 7. the same webhook again: nothing new anywhere
        counts = {chat: len(tg.sent_messages(chat)) for chat in (OWNER, staff, cancelled_only)}
        edits = len(tg.calls_of("editMessageText"))
        await hook("order-changed")
        await asyncio.sleep(1.0)
        assert counts == {
            chat: len(tg.sent_messages(chat)) for chat in (OWNER, staff, cancelled_only)
        }
        assert len(tg.calls_of("editMessageText")) == edits

        # one card per chat, edited in place: the owner saw 1 card + paid/comment/cancel
        owner_texts = [m["text"] for m in tg.sent_messages(OWNER)]
        assert sum(oid in t and "🧾" in t for t in owner_texts) == 1
        assert len(owner_texts) == 4, owner_texts
        card = tg.message(OWNER, owner_card["message_id"])
        assert card is not None and "🕓" in card["text"]  # the short status history
        assert "Отменён" in card["text"]
        # chats of another shop, or whose filters exclude the order, got nothing
        assert tg.sent_messages(other_group) == []
        assert tg.sent_messages(big_only) == []
        assert len(tg.sent_messages(cancelled_only)) == 1
        assert other_fake.orders  # (the other shop exists and was never touched)

        # 8. Pixlpark down during a webhook: the body is used, the order re-checked later
        second = fake.add_order()
        sid = second["Id"]
        bot.pp.down = True
        assert await bot.send_webhook(shop, fake, sid, "order-created") == 200
        body_card = await tg.wait_message(OWNER, lambda m: sid in m["text"], timeout=15)
        assert "Заказ" in body_card["text"]
        fake.update_order(sid, PaymentStatus="Paid")  # changes while Pixlpark is down
        await asyncio.sleep(0.5)
        bot.pp.down = False
        reply = await tg.wait_message(
            OWNER, lambda m: "💰" in m["text"] and sid in m["text"], timeout=15
        )
        assert reply["reply_to_message"]["message_id"] == body_card["message_id"]

        text = await bot.metrics()
        assert metric(text, "alert_events_processed_total", kind="order-created", outcome="body")
        assert metric(text, "alert_events_processed_total", kind="recheck", outcome="ok")
        status, health = await bot.health()
        assert status == 200 and health["database"]
