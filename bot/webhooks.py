"""Receiving Pixlpark webhooks: validate, store in the inbox, answer in milliseconds.

``POST /pixlpark/{token}/{event}`` (``/pixlpark/{token}`` alone means order-changed).
The handler only reads the body, checks it and commits it to the inbox; it calls
neither Telegram nor Pixlpark. The processor picks the event up from there.

Answers: 200 once the event is committed (a repeat is 200 and stored once); 404 for an
unknown token or event (same body, nothing revealed); 405 for other methods; 408 when the
body is not received in time; 413 over the size limit; 400 when the body is not a JSON
object with an order id. Every refusal is logged with its reason and counted.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from typing import Any

from aiohttp import web

from bot.config import Settings
from bot.metrics import Metrics
from bot.pipeline.signals import Signals
from handlers.config import WEBHOOK_EVENTS
from storage import Storage
from storage.repos.inbox import InboxWriter, NewEvent

log = logging.getLogger("bot.webhooks")

DEFAULT_EVENT = "order-changed"
"""The event of a bare ``/pixlpark/{token}`` URL."""

READ_CHUNK = 64 * 1024


class Refusal(Exception):
    """A webhook request is refused with ``status`` for ``reason``."""

    def __init__(self, status: int, reason: str, text: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.text = text


def canonical_json(value: Any) -> str:
    """The JSON text two equal bodies share, whatever their key order or spacing."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def dedupe_key(shop_id: int, event: str, body: Any, *, text: str | None = None) -> str:
    """The inbox de-duplication key of a webhook: same shop, event and body → same key.

    ``text``: the body's :func:`canonical_json`, when the caller has it already.
    """
    text = canonical_json(body) if text is None else text
    digest = hashlib.sha256(f"{shop_id}\n{event}\n{text}".encode()).hexdigest()
    return f"wh:{digest}"


def order_id_of(body: dict[str, Any], event: str) -> str | None:
    """The order id a webhook body is about (digits), or None.

    Order DTOs carry it in ``Id`` (int in webhooks, str in the API). A comment DTO,
    should the comment event send one, has its own ``Id`` and the order's in ``OrderId``.
    """
    keys = ("OrderId", "Id") if event == "order-comment" else ("Id",)
    for key in keys:
        value = body.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and value > 0:
            return str(value)
        if isinstance(value, str) and value.strip().isdigit():
            return str(int(value.strip()))
    return None


def _short(token: str) -> str:
    return token[:4] + "…" if token else ""


async def read_body(request: web.Request, *, max_size: int, timeout: float) -> bytes:
    """Read the request body in chunks: 413 past ``max_size``, 408 after ``timeout`` s."""
    if request.content_length is not None and request.content_length > max_size:
        raise Refusal(413, "too_large", "body too large")
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(timeout):
            while True:
                chunk = await request.content.read(READ_CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_size:
                    raise Refusal(413, "too_large", "body too large")
                chunks.append(chunk)
    except TimeoutError:
        raise Refusal(408, "body_timeout", "body not received in time") from None
    return b"".join(chunks)


def parse_body(raw: bytes) -> dict[str, Any]:
    """The JSON object of a body, whatever the content type; 400 otherwise."""
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise Refusal(400, "invalid_json", "body is not JSON") from None
    if not isinstance(body, dict):
        raise Refusal(400, "not_object", "body is not a JSON object") from None
    return body


class WebhookReceiver:
    """The aiohttp handlers of the Pixlpark webhooks."""

    def __init__(
        self, *, settings: Settings, storage: Storage, signals: Signals, metrics: Metrics
    ) -> None:
        self.settings = settings
        self.storage = storage
        self.signals = signals
        self.metrics = metrics
        # Concurrent requests share one transaction; each is answered after its commit.
        self.writer = InboxWriter(storage.inbox, touch_shops=True)

    def register(self, app: web.Application) -> None:
        """Add the webhook routes to ``app``."""
        app.router.add_route("*", "/pixlpark/{token}", self.handle)
        app.router.add_route("*", "/pixlpark/{token}/{event}", self.handle)

    async def handle(self, request: web.Request) -> web.Response:
        """One webhook request."""
        token = request.match_info.get("token", "")
        event = request.match_info.get("event", DEFAULT_EVENT)
        try:
            return await self._accept(request, token, event)
        except Refusal as refusal:
            self.metrics.refusal(refusal.reason)
            log.warning(
                "webhook refused: %s",
                refusal.reason,
                extra={
                    "status": refusal.status,
                    "reason": refusal.reason,
                    "token": _short(token),
                    "event": event[:40],
                    "peer": request.remote,
                },
            )
            headers = {"Allow": "POST"} if refusal.status == 405 else None
            return web.json_response(
                {"ok": False, "error": refusal.text}, status=refusal.status, headers=headers
            )

    async def _accept(self, request: web.Request, token: str, event: str) -> web.Response:
        if request.method != "POST":
            raise Refusal(405, "method", "method not allowed")
        if event not in WEBHOOK_EVENTS:
            raise Refusal(404, "unknown_event", "not found")
        try:
            shop_id = await self.storage.shops.id_by_webhook_token(token)
        except Exception:
            log.exception("webhook: database error while looking up the token")
            raise Refusal(503, "database", "temporarily unavailable") from None
        if shop_id is None:
            raise Refusal(404, "unknown_token", "not found")
        raw = await read_body(
            request,
            max_size=self.settings.webhook_max_body,
            timeout=self.settings.webhook_body_timeout,
        )
        body = parse_body(raw)
        order_id = order_id_of(body, event)
        if order_id is None:
            raise Refusal(400, "no_order_id", "no order id in the body")
        text = canonical_json(body)
        key = dedupe_key(shop_id, event, body, text=text)
        try:
            stored, created = await self.writer.add(NewEvent(shop_id, event, order_id, text, key))
        except Exception:
            log.exception("webhook: could not store the event")
            raise Refusal(503, "database", "temporarily unavailable") from None
        if created:
            self.metrics.webhook_accepted.labels(event=event).inc()
            self.signals.inbox.set()
            log.info(
                "webhook accepted",
                extra={"shop": shop_id, "event": event, "order": order_id, "inbox": stored.id},
            )
        else:
            self.metrics.webhook_duplicates.inc()
            log.info(
                "webhook repeated, already stored",
                extra={"shop": shop_id, "event": event, "order": order_id, "inbox": stored.id},
            )
        return web.json_response({"ok": True})


async def health_payload(storage: Storage) -> tuple[dict[str, Any], int]:
    """What GET /healthz answers: 200 when the database answers, 503 otherwise."""
    if not await storage.ping():
        return {"database": False}, 503
    try:
        backlog = await storage.outbox.backlog()
        pending = await storage.inbox.pending_count()
        last_event = await storage.inbox.last_received_at()
        polls = [shop.last_poll_at for shop in await storage.shops.list_all() if shop.last_poll_at]
    except Exception:
        log.exception("healthz: database error")
        return {"database": False}, 503
    return {
        "database": True,
        "outbox_backlog": backlog,
        "inbox_pending": pending,
        "last_event_at": last_event.isoformat() if last_event else None,
        "last_poll_at": max(polls).isoformat() if polls else None,
    }, 200
