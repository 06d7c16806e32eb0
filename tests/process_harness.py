"""The bot as a real subprocess (`python -m bot`) against the fakes, for e2e tests.

The fakes run in the test's event loop; the bot runs in its own process with settings
from the environment (DATABASE_URL in a temp dir, HTTP_PORT on a free port), so tests can
SIGKILL it and start it again on the same database::

    async with BotProcess.launch(tmp_path, poll_interval=0) as bot:
        shop = await bot.seed_shop(owner_id=1001)            # before start: plain test setup
        await bot.start()
        status, _ = await bot.pp.send_webhook(bot.webhook_url(shop, "order-created"), ...)
        bot.kill(); await bot.start()                         # same database, same port

Seeding goes straight through `storage` (same file, same SECRET_KEY) while the bot is
stopped; reading through :meth:`BotProcess.storage` works while it runs (SQLite WAL).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

import aiohttp

from storage import Shop, Storage, open_storage
from tests.fakes.pixlpark import FakePixlpark, FakeShop
from tests.fakes.telegram import FakeTelegram
from tests.seeding import seed_linked_shop

ROOT = Path(__file__).resolve().parent.parent
BOT_TOKEN = "123456:TEST-token"
SECRET_KEY = "test-secret-key-for-the-process-harness"
FAST_SENDER = {
    "telegram_chat_interval": 0,
    "telegram_group_per_minute": 10_000,
    "telegram_rate": 1000,
}
"""Sender settings for tests that are not about Telegram's limits."""


async def until(what: str, check: Callable[[], Any], timeout: float = 10.0) -> Any:
    """Wait until ``check()`` is truthy; returns its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(0.05)


def proc_status(pid: int, name: str) -> str | None:
    """Field ``name`` of /proc/<pid>/status (Linux), or None if the process or field is gone."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    match = re.search(rf"^{re.escape(name)}:\s*(.+)$", text, re.MULTILINE)
    return match.group(1).strip() if match else None


