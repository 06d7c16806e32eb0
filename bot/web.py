"""The aiohttp application: Pixlpark webhooks and the health endpoint."""

from __future__ import annotations

from aiohttp import web

from bot.config import Settings
from bot.metrics import Metrics
from bot.pipeline.signals import Signals
from bot.webhooks import WebhookReceiver, health_payload
from storage import Storage


def make_web_app(
    *,
    settings: Settings,
    storage: Storage,
    signals: Signals | None = None,
    metrics: Metrics | None = None,
) -> web.Application:
    """Build the HTTP application served beside the bot."""
    app = web.Application(client_max_size=settings.webhook_max_body)
    signals = signals if signals is not None else Signals()
    metrics = metrics if metrics is not None else Metrics()

    async def healthz(request: web.Request) -> web.Response:
        payload, status = await health_payload(storage)
        return web.json_response(payload, status=status)

    async def metrics_endpoint(request: web.Request) -> web.Response:
        return web.Response(body=metrics.render(), content_type="text/plain", charset="utf-8")

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", metrics_endpoint)
    WebhookReceiver(settings=settings, storage=storage, signals=signals, metrics=metrics).register(
        app
    )
    return app
