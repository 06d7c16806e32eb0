"""Fixtures for the Pixlpark client tests: a fake server on loopback and client factories."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from pixlpark import PixlparkClient
from tests.fakes.pixlpark import FakePixlpark, FakeShop
from tests.pixlpark.helpers import FAST_RETRY, PRIVATE_KEY, PUBLIC_KEY, TIMEOUT

ClientFactory = Callable[..., PixlparkClient]


@pytest.fixture
async def fake() -> AsyncIterator[FakePixlpark]:
    async with FakePixlpark(slow_delay=0.5) as server:
        yield server


@pytest.fixture
def shop(fake: FakePixlpark) -> FakeShop:
    shop = fake.add_shop(PUBLIC_KEY, PRIVATE_KEY, photolab_id=1164)
    shop.load_sample_orders()
    return shop


@pytest.fixture
async def make_client(fake: FakePixlpark) -> AsyncIterator[ClientFactory]:
    """Build clients pointed at the fake (fast retries, short timeout); closed afterwards."""
    clients: list[PixlparkClient] = []

    def factory(
        public_key: str = PUBLIC_KEY, private_key: str = PRIVATE_KEY, **kwargs: Any
    ) -> PixlparkClient:
        kwargs.setdefault("base_url", fake.url)
        kwargs.setdefault("timeout", TIMEOUT)
        kwargs.setdefault("retry", FAST_RETRY)
        client = PixlparkClient(public_key, private_key, **kwargs)
        clients.append(client)
        return client

    yield factory
    for client in clients:
        await client.close()


@pytest.fixture
def client(make_client: ClientFactory, shop: FakeShop) -> PixlparkClient:
    return make_client()
