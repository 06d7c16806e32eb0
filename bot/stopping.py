"""Stop requests (SIGTERM, SIGINT) from the first line of `python -m bot` to shutdown.

Until the event loop runs, nothing is open, so a signal ends the process at once with
exit code 0. Raising an exception from the handler instead would land in the middle of
imports and break them (C extensions panic; a string ``exec`` marks the interpreter to
exit by SIGINT). Once the loop runs, a signal sets an ``asyncio.Event`` that start-up and
serving both watch, and the bot shuts down in order.
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:  # asyncio is imported lazily: this module is imported before anything else
    import asyncio
    from collections.abc import Awaitable
    from types import FrameType

T = TypeVar("T")
SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(Exception):
    """Raised when a stop request ends start-up before the bot is up."""


def exit_on_signals() -> None:
    """Until :func:`watch_signals` or :func:`default_signals`: a signal exits with code 0."""
    for sig in SIGNALS:
        signal.signal(sig, _exit_now)


def _exit_now(signum: int, frame: FrameType | None) -> None:
    os._exit(0)  # nothing is open yet, so there is nothing to close or flush


def default_signals() -> None:
    """Give the signals back their defaults (for commands short enough to just stop)."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.default_int_handler)


def watch_signals(loop: asyncio.AbstractEventLoop) -> asyncio.Event:
    """From now on the loop handles the signals: the event they set."""
    import asyncio

    event = asyncio.Event()
    for sig in SIGNALS:
        loop.add_signal_handler(sig, event.set)
    return event


async def unless_stopped(stop: asyncio.Event, step: Awaitable[T]) -> T:
    """Await a start-up step; if a stop comes first, cancel it and raise :class:`Stopped`."""
    import asyncio
    import contextlib

    if stop.is_set():
        if asyncio.iscoroutine(step):
            step.close()  # never started: no "was never awaited" warning
        raise Stopped
    task = asyncio.ensure_future(step)
    waiter = asyncio.ensure_future(stop.wait())
    try:
        done, _ = await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    except BaseException:
        task.cancel()
        raise
    finally:
        waiter.cancel()
    if task in done:
        return task.result()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError, Exception):
        await task  # stopping anyway: whatever the step ends with no longer matters
    raise Stopped
