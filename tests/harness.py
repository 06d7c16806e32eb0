"""An in-process bot wired exactly as in production, against the two fakes.

The real `build_app` builds the bot, the dispatcher, the storage and the web server;
only the URLs point at loopback fakes. Tests drive it as users would, through
`FakeTelegram`'s user-side helpers, and inspect the fakes and the database.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app, start_app, stop_app
from bot.config import BotMode, load_settings
from bot.logs import Redactor
from storage import Shop, Storage
from tests.fakes.pixlpark import FakePixlpark, FakeShop
from tests.fakes.telegram import FakeTelegram
from tests.seeding import seed_linked_shop

BOT_TOKEN = "123456:TEST-token"
SECRET_KEY = "test-secret-key-for-the-harness"


@dataclass
class Harness:
    """The bot under test and the fakes around it."""

    tg: FakeTelegram
    pp: FakePixlpark
    app: App
    tmp: Path

    @property
    def storage(self) -> Storage:
        """The bot's own storage (same connection the handlers use)."""
        return self.app.storage

    @property
    def http_url(self) -> str:
        """Base URL of the bot's HTTP server (Pixlpark webhooks, /healthz)."""
        return f"http://127.0.0.1:{self.app.http_port}"

    def pixlpark_shop(
        self, public_key: str = "pub-1", private_key: str = "priv-1", **kwargs: Any
    ) -> FakeShop:
        """A shop on the fake Pixlpark with a few orders."""
        shop = self.pp.add_shop(public_key, private_key, **kwargs)
        shop.load_sample_orders()
        return shop

    async def seed_shop(
        self,
        owner_id: int,
        public_key: str = "pub-1",
        private_key: str = "priv-1",
        *,
        title: str = "Demo Print",
        site_id: int | None = 1164,
    ) -> Shop:
        """A linked shop straight in the database: owner role, owner's private chat linked."""
        return await seed_linked_shop(
            self.storage, owner_id, public_key, private_key, title=title, site_id=site_id
        )


async def start_harness(tmp: Path, **overrides: Any) -> Harness:
    """Start both fakes and the bot; stop with `stop_harness`."""
    tg = FakeTelegram(bot_token=BOT_TOKEN)
    await tg.start()
    pp = FakePixlpark()
    await pp.start()
    values: dict[str, Any] = {
        "bot_token": BOT_TOKEN,
        "telegram_api_url": tg.base_url,
        "pixlpark_api_url": pp.url,
        "database_url": f"sqlite:///{tmp / 'bot.sqlite3'}",
        "secret_key": SECRET_KEY,
        "http_host": "127.0.0.1",
        "http_port": 0,
        "public_url": "https://bot.example.test",
        "poll_interval": 0,
        "pixlpark_timeout": 2.0,
        "_env_file": None,
    }
    values.update(overrides)
    settings = load_settings(**values)
    redactor = Redactor()
    redactor.add(BOT_TOKEN)
    app = await build_app(settings, redactor)
    await start_app(app, polling_timeout=1)
    if settings.bot_mode is BotMode.POLLING:  # webhook mode is set up once start_app returns
        await tg.wait_for("getMe")
    return Harness(tg, pp, app, tmp)


async def stop_harness(harness: Harness) -> None:
    """Stop the bot, then the fakes."""
    await stop_app(harness.app)
    await harness.tg.stop()
    await harness.pp.stop()


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """A running bot against fresh fakes and a fresh database."""
    h = await start_harness(tmp_path)
    try:
        yield h
    finally:
        await stop_harness(h)
