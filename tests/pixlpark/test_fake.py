"""The fake server itself: webhooks, request log, standalone run."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import httpx
from aiohttp import web
from aiohttp.test_utils import TestServer

from pixlpark import PixlparkClient, parse_order
from tests.fakes.pixlpark import FakePixlpark, FakeShop
from tests.fakes.pixlpark_data import load_fixture, net_date_ms

ROOT = Path(__file__).resolve().parents[2]


async def test_send_webhook(fake: FakePixlpark, shop: FakeShop) -> None:
    received: list[dict[str, Any]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(json.loads(await request.text()))
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hooks/order", hook)
    async with TestServer(app, host="127.0.0.1") as server:
        order = shop.add_order(Status="Printed", PaymentStatus="Paid")
        status, text = await fake.send_webhook(
            str(server.make_url("/hooks/order")), shop, order["Id"]
        )

    assert (status, text) == (200, "ok")
    body = received[0]
    assert list(body) == list(load_fixture("webhook_order_message.json"))
    assert body["Id"] == int(order["Id"])
    assert body["DateCreated"].endswith("Z") and not body["DatePaid"]
    parsed = parse_order(body)
    assert parsed.id == order["Id"] and parsed.status == "Printed"
    assert parsed.user_additional_info is not None and parsed.user_additional_info.email
    assert fake.webhooks_sent[0][2] == 200


async def test_update_order_bumps_date_modified(shop: FakeShop) -> None:
    order = shop.add_order()
    before = net_date_ms(order["DateModified"])
    shop.update_order(order["Id"], Status="Printing")
    assert order["Status"] == "Printing"
    assert (net_date_ms(order["DateModified"]) or 0) > (before or 0)


async def test_new_orders_go_on_top(shop: FakeShop) -> None:
    first, second = shop.add_order(), shop.add_order()
    assert [o["Id"] for o in shop.newest_first()[:2]] == [second["Id"], first["Id"]]


async def test_wire_format_escapes_slashes(fake: FakePixlpark, shop: FakeShop) -> None:
    async with PixlparkClient("pk-7f3a9c2e41b8c6d5", "sk-d94e1a6b0c53f2a8", base_url=fake.url) as c:
        token = await c._auth.token()

    async with httpx.AsyncClient() as http:
        response = await http.get(f"{fake.url}/orders/2336327", params={"oauth_token": token})
    assert '"\\/Date(1595582820000)\\/"' in response.text


async def test_requests_are_recorded(fake: FakePixlpark, shop: FakeShop) -> None:
    async with PixlparkClient("pk-7f3a9c2e41b8c6d5", "sk-d94e1a6b0c53f2a8", base_url=fake.url) as c:
        await c.set_order_status("2336327", "Printing")
    last = fake.requests[-1]
    assert (last.method, last.path, last.form["newStatus"]) == (
        "POST",
        "/orders/2336327/status",
        "Printing",
    )
    assert fake.count("/orders", prefix=True) == 1
    assert fake.count(method="GET") == 2


async def test_standalone_run() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.fakes.pixlpark",
        "--port",
        "0",
        "--public-key",
        "demo-pub",
        "--private-key",
        "demo-priv",
        cwd=ROOT,
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 10)).decode()
        url = line.rsplit(" ", 1)[-1].strip()
        assert url.startswith("http://127.0.0.1:")
        async with PixlparkClient("demo-pub", "demo-priv", base_url=url) as client:
            assert await client.count_orders() >= 10
    finally:
        process.terminate()
        await process.wait()
