"""GET /metrics after some traffic: every family the issue asks for, a few values, and no
token, key or URL with credentials in the scrape."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiogram.exceptions import TelegramBadRequest

from bot.instrument import path_template
from bot.telegram_webhook import webhook_address
from storage import OutboxKind
from tests.harness import BOT_TOKEN, SECRET_KEY, Harness, start_harness, stop_harness
from tests.lookups.helpers import ORDER, ask, body, setup_shop
from tests.production.conftest import metric


def test_path_templates_never_carry_ids_or_queries() -> None:
    assert path_template("/orders/2336327") == "/orders/{order_id}"
    assert path_template("/orders/2336327/items") == "/orders/{order_id}/items"
    assert path_template("/orders/count") == "/orders/count"
    assert path_template("/users/byEmail") == "/users/byEmail"
    assert path_template("/users/17") == "/users/{user_id}"
    assert path_template("/oauth/accesstoken") == "/oauth/accesstoken"
    assert path_template("/api/v1/orders/5", "/api/v1") == "/orders/{order_id}"
    assert path_template("/something/else") == "other"


async def _scrape(h: Harness) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{h.http_url}/metrics") as response,
    ):
        assert response.status == 200
        return await response.text()


async def test_metrics_after_traffic(webhook_harness: Harness) -> None:
    h = webhook_harness
    owner, shop, fake = await setup_shop(h)
    # Telegram webhook update -> Pixlpark calls -> a card sent by the handler
    assert f"Order {ORDER}" in body(await ask(h, owner, owner.id, f"/order {ORDER}"))
    # a Pixlpark webhook -> processed -> alert -> outbox -> delivered
    order = fake.add_order()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{h.http_url}/pixlpark/{shop.webhook_token}/order-created",
            json=fake.webhook_body(order["Id"]),
        ) as response,
    ):
        assert response.status == 200
    await h.tg.wait_message(owner.id, lambda m: order["Id"] in body(m), timeout=10)
    # a failed Telegram call, a Pixlpark 500, a delivery retried after a 5xx
    with pytest.raises(TelegramBadRequest):
        await h.app.bot.get_chat(987654321)
    h.pp.fail_next("/orders/2336321", 500, times=1)
    await ask(h, owner, owner.id, "/order 2336321")
    h.tg.fail_next("sendMessage", 502, chat_id=owner.id)
    await h.storage.outbox.enqueue(
        chat_id=owner.id, text="plain note", dedupe_key="metrics-test", kind=OutboxKind.MESSAGE
    )
    h.app.signals.outbox.set()
    await h.tg.wait_message(owner.id, lambda m: m.get("text") == "plain note", timeout=10)

    text = await _scrape(h)
    for family in (
        "pixlpark_webhooks_accepted_total",
        "pixlpark_webhooks_refused_total",
        "telegram_webhook_updates_total",
        "telegram_webhook_refused_total",
        "alert_events_processed_total",
        "alerts_detected_total",
        "outbox_backlog",
        "inbox_pending",
        "telegram_deliveries_total",
        "telegram_api_request_duration_seconds_bucket",
        "telegram_api_errors_total",
        "pixlpark_api_request_duration_seconds_bucket",
        "pixlpark_api_responses_total",
        "pixlpark_api_errors_total",
        "poller_runs_total",
    ):
        assert f"# TYPE {family.removesuffix('_bucket')}" in text or family in text, family
    assert metric(text, "pixlpark_webhooks_accepted_total", event="order-created") == 1
    assert metric(text, "telegram_webhook_updates_total", type="message") == 2
    assert metric(text, "alert_events_processed_total") >= 1
    assert metric(text, "alerts_detected_total") >= 1
    assert metric(text, "outbox_backlog") == 0
    assert metric(text, "telegram_deliveries_total", result="sent") >= 2
    assert metric(text, "telegram_deliveries_total", result="retried") == 1
    assert metric(text, "telegram_api_request_duration_seconds_count", method="setWebhook") == 1
    assert metric(text, "telegram_api_request_duration_seconds_count", method="sendMessage") >= 2
    assert metric(text, "telegram_api_errors_total", method="getChat", error="bad_request") == 1
    assert (
        metric(text, "telegram_api_errors_total", method="sendMessage", error="server_error") == 1
    )
    order_path = {"method": "GET", "path": "/orders/{order_id}"}
    assert metric(text, "pixlpark_api_request_duration_seconds_count", **order_path) >= 2
    assert metric(text, "pixlpark_api_responses_total", status="200", **order_path) >= 1
    assert metric(text, "pixlpark_api_errors_total", error="http_500", **order_path) >= 1
    assert metric(text, "pixlpark_api_responses_total", path="/oauth/accesstoken") == 1

    # nothing secret in the scrape: tokens, keys, the webhook secret and path, ids in URLs
    address = webhook_address(h.app.settings)
    for secret in (
        BOT_TOKEN,
        BOT_TOKEN.split(":")[1],
        SECRET_KEY,
        "priv-1",
        "pub-1",
        address.secret_token,
        address.path,
        shop.webhook_token,
        *h.pp.issued_tokens(),
        "oauth_token",
        ORDER,
    ):
        assert secret not in text, secret


async def test_poller_runs_are_counted(tmp_path: Path) -> None:
    h = await start_harness(tmp_path, poll_interval=0.2)
    try:
        await setup_shop(h)
        for _ in range(100):
            if h.app.metrics.value("poller_runs_total", outcome="ok") >= 1:
                break
            await asyncio.sleep(0.05)
        text = await _scrape(h)
        assert metric(text, "poller_runs_total", outcome="ok") >= 1
        assert metric(text, "pixlpark_api_request_duration_seconds_count", path="/orders") >= 1
    finally:
        await stop_harness(h)
