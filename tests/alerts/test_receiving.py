"""Receiving webhooks: every answer code, the repeat stored once, /healthz and /metrics."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp

from tests.alerts.conftest import metric
from tests.process_harness import BotProcess

OWNER = 1001


async def post(url: str, data: bytes | str, method: str = "POST", **kw: object) -> int:
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, url, data=data, **kw) as response,  # type: ignore[arg-type]
    ):
        await response.read()
        return response.status


async def test_webhook_answers(tmp_path: Path) -> None:
    async with BotProcess.launch(
        tmp_path, poll_interval=0, webhook_body_timeout=0.5, webhook_max_body=1024 * 1024
    ) as bot:
        fake = bot.pixlpark_shop()
        shop = await bot.seed_shop(OWNER)
        await bot.start()
        order = fake.add_order()
        url = bot.webhook_url(shop, "order-created")

        # accepted, then the very same delivery again: 200 both times, stored once
        started = time.monotonic()
        assert await bot.send_webhook(shop, fake, order["Id"], "order-created") == 200
        elapsed = time.monotonic() - started
        assert await bot.send_webhook(shop, fake, order["Id"], "order-created") == 200
        # the bare URL means order-changed; any content type is read as JSON
        body = json.dumps({"Id": int(order["Id"]), "Status": "NotProcessed"})
        assert (
            await post(bot.webhook_url(shop, None), body, headers={"Content-Type": "text/plain"})
            == 200
        )

        # refusals
        unknown_token = f"{bot.url}/pixlpark/{'x' * 43}/order-created"
        r404_token = await post(unknown_token, body)
        r404_event = await post(bot.webhook_url(shop, "order-deleted"), body)
        assert r404_token == r404_event == 404
        async with aiohttp.ClientSession() as session:
            async with session.post(unknown_token, data=body) as a:
                text_a = await a.text()
            async with session.post(bot.webhook_url(shop, "nope"), data=body) as b:
                text_b = await b.text()
        assert text_a == text_b  # nothing tells a wrong token from a wrong event
        assert await post(url, b"x" * (1024 * 1024 + 1)) == 413
        assert await post(url, b"{not json") == 400
        assert await post(url, b"[1, 2, 3]") == 400
        assert await post(url, json.dumps({"Status": "NotProcessed"})) == 400
        assert await post(url, b"", method="GET") == 405
        assert await post(url, b"{}", method="PUT") == 405

        # a body that never finishes: 408 after WEBHOOK_BODY_TIMEOUT
        reader, writer = await asyncio.open_connection("127.0.0.1", bot.port)
        path = url.removeprefix(bot.url)
        writer.write(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{{".encode())
        await writer.drain()
        status_line = await asyncio.wait_for(reader.readline(), 5)
        writer.close()
        assert b" 408 " in status_line

        # the card of the order arrives once, although the webhook came twice
        await bot.tg.wait_message(OWNER, lambda m: order["Id"] in m["text"], timeout=10)
        await asyncio.sleep(0.5)
        cards = [m for m in bot.tg.sent_messages(OWNER) if order["Id"] in m["text"]]
        assert len(cards) == 1

        text = await bot.metrics()
        assert metric(text, "pixlpark_webhooks_accepted_total", event="order-created") == 1
        assert metric(text, "pixlpark_webhooks_accepted_total", event="order-changed") == 1
        assert metric(text, "pixlpark_webhooks_duplicate_total") == 1
        for reason, count in {
            "unknown_token": 2,
            "unknown_event": 2,
            "too_large": 1,
            "invalid_json": 1,
            "not_object": 1,
            "no_order_id": 1,
            "method": 2,
            "body_timeout": 1,
        }.items():
            assert metric(text, "pixlpark_webhooks_refused_total", reason=reason) == count, reason

        status, health = await bot.health()
        assert status == 200
        assert health["database"] is True
        assert health["last_event_at"] is not None
        assert "outbox_backlog" in health and "last_poll_at" in health
        log = bot.log_text()
        assert "webhook refused" in log and "unknown_token" in log
        assert shop.webhook_token not in log  # only the first 4 characters are logged
        print(f"first webhook answered in {elapsed * 1000:.1f} ms")
        assert elapsed < 1.0
