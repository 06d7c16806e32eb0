"""One HTTP exchange with Pixlpark: send, retry reads, map every failure to a typed error.

The envelope `{"ApiVersion", "Result": [...], "ResponseCode"}` is checked here as well as the
HTTP status: `ResponseCode` 404 inside HTTP 200 is `NotFound`, `Success: false` is an error.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from pixlpark.endpoints import Endpoint
from pixlpark.errors import (
    ApiError,
    AuthError,
    NotFound,
    NotSupported,
    PixlparkError,
    RateLimited,
    ServiceUnavailable,
    UnexpectedResponse,
)
from pixlpark.redact import redact_text
from pixlpark.retry import RetryPolicy

logger = logging.getLogger("pixlpark.transport")

Params = Sequence[tuple[str, str]]
_MAX_MESSAGE = 200


class Unauthorized(AuthError):
    """HTTP 401 (or `ResponseCode` 401): the access token is missing, invalid or expired."""


class Transport:
    """Sends requests to one base URL through an `httpx.AsyncClient`."""

    def __init__(
        self,
        base_url: str,
        http: httpx.AsyncClient,
        *,
        timeout: float | httpx.Timeout,
        retry: RetryPolicy,
        secrets: Callable[[], Iterable[str | None]] = tuple,
    ):
        self.base_url = base_url.rstrip("/")
        self.http = http
        self.timeout = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
        self.retry = retry
        self._secrets = secrets

    async def request(
        self,
        endpoint: Endpoint,
        path: str,
        *,
        params: Params = (),
        data: Mapping[str, str] | None = None,
        envelope: bool = True,
    ) -> Any:
        """Perform the call (retrying reads); returns `Result` or, without envelope, the JSON."""
        label = f"{endpoint.method} {path}"
        retrying = self.retry.retrying(idempotent=endpoint.idempotent, label=label)
        return await retrying(self._send_once, endpoint, path, params, data, envelope)

    async def _send_once(
        self,
        endpoint: Endpoint,
        path: str,
        params: Params,
        data: Mapping[str, str] | None,
        envelope: bool,
    ) -> Any:
        label = f"{endpoint.method} {path}"
        started = time.monotonic()
        try:
            response = await self.http.request(
                endpoint.method,
                self.base_url + path,
                params=list(params),
                data=dict(data) if data is not None else None,
                timeout=self.timeout,
                headers={"Accept": "application/json"},
            )
        except httpx.TimeoutException:
            raise ServiceUnavailable(
                f"{label}: Pixlpark did not answer in time", path=path
            ) from None
        except httpx.TransportError as exc:
            reason = self._clean(str(exc)) or type(exc).__name__
            raise ServiceUnavailable(
                f"{label}: cannot reach Pixlpark ({reason})", path=path
            ) from None
        elapsed_ms = (time.monotonic() - started) * 1000
        logger.debug("%s -> HTTP %d in %.0f ms", label, response.status_code, elapsed_ms)
        return self._decode(response, endpoint, path, envelope)

    def _decode(
        self, response: httpx.Response, endpoint: Endpoint, path: str, envelope: bool
    ) -> Any:
        label = f"{endpoint.method} {path}"
        status = response.status_code
        payload, parsed = _json(response)
        if status >= 400:
            raise self._status_error(status, payload, endpoint, path, response, http=True)
        if not 200 <= status < 300:
            raise UnexpectedResponse(f"{label}: unexpected HTTP {status}", path=path, status=status)
        if not parsed:
            raise UnexpectedResponse(f"{label}: the answer is not valid JSON", path=path)
        return self._unwrap(payload, endpoint, path) if envelope else payload

    def _unwrap(self, payload: Any, endpoint: Endpoint, path: str) -> list[Any]:
        label = f"{endpoint.method} {path}"
        if not isinstance(payload, dict):
            raise UnexpectedResponse(f"{label}: the answer is not a JSON object", path=path)
        if payload.get("Success") is False:
            message = self._message(payload) or "the API reported a failure"
            raise ApiError(f"{label}: {message}", path=path)
        code = _response_code(payload.get("ResponseCode", 200))
        if code is None:
            raise UnexpectedResponse(f"{label}: ResponseCode is not a number", path=path)
        if not 200 <= code < 300:
            raise self._status_error(code, payload, endpoint, path, None, http=False)
        result = payload.get("Result")
        if not isinstance(result, list):
            what = "has no Result" if result is None else "has a Result that is not a list"
            raise UnexpectedResponse(f"{label}: the answer {what}", path=path)
        return result

    def _status_error(
        self,
        status: int,
        payload: Any,
        endpoint: Endpoint,
        path: str,
        response: httpx.Response | None,
        *,
        http: bool,
    ) -> PixlparkError:
        label = f"{endpoint.method} {path}"
        where = f"HTTP {status}" if http else f"ResponseCode {status}"
        message = self._message(payload)
        detail = f"{where}: {message}" if message else where
        if status == 401:
            return Unauthorized(f"{label}: {detail}", path=path, status=status)
        if status == 429:
            retry_after = _retry_after(response) if response is not None else None
            return RateLimited(
                f"{label}: rate limited ({detail})", retry_after=retry_after, path=path
            )
        if status >= 500:
            return ServiceUnavailable(f"{label}: {detail}", path=path, status=status)
        if status == 404:
            # A Pixlpark envelope in the 404 means the route exists and the object does not.
            if endpoint.guessed and not _is_envelope(payload):
                return NotSupported(
                    f"{label} is not supported by this Pixlpark account (HTTP 404)",
                    path=path,
                    status=status,
                )
            return NotFound(f"{label}: {message or 'not found'}", path=path, status=status)
        return ApiError(f"{label}: {detail}", path=path, status=status)

    def _message(self, payload: Any) -> str | None:
        if not isinstance(payload, dict):
            return None
        for key in ("ErrorMessage", "Error", "Message"):
            value = payload.get(key)
            if value not in (None, ""):
                return self._clean(str(value))
        return None

    def _clean(self, text: str) -> str:
        text = redact_text(text, self._secrets())
        return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


def _json(response: httpx.Response) -> tuple[Any, bool]:
    try:
        return json.loads(response.content), True
    except (ValueError, UnicodeDecodeError):
        return None, False


def _response_code(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _is_envelope(payload: Any) -> bool:
    return isinstance(payload, dict) and ("ResponseCode" in payload or "ApiVersion" in payload)


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
