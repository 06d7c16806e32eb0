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
from aiohttp.web import Application, AppRunner, TCPSite

from bot.config import BotMode, Settings
from bot.logs import Redactor
from bot.metrics import Metrics
from bot.pipeline.poller import Poller
from bot.pipeline.processor import Processor
from bot.pipeline.sender import Sender
from bot.pipeline.signals import Signals
from bot.telegram import make_bot
from bot.web import make_web_app
from handlers.cache import OrderCache
from handlers.clients import ShopClients
from handlers.commands import set_bot_commands
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
    web: Application
    cache: OrderCache
    signals: Signals = field(default_factory=Signals)
    metrics: Metrics = field(default_factory=Metrics)
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    runner: AppRunner | None = None
    polling: asyncio.Task[None] | None = None
    http_port: int = 0
    sender: Sender | None = None


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
    signals, metrics = Signals(), Metrics()
    web_app = make_web_app(settings=settings, storage=storage, signals=signals, metrics=metrics)
    app = App(
        settings, redactor, storage, http, clients, i18n, bot, dp, web_app, cache, signals, metrics
    )
    app.sender = Sender(storage=storage, bot=bot, i18n=i18n, settings=settings, signals=app.signals)
    dp["delivery"] = app.sender.status
    return app


async def start_app(app: App, *, polling_timeout: int = 10) -> None:
    """Start serving: the HTTP server, background workers, and Telegram updates."""
    settings = app.settings
    app.runner = AppRunner(app.web, handle_signals=False, access_log=None)
    await app.runner.setup()
    site = TCPSite(app.runner, settings.http_host, settings.http_port)
    await site.start()
    server = site._server
    sockets = getattr(server, "sockets", None) or []
    app.http_port = sockets[0].getsockname()[1] if sockets else settings.http_port
    log.info("http server listening", extra={"port": app.http_port})
    app.tasks.append(asyncio.create_task(Processor(app).run(), name="inbox-processor"))
    if settings.poll_interval > 0:
        app.tasks.append(asyncio.create_task(Poller(app).run(), name="poller"))
    await set_bot_commands(app.bot, settings.default_language)
    if app.sender is not None:
        app.tasks.append(asyncio.create_task(app.sender.run(), name="outbox-sender"))
    if settings.bot_mode is BotMode.POLLING:
        await app.bot.delete_webhook(drop_pending_updates=False)
        app.polling = asyncio.create_task(
            app.dp.start_polling(
                app.bot,
                polling_timeout=polling_timeout,
                handle_signals=False,
                close_bot_session=False,
                allowed_updates=app.dp.resolve_used_update_types(),
            )
        )


async def stop_app(app: App) -> None:
    """Stop in order: updates, HTTP, workers; then close sessions and the database."""
    log.info("shutting down")
    if app.polling is not None:
        with contextlib.suppress(RuntimeError):
            await app.dp.stop_polling()
        with contextlib.suppress(asyncio.CancelledError):
            await app.polling
        app.polling = None
    if app.runner is not None:
        await app.runner.cleanup()
        app.runner = None
    if app.sender is not None:
        await app.sender.drain(timeout=5.0)
    for task in app.tasks:
        task.cancel()
    await asyncio.gather(*app.tasks, return_exceptions=True)
    app.tasks.clear()
    await app.bot.session.close()
    await app.http.aclose()
    await app.storage.close()
    log.info("stopped")


async def run_app(app: App) -> None:
    """Serve until SIGTERM or SIGINT, then shut down in order."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await start_app(app)
    try:
        await stop.wait()
    finally:
        await stop_app(app)
