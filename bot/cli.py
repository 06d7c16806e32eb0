"""Command-line front of the bot: `run` (default), `migrate`, `check`."""

from __future__ import annotations

import argparse
import asyncio
import errno
import logging
from urllib.parse import urlparse

from aiogram.exceptions import TelegramAPIError, TelegramUnauthorizedError

from bot.config import BotMode, ConfigError, Settings, load_settings
from bot.logs import Redactor, setup_logging
from bot.stopping import Stopped, default_signals, unless_stopped, watch_signals
from storage import StorageError

log = logging.getLogger("bot")


class StartupError(Exception):
    """A problem that stops start-up; its message is one clear line."""


def main(argv: list[str]) -> int:
    """Parse the command line and run the chosen command; returns the exit code.

    ``run`` ends with code 0 on SIGTERM or SIGINT, also during start-up.
    """
    parser = argparse.ArgumentParser(prog="python -m bot")
    parser.add_argument("command", nargs="?", default="run", choices=["run", "migrate", "check"])
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"error: {exc}")
        return 2
    redactor = Redactor()
    redactor.add(settings.bot_token.get_secret_value())
    if settings.secret_key is not None:
        redactor.add(settings.secret_key.get_secret_value())
    setup_logging(settings.log_level, settings.log_format, redactor)
    try:
        if args.command == "run":
            return asyncio.run(_run(settings, redactor))
        command = _migrate if args.command == "migrate" else _check
        default_signals()  # a one-shot command: a signal simply ends it
        return asyncio.run(command(settings, redactor))
    except StartupError as exc:
        print(redactor(f"error: {exc}"))
        return 1
    except (Stopped, KeyboardInterrupt):
        return 0


async def _run(settings: Settings, redactor: Redactor) -> int:
    stop = watch_signals(asyncio.get_running_loop())
    from bot.app import WebhookSetupError, build_app, run_app

    try:
        app = await build_app(settings, redactor)  # local work only: not worth interrupting
    except StorageError as exc:
        raise StartupError(f"cannot open the database ({_db_place(settings)}): {exc}") from None
    except OSError as exc:
        raise StartupError(
            f"cannot open the database ({_db_place(settings)}): {exc.strerror or exc}"
        ) from None
    try:
        await unless_stopped(stop, _check_token(app.bot))
    except (StartupError, Stopped):
        await app.bot.session.close()
        await app.http.aclose()
        await app.storage.close()
        raise
    try:
        await run_app(app, stop)  # closes everything itself, also when the start fails
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupError(
                f"HTTP_PORT {settings.http_port} is already in use ({settings.http_host})"
            ) from None
        raise StartupError(f"cannot start the HTTP server: {exc.strerror or exc}") from None
    except WebhookSetupError as exc:
        raise StartupError(str(exc)) from None
    return 0


async def _check_token(bot: object) -> str:
    from aiogram import Bot

    assert isinstance(bot, Bot)
    try:
        me = await bot.get_me()
    except TelegramUnauthorizedError:
        raise StartupError("Telegram rejected BOT_TOKEN (401 Unauthorized)") from None
    except TelegramAPIError as exc:
        raise StartupError(f"Telegram is not answering: {type(exc).__name__}") from None
    return me.username or str(me.id)


async def _migrate(settings: Settings, redactor: Redactor) -> int:
    from storage import migrate_database

    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    try:
        version = await migrate_database(settings.database_url, secret)
    except StorageError as exc:
        raise StartupError(f"cannot migrate the database ({_db_place(settings)}): {exc}") from None
    print(f"database is at schema version {version}")
    return 0


async def _check(settings: Settings, redactor: Redactor) -> int:
    """Report, line by line, whether each dependency of the bot is usable."""
    from bot.telegram import make_bot
    from storage import open_storage

    failures = 0
    print("configuration: ok")
    bot = make_bot(settings)
    try:
        username = await _check_token(bot)
        print(f"telegram: ok (@{username})")
    except StartupError as exc:
        failures += 1
        print(redactor(f"telegram: FAILED: {exc}"))
    finally:
        await bot.session.close()
    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    try:
        storage = await open_storage(settings.database_url, secret, auto_migrate=False)
    except (StorageError, OSError) as exc:
        failures += 1
        print(redactor(f"database: FAILED: {exc}"))
    else:
        version = await storage.schema_version()
        await storage.close()
        print(f"database: ok (schema version {version})")
    url = urlparse(settings.public_url)
    if settings.bot_mode is BotMode.WEBHOOK and url.scheme != "https":
        failures += 1
        print("public url: FAILED: webhook mode needs an https PUBLIC_URL")
    elif url.hostname in (None, "localhost", "127.0.0.1"):
        print(f"public url: warning: {settings.public_url} is not reachable from Pixlpark")
    else:
        print(f"public url: ok ({settings.public_url})")
    if settings.bot_mode is BotMode.WEBHOOK:
        from bot.telegram_webhook import webhook_address

        print(f"telegram webhook: {webhook_address(settings).shown_url} (set at start-up)")
    return 1 if failures else 0


def _db_place(settings: Settings) -> str:
    return settings.database_url.split("?", 1)[0]
