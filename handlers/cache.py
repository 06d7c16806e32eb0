"""A small per-shop cache of order answers, so a busy group does not multiply API calls."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

Key = tuple[int, str, str]


class OrderCache:
    """Time-limited answers keyed by (shop id, order id, what); alerts invalidate an order."""

    def __init__(
        self, ttl: float = 5.0, max_entries: int = 2000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: OrderedDict[Key, tuple[float, Any]] = OrderedDict()

    def get(self, shop_id: int, order_id: str, what: str = "order") -> Any | None:
        """The cached value, or None when absent or older than the TTL."""
        key = (shop_id, order_id, what)
        entry = self._entries.get(key)
        if entry is None:
            return None
        stored_at, value = entry
        if self._clock() - stored_at > self.ttl:
            del self._entries[key]
            return None
        return value

    def put(self, shop_id: int, order_id: str, value: Any, what: str = "order") -> None:
        """Remember a fresh answer."""
        key = (shop_id, order_id, what)
        self._entries[key] = (self._clock(), value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def invalidate(self, shop_id: int, order_id: str) -> None:
        """Forget everything about one order (an alert says it changed)."""
        for key in [k for k in self._entries if k[0] == shop_id and k[1] == order_id]:
            del self._entries[key]
