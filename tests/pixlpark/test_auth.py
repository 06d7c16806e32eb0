"""Login, token caching, refresh before expiry, re-login after 401, concurrency."""

from __future__ import annotations

import asyncio

import pytest

from pixlpark import (
    ApiNotActivated,
    AuthError,
    InvalidCredentials,
    PixlparkClient,
    ServiceUnavailable,
    password_hash,
)
from tests.fakes.pixlpark import NOT_ACTIVATED_ERROR, FakePixlpark, FakeShop
from tests.pixlpark.conftest import ClientFactory
from tests.pixlpark.helpers import PRIVATE_KEY, PUBLIC_KEY, ManualClock


def test_password_test_vector() -> None:
    assert password_hash("rtoken", "PrivateKey") == "333a4c19df851472c77ac824cfd603ec2b3159e2"


async def test_login_flow_as_documented(client: PixlparkClient, fake: FakePixlpark) -> None:
    order = await client.get_order("2336327")

    assert order.id == "2336327"
    assert [r.path for r in fake.requests] == [
        "/oauth/requesttoken",
        "/oauth/accesstoken",
        "/orders/2336327",
    ]
    access = fake.requests[1]
    request_token = access.query["oauth_token"]
    assert access.method == "GET"
    assert access.query["grant_type"] == "api"
    assert access.query["username"] == PUBLIC_KEY
    assert access.query["password"] == password_hash(request_token, PRIVATE_KEY)
    call = fake.requests[2]
    assert call.query["oauth_token"] in fake.issued_tokens()
    assert call.shop == PUBLIC_KEY


async def test_token_is_cached(client: PixlparkClient, fake: FakePixlpark) -> None:
    await client.get_order("2336327")
    await client.list_orders(take=5)
    await client.count_orders()
    assert fake.count("/oauth/accesstoken") == 1
    assert fake.count("/oauth/requesttoken") == 1


async def test_refresh_before_expiry(
    make_client: ClientFactory, shop: FakeShop, fake: FakePixlpark
) -> None:
    fake.token_lifetime = 300
    clock = ManualClock()
    client = make_client(clock=clock, refresh_margin=60)
    await client.get_order("2336327")
    first_token = fake.requests[-1].query["oauth_token"]

    clock.advance(230)  # 70 s left: no renewal yet
    await client.get_order("2336327")
    assert fake.count("/oauth/refreshtoken") == 0

    clock.advance(20)  # 50 s left, inside the 60 s margin: refresh, no new login
    await client.get_order("2336327")
    refresh = fake.requests_to("/oauth/refreshtoken")
    assert len(refresh) == 1
    assert refresh[0].query["refreshToken"] in fake.issued_tokens()
    assert fake.count("/oauth/accesstoken") == 1
    assert fake.requests[-1].query["oauth_token"] != first_token


async def test_failed_refresh_falls_back_to_login(
    make_client: ClientFactory, shop: FakeShop, fake: FakePixlpark
) -> None:
    fake.token_lifetime = 300
    clock = ManualClock()
    client = make_client(clock=clock)
    await client.get_order("2336327")
    fake.fail_next("/oauth/refreshtoken", "success_false")
    clock.advance(250)
    await client.get_order("2336327")
    assert fake.count("/oauth/refreshtoken") == 1
    assert fake.count("/oauth/accesstoken") == 2


async def test_expired_refresh_token_means_login(
    make_client: ClientFactory, shop: FakeShop, fake: FakePixlpark
) -> None:
    fake.token_lifetime = 300
    clock = ManualClock()
    client = make_client(clock=clock)
    await client.get_order("2336327")
    clock.advance(1000)  # both tokens are past their lifetime on the client's clock
    await client.get_order("2336327")
    assert fake.count("/oauth/refreshtoken") == 0
    assert fake.count("/oauth/accesstoken") == 2


async def test_renewal_outage_keeps_the_still_valid_token(
    make_client: ClientFactory, shop: FakeShop, fake: FakePixlpark
) -> None:
    fake.token_lifetime = 300
    clock = ManualClock()
    client = make_client(clock=clock)
    await client.get_order("2336327")
    clock.advance(250)
    fake.fail_next("/oauth/", 503, times=20)
    order = await client.get_order("2336327")  # refresh and login fail; the token still works
    assert order.id == "2336327"
    assert fake.count("/oauth/accesstoken") == 1


