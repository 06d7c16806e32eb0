"""Small helpers shared by the linking tests."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tests.fakes.telegram import FakeTelegram


def buttons(message: dict) -> list[dict]:
    """Every inline button of a message, row by row."""
    markup = message.get("reply_markup") or {}
    return [b for row in markup.get("inline_keyboard", []) for b in row]


def button_texts(message: dict) -> list[str]:
    return [b["text"] for b in buttons(message)]


async def answer_of(tg: FakeTelegram, query_id: str) -> dict:
    """The answerCallbackQuery the bot gave to a button press."""
    await tg.wait_for(
        "answerCallbackQuery",
        predicate=lambda c: str(c.params.get("callback_query_id")) == query_id,
    )
    return tg.answered_callbacks[query_id]


def code_of(url: str) -> str:
    """The one-time code at the end of a t.me deep link."""
    return url.rsplit("=", 1)[1]


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    """Wait until an async condition (usually on the database) holds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
