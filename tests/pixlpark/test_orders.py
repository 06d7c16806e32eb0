"""Order, user and catalogue methods against the fake, including paging with overlaps."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from pixlpark import PixlparkClient
from tests.fakes.pixlpark import FakePixlpark, FakeShop
from tests.pixlpark.conftest import ClientFactory

SAMPLE_IDS_NEWEST_FIRST = [
    "2336327",
    "2336321",
    "2333760",
]


async def test_list_orders_newest_first(client: PixlparkClient, fake: FakePixlpark) -> None:
    orders = await client.list_orders(take=10)
    assert [o.id for o in orders][:3] == SAMPLE_IDS_NEWEST_FIRST
    assert len(orders) == 10
    request = fake.requests_to("/orders")[0]
    assert request.query["take"] == "10"
    assert request.query["skip"] == "0"
    assert "status" not in request.query


async def test_list_orders_filters(
    client: PixlparkClient, fake: FakePixlpark, shop: FakeShop
) -> None:
    printed = shop.add_order(Status="Printed", UserId=42)
    orders = await client.list_orders(status="Printed", user_id=42, shipping_id=8106, take=5)
    query = fake.requests_to("/orders")[0].query
    assert query == {
        "take": "5",
        "skip": "0",
        "status": "Printed",
        "userId": "42",
        "shippingId": "8106",
        "oauth_token": query["oauth_token"],
    }
    expected = [printed["Id"]] if printed["Shipping"]["Id"] == 8106 else []
    assert [o.id for o in orders] == expected


@pytest.mark.parametrize("take", [0, 51])
async def test_take_is_bounded(client: PixlparkClient, take: int) -> None:
    with pytest.raises(ValueError):
        await client.list_orders(take=take)


async def test_count_orders(client: PixlparkClient, fake: FakePixlpark, shop: FakeShop) -> None:
    shop.add_order(Status="Printed")
    shop.add_order(Status="Delivered")
    assert await client.count_orders() == 12
    assert await client.count_orders(["Printed", "Delivered"]) == 2
    assert await client.count_orders("NotProcessed") == sum(
        1 for o in shop.orders.values() if o["Status"] == "NotProcessed"
    )
    pairs = fake.requests_to("/orders/count")[1].query_list
    assert [value for name, value in pairs if name == "statuses"] == ["Printed", "Delivered"]


async def test_get_order_fields(client: PixlparkClient) -> None:
    order = await client.get_order(2336327)
    assert order.id == "2336327"
    assert order.total_price == Decimal("700.0")
    assert order.amount_due == Decimal("700")
    assert order.shipping is not None and order.shipping.type == "Courier"
    assert order.date_created is not None and order.date_created.tzinfo is not None


async def test_order_items(client: PixlparkClient) -> None:
    items = await client.get_order_items("2336327")
    assert len(items) == 1
    assert items[0].order_id == "2336327"
    assert items[0].options and items[0].options[0].sku_items


async def test_set_status(client: PixlparkClient, fake: FakePixlpark, shop: FakeShop) -> None:
    before = shop.orders["2336327"]["DateModified"]
    result = await client.set_order_status("2336327", "Printing", send_notifications=True)
    assert result.type == "Success" and result.ok
    request = fake.requests_to("/orders/2336327/status")[0]
    assert request.method == "POST"
    assert request.form == {"newStatus": "Printing", "sendNotifications": "true"}
    assert shop.orders["2336327"]["Status"] == "Printing"
    assert shop.orders["2336327"]["DateModified"] != before
    assert (await client.get_order("2336327")).status == "Printing"


async def test_same_status_is_a_warning(client: PixlparkClient, shop: FakeShop) -> None:
    result = await client.set_order_status("2336327", "NotProcessed")
    assert result.type == "Warning"
    assert result.description == "Заказ уже находится в этом статусе."
    assert result.date_created is not None
    assert shop.status_changes[-1].send_notifications is False


async def test_add_comment(client: PixlparkClient, fake: FakePixlpark, shop: FakeShop) -> None:
    staff = shop.add_user(Email="manager@example.com")
    comment = await client.add_order_comment(
        "2336327", "Клиент просит позвонить", "manager@example.com"
    )
    assert comment.order_id == "2336327"
    assert comment.body_source == "Клиент просит позвонить"
    assert comment.user_created_id == str(staff["Id"])
    assert fake.requests_to("/orders/2336327/comments")[0].form == {
        "email": "manager@example.com",
        "comment": "Клиент просит позвонить",
    }
    assert (await client.get_order("2336327")).comments_count == 1


async def test_users(client: PixlparkClient, shop: FakeShop, fake: FakePixlpark) -> None:
    user = await client.get_user(78238538)
    assert user.id == "78238538"
    assert user.email
    found = await client.find_user_by_email(user.email.upper())
    assert found is not None and found.id == user.id
    assert fake.requests_to("/users/byEmail")[0].query["email"] == user.email.upper()


async def test_catalogue(client: PixlparkClient) -> None:
    categories = await client.get_categories()
    assert [c.id for c in categories] == ["11", "12"]
    assert [p.id for p in await client.get_products("12")] == ["1002", "1003"]
    assert len(await client.get_products()) == 3
    methods = await client.get_shipping_methods()
    assert {m.type for m in methods} == {"Point", "Courier"}
    discounts = await client.get_discounts()
    assert discounts[0].percent == Decimal("10.0")


async def test_iter_orders_all_pages(
    client: PixlparkClient, fake: FakePixlpark, shop: FakeShop
) -> None:
    for _ in range(110):
        shop.add_order()
    ids = [order.id async for order in client.iter_orders()]
    assert len(ids) == 120 == len(set(ids))
    assert [r.query["skip"] for r in fake.requests_to("/orders")] == ["0", "50", "100"]
    assert all(r.query["take"] == "50" for r in fake.requests_to("/orders"))


async def test_iter_orders_with_orders_added_between_pages(
    client: PixlparkClient, fake: FakePixlpark, shop: FakeShop
) -> None:
    for _ in range(95):
        shop.add_order()
    before = {order["Id"] for order in shop.orders.values()}
    seen: list[str] = []
    async for order in client.iter_orders(page_size=20):
        seen.append(order.id)
        if len(seen) % 20 == 0:  # a page is consumed: new orders land on top of the list
            shop.add_order()
            shop.add_order()
    assert len(seen) == len(set(seen)), "duplicates across overlapping pages"
    assert before <= set(seen), "orders missed"


async def test_iter_orders_when_a_whole_page_is_inserted(
    client: PixlparkClient, shop: FakeShop
) -> None:
    for _ in range(25):
        shop.add_order()
    before = {order["Id"] for order in shop.orders.values()}
    seen: list[str] = []
    async for order in client.iter_orders(page_size=10):
        seen.append(order.id)
        if len(seen) == 10:  # exactly one page of new orders: page 2 repeats page 1
            for _ in range(10):
                shop.add_order()
    assert len(seen) == len(set(seen))
    assert before <= set(seen)


async def test_iter_orders_limit_and_status(
    client: PixlparkClient, fake: FakePixlpark, shop: FakeShop
) -> None:
    for _ in range(30):
        shop.add_order(Status="Printed")
    orders = [o async for o in client.iter_orders(status="Printed", page_size=10, limit=25)]
    assert len(orders) == 25
    assert {o.status for o in orders} == {"Printed"}
    assert fake.count("/orders") == 3


async def test_iter_orders_stops_when_skip_is_ignored() -> None:
    """A server that ignores `skip` must not make the iterator loop forever."""
    page = [{"Id": str(n)} for n in range(50)]

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/requesttoken":
            return httpx.Response(200, json={"RequestToken": "r" * 32, "Success": True})
        if request.url.path == "/oauth/accesstoken":
            return httpx.Response(200, json={"AccessToken": "a" * 32, "Success": True})
        return httpx.Response(200, json={"ApiVersion": "1.0", "Result": page, "ResponseCode": 200})

    async with httpx.AsyncClient(transport=httpx.MockTransport(handler)) as http:
        client = PixlparkClient("pub", "priv", base_url="http://pixlpark.test", http=http)
        ids = [order.id async for order in client.iter_orders()]
    assert len(ids) == 50


async def test_shared_http_client(fake: FakePixlpark) -> None:
    first = fake.add_shop("pub-one", "priv-one", photolab_id=1)
    second = fake.add_shop("pub-two", "priv-two", photolab_id=2)
    one, two = first.add_order(), second.add_order()
    async with httpx.AsyncClient() as http:
        client_one = PixlparkClient("pub-one", "priv-one", base_url=fake.url, http=http)
        client_two = PixlparkClient("pub-two", "priv-two", base_url=fake.url, http=http)
        assert [o.id for o in await client_one.list_orders()] == [one["Id"]]
        assert [o.id for o in await client_two.list_orders()] == [two["Id"]]
        await client_one.close()
        assert not http.is_closed
        assert (await client_two.get_order(two["Id"])).photolab_id == 2
    tokens = {r.query["oauth_token"] for r in fake.requests_to("/orders")}
    assert len(tokens) == 2


async def test_owned_http_client_closed_on_exit(make_client: ClientFactory, shop: FakeShop) -> None:
    async with make_client() as client:
        await client.count_orders()
        http = client._http
    assert http.is_closed
