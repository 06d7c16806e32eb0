"""The aiohttp application: Pixlpark webhooks and the health endpoint."""

from __future__ import annotations

from aiohttp import web

from bot.config import Settings
from storage import Storage


def make_web_app(*, settings: Settings, storage: Storage) -> web.Application:
    """Build the HTTP application served beside the bot."""
    app = web.Application(client_max_size=settings.webhook_max_body)

    async def healthz(request: web.Request) -> web.Response:
        ok = await storage.ping()
        return web.json_response({"database": ok}, status=200 if ok else 503)

    app.router.add_get("/healthz", healthz)
    return app
