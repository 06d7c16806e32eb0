"""Timing and error counting of outgoing calls: Telegram Bot API and Pixlpark API.

Telegram: a session request middleware times every call by method name and counts
failures by error kind. Pixlpark: a wrapper around the shared httpx transport times every
request by HTTP method and *path template* (``/orders/{order_id}``), never by URL: the
query string carries ``oauth_token``, ``password`` and ``refreshToken``.
"""

from __future__ import annotations

import re
import time
from typing import TYPE_CHECKING, Any

import httpx
from aiogram.client.session.middlewares.base import (
    BaseRequestMiddleware,
    NextRequestMiddlewareType,
)
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramBadRequest,
    TelegramConflictError,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramNotFound,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.methods.base import TelegramType

from bot.metrics import Metrics
from pixlpark.endpoints import ENDPOINTS

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.methods import Response, TelegramMethod

_TELEGRAM_ERRORS: tuple[tuple[type[BaseException], str], ...] = (
    (TelegramRetryAfter, "rate_limited"),
    (TelegramMigrateToChat, "migrated"),
    (TelegramForbiddenError, "forbidden"),
    (TelegramUnauthorizedError, "unauthorized"),
    (TelegramNotFound, "not_found"),
    (TelegramConflictError, "conflict"),
    (TelegramEntityTooLarge, "too_large"),
    (TelegramBadRequest, "bad_request"),
    (TelegramServerError, "server_error"),
    (TelegramNetworkError, "network"),
    (ClientDecodeError, "decode"),
)


def telegram_error_kind(exc: BaseException) -> str:
    """A short, bounded label for a failed Telegram call."""
    for cls, kind in _TELEGRAM_ERRORS:
        if isinstance(exc, cls):
            return kind
    return "other"


class TelegramMetricsMiddleware(BaseRequestMiddleware):
    """Observes the duration of each Bot API call and counts the failed ones."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics = metrics

    async def __call__(
        self,
        make_request: NextRequestMiddlewareType[TelegramType],
        bot: Bot,
        method: TelegramMethod[TelegramType],
    ) -> Response[TelegramType]:
        name = method.__api_method__
        started = time.perf_counter()
        try:
            response = await make_request(bot, method)
        except Exception as exc:
            self.metrics.telegram_latency.labels(method=name).observe(time.perf_counter() - started)
            self.metrics.telegram_errors.labels(method=name, error=telegram_error_kind(exc)).inc()
            raise
        self.metrics.telegram_latency.labels(method=name).observe(time.perf_counter() - started)
        return response


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    body = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
    return re.compile(body + "/?")


# Fixed paths come before `{placeholder}` ones in ENDPOINTS, so the first match wins.
_TEMPLATES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (_template_regex(endpoint.path), endpoint.path) for endpoint in ENDPOINTS.values()
)


def path_template(path: str, prefix: str = "") -> str:
    """The Pixlpark endpoint template a request path belongs to, or ``other``."""
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :] or "/"
    for pattern, template in _TEMPLATES:
        if pattern.fullmatch(path):
            return template
    return "other"


class PixlparkMetricsTransport(httpx.AsyncBaseTransport):
    """Wraps the shared httpx transport: latency, status and errors of each request.

    A transport sees what event hooks cannot: timeouts and connection errors.
    """

    def __init__(self, inner: httpx.AsyncBaseTransport, metrics: Metrics, base_url: str) -> None:
        self.inner = inner
        self.metrics = metrics
        self.prefix = httpx.URL(base_url).path.rstrip("/")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        method = request.method
        path = path_template(request.url.path, self.prefix)
        metrics = self.metrics
        started = time.perf_counter()
        try:
            response = await self.inner.handle_async_request(request)
        except httpx.TimeoutException:
            self._failed(method, path, started, "timeout")
            raise
        except httpx.TransportError:
            self._failed(method, path, started, "network")
            raise
        metrics.pixlpark_latency.labels(method=method, path=path).observe(
            time.perf_counter() - started
        )
        status = response.status_code
        metrics.pixlpark_responses.labels(method=method, path=path, status=str(status)).inc()
        if status >= 400:
            metrics.pixlpark_errors.labels(method=method, path=path, error=f"http_{status}").inc()
        return response

    def _failed(self, method: str, path: str, started: float, error: str) -> None:
        self.metrics.pixlpark_latency.labels(method=method, path=path).observe(
            time.perf_counter() - started
        )
        self.metrics.pixlpark_errors.labels(method=method, path=path, error=error).inc()

    async def aclose(self) -> None:
        await self.inner.aclose()

    async def __aenter__(self) -> Any:
        await self.inner.__aenter__()
        return self

    async def __aexit__(self, *args: Any) -> None:
        await self.inner.__aexit__(*args)


def instrumented_http_client(
    metrics: Metrics, base_url: str, *, timeout: float, limits: httpx.Limits
) -> httpx.AsyncClient:
    """The shared Pixlpark httpx client, with every request measured."""
    transport = PixlparkMetricsTransport(httpx.AsyncHTTPTransport(limits=limits), metrics, base_url)
    return httpx.AsyncClient(timeout=timeout, transport=transport)
