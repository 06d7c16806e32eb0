"""Wiring: builds every component from the settings and runs them until a signal."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta

import httpx
from aiogram import Bot, Dispatcher
from aiogram.exceptions import TelegramAPIError
from aiogram.fsm.storage.memory import MemoryStorage
from aiogram.utils.i18n import I18n
from aiohttp.web import Application, AppRunner, TCPSite

from bot.config import BotMode, Settings
from bot.instrument import TelegramMetricsMiddleware, instrumented_http_client
from bot.logs import Redactor
from bot.metrics import Metrics
from bot.pipeline.housekeeping import Housekeeper
from bot.pipeline.poller import Poller
from bot.pipeline.processor import Processor
from bot.pipeline.sender import Sender
from bot.pipeline.signals import Signals
from bot.telegram import make_bot
from bot.telegram_webhook import TelegramWebhook, WebhookAddress, wait_tasks, webhook_address
from bot.web import make_web_app
from handlers.cache import OrderCache
from handlers.clients import ShopClients
from handlers.commands import set_bot_commands
from handlers.config import HandlerConfig
from handlers.i18n import make_i18n
from handlers.setup import setup_handlers
from storage import Storage, open_storage

log = logging.getLogger(__name__)

CLOSE_RESERVE = 1.5
"""Seconds of the shutdown budget kept for closing sessions and the database."""


class WebhookSetupError(Exception):
    """Telegram refused setWebhook; the message is one clear line."""


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
    telegram_webhook: TelegramWebhook | None = None
    webhook: WebhookAddress | None = None


async def build_app(settings: Settings, redactor: Redactor) -> App:
    """Open the database and create the bot, the dispatcher and the web application."""
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    storage = await open_storage(settings.database_url, secret)
    signals, metrics = Signals(), Metrics()
    http = instrumented_http_client(
        metrics,
        settings.pixlpark_api_url,
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
    bot.session.middleware(TelegramMetricsMiddleware(metrics))
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
    web_app = make_web_app(settings=settings, storage=storage, signals=signals, metrics=metrics)
    app = App(
        settings, redactor, storage, http, clients, i18n, bot, dp, web_app, cache, signals, metrics
    )
    app.sender = Sender(storage=storage, bot=bot, i18n=i18n, settings=settings, signals=app.signals)
    dp["delivery"] = app.sender.status
    metrics.watch_deliveries(lambda: app.sender.status if app.sender else None)
    if settings.bot_mode is BotMode.WEBHOOK:
        address = webhook_address(settings)
        redactor.add(address.secret_token, address.path.rsplit("/", 1)[-1])
        app.webhook = address
        app.telegram_webhook = TelegramWebhook(
            dp, bot, secret_token=address.secret_token, metrics=metrics
        )
        app.telegram_webhook.add_route(web_app, address.path)
    return app


async def start_app(app: App, *, polling_timeout: int = 10) -> None:
    """Start serving: the HTTP server, background workers, and Telegram updates."""
    settings = app.settings
    app.runner = AppRunner(
        app.web,
        handle_signals=False,
        access_log=None,
        shutdown_timeout=max(0.5, settings.shutdown_timeout * 0.3),
    )
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
    housekeeper = Housekeeper(app.storage, retention=timedelta(days=settings.retention_days))
    app.tasks.append(asyncio.create_task(housekeeper.run(), name="housekeeping"))
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
    elif app.webhook is not None:
        allowed = app.dp.resolve_used_update_types()
        try:
            await app.bot.set_webhook(
                app.webhook.url,
                secret_token=app.webhook.secret_token,
                allowed_updates=allowed,
                drop_pending_updates=False,
            )
        except TelegramAPIError as exc:
            raise WebhookSetupError(
                f"Telegram refused the webhook {app.webhook.shown_url}: {exc.message}"
            ) from None
        log.info(
            "telegram webhook set",
            extra={"url": app.webhook.shown_url, "updates": ",".join(allowed)},
        )


async def stop_app(app: App, *, timeout: float | None = None) -> None:
    """Stop within ``timeout`` s (SHUTDOWN_TIMEOUT): no new updates or requests, then
    let running update handlers and the message the sender is sending finish, stop the
    workers, and close the sessions and the database. Safe after a partial start."""
    loop = asyncio.get_running_loop()
    budget = app.settings.shutdown_timeout if timeout is None else timeout
    deadline = loop.time() + budget

    def left(reserve: float = CLOSE_RESERVE) -> float:
        return max(0.0, deadline - loop.time() - reserve)

    log.info("shutting down", extra={"timeout": budget})
    await _step("stop updates", _stop_updates(app, left))
    if app.runner is not None:
        # stops listening, then waits (bounded by the runner) for requests in progress
        await _step("stop http", asyncio.wait_for(app.runner.cleanup(), left() or 0.1))
        app.runner = None
    drains = [wait_tasks(set(app.dp._handle_update_tasks), left(), "telegram updates")]
    if app.telegram_webhook is not None:
        drains.append(app.telegram_webhook.drain(left()))
    if app.sender is not None:
        drains.append(app.sender.drain(timeout=left()))
    await _step("drain", asyncio.gather(*drains))
    for task in app.tasks:
        task.cancel()
    if app.tasks:
        await asyncio.wait(app.tasks, timeout=left(CLOSE_RESERVE / 2) or 0.1)
    app.tasks.clear()
    for close in (app.bot.session.close, app.http.aclose, app.storage.close):
        try:
            await asyncio.wait_for(close(), max(0.3, deadline - loop.time()))
        except Exception as exc:
            log.warning("close failed", extra={"what": close.__qualname__, "error": repr(exc)})
    log.info("stopped")


async def _step(what: str, step: Awaitable[object]) -> None:
    """Run one shutdown step; a failure is logged and never skips the closing."""
    try:
        await step
    except TimeoutError:
        log.warning("shutdown step cut off at the time limit", extra={"step": what})
    except Exception as exc:
        log.error("shutdown step failed", extra={"step": what, "error": repr(exc)})


async def _stop_updates(app: App, left: Callable[..., float]) -> None:
    """Stop long polling (webhook updates stop with the HTTP server)."""
    polling = app.polling
    if polling is None:
        return
    try:
        await app.dp.stop_polling()
    except RuntimeError:  # not started yet
        polling.cancel()
    _done, pending = await asyncio.wait({polling}, timeout=left() or 0.1)
    for task in pending:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await polling
    app.polling = None


async def run_app(app: App, stop: asyncio.Event) -> None:
    """Serve until ``stop`` is set (see ``bot.stopping``), then shut down in order.

    Shuts down also after a failed start, and at once if ``stop`` is set during start-up.
    """
    try:
        await start_app(app)
        log.info("bot running", extra={"mode": app.settings.bot_mode.value})
        await stop.wait()
    finally:
        await stop_app(app)
