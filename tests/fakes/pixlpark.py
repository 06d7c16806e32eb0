"""A stateful fake of api.pixlpark.com on a loopback port, for tests and manual runs.

    async with FakePixlpark(token_lifetime=3600) as fake:      # or: url = await fake.start()
        shop = fake.add_shop("pub", "priv", photolab_id=1164)
        shop.load_sample_orders(); order = shop.add_order(Status="Printed")
        client = PixlparkClient("pub", "priv", base_url=fake.url)
        fake.fail_next("/orders", 503, times=2); fake.count("/oauth/accesstoken")

Paths come from `pixlpark.endpoints` so client and fake agree; GUESS endpoints can be
switched off (`fake.disable("shippings")`) to answer a plain 404. Run it on its own with
`python -m tests.fakes.pixlpark --port 8081`; the demo shop's keys are printed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import hashlib
import secrets
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import aiohttp
from aiohttp import web

from pixlpark import endpoints
from pixlpark.statuses import OrderStatus
from tests.fakes.pixlpark_data import (
    NOT_FOUND_BODY,
    STATUS_WARNING_TEXT,
    default_catalogue,
    default_discounts,
    default_shippings,
    envelope,
    load_fixture,
    make_items,
    make_order,
    make_user,
    net_date,
    net_date_ms,
    now_ms,
    to_wire,
    webhook_body,
)

NOT_ACTIVATED_ERROR = "API access is not activated"
INVALID_CREDENTIALS_ERROR = "Invalid public key or password"
FAULTS = ("slow", "malformed", "success_false", "response_code_404", "drop")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RecordedRequest:
    """One request the fake received. `query` keeps the last value of each name."""

    method: str
    path: str
    query: dict[str, str]
    query_list: list[tuple[str, str]]
    form: dict[str, str]
    time: float
    shop: str | None = None  # public key of the shop the token belonged to


@dataclass
class Fault:
    """A pending injected fault (see `FakePixlpark.fail_next`)."""

    prefix: str | None
    kind: int | str
    times: int
    retry_after: float
    delay: float


@dataclass
class StatusChange:
    """A recorded `POST /orders/{id}/status`."""

    order_id: str
    old: str | None
    new: str
    send_notifications: bool
    result_type: str


@dataclass
class _Token:
    shop: FakeShop
    expires_at: float
    refresh: bool = False


class FakeShop:
    """One Pixlpark site (photolab) with its own keys, orders, users and catalogue."""

    def __init__(
        self,
        fake: FakePixlpark,
        public_key: str,
        private_key: str,
        *,
        photolab_id: int,
        activated: bool,
    ):
        self.fake = fake
        self.public_key = public_key
        self.private_key = private_key
        self.photolab_id = photolab_id
        self.activated = activated
        self.orders: dict[str, dict[str, Any]] = {}
        self.items: dict[str, list[dict[str, Any]]] = {}
        self.comments: dict[str, list[dict[str, Any]]] = {}
        self.users: dict[str, dict[str, Any]] = {}
        self.categories, self.products = default_catalogue()
        self.shippings = default_shippings()
        self.discounts = default_discounts()
        self.status_changes: list[StatusChange] = []

    def __repr__(self) -> str:
        return f"<FakeShop photolab={self.photolab_id} orders={len(self.orders)}>"

    # --- orders ---------------------------------------------

    def add_order(self, **overrides: Any) -> dict[str, Any]:
        """Create an order newer than every existing one; returns the stored API-shape dict.

        `overrides` use API keys (`Status="Printed"`, `Id="123"`, `DateCreated=datetime`).
        """
        seq = self.fake.next_seq()
        order_id = str(overrides.pop("Id", 5_900_000 + seq))
        created = max([now_ms(), *(self._created(o) + 60_000 for o in self.orders.values())])
        order = make_order(order_id, self.photolab_id, created, seq, **overrides)
        self.orders[order_id] = order
        self.items[order_id] = make_items(order, seq)
        self._ensure_user(order.get("UserId"))
        return order

    def load_sample_orders(self) -> list[dict[str, Any]]:
        """Add the 10 orders of `orders_list.json` (PhotolabId set to this shop's)."""
        added = []
        for seq, sample in enumerate(load_fixture("orders_list.json")["Result"]):
            sample["PhotolabId"] = self.photolab_id
            self.orders[sample["Id"]] = sample
            self.items[sample["Id"]] = make_items(sample, seq)
            self._ensure_user(sample.get("UserId"))
            added.append(sample)
        return added

    def webhook_body(self, order_id: str | int) -> dict[str, Any]:
        """The webhook DTO Pixlpark would post for the order as it is now (with its items)."""
        order = self.orders[str(order_id)]
        user = self.users.get(str(order.get("UserId")))
        return webhook_body(order, user=user, items=self.items.get(str(order_id)))

    def update_order(self, order_id: str | int, **changes: Any) -> dict[str, Any]:
        """Change fields of an order (API keys) and bump its `DateModified`."""
        order = self.orders[str(order_id)]
        for key, value in changes.items():
            order[key] = net_date(value) if isinstance(value, datetime) else value
        if "DateModified" not in changes:
            previous = net_date_ms(order.get("DateModified")) or 0
            order["DateModified"] = net_date(max(now_ms(), previous + 1000))
        return order

    def add_comment(
        self, order_id: str | int, text: str, email: str = "manager@example.com"
    ) -> dict[str, Any]:
        """Add a comment to an order as the user `email`; returns the comment object."""
        order = self.orders[str(order_id)]
        author = next((u for u in self.users.values() if u.get("Email") == email), None)
        comment = {
            "Id": 700_000 + self.fake.next_seq(),
            "OrderId": int(order["Id"]),
            "Status": "Active",
            "DateCreated": net_date(now_ms()),
            "BodySource": text,
            "UserCreatedId": author["Id"] if author else None,
        }
        self.comments.setdefault(str(order_id), []).append(comment)
        order["CommentsCount"] = int(order.get("CommentsCount") or 0) + 1
        self.update_order(order_id)
        return comment

    def add_user(self, **overrides: Any) -> dict[str, Any]:
        """Add a user (fields are GUESSES); `Id` and `Email` can be given."""
        user_id = int(overrides.pop("Id", 80_000_000 + self.fake.next_seq()))
        user = make_user(user_id, **overrides)
        self.users[str(user_id)] = user
        return user

    def newest_first(self) -> list[dict[str, Any]]:
        """Orders as `GET /orders` lists them: newest `DateCreated` first."""
        return sorted(
            self.orders.values(), key=lambda o: (self._created(o), int(o["Id"])), reverse=True
        )

    def _ensure_user(self, user_id: object) -> None:
        if user_id is not None and str(user_id) not in self.users:
            self.users[str(user_id)] = make_user(int(str(user_id)))

    @staticmethod
    def _created(order: dict[str, Any]) -> int:
        return net_date_ms(order.get("DateCreated")) or 0


SHOP_KEY = web.RequestKey("shop", FakeShop)


class FakePixlpark:
    """The fake API server. See the module docstring for a tour."""

    def __init__(
        self,
        *,
        token_lifetime: float = 3600.0,
        refresh_token_lifetime: float | None = None,
        slow_delay: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.token_lifetime = token_lifetime
        self.refresh_token_lifetime = refresh_token_lifetime
        self.slow_delay = slow_delay
        self.clock = clock
        self.shops: dict[str, FakeShop] = {}
        self.requests: list[RecordedRequest] = []
        self.webhooks_sent: list[tuple[str, dict[str, Any], int]] = []
        self.faults: list[Fault] = []
        self.disabled: set[str] = set()
        self.down = False
        self.not_found_in_200 = False
        self._hang_released = asyncio.Event()
        self._hang_released.set()
        self._request_tokens: dict[str, float] = {}
        self._tokens: dict[str, _Token] = {}
        self._issued: list[str] = []
        self._seq = 0
        self._runner: web.AppRunner | None = None
        self.url = ""

    # --- lifecycle ---------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening; returns the base URL (e.g. `http://127.0.0.1:41234`)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        self._runner = web.AppRunner(self._make_app(), access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.SockSite(self._runner, sock).start()
        self.url = f"http://{host}:{sock.getsockname()[1]}"
        return self.url

    async def stop(self) -> None:
        """Stop the server, releasing any hung requests first."""
        self.hang = False
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- configuration ---------------------------------------------

    def add_shop(
        self,
        public_key: str,
        private_key: str,
        *,
        photolab_id: int = 1164,
        activated: bool = True,
    ) -> FakeShop:
        """Register a site with its keys. `activated=False` answers "not activated" logins."""
        shop = FakeShop(self, public_key, private_key, photolab_id=photolab_id, activated=activated)
        self.shops[public_key] = shop
        return shop

    @property
    def hang(self) -> bool:
        """While True every request waits (outage with no answer) until set back to False."""
        return not self._hang_released.is_set()

    @hang.setter
    def hang(self, value: bool) -> None:
        if value:
            self._hang_released.clear()
        else:
            self._hang_released.set()

    def fail_next(
        self,
        path_prefix: str | None,
        fault: int | str,
        times: int = 1,
        *,
        retry_after: float = 1,
        delay: float | None = None,
    ) -> None:
        """Make the next `times` requests whose path starts with `path_prefix` (None: any) fail.

        `fault`: an HTTP status (401, 429 with Retry-After, 500, 502, 503, ...), "slow"
        (sleep `delay`/`slow_delay` s, then answer normally), "malformed" (invalid JSON),
        "success_false", "response_code_404" (404 inside HTTP 200) or "drop" (close the
        connection without an answer).
        """
        if not isinstance(fault, int) and fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}")
        self.faults.append(
            Fault(
                path_prefix, fault, times, retry_after, self.slow_delay if delay is None else delay
            )
        )

    def disable(self, endpoint: str) -> None:
        """Make an endpoint (name like "shippings" or path like "/shippings") answer 404."""
        self.disabled.add(self._endpoint_name(endpoint))

    def enable(self, endpoint: str) -> None:
        """Undo `disable`."""
        self.disabled.discard(self._endpoint_name(endpoint))

    def expire_tokens(self, *, refresh: bool = False) -> None:
        """Expire every access token now (and refresh tokens too if `refresh`)."""
        now = self.clock()
        for token in self._tokens.values():
            if refresh or not token.refresh:
                token.expires_at = now

    # --- inspection ---------------------------------------------

    def count(
        self, path: str | None = None, *, method: str | None = None, prefix: bool = False
    ) -> int:
        """How many requests hit `path` (exactly, or as a prefix), optionally by method."""
        return len(self.requests_to(path, method=method, prefix=prefix))

    def requests_to(
        self, path: str | None = None, *, method: str | None = None, prefix: bool = False
    ) -> list[RecordedRequest]:
        """The recorded requests matching `path`/`method` (see `count`)."""
        return [
            r
            for r in self.requests
            if (path is None or (r.path.startswith(path) if prefix else r.path == path))
            and (method is None or r.method == method.upper())
        ]

    def issued_tokens(self) -> list[str]:
        """Every request, access and refresh token handed out so far (for leak checks)."""
        return list(self._issued)

    def next_seq(self) -> int:
        """A counter used for generated ids."""
        self._seq += 1
        return self._seq

    # --- webhooks ---------------------------------------------

    async def send_webhook(
        self,
        url: str,
        shop: FakeShop,
        order_id: str | int,
        *,
        headers: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> tuple[int, str]:
        """POST the order's webhook DTO (or `body`) as JSON to `url`; returns (status, text)."""
        if body is None:
            body = shop.webhook_body(order_id)
        async with (
            aiohttp.ClientSession() as session,
            session.post(url, json=body, headers=headers or {}) as response,
        ):
            text = await response.text()
            self.webhooks_sent.append((url, body, response.status))
            return response.status, text

    # --- the aiohttp application ---------------------------------------------

    def _make_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware])
        handlers: dict[str, Handler] = {
            "request_token": self._request_token,
            "access_token": self._access_token,
            "refresh_token": self._refresh_token,
            "orders": self._orders,
            "orders_count": self._orders_count,
            "order": self._order,
            "order_items": self._order_items,
            "order_status": self._order_status,
            "order_comments": self._order_comments,
            "user_by_email": self._user_by_email,
            "user": self._user,
            "product_categories": self._categories,
            "category_products": self._category_products,
            "shippings": self._shippings,
            "discounts": self._discounts,
        }
        for name, endpoint in endpoints.ENDPOINTS.items():
            app.router.add_route(endpoint.method, endpoint.path, handlers[name], name=name)
        return app

    @web.middleware
    async def _middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        form = dict(await request.post()) if request.method == "POST" else {}
        record = RecordedRequest(
            method=request.method,
            path=request.path,
            query=dict(request.query),
            query_list=list(request.query.items()),
            form={key: str(value) for key, value in form.items()},
            time=self.clock(),
        )
        self.requests.append(record)
        await self._hang_released.wait()
        if self.down:
            return _error(503, "Service Unavailable")
        fault = self._take_fault(request.path)
        if fault is not None:
            response = await self._apply_fault(fault, request)
            if response is not None:
                return response
        route_name = request.match_info.route.name
        if route_name in self.disabled:
            return web.Response(status=404, text="404: Not Found")
        endpoint = endpoints.ENDPOINTS.get(route_name or "")
        if endpoint is not None and endpoint.authenticated:
            token = self._tokens.get(request.query.get("oauth_token", ""))
            if token is None or token.refresh or token.expires_at <= self.clock():
                return _error(401, "Authorization has been denied for this request.")
            request[SHOP_KEY] = token.shop
            record.shop = token.shop.public_key
        return await handler(request)

    def _take_fault(self, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.prefix is None or path.startswith(fault.prefix):
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    async def _apply_fault(self, fault: Fault, request: web.Request) -> web.StreamResponse | None:
        kind = fault.kind
        if isinstance(kind, int):
            response = _error(kind, f"Injected HTTP {kind}")
            if kind == 429:
                response.headers["Retry-After"] = f"{fault.retry_after:g}"
            return response
        if kind == "slow":
            await asyncio.sleep(fault.delay)
            return None
        if kind == "malformed":
            return web.Response(
                text='{"ApiVersion": "1.0", "Result": [', content_type="application/json"
            )
        if kind == "success_false":
            if request.path.startswith("/oauth/"):
                return _json({"Success": False, "Error": "Injected failure"})
            return _json(
                {"ApiVersion": "1.0", "Success": False, "ErrorMessage": "Injected failure"}
            )
        if kind == "response_code_404":
            return _json(NOT_FOUND_BODY)
        # "drop": close the connection without answering.
        if request.transport is not None:
            request.transport.abort()
        return web.Response()

    def _endpoint_name(self, endpoint: str) -> str:
        for name, known in endpoints.ENDPOINTS.items():
            if endpoint in (name, known.path):
                return name
        raise ValueError(f"unknown endpoint {endpoint!r}")

    def _not_found(self) -> web.Response:
        return _json(NOT_FOUND_BODY, status=200 if self.not_found_in_200 else 404)

    # --- oauth ---------------------------------------------

    def _issue(self, shop: FakeShop) -> dict[str, Any]:
        now = self.clock()
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        refresh_lifetime = self.refresh_token_lifetime or self.token_lifetime
        self._tokens[access] = _Token(shop, now + self.token_lifetime)
        self._tokens[refresh] = _Token(shop, now + refresh_lifetime, refresh=True)
        self._issued += [access, refresh]
        lifetime = self.token_lifetime
        return {
            "RequestToken": None,
            "AccessToken": access,
            "Expires": int(lifetime) if float(lifetime).is_integer() else lifetime,
            "RefreshToken": refresh,
            "Scope": None,
            "Error": None,
            "Success": True,
            "RequireSsl": False,
        }

    async def _request_token(self, request: web.Request) -> web.Response:
        token = secrets.token_hex(16)
        self._request_tokens[token] = self.clock() + 600
        self._issued.append(token)
        return _json({"RequestToken": token, "Expires": 600, "Success": True})

    async def _access_token(self, request: web.Request) -> web.Response:
        query = request.query
        request_token = query.get("oauth_token", "")
        shop = self.shops.get(query.get("username", ""))
        if self._request_tokens.get(request_token, 0) <= self.clock():
            return _json({"Success": False, "Error": "Invalid request token"})
        if query.get("grant_type") != "api":
            return _json({"Success": False, "Error": "Unsupported grant_type"})
        if shop is None:
            return _json({"Success": False, "Error": INVALID_CREDENTIALS_ERROR})
        expected = hashlib.sha1((request_token + shop.private_key).encode()).hexdigest()
        if query.get("password", "").lower() != expected:
            return _json({"Success": False, "Error": INVALID_CREDENTIALS_ERROR})
        if not shop.activated:
            return _json({"Success": False, "Error": NOT_ACTIVATED_ERROR})
        return _json(self._issue(shop))

    async def _refresh_token(self, request: web.Request) -> web.Response:
        value = request.query.get("refreshToken") or request.query.get("refreshtoken") or ""
        token = self._tokens.get(value)
        if token is None or not token.refresh or token.expires_at <= self.clock():
            return _json({"Success": False, "Error": "Invalid refresh token"})
        del self._tokens[value]
        return _json(self._issue(token.shop))

    # --- orders ---------------------------------------------

    async def _orders(self, request: web.Request) -> web.Response:
        shop: FakeShop = request[SHOP_KEY]
        query = request.query
        take, skip = int(query.get("take", 10)), int(query.get("skip", 0))
        orders = shop.newest_first()
        if "status" in query:
            orders = [o for o in orders if o.get("Status") == query["status"]]
        if "userId" in query:
            orders = [o for o in orders if str(o.get("UserId")) == query["userId"]]
        if "shippingId" in query:
            orders = [
                o for o in orders if str((o.get("Shipping") or {}).get("Id")) == query["shippingId"]
            ]
        return _json(envelope(orders[skip : skip + take]))

    async def _orders_count(self, request: web.Request) -> web.Response:
        shop: FakeShop = request[SHOP_KEY]
        wanted = set(request.query.getall("statuses", []))
        count = sum(1 for o in shop.orders.values() if not wanted or o.get("Status") in wanted)
        return _json(envelope([{"count": count}]))

    async def _order(self, request: web.Request) -> web.Response:
        order = request[SHOP_KEY].orders.get(request.match_info["order_id"])
        return _json(envelope([order])) if order is not None else self._not_found()

    async def _order_items(self, request: web.Request) -> web.Response:
        shop: FakeShop = request[SHOP_KEY]
        order_id = request.match_info["order_id"]
        if order_id not in shop.orders:
            return self._not_found()
        return _json(envelope(shop.items.get(order_id, [])))

    async def _order_status(self, request: web.Request) -> web.Response:
        shop: FakeShop = request[SHOP_KEY]
        order_id = request.match_info["order_id"]
        order = shop.orders.get(order_id)
        if order is None:
            return self._not_found()
        form = await request.post()
        new = str(form.get("newStatus", ""))
        notify = str(form.get("sendNotifications", "false")).lower() == "true"
        if not new:
            return _error(400, "newStatus is required")
        old = order.get("Status")
        if new not in set(OrderStatus):
            kind, text = "Error", f"Неизвестный статус: {new}"
        elif new == old:
            kind, text = "Warning", STATUS_WARNING_TEXT
        else:
            kind, text = "Success", "Статус заказа изменён."
            if new == OrderStatus.DELETED:
                del shop.orders[order_id]
            else:
                shop.update_order(order_id, Status=new)
        shop.status_changes.append(StatusChange(order_id, old, new, notify, kind))
        stamp = datetime.now().strftime("%d.%m.%Y %H:%M")
        return _json(envelope([[{"Type": kind, "Description": text, "DateCreated": stamp}]]))

    async def _order_comments(self, request: web.Request) -> web.Response:
        shop: FakeShop = request[SHOP_KEY]
        order_id = request.match_info["order_id"]
        if order_id not in shop.orders:
            return self._not_found()
        form = await request.post()
        text, email = str(form.get("comment", "")), str(form.get("email", ""))
        if not text or not email:
            return _error(400, "comment and email are required")
        return _json(envelope([shop.add_comment(order_id, text, email)]))

    # --- users and catalogue ---------------------------------------------

    async def _user(self, request: web.Request) -> web.Response:
        user = request[SHOP_KEY].users.get(request.match_info["user_id"])
        return _json(envelope([user])) if user is not None else self._not_found()

    async def _user_by_email(self, request: web.Request) -> web.Response:
        email = request.query.get(endpoints.USER_BY_EMAIL_PARAM, "").lower()
        users = request[SHOP_KEY].users.values()
        user = next((u for u in users if str(u.get("Email", "")).lower() == email), None)
        return _json(envelope([user])) if user is not None else self._not_found()

    async def _categories(self, request: web.Request) -> web.Response:
        return _json(envelope(request[SHOP_KEY].categories))

    async def _category_products(self, request: web.Request) -> web.Response:
        products = request[SHOP_KEY].products.get(request.match_info["category_id"])
        return _json(envelope(products)) if products is not None else self._not_found()

    async def _shippings(self, request: web.Request) -> web.Response:
        return _json(envelope(request[SHOP_KEY].shippings))

    async def _discounts(self, request: web.Request) -> web.Response:
        return _json(envelope(request[SHOP_KEY].discounts))


def _json(payload: Any, status: int = 200) -> web.Response:
    return web.Response(
        text=to_wire(payload), status=status, content_type="application/json", charset="utf-8"
    )


def _error(code: int, message: str) -> web.Response:
    body = {"ApiVersion": "1.0", "ErrorMessage": message, "ResponseCode": code}
    return _json(body, status=code)


async def _serve(args: argparse.Namespace) -> None:
    fake = FakePixlpark(token_lifetime=args.token_lifetime)
    shop = fake.add_shop(args.public_key, args.private_key, photolab_id=1164)
    shop.load_sample_orders()
    for _ in range(args.orders):
        shop.add_order()
    shop.add_user(Email="manager@example.com", FirstName="Менеджер")
    url = await fake.start(args.host, args.port)
    print(f"Fake Pixlpark API at {url}")
    print(f"  public key:  {args.public_key}")
    print(f"  private key: {args.private_key}")
    print(f"  orders: {len(shop.orders)}; Ctrl+C to stop")
    try:
        await asyncio.Event().wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    """Command line: `python -m tests.fakes.pixlpark --port 8081`."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.pixlpark")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--public-key", default="demo-public-key")
    parser.add_argument("--private-key", default="demo-private-key")
    parser.add_argument("--token-lifetime", type=float, default=3600.0)
    parser.add_argument("--orders", type=int, default=5, help="generated orders besides samples")
    args = parser.parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args))


if __name__ == "__main__":
    main()
