"""The aiohttp application: Pixlpark webhooks, health and metrics (and, in webhook mode,
Telegram updates, added by ``build_app``)."""

from __future__ import annotations

import logging
import re
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from bot.config import Settings
from bot.logs import request_id
from bot.metrics import Metrics
from bot.pipeline.signals import Signals
from bot.webhooks import WebhookReceiver, health_payload
from storage import Storage

log = logging.getLogger("bot.web")

REQUEST_ID_HEADER = "X-Request-Id"
_REQUEST_ID_SHAPE = re.compile(r"[A-Za-z0-9._:-]{1,64}")


@web.middleware
async def request_id_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Give every request an id (the caller's ``X-Request-Id`` if it looks sane).

    The id is in every log line written while the request is handled (and by tasks it
    starts) as ``request_id``, and is sent back in the ``X-Request-Id`` header.
    """
    incoming = request.headers.get(REQUEST_ID_HEADER, "")
    rid = incoming if _REQUEST_ID_SHAPE.fullmatch(incoming) else uuid.uuid4().hex[:16]
    reset = request_id.set(rid)
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        exc.headers[REQUEST_ID_HEADER] = rid
        raise
    finally:
        request_id.reset(reset)
    if not response.prepared:
        response.headers[REQUEST_ID_HEADER] = rid
    return response


def make_web_app(
    *,
    settings: Settings,
    storage: Storage,
    signals: Signals | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    """Build the HTTP application served beside the bot."""
    app = web.Application(
        client_max_size=settings.webhook_max_body, middlewares=[request_id_middleware]
    )
    signals = signals if signals is not None else Signals()
    metrics = metrics if metrics is not None else Metrics()

    async def healthz(request: web.Request) -> web.Response:
        payload, status = await health_payload(storage)
        return web.json_response(payload, status=status)

    async def metrics_endpoint(request: web.Request) -> web.Response:
        try:
            metrics.outbox_backlog.set(await storage.outbox.backlog())
            metrics.inbox_pending.set(await storage.inbox.pending_count())
        except Exception as exc:  # still serve the counters when the database hiccups
            log.warning("metrics: cannot read the backlog", extra={"error": type(exc).__name__})
        return web.Response(body=metrics.render(), content_type="text/plain", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    WebhookReceiver(settings=settings, storage=storage, signals=signals, metrics=metrics).register(
        app
    )
    return app
