"""`PixlparkClient`: the async API client for one Pixlpark site (one pair of API keys)."""

from __future__ import annotations

import logging
import re
import time
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from types import TracebackType
from typing import Any, Self, TypeVar

import httpx
from pydantic import BaseModel

from pixlpark import endpoints
from pixlpark.auth import TokenManager
from pixlpark.endpoints import MAX_TAKE, Endpoint
from pixlpark.errors import AuthError, NotFound, StatusChangeFailed, UnexpectedResponse
from pixlpark.models import (
    Category,
    Comment,
    Discount,
    Order,
    OrderItem,
    Product,
    ShippingMethod,
    StatusChangeResult,
    User,
    parse_model,
)
from pixlpark.redact import install_log_redaction
from pixlpark.retry import RetryPolicy
from pixlpark.statuses import OrderStatus
from pixlpark.transport import Params, Transport, Unauthorized

logger = logging.getLogger("pixlpark.client")

DEFAULT_BASE_URL = "https://api.pixlpark.com"
_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_MAX_STALE_PAGES = 3
_NOT_SETTABLE = frozenset({OrderStatus.DELETED, OrderStatus.NONE, OrderStatus.PREPARING})
ModelT = TypeVar("ModelT", bound=BaseModel)

install_log_redaction()


class PixlparkClient:
    """Async client of the Pixlpark REST API for one site.

    Pass `http=` to share one `httpx.AsyncClient` between several clients; the caller then
    owns it and `close()` leaves it open. `timeout` applies to every request; `retry` sets
    how reads are retried; `refresh_margin` is how early (s) the token is renewed.
    """

    def __init__(
        self,
        public_key: str,
        private_key: str,
        *,
        base_url: str = DEFAULT_BASE_URL,
        http: httpx.AsyncClient | None = None,
        timeout: float | httpx.Timeout = 10.0,
        retry: RetryPolicy | None = None,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        if not public_key or not private_key:
            raise ValueError("both the public and the private key are required")
        install_log_redaction()
        self._owns_http = http is None
        self._http = http if http is not None else httpx.AsyncClient(follow_redirects=False)
        self._auth: TokenManager
        self._transport = Transport(
            base_url,
            self._http,
            timeout=timeout,
            retry=retry or RetryPolicy(),
            secrets=lambda: self._auth.secrets(),
        )
        self._auth = TokenManager(
            self._transport, public_key, private_key, refresh_margin=refresh_margin, clock=clock
        )

    def __repr__(self) -> str:
        return f"<PixlparkClient {self._transport.base_url}>"

    @property
    def base_url(self) -> str:
        """The API root this client talks to."""
        return self._transport.base_url

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP client if this client created it (a shared one stays open)."""
        if self._owns_http:
            await self._http.aclose()

    # --- authentication ---------------------------------------------

    async def check_credentials(self) -> None:
        """Log in now; raises `InvalidCredentials`, `ApiNotActivated`, `ServiceUnavailable`..."""
        await self._auth.login()

    # --- orders ---------------------------------------------

    async def list_orders(
        self,
        take: int = MAX_TAKE,
        skip: int = 0,
        status: str | None = None,
        user_id: int | str | None = None,
        shipping_id: int | str | None = None,
    ) -> list[Order]:
        """One page of `GET /orders` (newest first); `take` is 1..50."""
        if not 1 <= take <= MAX_TAKE:
            raise ValueError(f"take must be between 1 and {MAX_TAKE}")
        if skip < 0:
            raise ValueError("skip must not be negative")
        params: list[tuple[str, str]] = [("take", str(take)), ("skip", str(skip))]
        params += _optional(status=status, userId=user_id, shippingId=shipping_id)
        result = await self._call(endpoints.ORDERS, params=params)
        return [parse_model(Order, item, what="order") for item in result]

    async def iter_orders(
        self,
        status: str | None = None,
        user_id: int | str | None = None,
        shipping_id: int | str | None = None,
        page_size: int = MAX_TAKE,
        limit: int | None = None,
    ) -> AsyncIterator[Order]:
        """Every matching order, newest first, fetched in pages of at most 50.

        New orders appear at the top while we page, so pages may overlap: ids already
        yielded are skipped. Stops on a short page or after `limit` orders.
        """
        page_size = max(1, min(page_size, MAX_TAKE))
        seen: set[str] = set()
        skip = 0
        stale_pages = 0  # full pages in a row that brought nothing new
        while limit is None or len(seen) < limit:
            page = await self.list_orders(
                take=page_size, skip=skip, status=status, user_id=user_id, shipping_id=shipping_id
            )
            before = len(seen)
            for order in page:
                if order.id in seen:
                    continue
                seen.add(order.id)
                yield order
                if limit is not None and len(seen) >= limit:
                    return
            if len(page) < page_size:
                return
            stale_pages = 0 if len(seen) > before else stale_pages + 1
            if stale_pages >= _MAX_STALE_PAGES:
                logger.warning("GET /orders keeps repeating itself (skip ignored?); stopping")
                return
            skip += len(page)

    async def count_orders(self, statuses: Sequence[str] | str | None = None) -> int:
        """`GET /orders/count`, optionally only orders in any of `statuses`."""
        if isinstance(statuses, str):
            statuses = [statuses]
        params = [("statuses", str(status)) for status in statuses or ()]
        result = await self._call(endpoints.ORDERS_COUNT, params=params)
        if len(result) != 1 or not isinstance(result[0], dict):
            raise UnexpectedResponse("count answer is not [{count: N}]", path="/orders/count")
        value = result[0].get("count", result[0].get("Count"))
        if not isinstance(value, int) or isinstance(value, bool):
            raise UnexpectedResponse("count is not an integer", path="/orders/count")
        return value

    async def get_order(self, order_id: str | int) -> Order:
        """`GET /orders/{id}`; raises `NotFound` for an unknown id."""
        path = self._path(endpoints.ORDER, order_id=order_id)
        result = await self._call(endpoints.ORDER, path=path)
        orders = [parse_model(Order, item, what="order") for item in result]
        if not orders:
            raise NotFound(f"GET {path}: no such order", path=path, status=404)
        if len(orders) > 1:
            raise UnexpectedResponse(f"GET {path}: {len(orders)} orders for one id", path=path)
        return orders[0]

    async def get_order_items(self, order_id: str | int) -> list[OrderItem]:
        """`GET /orders/{id}/items`: the lines of an order."""
        path = self._path(endpoints.ORDER_ITEMS, order_id=order_id)
        result = await self._call(endpoints.ORDER_ITEMS, path=path)
        return [parse_model(OrderItem, item, what="order item") for item in result]

    async def set_order_status(
        self, order_id: str | int, status: str, send_notifications: bool = False
    ) -> StatusChangeResult:
        """`POST /orders/{id}/status` (never retried).

        Success and Warning ("already in this status") are returned; any other result type
        raises `StatusChangeFailed`. `Deleted`, `None` and `Preparing` are refused locally.
        """
        if not status or status in _NOT_SETTABLE:
            raise ValueError(f"status {status!r} cannot be set through the bot")
        path = self._path(endpoints.ORDER_STATUS, order_id=order_id)
        form = {
            "newStatus": str(status),
            "sendNotifications": "true" if send_notifications else "false",
        }
        result = await self._call(endpoints.ORDER_STATUS, path=path, data=form)
        entries = [
            parse_model(StatusChangeResult, entry, what="status change result")
            for entry in _flatten(result)
        ]
        if not entries:
            raise UnexpectedResponse(f"POST {path}: empty status change result", path=path)
        for entry in entries:
            if not entry.ok:
                raise StatusChangeFailed(
                    f"POST {path}: {entry.type or 'no type'}: {entry.description or ''}".rstrip(
                        ": "
                    ),
                    result=entry,
                    path=path,
                )
        return entries[0]

    async def add_order_comment(self, order_id: str | int, text: str, email: str) -> Comment:
        """`POST /orders/{id}/comments` as the Pixlpark user `email` (never retried)."""
        path = self._path(endpoints.ORDER_COMMENTS, order_id=order_id)
        result = await self._call(
            endpoints.ORDER_COMMENTS, path=path, data={"email": email, "comment": text}
        )
        if not result:
            raise UnexpectedResponse(f"POST {path}: empty answer", path=path)
        return parse_model(Comment, result[0], what="comment")

    # --- users and catalogue ---------------------------------------------

    async def get_user(self, user_id: str | int) -> User:
        """`GET /users/{id}`; raises `NotFound` for an unknown id."""
        path = self._path(endpoints.USER, user_id=user_id)
        result = await self._call(endpoints.USER, path=path)
        if not result:
            raise NotFound(f"GET {path}: no such user", path=path, status=404)
        return parse_model(User, result[0], what="user")

    async def find_user_by_email(self, email: str) -> User | None:
        """`GET /users/byEmail` (parameter name GUESS); None when there is no such user."""
        params = [(endpoints.USER_BY_EMAIL_PARAM, email)]
        try:
            result = await self._call(endpoints.USER_BY_EMAIL, params=params)
        except NotFound:
            return None
        return parse_model(User, result[0], what="user") if result else None

    async def get_categories(self) -> list[Category]:
        """`GET /products`: the product categories."""
        result = await self._call(endpoints.PRODUCT_CATEGORIES)
        return [parse_model(Category, item, what="category") for item in result]

    async def get_products(self, category_id: str | int | None = None) -> list[Product]:
        """Products of one category, or of every category when `category_id` is None."""
        if category_id is not None:
            path = self._path(endpoints.CATEGORY_PRODUCTS, category_id=category_id)
            result = await self._call(endpoints.CATEGORY_PRODUCTS, path=path)
            return [parse_model(Product, item, what="product") for item in result]
        products: dict[str, Product] = {}
        for category in await self.get_categories():
            if category.id is None:
                continue
            for product in await self.get_products(category.id):
                products.setdefault(product.id or f"#{len(products)}", product)
        return list(products.values())

    async def get_shipping_methods(self) -> list[ShippingMethod]:
        """`GET /shippings` (GUESS path): the site's delivery methods."""
        result = await self._call(endpoints.SHIPPINGS)
        return [parse_model(ShippingMethod, item, what="shipping method") for item in result]

    async def get_discounts(self) -> list[Discount]:
        """`GET /discounts` (GUESS path): the site's discounts."""
        result = await self._call(endpoints.DISCOUNTS)
        return [parse_model(Discount, item, what="discount") for item in result]

    # --- plumbing ---------------------------------------------

    @staticmethod
    def _path(endpoint: Endpoint, **ids: str | int) -> str:
        for name, value in ids.items():
            if not _ID_RE.match(str(value)):
                # An id that cannot exist; never put arbitrary text into the URL path.
                raise NotFound(f"{endpoint.method} {endpoint.path}: invalid {name}")
        return endpoint.format(**ids)

    async def _call(
        self,
        endpoint: Endpoint,
        *,
        path: str | None = None,
        params: Params = (),
        data: dict[str, str] | None = None,
    ) -> list[Any]:
        """Authenticated call; on HTTP 401 log in again once and repeat the call once."""
        path = path or endpoint.path
        for attempt in (1, 2):
            token = await self._auth.token()
            try:
                result: list[Any] = await self._transport.request(
                    endpoint, path, params=[*params, ("oauth_token", token)], data=data
                )
                return result
            except Unauthorized:
                if attempt == 2:
                    raise AuthError(
                        f"{endpoint.method} {path}: HTTP 401 even after a fresh login", path=path
                    ) from None
                logger.info("%s %s: HTTP 401, logging in again", endpoint.method, path)
                await self._auth.invalidate(token)
        raise AssertionError("unreachable")


def _optional(**params: object) -> list[tuple[str, str]]:
    return [(name, str(value)) for name, value in params.items() if value is not None]


def _flatten(result: Iterable[Any]) -> list[Any]:
    """`[[{...}]]` (documented) or `[{...}]` → a flat list of entries."""
    flat: list[Any] = []
    for entry in result:
        flat.extend(entry if isinstance(entry, list) else [entry])
    return flat
