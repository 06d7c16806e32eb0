"""Telegram down (502 for every call) during a stream of webhooks: the outbox grows, then
drains within Telegram's limits once Telegram is back: no 429 storm, nothing lost, nothing
sent twice, and only a trickle of probes while it is down.

Scaled for CI: the outage lasts 15 s instead of a minute, and OUTBOX_RETRY_MAX is 2 s
(300 s by default) so the sender's probes find Telegram back within seconds. The bot runs
with its default pace (25 messages/s, 1 s per chat, 20/min per group) against a fake that
answers 429 past 30/s, 1 per second per chat and 20 per minute per group.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path

from tests.hardening.conftest import CARD, matches
from tests.process_harness import BotProcess, until

SHOPS = 30
OUTAGE = 15.0
ORDERS_IN_OUTAGE = 3
"""New orders per shop during the outage (one card each in the owner's chat)."""


async def test_telegram_outage_then_drain_within_limits(tmp_path: Path) -> None:
    async with BotProcess.launch(
        tmp_path,
        poll_interval=0,
        outbox_retry_base=0.5,
        outbox_retry_max=2,
        outbox_max_attempts=50,
        log_level="WARNING",
    ) as bot:
        tg = bot.tg
        owners = [2000 + i for i in range(SHOPS)]
        fakes, shops = [], []
        for i, owner in enumerate(owners):
            fakes.append(bot.pixlpark_shop(f"pub-{i}", f"priv-{i}", samples=False))
            shops.append(await bot.seed_shop(owner, f"pub-{i}", f"priv-{i}", title=f"Shop {i}"))
        group = await bot.seed_group(shops[0], "Staff of shop 0")
        await bot.start()
        tg.enforce_limits(global_per_sec=30, per_chat_interval=1.0, group_per_minute=20)

        def delivered() -> Counter[tuple[int, str]]:
            found: Counter[tuple[int, str]] = Counter()
            for call in tg.calls_of("sendMessage"):
                if call.ok:
                    chat = int(call.params["chat_id"])
                    for oid in matches([str(call.params.get("text", ""))], CARD):
                        found[(chat, oid)] += 1
            return found

        async def order(i: int) -> tuple[int, str]:
            oid = fakes[i].add_order()["Id"]
            assert await bot.send_webhook(shops[i], fakes[i], oid, "order-created") == 200
            return i, oid

        # before: one order per shop, delivered
        first = await asyncio.gather(*(order(i) for i in range(SHOPS)))
        await until("cards before the outage", lambda: len(delivered()) >= SHOPS + 1, 20)

        # the outage, with webhooks streaming in
        tg.down_status = 502
        down_at = time.monotonic()
        calls_before = len(tg.calls_of("sendMessage"))
        backlog: list[int] = []
        during: list[tuple[int, str]] = []
        step = OUTAGE / ORDERS_IN_OUTAGE
        for _ in range(ORDERS_IN_OUTAGE):
            during += await asyncio.gather(*(order(i) for i in range(SHOPS)))
            stop = time.monotonic() + step
            while time.monotonic() < stop:
                status, health = await bot.health()
                assert status == 200
                backlog.append(health["outbox_backlog"])
                await asyncio.sleep(0.5)
        probes = len(tg.calls_of("sendMessage")) - calls_before
        tg.down_status = None
        up_at = time.monotonic()
        outage = up_at - down_at

        # then it drains
        expected = {(owners[i], oid) for i, oid in first + during}
        expected |= {(group, oid) for i, oid in first + during if i == 0}

        def drained() -> bool:
            return set(delivered()) >= expected

        await until("the backlog to drain", drained, 40)
        drained_in = time.monotonic() - up_at
        await asyncio.sleep(1.0)
        status, health = await bot.health()
        assert status == 200 and health["outbox_backlog"] == 0

        counts = delivered()
        assert set(counts) == expected
        assert set(counts.values()) == {1}, [k for k, n in counts.items() if n > 1]
        after = [c for c in tg.calls_of("sendMessage") if c.t >= up_at and c.ok]
        window = max(sum(1 for c in after if start.t <= c.t < start.t + 1.0) for start in after)
        rate = len(after) / max(1e-9, after[-1].t - after[0].t) if len(after) > 1 else 0.0
        print(
            f"\nTelegram down {outage:.1f} s: outbox backlog peaked at {max(backlog)} "
            f"({len(during)} orders in {SHOPS} chats + a group), {probes} probes while down; "
            f"drained in {drained_in:.1f} s after it came back, {len(after)} sends at "
            f"{rate:.1f}/s on average, {window} in the busiest second; "
            f"429 answers: {tg.too_many_requests}"
        )
        assert max(backlog) >= len(during) * 0.9, backlog  # the outbox grew
        assert probes <= 2 * outage, probes  # probing, not hammering
        assert tg.too_many_requests <= 2, tg.too_many_requests  # no 429 storm
        assert window <= 30
        assert bot.proc is not None and bot.proc.poll() is None
