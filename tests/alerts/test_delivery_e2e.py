"""Delivery end to end with the bot as a subprocess: a 429 storm, a blocked chat and a
supergroup migration, each met by the sender while one webhook fans out to their chats."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.alerts.conftest import metric
from tests.process_harness import BotProcess, until

OWNER = 1001


async def test_429_storm_blocked_chat_and_migration(tmp_path: Path) -> None:
    async with BotProcess.launch(
        tmp_path, poll_interval=0, telegram_chat_interval=0.2, telegram_group_per_minute=1000
    ) as bot:
        fake = bot.pixlpark_shop()
        shop = await bot.seed_shop(OWNER, language="en")
        stormy = await bot.seed_group(shop, "Stormy")
        blocked = await bot.seed_group(shop, "Blocked")
        migrating = await bot.seed_group(shop, "Migrating")
        calm = await bot.seed_group(shop, "Calm")
        tg = bot.tg
        # The group became a supergroup while the bot was offline: it never saw the
        # service message, so only Telegram's 400 "upgraded" answer tells the sender.
        new_id = await tg.migrate_group(migrating)
        tg.drop_pending_updates()
        tg.block_chat(blocked)
        tg.fail_next(
            "sendMessage",
            429,
            "Too Many Requests: retry after 1",
            retry_after=1,
            times=3,
            chat_id=stormy,
        )
        await bot.start()

        orders = [fake.add_order() for _ in range(3)]
        for order in orders:
            assert await bot.send_webhook(shop, fake, order["Id"], "order-created") == 200

        def carded(chat: int) -> set[str]:
            return {o["Id"] for o in orders for m in tg.sent_messages(chat) if o["Id"] in m["text"]}

        ids = {o["Id"] for o in orders}
        # every order reaches the calm chat, the stormy chat (after its 429s) and the
        # migrated supergroup under its new id
        await until("calm chat carded", lambda: carded(calm) == ids, timeout=20)
        await until("stormy chat carded", lambda: carded(stormy) == ids, timeout=20)
        await until("migrated chat carded", lambda: carded(new_id) == ids, timeout=20)
        assert tg.too_many_requests == 3
        stormy_sends = [c for c in tg.calls_of("sendMessage") if c.params["chat_id"] == stormy]
        failed = [c.t for c in stormy_sends if not c.ok]
        first_ok = min(c.t for c in stormy_sends if c.ok)
        assert first_ok - failed[0] >= 0.9, "the chat waited retry_after before sending again"

        # the blocked group: inactive, its rows dead with the reason, the owner told
        notice = await tg.wait_message(OWNER, lambda m: "Blocked" in m["text"], timeout=20)
        assert "Blocked" in notice["text"]
        async with bot.storage() as storage:
            chat = await storage.chats.get(blocked)
            assert chat is not None and not chat.is_active
            dead = await storage.outbox.dead_rows(limit=10, chat_ids=[blocked])
            assert dead and all(row.last_error for row in dead)
            assert await storage.chats.resolve(migrating) == new_id
            assert await storage.links.get(new_id, shop.id) is not None
            rows = await storage.outbox.dead_rows(limit=50, chat_ids=[stormy, calm, new_id])
            assert rows == [], "429s and the migration never killed a row"
        await asyncio.sleep(0.3)
        text = await bot.metrics()
        assert metric(text, "telegram_deliveries_total", result="rate_limited") >= 3
        assert metric(text, "telegram_deliveries_total", result="dead") >= 1
