"""Reads are retried with backoff on 5xx, timeouts and dropped connections; writes never."""

from __future__ import annotations

import asyncio

import pytest

from pixlpark import PixlparkClient, RetryPolicy, ServiceUnavailable
from tests.fakes.pixlpark import FakePixlpark, FakeShop
from tests.pixlpark.conftest import ClientFactory


@pytest.mark.parametrize("fault", [500, 502, 503, "drop"])
async def test_read_retried_until_success(
    client: PixlparkClient, fake: FakePixlpark, fault: int | str
) -> None:
    fake.fail_next("/orders/2336327", fault, times=2)
    order = await client.get_order("2336327")
    assert order.id == "2336327"
    assert fake.count("/orders/2336327") == 3


async def test_timeout_retried_then_success(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.fail_next("/orders/count", "slow")
    assert await client.count_orders() == 10
    assert fake.count("/orders/count") == 2


async def test_retry_count_is_configurable(
    make_client: ClientFactory, shop: FakeShop, fake: FakePixlpark
) -> None:
    client = make_client(retry=RetryPolicy(attempts=5, initial_wait=0.001, jitter=0))
    await client.check_credentials()
    fake.fail_next("/orders", 503, times=10)
    with pytest.raises(ServiceUnavailable):
        await client.list_orders()
    assert fake.count("/orders") == 5


async def test_backoff_grows(
    make_client: ClientFactory, shop: FakeShop, fake: FakePixlpark
) -> None:
    client = make_client(retry=RetryPolicy(attempts=3, initial_wait=0.05, max_wait=1, jitter=0))
    await client.check_credentials()
    fake.fail_next("/orders", 503, times=2)
    await client.list_orders()
    times = [r.time for r in fake.requests_to("/orders")]
    assert times[1] - times[0] >= 0.045
    assert times[2] - times[1] >= 0.095


async def test_failing_write_is_not_retried(
    client: PixlparkClient, fake: FakePixlpark, shop: FakeShop
) -> None:
    fake.fail_next("/orders/2336327/status", 503, times=3)
    with pytest.raises(ServiceUnavailable):
        await client.set_order_status("2336327", "Printing")
    assert fake.count("/orders/2336327/status", method="POST") == 1
    assert shop.orders["2336327"]["Status"] == "NotProcessed"


async def test_timed_out_write_is_not_retried(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.fail_next("/orders/2336327/comments", "slow")
    with pytest.raises(ServiceUnavailable):
        await client.add_order_comment("2336327", "Позвонить клиенту", "manager@example.com")
    assert fake.count("/orders/2336327/comments", method="POST") == 1


async def test_dropped_write_is_not_retried(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.fail_next("/orders/2336327/comments", "drop")
    with pytest.raises(ServiceUnavailable):
        await client.add_order_comment("2336327", "text", "manager@example.com")
    assert fake.count("/orders/2336327/comments", method="POST") == 1


async def test_outage_then_recovery(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.down = True
    with pytest.raises(ServiceUnavailable):
        await client.get_order("2336327")
    fake.down = False
    assert (await client.get_order("2336327")).id == "2336327"


async def test_hang_then_recovery(client: PixlparkClient, fake: FakePixlpark) -> None:
    await client.check_credentials()
    fake.hang = True
    task = asyncio.create_task(client.get_order("2336327"))
    await asyncio.sleep(0.05)
    fake.hang = False  # released before the client's 0.3 s timeout: the call succeeds
    assert (await task).id == "2336327"
