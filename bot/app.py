"""Wiring: builds every component from the settings and runs them until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from dataclasses import dataclass, field

import httpx
from aiogram import Bot, Dispatcher
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.utils.i18n import I18n
from aiohttp import web

from bot.config import BotMode, Settings
from bot.logs import Redactor
from bot.telegram import make_bot
from bot.web import make_web_app
from handlers.cache import OrderCache
from handlers.clients import ShopClients
from handlers.config import HandlerConfig
from handlers.i18n import make_i18n
from handlers.setup import setup_handlers
from storage import Storage, open_storage

log = logging.getLogger(__name__)


@dataclass
class App:
    """Every long-lived component of a running bot."""

    settings: Settings
    redactor: Redactor
    storage: Storage
    http: httpx.AsyncClient
    clients: ShopClients
    i18n: I18n
    bot: Bot
    dp: Dispatcher
    web: web.Application
    cache: OrderCache
    tasks: list[asyncio.Task[None]] = field(default_factory=list)


async def build_app(settings: Settings, redactor: Redactor) -> App:
    """Open the database and create the bot, the dispatcher and the web application."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    storage = await open_storage(settings.database_url, secret)
    http = httpx.AsyncClient(
        timeout=settings.pixlpark_timeout,
        limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
    )
    clients = ShopClients(
        settings.pixlpark_api_url,
        timeout=settings.pixlpark_timeout,
        http=http,
        on_secret=redactor.add,
    )
    i18n = make_i18n(settings.default_language)
    bot = make_bot(settings)
    config = HandlerConfig(
        public_url=settings.public_url,
        default_language=settings.default_language,
        default_timezone=settings.default_timezone,
    )
    cache = OrderCache()
    dp = Dispatcher(
        storage=MemoryStorage(), db=storage, clients=clients, config=config, cache=cache
    )
    setup_handlers(dp, i18n)
    web_app = make_web_app(settings=settings, storage=storage)
    return App(settings, redactor, storage, http, clients, i18n, bot, dp, web_app, cache)


async def run_app(app: App) -> None:
    """Serve HTTP and Telegram updates until SIGTERM or SIGINT, then shut down in order."""
    settings = app.settings
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    runner = web.AppRunner(app.web, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_host, settings.http_port)
    await site.start()
    log.info("http server listening", extra={"port": settings.http_port})

    polling: asyncio.Task[None] | None = None
    if settings.bot_mode is BotMode.POLLING:
        await app.bot.delete_webhook(drop_pending_updates=False)
        polling = asyncio.create_task(
            app.dp.start_polling(
                app.bot,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=app.dp.resolve_used_update_types(),
            )
        )
    try:
        await stop.wait()
    finally:
        log.info("shutting down")
        if polling is not None:
            with contextlib.suppress(RuntimeError):
                await app.dp.stop_polling()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
        await runner.cleanup()
        for task in app.tasks:
            task.cancel()
        await asyncio.gather(*app.tasks, return_exceptions=True)
        await app.bot.session.close()
        await app.http.aclose()
        await app.storage.close()
        log.info("stopped")
