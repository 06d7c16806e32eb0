"""`unless_stopped`: a start-up step either finishes or is cancelled by a stop request."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from bot.stopping import Stopped, unless_stopped


async def test_the_step_result_comes_back_when_no_stop_comes() -> None:
    async def step() -> str:
        await asyncio.sleep(0.01)
        return "done"

    assert await unless_stopped(asyncio.Event(), step()) == "done"


async def test_a_stop_cancels_the_running_step() -> None:
    stop, cancelled = asyncio.Event(), asyncio.Event()

    async def step() -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    asyncio.get_running_loop().call_later(0.05, stop.set)
    with pytest.raises(Stopped):
        await asyncio.wait_for(unless_stopped(stop, step()), 5)
    assert cancelled.is_set()


async def test_a_stop_already_requested_never_starts_the_step() -> None:
    stop, started = asyncio.Event(), asyncio.Event()
    stop.set()

    async def step() -> None:
        started.set()

    coroutine = step()
    with pytest.raises(Stopped):
        await unless_stopped(stop, coroutine)
    assert not started.is_set()
    # closed, so no "coroutine was never awaited" warning
    assert inspect.getcoroutinestate(coroutine) == inspect.CORO_CLOSED


async def test_an_error_of_the_step_is_not_hidden() -> None:
    async def step() -> None:
        raise LookupError("bad")

    with pytest.raises(LookupError):
        await unless_stopped(asyncio.Event(), step())
