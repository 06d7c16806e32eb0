"""Throttling: a user hammering a lookup is answered once per few seconds, never queued."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiogram import BaseMiddleware
from aiogram.types import Message, TelegramObject
from aiogram.utils.i18n import gettext as _

Key = tuple[int, int, str]


class ThrottlingMiddleware(BaseMiddleware):
    """Inner message middleware of the lookup router.

    The same lookup (same chat, user and text) runs at most once per `interval` seconds,
    and a user runs at most `burst` lookups per `interval` in a chat. A refused message is
    dropped: the first refusal of a window gets a short "wait a moment", later ones nothing.
    """

    def __init__(self, interval: float = 3.0, burst: int = 8) -> None:
        self.interval = interval
        self.burst = burst
        self._last: dict[Key, float] = {}
        self._recent: dict[tuple[int, int], list[float]] = {}
        self._warned: dict[tuple[int, int], float] = {}

    async def __call__(
        self,
        handler: Callable[[TelegramObject, dict[str, Any]], Awaitable[Any]],
        event: TelegramObject,
        data: dict[str, Any],
    ) -> Any:
        if not isinstance(event, Message) or event.from_user is None:
            return await handler(event, data)
        now = time.monotonic()
        self._forget(now)
        who = (event.chat.id, event.from_user.id)
        key: Key = (*who, " ".join((event.text or "").split()).casefold())
        recent = [t for t in self._recent.get(who, []) if now - t < self.interval]
        last = self._last.get(key)
        if (last is not None and now - last < self.interval) or len(recent) >= self.burst:
            if now - self._warned.get(who, -1e9) >= self.interval:
                self._warned[who] = now
                await event.answer(
                    _("Just a moment, I am still on it. Try again in a few seconds.")
                )
            return None
        self._last[key] = now
        recent.append(now)
        self._recent[who] = recent
        return await handler(event, data)

    def _forget(self, now: float) -> None:
        if len(self._last) < 5000:
            return
        horizon = now - self.interval
        self._last = {k: t for k, t in self._last.items() if t >= horizon}
        self._recent = {k: v for k, v in self._recent.items() if v and v[-1] >= horizon}
        self._warned = {k: t for k, t in self._warned.items() if t >= horizon}
