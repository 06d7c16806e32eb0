"""One Pixlpark client per shop, all sharing one HTTP connection pool."""

from __future__ import annotations

from collections.abc import Callable

import httpx

from pixlpark import PixlparkClient
from storage import Shop


class ShopClients:
    """Creates and caches a `PixlparkClient` per shop; keys never leave this object."""

    def __init__(
        self,
        base_url: str,
        *,
        timeout: float,
        http: httpx.AsyncClient,
        on_secret: Callable[..., None] | None = None,
    ) -> None:
        self.base_url = base_url
        self.timeout = timeout
        self.http = http
        self._on_secret = on_secret
        self._clients: dict[int, tuple[str, PixlparkClient]] = {}

    def for_keys(self, public_key: str, private_key: str) -> PixlparkClient:
        """A fresh client for keys that are not stored yet (checking new keys)."""
        if self._on_secret is not None:
            self._on_secret(public_key, private_key)
        return PixlparkClient(
            public_key, private_key, base_url=self.base_url, http=self.http, timeout=self.timeout
        )

    def for_shop(self, shop: Shop) -> PixlparkClient:
        """The cached client of a shop (recreated when its keys change)."""
        cached = self._clients.get(shop.id)
        fingerprint = f"{shop.public_key}\0{shop.private_key}"
        if cached is not None and cached[0] == fingerprint:
            return cached[1]
        client = self.for_keys(shop.public_key, shop.private_key)
        self._clients[shop.id] = (fingerprint, client)
        return client

    def forget(self, shop_id: int) -> None:
        """Drop a shop's client (keys removed or replaced)."""
        self._clients.pop(shop_id, None)
