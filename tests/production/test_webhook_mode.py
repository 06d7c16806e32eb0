"""BOT_MODE=webhook: setWebhook at start, updates through the shared HTTP server with the
secret token checked on every request, handler data as in polling, request ids."""

from __future__ import annotations

import json
import re
import time

import aiohttp
import pytest

from bot.config import ConfigError, load_settings
from bot.telegram_webhook import SECRET_HEADER, webhook_address
from tests.harness import BOT_TOKEN, Harness
from tests.lookups.helpers import ORDER, ask, body, setup_shop
from tests.production.conftest import Records, metric


def _settings(**overrides: object) -> object:
    values: dict[str, object] = {
        "bot_token": BOT_TOKEN,
        "secret_key": "one-secret-key",
        "public_url": "https://bot.example.test/",
        "_env_file": None,
    }
    values.update(overrides)
    return load_settings(**values)


def test_address_is_deterministic_and_secret() -> None:
    first = webhook_address(_settings())  # type: ignore[arg-type]
    again = webhook_address(_settings())  # type: ignore[arg-type]
    assert first == again  # a restart keeps the URL Telegram knows
    assert re.fullmatch(r"/telegram/[0-9a-f]{32}", first.path)
    assert first.url == "https://bot.example.test" + first.path
    assert re.fullmatch(r"[A-Za-z0-9_-]{40,256}", first.secret_token)
    assert first.secret_token not in first.url and BOT_TOKEN not in first.url
    other_key = webhook_address(_settings(secret_key="another-secret-key"))  # type: ignore[arg-type]
    other_token = webhook_address(_settings(bot_token="654321:OTHER-token"))  # type: ignore[arg-type]
    assert len({first.path, other_key.path, other_token.path}) == 3
    assert len({first.secret_token, other_key.secret_token, other_token.secret_token}) == 3
    # the random part is never shown in full
    random_part = first.path.rsplit("/", 1)[1]
    assert random_part not in first.shown_url and first.shown_url.endswith("…")


def test_explicit_secret_token_and_its_shape() -> None:
    chosen = webhook_address(_settings(telegram_webhook_secret="my_Secret-123"))  # type: ignore[arg-type]
    derived = webhook_address(_settings())  # type: ignore[arg-type]
    assert chosen.secret_token == "my_Secret-123"
    assert chosen.path == derived.path
    for bad in ("with space", "x" * 257, "semi;colon"):
        with pytest.raises(ConfigError, match="TELEGRAM_WEBHOOK_SECRET"):
            _settings(telegram_webhook_secret=bad)


async def test_set_webhook_at_start_and_updates_reach_handlers(
    webhook_harness: Harness,
) -> None:
    h = webhook_harness
    address = webhook_address(h.app.settings)
    (call,) = h.tg.calls_of("setWebhook")
    assert call.params["url"] == f"{h.http_url}{address.path}"
    assert call.params["secret_token"] == address.secret_token
    assert sorted(call.params["allowed_updates"]) == sorted(h.app.dp.resolve_used_update_types())
    assert h.tg.webhook_url == call.params["url"]
    assert not h.tg.calls_of("getUpdates") and not h.tg.calls_of("deleteWebhook")

    # /order needs the database, the Pixlpark clients, the config and the cache
    owner, _shop, _fake = await setup_shop(h)
    message = await ask(h, owner, owner.id, f"/order {ORDER}")
    assert f"Order {ORDER} · Demo Print" in body(message)
    await h.tg.webhook_idle()
    assert h.tg.webhook_deliveries and all(d.status == 200 for d in h.tg.webhook_deliveries)
    assert not h.tg.calls_of("getUpdates")


def _update(update_id: int, user_id: int, text: str) -> dict:
    return {
        "update_id": update_id,
        "message": {
            "message_id": 1,
            "date": int(time.time()),
            "chat": {"id": user_id, "type": "private", "first_name": "Eve"},
            "from": {"id": user_id, "is_bot": False, "first_name": "Eve"},
            "text": text,
            "entities": [{"type": "bot_command", "offset": 0, "length": len(text)}],
        },
    }


