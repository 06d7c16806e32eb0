"""A restart after SIGKILL processes the killed run's claimed events at once,
not when their leases run out."""

from __future__ import annotations

import json
import time
from pathlib import Path

from bot.webhooks import canonical_json, dedupe_key
from tests.process_harness import FAST_SENDER, BotProcess

OWNER = 1001


async def test_start_releases_leases_of_a_killed_run(tmp_path: Path) -> None:
    async with BotProcess.launch(tmp_path, poll_interval=0, **FAST_SENDER) as bot:
        fake = bot.pixlpark_shop(samples=False)
        shop = await bot.seed_shop(OWNER)
        order = fake.add_order()
        body = json.loads(json.dumps(fake.webhook_body(order["Id"])))
        async with bot.storage() as storage:
            event, _ = await storage.inbox.add(
                shop.id,
                "order-created",
                str(order["Id"]),
                canonical_json(body),
                dedupe_key(shop.id, "order-created", body),
            )
            # what a processor killed mid-event leaves behind: a lease an hour long
            [claimed] = await storage.inbox.claim(limit=1, lease_seconds=3600)
            assert claimed.id == event.id
        began = time.monotonic()
        await bot.start()
        await bot.tg.wait_for(
            "sendMessage",
            1,
            timeout=10,
            predicate=lambda c: c.ok and str(order["Id"]) in str(c.params.get("text")),
        )
        assert time.monotonic() - began < 10
        async with bot.storage() as storage:
            done = await storage.inbox.get(event.id)
            assert done is not None and done.processed_at is not None
            assert done.attempts == 2  # the killed run's attempt, then this one
