"""The production wiring starts against the fakes, answers /healthz and stops cleanly."""

from __future__ import annotations

import aiohttp

from tests.harness import Harness


async def test_health_endpoint(harness: Harness) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.get(f"{harness.http_url}/healthz") as response,
    ):
        assert response.status == 200
        body = await response.json()
    assert body["database"] is True
    assert harness.tg.calls_of("deleteWebhook")
