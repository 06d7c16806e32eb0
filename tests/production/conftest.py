"""Fixtures of the production-readiness tests: the in-process bot in polling or webhook mode."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.logs import RequestIdFilter
from tests.harness import Harness, harness, start_harness, stop_harness  # noqa: F401
from tests.process_harness import free_port


@pytest.fixture
async def webhook_harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """The bot in BOT_MODE=webhook; PUBLIC_URL is its own loopback address, so the fake
    Telegram posts updates straight to it."""
    port = free_port()
    h = await start_harness(
        tmp_path,
        bot_mode="webhook",
        http_port=port,
        public_url=f"http://127.0.0.1:{port}",
        outbox_retry_base=0.05,
        telegram_chat_interval=0,
    )
    try:
        yield h
    finally:
        await stop_harness(h)


class Records(logging.Handler):
    """Keeps the records of the ``bot`` loggers, passed through the request id filter."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.addFilter(RequestIdFilter())

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def find(self, message: str) -> list[logging.LogRecord]:
        return [r for r in self.records if r.getMessage().startswith(message)]


@pytest.fixture
def bot_records() -> Iterator[Records]:
    """Records logged by the bot's own loggers during the test."""
    handler = Records()
    logger = logging.getLogger("bot")
    old_level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)


def metric(text: str, name: str, **labels: str) -> float:
    """A sample's value from a /metrics text (0 when absent); labels in any order."""
    for line in text.splitlines():
        match = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)", line)
        if not match or match.group(1) != name:
            continue
        found = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        if all(found.get(key) == value for key, value in labels.items()):
            return float(match.group(3))
    return 0.0