async def test_wrong_or_missing_secret_token_is_401(webhook_harness: Harness) -> None:
    h = webhook_harness
    address = webhook_address(h.app.settings)
    url = h.http_url + address.path
    eve = h.tg.user(4242, "Eve")
    cases = [
        ({}, 401),
        ({SECRET_HEADER: ""}, 401),
        ({SECRET_HEADER: "wrong-secret"}, 401),
        ({SECRET_HEADER: address.secret_token[:-1]}, 401),
        ({SECRET_HEADER: address.secret_token}, 200),
    ]
    async with aiohttp.ClientSession() as session:
        for number, (headers, status) in enumerate(cases, start=900):
            update = _update(number, eve.id, "/help")
            async with session.post(url, json=update, headers=headers) as response:
                assert response.status == status, headers
                assert response.headers.get("X-Request-Id")
        async with session.get(url) as response:
            assert response.status == 405
        async with session.post(
            url, data=b"{not json", headers={SECRET_HEADER: address.secret_token}
        ) as response:
            assert response.status == 400
    # only the update with the right secret was handled: one answer to /help
    await h.tg.next_bot_message(eve.id)
    await h.tg.webhook_idle()
    assert len(h.tg.sent_messages(eve.id)) == 1
    text = h.app.metrics.render().decode()
    assert metric(text, "telegram_webhook_refused_total", reason="no_secret") == 2
    assert metric(text, "telegram_webhook_refused_total", reason="wrong_secret") == 2
    assert metric(text, "telegram_webhook_refused_total", reason="invalid_json") == 1
    assert metric(text, "telegram_webhook_updates_total", type="message") == 1


async def test_request_ids_in_webhook_logs(webhook_harness: Harness, bot_records: Records) -> None:
    h = webhook_harness
    owner, shop, fake = await setup_shop(h)
    order = fake.add_order()
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{h.http_url}/pixlpark/{shop.webhook_token}/order-created",
            json=fake.webhook_body(order["Id"]),
            headers={"X-Request-Id": "pp-req-42"},
        ) as response,
    ):
        assert response.status == 200
        assert response.headers["X-Request-Id"] == "pp-req-42"
    (accepted,) = bot_records.find("webhook accepted")
    assert accepted.request_id == "pp-req-42"  # type: ignore[attr-defined]

    # a Telegram update: an id is made up, and the background handling carries it too
    await ask(h, owner, owner.id, "/help")
    (received,) = bot_records.find("telegram update received")
    rid = received.request_id  # type: ignore[attr-defined]
    assert re.fullmatch(r"[0-9a-f]{16}", rid)
    # an id that does not look like one is replaced, not echoed
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{h.http_url}/healthz", headers={"X-Request-Id": "bad id\u2028"}) as resp,
    ):
        assert re.fullmatch(r"[0-9a-f]{16}", resp.headers["X-Request-Id"])
    # outside a request there is no request id
    assert not any(
        hasattr(r, "request_id") for r in bot_records.records if r.name == "bot.pipeline.sender"
    )


def test_json_log_line_formatter() -> None:
    import logging

    from bot.logs import LineFormatter, Redactor, RequestIdFilter, request_id

    redactor = Redactor()
    redactor.add(BOT_TOKEN)
    formatter = LineFormatter(redactor, "json")
    record = logging.LogRecord("bot.x", logging.INFO, __file__, 1, 'say "%s"\n', ("hi",), None)
    record.token = BOT_TOKEN
    token = request_id.set("rid-1")
    try:
        RequestIdFilter().filter(record)
    finally:
        request_id.reset(token)
    line = formatter.format(record)
    assert "\n" not in line
    parsed = json.loads(line)
    assert parsed["msg"] == 'say "hi"\n' and parsed["request_id"] == "rid-1"
    assert parsed["token"] == "<redacted>"
