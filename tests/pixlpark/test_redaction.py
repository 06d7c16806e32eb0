"""Keys and tokens never appear in logs, error messages or reprs."""

from __future__ import annotations

import asyncio
import logging

import pytest

from pixlpark import PixlparkClient, PixlparkError, password_hash, redact_text
from tests.fakes.pixlpark import FakePixlpark, FakeShop
from tests.pixlpark.conftest import ClientFactory
from tests.pixlpark.helpers import PRIVATE_KEY, PUBLIC_KEY, ManualClock


def test_redact_text() -> None:
    url = (
        "https://x/orders?take=5&oauth_token=abc123&username=PUB&password=deadbeef&refreshToken=r1"
    )
    assert redact_text(url) == (
        "https://x/orders?take=5&oauth_token=***&username=***&password=***&refreshToken=***"
    )
    assert redact_text("key SECRETKEY in text", ["SECRETKEY"]) == "key *** in text"


async def _exercise(
    make_client: ClientFactory, fake: FakePixlpark, shop: FakeShop
) -> list[BaseException]:
    """Run login, refresh, re-login, retries and failures; collect every raised error."""
    errors: list[BaseException] = []

    async def expect_error(coro: object) -> None:
        try:
            await coro  # type: ignore[misc]
        except PixlparkError as exc:
            errors.append(exc)

    fake.token_lifetime = 300
    fake.add_shop("pk-not-yet-active-1", "sk-not-yet-active-1", activated=False)
    clock = ManualClock()
    client = make_client(clock=clock)
    await asyncio.gather(*(client.get_order("2336327") for _ in range(5)))
    clock.advance(250)
    await client.list_orders(take=3)  # refresh
    fake.expire_tokens()
    await client.count_orders(["Printed"])  # 401 → re-login
    fake.fail_next("/orders", 503)
    await client.list_orders()  # retried
    fake.fail_next("/orders/count", "slow")
    await client.count_orders()  # timeout, retried
    await expect_error(client.get_order("1"))
    fake.fail_next("/orders", 401, times=2)
    await expect_error(client.list_orders())
    fake.fail_next("/orders", 429)
    await expect_error(client.list_orders())
    fake.fail_next("/orders", "malformed")
    await expect_error(client.list_orders())
    fake.fail_next("/orders/2336327/status", 500)
    await expect_error(client.set_order_status("2336327", "Printing"))
    fake.disable("shippings")
    await expect_error(client.get_shipping_methods())
    await expect_error(make_client(private_key="sk-wrong-private-key").check_credentials())
    await expect_error(make_client("pk-not-yet-active-1", "sk-not-yet-active-1").get_order("1"))
    fake.down = True
    await expect_error(client.get_order("2336327"))
    return errors


def _texts(error: BaseException) -> list[str]:
    texts = []
    seen: BaseException | None = error
    while seen is not None:
        texts += [str(seen), repr(seen), *(str(arg) for arg in seen.args)]
        seen = seen.__cause__ or seen.__context__
    return texts


async def test_no_secret_in_logs_or_errors(
    make_client: ClientFactory,
    fake: FakePixlpark,
    shop: FakeShop,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG, logger="pixlpark")
    caplog.set_level(logging.DEBUG, logger="httpx")
    errors = await _exercise(make_client, fake, shop)

    tokens = fake.issued_tokens()
    secrets = [PUBLIC_KEY, PRIVATE_KEY, "sk-wrong-private-key", "pk-not-yet-active-1"]
    secrets += ["sk-not-yet-active-1", *tokens]
    secrets += [password_hash(token, key) for token in tokens for key in (PRIVATE_KEY,)]
    assert len(tokens) > 10 and len(errors) == 9

    records = [r for r in caplog.records if r.name.startswith(("pixlpark", "httpx"))]
    httpx_lines = [r.getMessage() for r in records if r.name == "httpx"]
    assert any("oauth_token=***" in line for line in httpx_lines)  # the filter did its job
    assert any("password=***" in line for line in httpx_lines)
    assert any(r.name.startswith("pixlpark") for r in records)
    texts = [r.getMessage() for r in records] + [t for e in errors for t in _texts(e)]
    for text in texts:
        for secret in secrets:
            assert secret not in text, f"secret leaked into: {text}"


async def test_reprs_hide_keys(make_client: ClientFactory, shop: FakeShop) -> None:
    client = make_client()
    await client.check_credentials()
    for text in (repr(client), str(client), repr(client._auth), repr(client._auth._tokens)):
        assert PUBLIC_KEY not in text and PRIVATE_KEY not in text
        assert client._auth._tokens is not None
        assert client._auth._tokens.access_token not in text


async def test_server_messages_are_scrubbed(
    client: PixlparkClient, fake: FakePixlpark, shop: FakeShop
) -> None:
    """A server that echoes the request URL in its error must not leak the token."""
    await client.check_credentials()
    token = client._auth._tokens.access_token  # type: ignore[union-attr]

    original = fake._not_found

    def echoing_not_found() -> object:
        response = original()
        response.text = response.text.replace(
            "Not found", f"Not found: /orders/9?oauth_token={token}&username={PUBLIC_KEY}"
        )
        return response

    fake._not_found = echoing_not_found  # type: ignore[method-assign]
    with pytest.raises(PixlparkError) as info:
        await client.get_order("9")
    assert token not in str(info.value) and PUBLIC_KEY not in str(info.value)
    assert "Not found: /orders/9?oauth_token=***&username=***" in str(info.value)
