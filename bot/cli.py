"""Command-line front of the bot: `run` (default), `migrate`, `check`."""

from __future__ import annotations

import argparse
import asyncio
import logging

from bot.config import ConfigError, Settings, load_settings
from bot.logs import Redactor, setup_logging

log = logging.getLogger("bot")


def main(argv: list[str]) -> int:
    """Parse the command line and run the chosen command; returns the exit code."""
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
    commands = {"run": _run, "migrate": _migrate, "check": _check}
    try:
        return asyncio.run(commands[args.command](settings, redactor))
    except StartupError as exc:
        print(f"error: {exc}")
        return 1


class StartupError(Exception):
    """A problem that stops start-up; its message is one clear line."""


async def _run(settings: Settings, redactor: Redactor) -> int:
    from bot.app import build_app, run_app

    app = await build_app(settings, redactor)
    await run_app(app)
    return 0


async def _migrate(settings: Settings, redactor: Redactor) -> int:
    from storage import open_storage

    secret = settings.secret_key.get_secret_value() if settings.secret_key else None
    storage = await open_storage(settings.database_url, secret)
    version = await storage.migrate()
    await storage.close()
    print(f"database is at schema version {version}")
    return 0


async def _check(settings: Settings, redactor: Redactor) -> int:
    print("configuration: ok")
    return 0
