"""The one table of Pixlpark endpoints used by the client, with how sure we are of each.

Confidence follows `pixlpark-api.md`. A 404 answered by a GUESS endpoint is reported as
`NotSupported` rather than `NotFound` (see `pixlpark.http`).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Confidence(StrEnum):
    """How well an endpoint is documented."""

    CONFIRMED = "CONFIRMED"
    LIKELY = "LIKELY"
    GUESS = "GUESS"


@dataclass(frozen=True)
class Endpoint:
    """One API method: HTTP method, path template (`{name}` placeholders) and confidence."""

    name: str
    method: str
    path: str
    confidence: Confidence
    authenticated: bool = True

    @property
    def idempotent(self) -> bool:
        """Reads may be retried; writes never are."""
        return self.method == "GET"

    @property
    def guessed(self) -> bool:
        """True when the path itself is a guess."""
        return self.confidence is Confidence.GUESS

    def format(self, **params: object) -> str:
        """The concrete path, e.g. `/orders/2336327`."""
        return self.path.format(**{key: str(value) for key, value in params.items()})


C, L, G = Confidence.CONFIRMED, Confidence.LIKELY, Confidence.GUESS

REQUEST_TOKEN = Endpoint("request_token", "GET", "/oauth/requesttoken", C, authenticated=False)
ACCESS_TOKEN = Endpoint("access_token", "GET", "/oauth/accesstoken", C, authenticated=False)
REFRESH_TOKEN = Endpoint("refresh_token", "GET", "/oauth/refreshtoken", C, authenticated=False)

ORDERS = Endpoint("orders", "GET", "/orders", C)
ORDERS_COUNT = Endpoint("orders_count", "GET", "/orders/count", C)
ORDER = Endpoint("order", "GET", "/orders/{order_id}", C)
ORDER_ITEMS = Endpoint("order_items", "GET", "/orders/{order_id}/items", L)
ORDER_STATUS = Endpoint("order_status", "POST", "/orders/{order_id}/status", L)
ORDER_COMMENTS = Endpoint("order_comments", "POST", "/orders/{order_id}/comments", L)

USER = Endpoint("user", "GET", "/users/{user_id}", L)
# The path is LIKELY (docs mention /users/byEmail) but its parameter name is a GUESS, so a
# 404 here is treated as "not supported" too.
USER_BY_EMAIL = Endpoint("user_by_email", "GET", "/users/byEmail", G)
USER_BY_EMAIL_PARAM = "email"  # GUESS

PRODUCT_CATEGORIES = Endpoint("product_categories", "GET", "/products", L)
CATEGORY_PRODUCTS = Endpoint("category_products", "GET", "/products/{category_id}", L)
SHIPPINGS = Endpoint("shippings", "GET", "/shippings", G)
DISCOUNTS = Endpoint("discounts", "GET", "/discounts", G)

# Registration order matters for routers: fixed paths before `{placeholder}` ones.
ENDPOINTS: dict[str, Endpoint] = {
    endpoint.name: endpoint
    for endpoint in (
        REQUEST_TOKEN,
        ACCESS_TOKEN,
        REFRESH_TOKEN,
        ORDERS,
        ORDERS_COUNT,
        ORDER,
        ORDER_ITEMS,
        ORDER_STATUS,
        ORDER_COMMENTS,
        USER_BY_EMAIL,
        USER,
        PRODUCT_CATEGORIES,
        CATEGORY_PRODUCTS,
        SHIPPINGS,
        DISCOUNTS,
    )
}

MAX_TAKE = 50
"""Largest page size we ask for; bigger `take` values were unreliable (LIKELY)."""
