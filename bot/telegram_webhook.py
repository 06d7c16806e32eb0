"""Telegram webhook mode: updates arrive at ``{PUBLIC_URL}/telegram/{path}``.

The path and the secret token are derived with HMAC-SHA256 from BOT_TOKEN (and
SECRET_KEY when set), so a restart keeps the same URL; TELEGRAM_WEBHOOK_SECRET, when
set, replaces the derived secret token. Telegram sends the secret token in the
``X-Telegram-Bot-Api-Secret-Token`` header of every request; aiogram's
``SimpleRequestHandler`` answers 401 when it is wrong or missing. Neither value is ever
logged in full.

Updates are handled in the background (Telegram gets ``{}`` at once); :meth:`drain`
waits, bounded, for the ones still running at shutdown, before the sessions close.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
from dataclasses import dataclass
from typing import Any

from aiogram import Bot, Dispatcher
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from bot.config import Settings
from bot.metrics import Metrics

log = logging.getLogger("bot.telegram_webhook")

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
PATH_PREFIX = "/telegram/"


@dataclass(frozen=True)
class WebhookAddress:
    """Where Telegram posts updates, and the secret it sends with them."""

    path: str
    """The route, ``/telegram/<random>``."""
    url: str
    """``PUBLIC_URL`` + :attr:`path`."""
    secret_token: str

    @property
    def shown_url(self) -> str:
        """The URL with the random part shortened, for logs."""
        random_part = self.path.removeprefix(PATH_PREFIX)
        return self.url.removesuffix(random_part) + random_part[:4] + "…"


def _derive(settings: Settings, purpose: str) -> bytes:
    key = settings.bot_token.get_secret_value().encode()
    material = settings.secret_key.get_secret_value() if settings.secret_key else ""
    return hmac.new(
        key, f"telegram-webhook/{purpose}\0{material}".encode(), hashlib.sha256
    ).digest()


def webhook_address(settings: Settings) -> WebhookAddress:
    """The deterministic webhook path, URL and secret token of these settings."""
    path = PATH_PREFIX + _derive(settings, "path").hex()[:32]
    if settings.telegram_webhook_secret is not None:
        secret = settings.telegram_webhook_secret.get_secret_value()
    else:
        secret = base64.urlsafe_b64encode(_derive(settings, "secret")).decode().rstrip("=")
    return WebhookAddress(path=path, url=settings.public_url + path, secret_token=secret)


def _update_type(update: Any) -> str:
    if isinstance(update, dict):
        for key in update:
            if key != "update_id":
                return str(key)[:40]
    return "unknown"


class TelegramWebhook(SimpleRequestHandler):
    """aiogram's handler, plus counting, logging and a bounded drain at shutdown.

    The route is added by :meth:`add_route` (not ``register``): ``register`` would close
    the bot session when the HTTP server stops, while the outbox sender still needs it.
    """

    def __init__(
        self, dispatcher: Dispatcher, bot: Bot, *, secret_token: str, metrics: Metrics
    ) -> None:
        super().__init__(
            dispatcher=dispatcher,
            bot=bot,
            handle_in_background=True,
            secret_token=secret_token,
        )
        # Handler data (db, clients, config, cache, delivery) is the dispatcher's
        # workflow data, which `feed_update` merges in, exactly as in polling mode.
        self.metrics = metrics

    def add_route(self, app: web.Application, path: str) -> None:
        """Serve POST ``path`` on ``app``."""
        app.router.add_route("POST", path, self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        """One webhook request: 401 on a wrong or missing secret token (aiogram's check)."""
        header = request.headers.get(SECRET_HEADER)
        try:
            response = await super().handle(request)
        except ValueError:  # the body is not JSON
            self._refused("invalid_json", request, 400)
            return web.json_response({"ok": False, "error": "body is not JSON"}, status=400)
        if response.status == 401:
            self._refused("no_secret" if not header else "wrong_secret", request, 401)
        return response

    def _refused(self, reason: str, request: web.Request, status: int) -> None:
        self.metrics.telegram_refused.labels(reason=reason).inc()
        log.warning(
            "telegram webhook refused: %s",
            reason,
            extra={"status": status, "reason": reason, "peer": request.remote},
        )

    async def _background_feed_update(self, bot: Bot, update: dict[str, Any]) -> None:
        kind = _update_type(update)
        self.metrics.telegram_updates.labels(type=kind).inc()
        log.info(
            "telegram update received",
            extra={"update_id": update.get("update_id"), "type": kind},
        )
        try:
            await super()._background_feed_update(bot, update)
        except Exception:
            log.exception(
                "telegram update failed",
                extra={"update_id": update.get("update_id"), "type": kind},
            )

    @property
    def in_flight(self) -> int:
        """Updates still being handled."""
        return len(self._background_feed_update_tasks)

    async def drain(self, timeout: float) -> None:
        """Wait up to ``timeout`` s for updates still being handled; cancel the rest."""
        await wait_tasks(set(self._background_feed_update_tasks), timeout, "telegram updates")

    async def close(self) -> None:
        """Nothing: the app closes the bot session itself, after the sender drained."""


async def wait_tasks(tasks: set[asyncio.Task[Any]], timeout: float, what: str) -> None:
    """Wait for ``tasks`` up to ``timeout`` s, then cancel what is left."""
    if not tasks:
        return
    _done, pending = await asyncio.wait(tasks, timeout=max(0.0, timeout))
    for task in pending:
        task.cancel()
    if pending:
        log.warning("%s cut off at shutdown", what, extra={"cancelled": len(pending)})
        await asyncio.gather(*pending, return_exceptions=True)
