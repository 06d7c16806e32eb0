"""Pytest fixtures for the fake Telegram Bot API.

Use from another test package with ``pytest_plugins = ["tests.fakes.fixtures"]`` in its
``conftest.py``, or import the fixtures directly::

    from tests.fakes.fixtures import fake_telegram, tg_bot  # noqa: F401
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiogram import Bot

from tests.fakes.telegram import FakeTelegram

__all__ = ["fake_telegram", "tg_bot"]


@pytest.fixture
async def fake_telegram() -> AsyncIterator[FakeTelegram]:
    """A started :class:`FakeTelegram` on a free loopback port."""
    async with FakeTelegram() as fake:
        yield fake


@pytest.fixture
async def tg_bot(fake_telegram: FakeTelegram) -> AsyncIterator[Bot]:
    """A real aiogram ``Bot`` pointed at ``fake_telegram``; its session is closed afterwards."""
    bot = fake_telegram.make_bot()
    try:
        yield bot
    finally:
        await bot.session.close()
