"""Helpers of the hardening tests: the bot as a subprocess (tests/process_harness.py) under
abuse and outages. Durations are scaled down so the directory runs in about a minute and a
half on two cores; each test's docstring says what it stands for."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fakes.pixlpark import FakeShop
from tests.fakes.pixlpark_data import webhook_body
from tests.fakes.telegram import FakeTelegram

FAST_SENDER = {
    "telegram_chat_interval": 0,
    "telegram_group_per_minute": 10_000,
    "telegram_rate": 1000,
}
"""Sender settings for tests that are not about Telegram's limits."""


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (VmRSS of /proc/<pid>/status)."""
    text = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", text, re.MULTILINE)
    assert match, text
    return int(match.group(1)) / 1024


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


def body_of(fake: FakeShop, order_id: str) -> dict[str, Any]:
    """The webhook body Pixlpark would post for the order as it is now."""
    order = fake.orders[str(order_id)]
    return webhook_body(
        order, user=fake.users.get(str(order.get("UserId"))), items=fake.items.get(str(order_id))
    )


CARD = re.compile(r"🧾 (?:<b>)?\D*?(\d+)")
PAID = re.compile(r"💰.*?(\d{3,})")


def sent_texts(tg: FakeTelegram, chat_id: int) -> list[str]:
    """Texts of every sendMessage Telegram accepted for this chat, in order."""
    return [
        str(call.params.get("text", ""))
        for call in tg.calls_of("sendMessage")
        if call.ok and int(call.params.get("chat_id", 0)) == chat_id
    ]


def matches(texts: list[str], pattern: re.Pattern[str]) -> list[str]:
    """The first group of ``pattern`` in each text that has it (order ids)."""
    return [m.group(1) for m in map(pattern.search, texts) if m]
