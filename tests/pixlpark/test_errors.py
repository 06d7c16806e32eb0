"""Every typed error, produced over real HTTP by the fake server."""

from __future__ import annotations

import socket

import pytest

from pixlpark import (
    ApiError,
    NotFound,
    NotSupported,
    PixlparkClient,
    PixlparkError,
    RateLimited,
    ServiceUnavailable,
    StatusChangeFailed,
    UnexpectedResponse,
)
from tests.fakes.pixlpark import FakePixlpark, FakeShop
from tests.pixlpark.conftest import ClientFactory


async def test_unknown_order_is_not_found(client: PixlparkClient, fake: FakePixlpark) -> None:
    with pytest.raises(NotFound, match="Not found"):
        await client.get_order("1")
    assert fake.count("/orders/1") == 1  # not retried


async def test_not_found_inside_http_200(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.not_found_in_200 = True
    with pytest.raises(NotFound):
        await client.get_order("1")
    with pytest.raises(NotFound):
        await client.get_order_items("1")


async def test_response_code_404_fault(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.fail_next("/orders", "response_code_404")
    with pytest.raises(NotFound):
        await client.list_orders()


async def test_invalid_id_never_reaches_the_server(
    client: PixlparkClient, fake: FakePixlpark
) -> None:
    with pytest.raises(NotFound):
        await client.get_order("../users/1")
    assert fake.count("/orders", prefix=True) == 0


async def test_rate_limited_with_retry_after(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.fail_next("/orders", 429, retry_after=7)
    with pytest.raises(RateLimited) as info:
        await client.list_orders()
    assert info.value.retry_after == 7
    assert fake.count("/orders") == 1  # 429 is reported, not retried


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_5xx_is_service_unavailable(
    client: PixlparkClient, fake: FakePixlpark, status: int
) -> None:
    fake.fail_next("/orders", status, times=3)
    with pytest.raises(ServiceUnavailable) as info:
        await client.list_orders()
    assert info.value.status == status
    assert fake.count("/orders") == 3


async def test_timeout_is_service_unavailable(client: PixlparkClient, fake: FakePixlpark) -> None:
    await client.check_credentials()
    fake.hang = True
    with pytest.raises(ServiceUnavailable, match="did not answer"):
        await client.count_orders()
    fake.hang = False


async def test_connection_refused(make_client: ClientFactory) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again before use: nothing listens there
    client = make_client(base_url=f"http://127.0.0.1:{port}")
    with pytest.raises(ServiceUnavailable, match="cannot reach"):
        await client.get_order("1")


async def test_dropped_connection(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.fail_next("/orders", "drop", times=3)
    with pytest.raises(ServiceUnavailable):
        await client.list_orders()


async def test_malformed_json(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.fail_next("/orders", "malformed")
    with pytest.raises(UnexpectedResponse, match="not valid JSON"):
        await client.list_orders()


async def test_malformed_token_answer(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.fail_next("/oauth/accesstoken", "malformed")
    with pytest.raises(UnexpectedResponse):
        await client.check_credentials()


async def test_wrong_shape_is_unexpected(
    client: PixlparkClient, fake: FakePixlpark, shop: FakeShop
) -> None:
    shop.update_order("2336327", DateCreated="yesterday-ish", TotalPrice={"a": 1})
    with pytest.raises(UnexpectedResponse, match="order has a wrong shape") as info:
        await client.get_order("2336327")
    assert "yesterday-ish" not in str(info.value)  # inputs are not echoed


async def test_success_false_on_api_call(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.fail_next("/orders", "success_false")
    with pytest.raises(ApiError, match="Injected failure"):
        await client.list_orders()


async def test_other_4xx_is_api_error(client: PixlparkClient) -> None:
    with pytest.raises(ApiError) as info:
        await client.add_order_comment("2336327", "", "manager@example.com")
    assert info.value.status == 400


@pytest.mark.parametrize(
    ("endpoint", "call"),
    [
        ("shippings", lambda c: c.get_shipping_methods()),
        ("discounts", lambda c: c.get_discounts()),
        ("user_by_email", lambda c: c.find_user_by_email("a@example.com")),
    ],
)
async def test_guess_endpoint_404_is_not_supported(
    client: PixlparkClient, fake: FakePixlpark, endpoint: str, call: object
) -> None:
    fake.disable(endpoint)
    with pytest.raises(NotSupported, match="not supported by this Pixlpark account"):
        await call(client)  # type: ignore[operator]


async def test_likely_endpoint_404_stays_not_found(
    client: PixlparkClient, fake: FakePixlpark
) -> None:
    fake.disable("order_items")
    with pytest.raises(NotFound) as info:
        await client.get_order_items("2336327")
    assert not isinstance(info.value, NotSupported)


async def test_unknown_email_is_none_not_unsupported(client: PixlparkClient) -> None:
    assert await client.find_user_by_email("nobody@example.com") is None


async def test_rejected_status_change(client: PixlparkClient, shop: FakeShop) -> None:
    with pytest.raises(StatusChangeFailed, match="Error") as info:
        await client.set_order_status("2336327", "NoSuchStatus")
    assert info.value.result is not None
    assert shop.orders["2336327"]["Status"] == "NotProcessed"


@pytest.mark.parametrize("status", ["Deleted", "None", "Preparing", ""])
async def test_unsettable_status_is_refused_locally(
    client: PixlparkClient, fake: FakePixlpark, status: str
) -> None:
    with pytest.raises(ValueError):
        await client.set_order_status("2336327", status)
    assert fake.count("/orders/2336327/status") == 0


def test_every_error_is_a_pixlpark_error() -> None:
    for cls in (ApiError, NotFound, NotSupported, RateLimited, ServiceUnavailable):
        assert issubclass(cls, PixlparkError)
