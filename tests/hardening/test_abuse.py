"""Load and abuse against the bot process: 2,000 webhook requests, 50 at a time, mixing
valid events, repeats, concurrent events for one order, wrong tokens and events, wrong
methods, huge bodies (declared and chunked), invalid JSON and three slow uploads (a byte a
second). Afterwards the bot is up, its memory bounded, every valid distinct event stored and
alerted exactly once, and every refusal counted under its reason in /metrics.

Scaled for CI: WEBHOOK_BODY_TIMEOUT is 2 s (10 s by default) and WEBHOOK_MAX_BODY 256 KiB
(1 MiB), so the slow and huge requests cost seconds and megabytes, not minutes and gigabytes.
"""

from __future__ import annotations

import asyncio
import json
import random
import secrets
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp

from bot.webhooks import canonical_json
from tests.alerts.conftest import metric
from tests.hardening.conftest import CARD, PAID, matches, rss_mb, sent_texts
from tests.process_harness import FAST_SENDER, BotProcess, until

OWNER = 1001
TOTAL = 2000
CONCURRENCY = 50
BODY_TIMEOUT = 2.0
MAX_BODY = 256 * 1024
HUGE = 1024 * 1024
SLOW_CLIENTS = 3
RSS_LIMIT_MB = 300
RSS_GROWTH_MB = 60


@dataclass
class Sent:
    """What one request was meant to be, and what came back."""

    kind: str
    expect: int
    status: int = 0