PUBLIC_URL = "https://bot.example.test"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class BotProcess:
    """One bot subprocess (restartable) plus the two fakes it talks to."""

    tmp: Path
    tg: FakeTelegram
    pp: FakePixlpark
    env_overrides: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    starts: int = 0

    # --- lifecycle ---------------------------------------------------------

    @classmethod
    @contextlib.asynccontextmanager
    async def launch(cls, tmp: Path, **settings: Any) -> AsyncIterator[BotProcess]:
        """Start the fakes (not the bot); everything is stopped on exit."""
        tg = FakeTelegram(bot_token=BOT_TOKEN)
        await tg.start()
        pp = FakePixlpark()
        await pp.start()
        env = {key.upper(): str(value) for key, value in settings.items()}
        bot = cls(tmp, tg, pp, env)
        try:
            yield bot
        finally:
            bot.kill()
            await tg.stop()
            await pp.stop()

    @property
    def database_url(self) -> str:
        return f"sqlite:///{self.tmp / 'bot.sqlite3'}"

    @property
    def url(self) -> str:
        """Base URL of the bot's HTTP server."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> Path:
        return self.tmp / "bot.log"

    def env(self) -> dict[str, str]:
        """The environment `python -m bot` runs with."""
        env = {
            key: value
            for key, value in os.environ.items()
            if key in ("PATH", "HOME", "LANG", "LC_ALL", "TZ", "SYSTEMROOT", "TMPDIR")
        }
        env.update(
            {
                "PYTHONPATH": str(ROOT),
                "PYTHONUNBUFFERED": "1",
                "BOT_TOKEN": BOT_TOKEN,
                "TELEGRAM_API_URL": self.tg.base_url,
                "PIXLPARK_API_URL": self.pp.url,
                "DATABASE_URL": self.database_url,
                "SECRET_KEY": SECRET_KEY,
                "HTTP_HOST": "127.0.0.1",
                "HTTP_PORT": str(self.port),
                "PUBLIC_URL": PUBLIC_URL,
                "BOT_MODE": "polling",
                "LOG_LEVEL": "INFO",
                "PIXLPARK_TIMEOUT": "2",
            }
        )
        env.update(self.env_overrides)
        return env

    async def start(self, *, timeout: float = 20.0) -> None:
        """Start `python -m bot` and wait until GET /healthz answers 200."""
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.starts += 1
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start #{self.starts} =====\n".encode())
            log.flush()
            self.proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once
                [sys.executable, "-m", "bot"],
                cwd=self.tmp,  # no stray .env of the developer is read
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        async with aiohttp.ClientSession() as session:
            while True:
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"bot exited with {self.proc.returncode}:\n{self.log_tail()}"
                    )
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                if time.monotonic() > deadline:
                    raise TimeoutError(f"bot did not become healthy:\n{self.log_tail()}")
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        """SIGKILL the bot (no clean-up at all), if it runs."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    async def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM the bot and wait for it to exit; returns the exit code."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                self.kill()
                raise TimeoutError("bot did not stop on SIGTERM")
            await asyncio.sleep(0.05)
        return self.proc.returncode

    async def restart(self) -> None:
        """SIGKILL, then start again on the same database and port."""
        self.kill()
        await self.start()

    def log_tail(self, lines: int = 60) -> str:
        """The end of the bot's output (for failure messages)."""
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])

    def log_text(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # --- data --------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def storage(self) -> AsyncIterator[Storage]:
        """The bot's database, opened from the test (write only while the bot is stopped)."""
        storage = await open_storage(self.database_url, SECRET_KEY)
        try:
            yield storage
        finally:
            await storage.close()

    def pixlpark_shop(
        self, public_key: str = "pub-1", private_key: str = "priv-1", *, samples: bool = True
    ) -> FakeShop:
        """A shop on the fake Pixlpark (with the 10 sample orders unless ``samples=False``)."""
        shop = self.pp.add_shop(public_key, private_key)
        if samples:
            shop.load_sample_orders()
        return shop

    async def seed_shop(
        self,
        owner_id: int,
        public_key: str = "pub-1",
        private_key: str = "priv-1",
        *,
        title: str = "Demo Print",
        language: str | None = None,
    ) -> Shop:
        """A linked shop in the database: owner role, owner's private chat linked.

        The owner is also registered with the fake Telegram, so messages can reach them.
        """
        self.tg.user(owner_id, f"Owner {owner_id}")
        async with self.storage() as storage:
            return await seed_linked_shop(
                storage,
                owner_id,
                public_key,
                private_key,
                title=title,
                site_id=1164,
                language=language,
            )

    async def seed_group(
        self, shop: Shop, title: str = "Staff", *, language: str | None = None, **prefs: Any
    ) -> int:
        """A group (in the fake, with the bot in it) linked to the shop with ``prefs``."""
        chat_id = self.tg.create_group(title, bot_status="member")
        async with self.storage() as storage:
            await storage.chats.upsert(chat_id, "group", title)
            if language:
                await storage.chats.set_language(chat_id, language)
            await storage.links.link(chat_id, shop.id)
            if prefs:
                await storage.links.update_prefs(chat_id, shop.id, **prefs)
        return chat_id

    def webhook_url(self, shop: Shop, event: str | None = "order-changed") -> str:
        """The local URL Pixlpark would post this shop's ``event`` to."""
        base = f"{self.url}/pixlpark/{shop.webhook_token}"
        return base if event is None else f"{base}/{event}"

    async def send_webhook(
        self, shop: Shop, fake_shop: FakeShop, order_id: str | int, event: str = "order-changed"
    ) -> int:
        """Post the order's webhook DTO as Pixlpark would; returns the HTTP status."""
        status, _ = await self.pp.send_webhook(self.webhook_url(shop, event), fake_shop, order_id)
        return status

    async def health(self) -> tuple[int, dict[str, Any]]:
        """GET /healthz: (status, JSON)."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}/healthz") as response,
        ):
            return response.status, await response.json()

    async def metrics(self) -> str:
        """GET /metrics text."""
        async with (
            aiohttp.ClientSession() as session,
            session.get(f"{self.url}/metrics") as response,
        ):
            return await response.text()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.kill()
