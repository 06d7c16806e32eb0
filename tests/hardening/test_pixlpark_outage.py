"""Pixlpark down during a stream of webhooks: nothing is lost, alerts go out from the webhook
bodies at once, and are corrected when Pixlpark answers again; lookups meanwhile answer
"not answering" within the lookup deadline.

Scaled for CI: the outage lasts 12 s instead of several minutes, in two halves: 6 s of
503 answers (Pixlpark's front says it is down) and 6 s of silence (requests hang: a black
hole, the harder case). ALERT_FETCH_TIMEOUT is 1 s (5 s by default), ALERT_FETCH_COOLDOWN
2 s (15 s), so the shop's breaker re-opens for 2, 4, 8, 16 s instead of 15 s … 2 min,
RECHECK_DELAY 2 s (60 s) and PIXLPARK_TIMEOUT 2 s (10 s); PROCESSOR_CONCURRENCY is the
default 8. Only the first fetch of the outage waits for ALERT_FETCH_TIMEOUT: it opens the
breaker, and from then on the webhooks are alerted from their bodies at once, and the
re-checks wait for the probes instead of each waiting for a timeout.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path

from tests.alerts.conftest import metric
from tests.hardening.conftest import CARD, PAID, matches, sent_texts
from tests.process_harness import FAST_SENDER, BotProcess, until

OWNER = 1001
DOWN_503 = 6.0
DOWN_SILENT = 6.0
STEP = 0.4
"""Seconds between two webhooks of the stream."""
PIXLPARK_TIMEOUT = 2.0
ALERT_FETCH_TIMEOUT = 1.0
SILENT_LAG = 1.0
"""Most seconds from a webhook to its alert while Pixlpark is silent (the breaker is open)."""


async def test_pixlpark_outage_during_a_webhook_stream(tmp_path: Path) -> None:
    async with BotProcess.launch(
        tmp_path,
        poll_interval=0,
        recheck_delay=2,
        alert_fetch_timeout=ALERT_FETCH_TIMEOUT,
        alert_fetch_cooldown=2,
        pixlpark_timeout=PIXLPARK_TIMEOUT,
        **FAST_SENDER,
    ) as bot:
        fake = bot.pixlpark_shop(samples=False)
        shop = await bot.seed_shop(OWNER, language="en")
        await bot.start()
        tg, pp = bot.tg, bot.pp
        statuses: list[int] = []
        orders: list[str] = []
        changed_behind: list[str] = []  # changed in Pixlpark after an alert from the body
        silent: list[str] = []  # posted while Pixlpark did not answer at all
        sent_at: dict[str, float] = {}
        outage = {"on": False}
        stop = asyncio.Event()

        async def stream() -> None:
            while not stop.is_set():
                oid = fake.add_order()["Id"]
                orders.append(oid)
                behind = outage["on"]
                hanging = pp.hang
                statuses.append(await bot.send_webhook(shop, fake, oid, "order-created"))
                sent_at[oid] = time.monotonic()
                if behind:
                    # the body says "not paid"; Pixlpark will say "paid" when it is back
                    fake.update_order(oid, PaymentStatus="Paid")
                    changed_behind.append(oid)
                    if hanging:
                        silent.append(oid)
                await asyncio.sleep(STEP)

        async def lookup(label: str) -> float:
            """/status of an order the bot never fetched; seconds until the answer."""
            target = orders[-1]
            asked = await tg.send_text(OWNER, OWNER, f"/status {target}")
            started = time.monotonic()
            answer = await tg.wait_message(
                OWNER,
                lambda m: m["message_id"] > asked["message_id"] and "🧾" not in m["text"],
                timeout=PIXLPARK_TIMEOUT + 10,
            )
            elapsed = time.monotonic() - started
            assert "not answering" in answer["text"], (label, answer["text"])
            return elapsed

        runner = asyncio.create_task(stream())
        try:
            await asyncio.sleep(2.0)
            before = len(orders)
            await until("cards before the outage", lambda: len(sent_texts(tg, OWNER)) >= before)

            outage["on"] = True
            outage_started = time.monotonic()
            pp.down = True
            await asyncio.sleep(2.0)
            lookup_503 = await lookup("503")
            during_503 = list(orders)
            await asyncio.sleep(max(0.0, DOWN_503 - (time.monotonic() - outage_started)))
            pp.down = False
            pp.hang = True
            await asyncio.sleep(2.0)
            lookup_silent = await lookup("silent")
            await asyncio.sleep(
                max(0.0, DOWN_503 + DOWN_SILENT - (time.monotonic() - outage_started))
            )
            # alerts went out during the outage, from the bodies
            carded_in_outage = set(matches(sent_texts(tg, OWNER), CARD))
            outage["on"] = False
            await asyncio.sleep(STEP)  # the stream's last outage webhook is in
            pp.hang = False
            recovered = time.monotonic()
            await asyncio.sleep(2.0)
        finally:
            stop.set()
            with contextlib.suppress(asyncio.CancelledError):
                await runner

        # nothing lost: every webhook was taken, every order carded, exactly once
        assert statuses and set(statuses) == {200}, statuses
        assert set(during_503[before:]) <= carded_in_outage
        await until(
            "a card for every order",
            lambda: set(matches(sent_texts(tg, OWNER), CARD)) == set(orders),
            15,
        )

        # corrected when Pixlpark is back: the payment it reports is alerted, once each
        def first_cards() -> dict[str, tuple[float, str]]:
            """Each order's first card as sent: (arrival time, text)."""
            found: dict[str, tuple[float, str]] = {}
            for call in tg.calls_of("sendMessage"):
                text = str(call.params.get("text", ""))
                for oid in matches([text], CARD):
                    found.setdefault(oid, (call.t, text))
            return found

        def card_paid(text: str) -> bool:
            return "Paid" in text and "Not paid" not in text

        def stale() -> set[str]:
            """Outage orders whose card went out from the body, showing them unpaid."""
            return {oid for oid in changed_behind if not card_paid(first_cards()[oid][1])}

        # corrected when Pixlpark is back: each stale card gets its 💰 reply, once
        await until(
            "the corrections",
            lambda: set(matches(sent_texts(tg, OWNER), PAID)) >= stale(),
            30,
        )
        corrected_in = time.monotonic() - recovered
        await asyncio.sleep(1.0)
        texts = sent_texts(tg, OWNER)
        cards = matches(texts, CARD)
        assert len(cards) == len(set(cards)) == len(orders)
        assert sorted(matches(texts, PAID)) == sorted(stale())
        # and every card now shows the payment (edited in place)
        shown = {
            oid: msg["text"]
            for msg in tg.sent_messages(OWNER)
            for oid in matches([msg["text"]], CARD)
        }
        for oid in changed_behind:
            assert card_paid(shown[oid]), shown[oid]
        # the alerts of the outage went out promptly, from the bodies
        latency = {oid: first_cards()[oid][0] - sent_at[oid] for oid in changed_behind}
        worst = max(latency.values())
        worst_silent = max(latency[oid] for oid in silent)

        text = await bot.metrics()
        from_body = metric(
            text, "alert_events_processed_total", kind="order-created", outcome="body"
        )
        rechecked = metric(text, "alert_events_processed_total", kind="recheck", outcome="ok")
        later = metric(
            text, "alert_events_processed_total", kind="recheck", outcome="recheck_later"
        )
        postponed = metric(
            text, "alert_events_processed_total", kind="recheck", outcome="postponed"
        )
        status, health = await bot.health()
        assert status == 200 and health["inbox_pending"] == 0
        # the stale cards came from the bodies; so may a few after Pixlpark came back, until
        # the breaker's probe saw it (their bodies were current)
        assert from_body >= len(stale()) and rechecked >= from_body
        print(
            f"\n{len(orders)} orders streamed, {len(changed_behind)} during the "
            f"{DOWN_503 + DOWN_SILENT:g} s outage: {from_body:.0f} alerted from the body, "
            f"{rechecked:.0f} re-checked after it ({later:.0f} probes failed, {postponed:.0f} "
            f"re-checks postponed), all {len(stale())} cards from the body, each alerted "
            f"{worst:.2f} s after its webhook at worst ({worst_silent:.2f} s while Pixlpark "
            f"was silent), corrected {corrected_in:.1f} s after Pixlpark returned; /status "
            f"answered 'not answering' in {lookup_503:.1f} s (503) and {lookup_silent:.1f} s "
            "(no answer)"
        )
        limit = PIXLPARK_TIMEOUT + 1.5
        assert lookup_503 < limit and lookup_silent < limit, (lookup_503, lookup_silent)
        assert stale(), "some alerts went out from the body"
        # the outage's first fetch waits for ALERT_FETCH_TIMEOUT; then the breaker is open
        assert worst < ALERT_FETCH_TIMEOUT + 1.0, latency
        assert silent and worst_silent < SILENT_LAG, {oid: latency[oid] for oid in silent}