async def slow_upload(port: int, path: str) -> tuple[str, float]:
    """Headers with Content-Length, then a byte a second; (outcome, seconds until cut off)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    started = time.monotonic()
    writer.write(
        f"POST {path} HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
        f"Content-Length: 200\r\n\r\n".encode()
    )
    outcome = "held"
    try:
        for i in range(60):
            writer.write(b"{" if i == 0 else b" ")
            await writer.drain()
            try:
                line = await asyncio.wait_for(reader.readline(), 1.0)
            except TimeoutError:
                continue
            outcome = line.decode(errors="replace").strip() or "closed"
            break
    except (ConnectionError, OSError):
        outcome = "closed"
    finally:
        writer.close()
    return outcome, time.monotonic() - started


async def test_2000_abusive_requests(tmp_path: Path) -> None:
    async with BotProcess.launch(
        tmp_path,
        poll_interval=0,
        log_level="WARNING",
        webhook_body_timeout=BODY_TIMEOUT,
        webhook_max_body=MAX_BODY,
        **FAST_SENDER,
    ) as bot:
        rng = random.Random(20240601)
        fake = bot.pixlpark_shop(samples=False)
        shop = await bot.seed_shop(OWNER)
        await bot.start()
        assert bot.proc is not None
        pid = bot.proc.pid
        rss_start = rss_mb(pid)
        tg = bot.tg

        def url(event: str, token: str | None = None) -> str:
            base = f"{bot.url}/pixlpark/{token or shop.webhook_token}"
            return f"{base}/{event}"

        distinct: set[tuple[str, str]] = set()
        valid_sends = 0
        sent: list[Sent] = []
        gate = asyncio.Semaphore(CONCURRENCY)
        done = 0
        rss_half: list[float] = []
        connector = aiohttp.TCPConnector(limit=CONCURRENCY)
        session = aiohttp.ClientSession(connector=connector)

        async def request(
            kind: str,
            expect: int,
            target: str,
            data: bytes | Callable[[], AsyncIterator[bytes]] | None = None,
            method: str = "POST",
            headers: dict[str, str] | None = None,
        ) -> None:
            nonlocal done
            record = Sent(kind, expect)
            sent.append(record)
            payload = data() if callable(data) else data
            async with gate:
                try:
                    async with session.request(
                        method, target, data=payload, headers=headers
                    ) as response:
                        await response.read()
                        record.status = response.status
                except (aiohttp.ClientError, OSError):
                    record.status = -1  # connection cut while still sending
            done += 1
            if done == TOTAL // 2:
                rss_half.append(rss_mb(pid))

        def valid(event: str, order_id: str) -> Callable[[], Awaitable[None]]:
            nonlocal valid_sends
            body = fake.webhook_body(order_id)
            distinct.add((event, canonical_json(body)))
            valid_sends += 1
            raw = json.dumps(body).encode()
            return lambda: request("valid", 200, url(event), raw)

        # 1. warm-up: 60 orders carded before the storm, then paid in Pixlpark
        old = [fake.add_order()["Id"] for _ in range(60)]
        await asyncio.gather(*(valid("order-created", oid)() for oid in old))
        await until("the warm-up cards", lambda: len(sent_texts(tg, OWNER)) >= 60, 20)
        for oid in old:
            fake.update_order(oid, PaymentStatus="Paid")

        # 2. the storm
        jobs: list[Callable[[], Awaitable[None]]] = []
        new_orders = [fake.add_order()["Id"] for _ in range(300)]
        jobs += [valid("order-created", oid) for oid in new_orders]
        valid_jobs = list(jobs)

        def together(calls: list[Callable[[], Awaitable[None]]]) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                await asyncio.gather(*(call() for call in calls))

            return run

        # concurrent events for one order: all four events of 50 new orders at once ...
        grouped = [fake.add_order()["Id"] for _ in range(50)]
        events = ("order-created", "order-changed", "order-comment", "render-status")
        jobs += [together([valid(event, oid) for event in events]) for oid in grouped]
        # ... and two events reporting the same payment of the 60 carded orders
        paid_jobs = [
            together([valid("order-changed", oid), valid("render-status", oid)]) for oid in old
        ]
        jobs += paid_jobs
        # repeats of valid deliveries (same event, same body)
        repeats = 387
        for _ in range(repeats):
            jobs.append(rng.choice(valid_jobs))
            valid_sends += 1
        some_body = json.dumps(fake.webhook_body(new_orders[0])).encode()

        def refused(
            kind: str, expect: int, count: int, make: Callable[[int], dict[str, object]]
        ) -> None:
            for i in range(count):
                args = make(i)
                jobs.append(lambda args=args: request(kind, expect, **args))  # type: ignore[misc]

        refused(
            "unknown_token",
            404,
            300,
            lambda i: {
                "target": url("order-created", secrets.token_urlsafe(32)),
                "data": some_body,
            },
        )
        refused(
            "unknown_event",
            404,
            60,
            lambda i: {"target": url(rng.choice(["order-deleted", "x", "order"])), "data": b"{}"},
        )
        refused("method", 405, 60, lambda i: {"target": url("order-changed"), "method": "GET"})
        huge = b"{" + b" " * HUGE + b"}"

        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(HUGE // 65536 + 1):
                yield b" " * 65536

        refused("too_large", 413, 80, lambda i: {"target": url("order-created"), "data": huge})
        refused("too_large", 413, 20, lambda i: {"target": url("order-created"), "data": chunks})
        garbage = [b"{not json", b"\xff\xfe\x00", b'{"Id": 1', b"", b"nul", b"{'Id': 5}"]
        refused(
            "invalid_json",
            400,
            250,
            lambda i: {"target": url("order-changed"), "data": garbage[i % len(garbage)]},
        )
        refused(
            "not_object",
            400,
            80,
            lambda i: {"target": url("order-changed"), "data": b"[1, 2, 3]" if i % 2 else b"42"},
        )
        refused(
            "no_order_id",
            400,
            80,
            lambda i: {
                "target": url("order-changed"),
                "data": json.dumps({"Id": -i, "Status": "Printed"}).encode(),
            },
        )
        rng.shuffle(jobs)

        started = time.monotonic()
        slow = [
            asyncio.create_task(slow_upload(bot.port, url("order-created").removeprefix(bot.url)))
            for _ in range(SLOW_CLIENTS)
        ]
        progress_at_cut: list[int] = []

        async def watch_slow() -> None:
            await asyncio.sleep(BODY_TIMEOUT + 0.5)
            progress_at_cut.append(done)

        watcher = asyncio.create_task(watch_slow())
        await asyncio.gather(*(job() for job in jobs))
        storm = time.monotonic() - started
        slow_results = await asyncio.gather(*slow)
        await watcher
        await session.close()
        total = len(sent) + SLOW_CLIENTS
        assert total == TOTAL, total

        # every request got the answer its kind deserves
        wrong = Counter((s.kind, s.status) for s in sent if s.status != s.expect and s.status != -1)
        assert not wrong, wrong
        cut = Counter(s.kind for s in sent if s.status == -1)
        assert set(cut) <= {"too_large"}, cut  # only huge bodies may be cut mid-send
        for outcome, seconds in slow_results:
            assert "408" in outcome or outcome == "closed", outcome
            assert seconds < BODY_TIMEOUT + 3, seconds
        # other requests went on while the slow clients were still connected
        assert progress_at_cut and progress_at_cut[0] > 200, progress_at_cut

        # the bot is up; every distinct valid event was stored once and processed
        assert bot.proc.poll() is None
        status, health = await bot.health()
        assert status == 200
        accepted_expected = len(distinct)

        async def processed() -> float:
            text = await bot.metrics()
            return sum(
                metric(text, "alert_events_processed_total", kind=event, outcome=outcome)
                for event in events
                for outcome in ("ok", "body", "failed", "skipped", "gone")
            )

        deadline = time.monotonic() + 60
        while await processed() < accepted_expected:
            assert time.monotonic() < deadline, "events not processed in time"
            await asyncio.sleep(0.2)
        text = await bot.metrics()
        accepted = sum(
            metric(text, "pixlpark_webhooks_accepted_total", event=event) for event in events
        )
        assert accepted == accepted_expected
        assert metric(text, "pixlpark_webhooks_duplicate_total") == valid_sends - accepted
        ok = sum(
            metric(text, "alert_events_processed_total", kind=event, outcome="ok")
            for event in events
        )
        assert ok == accepted_expected

        refusals = Counter(s.kind for s in sent if s.kind != "valid")
        refusals["body_timeout"] = SLOW_CLIENTS
        for reason, count in refusals.items():
            counted = metric(text, "pixlpark_webhooks_refused_total", reason=reason)
            assert counted == count, (reason, counted, count)

        # alerted exactly once: one card per order, one 💰 per payment, nothing else
        every_order = set(old) | set(new_orders) | set(grouped)
        expected_messages = len(every_order) + len(old)
        await until(
            "every card and payment reply",
            lambda: len(sent_texts(tg, OWNER)) >= expected_messages,
            60,
        )
        await asyncio.sleep(1.0)  # anything extra would show up now
        texts = sent_texts(tg, OWNER)
        cards = Counter(matches(texts, CARD))
        paid = Counter(matches(texts, PAID))
        assert set(cards) == every_order
        assert set(cards.values()) == {1}, [o for o, n in cards.items() if n > 1]
        assert set(paid) == set(old) and set(paid.values()) == {1}, paid
        assert len(texts) == expected_messages, len(texts)
        status, health = await bot.health()
        assert status == 200 and health["outbox_backlog"] == 0 and health["inbox_pending"] == 0

        rss_end = rss_mb(pid)
        print(
            f"\n{TOTAL} requests in {storm:.1f} s ({TOTAL / storm:.0f}/s, {CONCURRENCY} at once): "
            f"{accepted:.0f} distinct events stored of {valid_sends} valid deliveries, "
            f"{sum(refusals.values())} refused {dict(refusals)}; huge bodies cut while "
            f"sending: {cut.get('too_large', 0)}; slow uploads: "
            f"{[(o, round(s, 1)) for o, s in slow_results]}; "
            f"{len(cards)} cards + {sum(paid.values())} payment replies; "
            f"RSS start {rss_start:.0f} MB, half {rss_half[0]:.0f} MB, end {rss_end:.0f} MB"
        )
        assert bot.proc.poll() is None
        assert rss_end < RSS_LIMIT_MB, rss_end
        assert rss_end - rss_half[0] < RSS_GROWTH_MB, (rss_half, rss_end)
