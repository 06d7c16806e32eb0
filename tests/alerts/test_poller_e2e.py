"""The reconciliation poller, bot as a subprocess: baseline without a flood, alerts with
no webhook at all, and the owner's one-time hint to check the webhook settings."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.process_harness import FAST_SENDER, BotProcess

OWNER = 1001


async def test_poller_baseline_then_alerts_and_hint(tmp_path: Path) -> None:
    async with BotProcess.launch(
        tmp_path, poll_interval=0.3, webhook_hint_after=0, **FAST_SENDER
    ) as bot:
        fake = bot.pixlpark_shop()  # 10 old orders
        shop = await bot.seed_shop(OWNER)
        await bot.start()
        tg = bot.tg

        async def polled() -> bool:
            _, health = await bot.health()
            return health["last_poll_at"] is not None

        for _ in range(200):
            if await polled():
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(1.0)  # a few more polls
        assert tg.sent_messages(OWNER) == [], "the first poll only takes a baseline"
        async with bot.storage() as storage:
            assert await storage.snapshots.count(shop.id) == 10
            assert (await storage.shops.get(shop.id)).baseline_done  # type: ignore[union-attr]

        # no webhook at all: a new order and a change of an old one are found by polling
        new = fake.add_order()
        old_id = next(iter(fake.orders))
        fake.update_order(old_id, Status="Cancelled")
        await tg.wait_message(
            OWNER, lambda m: new["Id"] in m["text"] and "🧾" in m["text"], timeout=10
        )
        await tg.wait_message(
            OWNER, lambda m: old_id in m["text"] and "🧾" in m["text"], timeout=10
        )
        hint = await tg.wait_message(OWNER, lambda m: "/pixlpark/" in m["text"], timeout=10)
        for event in ("order-created", "order-changed", "order-comment", "render-status"):
            assert f"{shop.webhook_token}/{event}" in hint["text"]

        # later changes: alerts again, but the hint is not repeated
        fake.update_order(new["Id"], PaymentStatus="Paid")
        await tg.wait_message(OWNER, lambda m: "💰" in m["text"], timeout=10)
        await asyncio.sleep(1.0)
        hints = [m for m in tg.sent_messages(OWNER) if "/pixlpark/" in m["text"]]
        assert len(hints) == 1
        texts = [m["text"] for m in tg.sent_messages(OWNER)]
        assert len(texts) == 4, texts  # 2 cards, the hint, the paid reply: no repeats
