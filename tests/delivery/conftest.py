"""Fixtures for delivery tests: the in-process bot with fast limits, and helpers."""

from __future__ import annotations

import asyncio
import itertools
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from storage import OutboxMessage, OutboxState
from tests.harness import Harness, harness, start_harness, stop_harness

__all__ = ["harness"]

FAST: dict[str, Any] = {
    "telegram_chat_interval": 0.2,
    "telegram_rate": 50.0,
    "outbox_retry_base": 0.2,
    "outbox_retry_max": 2.0,
}

_keys = itertools.count(1)

StartFn = Callable[..., Awaitable[Harness]]


@pytest.fixture
async def start(tmp_path: Path) -> AsyncIterator[StartFn]:
    """Start the bot with fast limits (plus overrides); stopped at the end unless stopped."""
    started: list[Harness] = []

    async def _start(**overrides: Any) -> Harness:
        h = await start_harness(tmp_path, **{**FAST, **overrides})
        started.append(h)
        return h

    yield _start
    for h in started:
        if h.app.runner is not None or h.app.tasks:
            await stop_harness(h)


@pytest.fixture
async def fast(start: StartFn) -> Harness:
    """The bot with a 0.2 s chat interval and quick retries."""
    return await start()


async def put(h: Harness, chat_id: int, text: str, **fields: Any) -> int:
    """Enqueue one outbox row the way the processor does, and wake the sender."""
    row_id = await h.storage.outbox.enqueue(
        chat_id=chat_id, text=text, dedupe_key=f"test:{next(_keys)}", **fields
    )
    assert row_id is not None
    h.app.signals.outbox.set()
    return row_id


async def settled(
    h: Harness,
    ids: list[int],
    states: tuple[OutboxState, ...] = (OutboxState.SENT,),
    *,
    timeout: float = 10.0,
) -> list[OutboxMessage]:
    """Wait until every row reached one of ``states``; returns the rows."""
    deadline = time.monotonic() + timeout
    while True:
        rows = [await h.storage.outbox.get(i) for i in ids]
        if all(r is not None and r.state in states for r in rows):
            return [r for r in rows if r is not None]
        if time.monotonic() > deadline:
            got = [(r.id, r.state.value, r.last_error) for r in rows if r is not None]
            raise AssertionError(f"rows not {states} after {timeout}s: {got}")
        await asyncio.sleep(0.05)