async def test_short_real_lifetime_is_refreshed(
    make_client: ClientFactory, shop: FakeShop, fake: FakePixlpark
) -> None:
    # One manual clock for the fake and the client: the lifetime is real (the fake's
    # `Expires`), but a slow machine cannot stretch it past the refresh window.
    clock = ManualClock()
    fake.clock = clock
    fake.token_lifetime = 0.4
    client = make_client(clock=clock)  # default 60 s margin is capped at half the lifetime
    await client.get_order("2336327")
    clock.advance(0.15)  # before the margin: the token is reused
    await client.get_order("2336327")
    assert fake.count("/oauth/refreshtoken") == 0
    clock.advance(0.1)  # 0.25 s: inside the 0.2 s margin, before expiry
    await client.get_order("2336327")
    assert fake.count("/oauth/refreshtoken") == 1
    assert fake.count("/oauth/accesstoken") == 1
    assert fake.count("/orders/2336327") == 3  # no 401, no retry


async def test_401_triggers_exactly_one_relogin(client: PixlparkClient, fake: FakePixlpark) -> None:
    await client.get_order("2336327")
    fake.expire_tokens()
    order = await client.get_order("2336327")
    assert order.id == "2336327"
    assert fake.count("/oauth/accesstoken") == 2
    assert fake.count("/orders/2336327") == 3


async def test_second_401_is_an_auth_error(client: PixlparkClient, fake: FakePixlpark) -> None:
    await client.get_order("2336327")
    fake.fail_next("/orders/", 401, times=5)
    with pytest.raises(AuthError, match="after a fresh login"):
        await client.get_order("2336327")
    assert fake.count("/oauth/accesstoken") == 2
    assert fake.count("/orders/2336327") == 3


async def test_401_on_write_is_retried_once_after_login(
    client: PixlparkClient, fake: FakePixlpark, shop: FakeShop
) -> None:
    await client.get_order("2336327")
    fake.fail_next("/orders/2336327/status", 401)
    result = await client.set_order_status("2336327", "Printing")
    assert result.type == "Success"
    assert fake.count("/orders/2336327/status", method="POST") == 2
    assert len(shop.status_changes) == 1


async def test_concurrent_cold_calls_log_in_once(
    client: PixlparkClient, fake: FakePixlpark
) -> None:
    orders = await asyncio.gather(*(client.get_order("2336327") for _ in range(50)))
    assert len(orders) == 50
    assert fake.count("/oauth/requesttoken") == 1
    assert fake.count("/oauth/accesstoken") == 1


async def test_concurrent_401s_relogin_once(client: PixlparkClient, fake: FakePixlpark) -> None:
    await client.get_order("2336327")
    fake.expire_tokens()
    await asyncio.gather(*(client.get_order("2336327") for _ in range(20)))
    assert fake.count("/oauth/accesstoken") == 2


async def test_concurrent_calls_with_bad_keys_share_one_failure(
    make_client: ClientFactory, shop: FakeShop, fake: FakePixlpark
) -> None:
    client = make_client(private_key="wrong-private-key")
    results = await asyncio.gather(
        *(client.get_order("2336327") for _ in range(10)), return_exceptions=True
    )
    assert all(isinstance(r, InvalidCredentials) for r in results)
    assert fake.count("/oauth/accesstoken") == 1


async def test_invalid_private_key(
    make_client: ClientFactory, shop: FakeShop, fake: FakePixlpark
) -> None:
    client = make_client(private_key="wrong-private-key")
    with pytest.raises(InvalidCredentials):
        await client.check_credentials()


async def test_unknown_public_key(make_client: ClientFactory, shop: FakeShop) -> None:
    client = make_client(public_key="nobody")
    with pytest.raises(InvalidCredentials):
        await client.get_order("2336327")


async def test_api_not_activated(make_client: ClientFactory, fake: FakePixlpark) -> None:
    fake.add_shop("fresh-public", "fresh-private", activated=False)
    client = make_client("fresh-public", "fresh-private")
    with pytest.raises(ApiNotActivated) as info:
        await client.check_credentials()
    assert NOT_ACTIVATED_ERROR in str(info.value)
    assert not isinstance(info.value, InvalidCredentials)

    fake.shops["fresh-public"].activated = True  # half an hour later
    await client.check_credentials()


async def test_success_false_with_http_200_is_an_error(
    client: PixlparkClient, fake: FakePixlpark
) -> None:
    fake.fail_next("/oauth/accesstoken", "success_false")
    with pytest.raises(InvalidCredentials):
        await client.check_credentials()


async def test_check_credentials_forces_a_login(client: PixlparkClient, fake: FakePixlpark) -> None:
    await client.check_credentials()
    await client.check_credentials()
    assert fake.count("/oauth/accesstoken") == 2


async def test_check_credentials_when_down(client: PixlparkClient, fake: FakePixlpark) -> None:
    fake.down = True
    with pytest.raises(ServiceUnavailable):
        await client.check_credentials()
    assert fake.count("/oauth/requesttoken") == 3  # token reads are retried too
