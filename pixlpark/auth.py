"""Pixlpark's "simplified OAuth" (`pixlpark-api.md` §1) and the token cache of one client.

Login: `GET /oauth/requesttoken` → `GET /oauth/accesstoken?oauth_token=RT&grant_type=api
&username=PUBLIC&password=sha1_hex(RT + PRIVATE)`. Tokens are renewed `refresh_margin`
seconds before expiry through `GET /oauth/refreshtoken?refreshToken=...`, falling back to a
fresh login. One `asyncio.Lock` makes concurrent callers share a single login.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from pixlpark import endpoints
from pixlpark.endpoints import Endpoint
from pixlpark.errors import (
    ApiError,
    AuthError,
    NotFound,
    NotSupported,
    PixlparkError,
    UnexpectedResponse,
    classify_auth_failure,
)
from pixlpark.transport import Transport

logger = logging.getLogger("pixlpark.auth")

DEFAULT_TOKEN_LIFETIME = 900.0
"""Assumed lifetime (s) when `Expires` is missing; the real lifetime is unknown (GUESS)."""
REFRESH_TOKEN_MARGIN = 10.0
"""The refresh token is not used in its last seconds (as the production Go client does)."""
RENEW_RETRY_DELAY = 5.0
"""After a failed early renewal, keep the old token and try again this many seconds later."""


def password_hash(request_token: str, private_key: str) -> str:
    """The accesstoken password: lowercase hex SHA-1 of request token + private key."""
    return hashlib.sha1((request_token + private_key).encode("utf-8")).hexdigest()


@dataclass
class _Tokens:
    access_token: str = field(repr=False)
    refresh_token: str | None = field(repr=False)
    expires_at: float
    renew_at: float
    refresh_usable_until: float


class TokenManager:
    """Obtains, caches and renews the access token of one pair of API keys."""

    def __init__(
        self,
        transport: Transport,
        public_key: str,
        private_key: str,
        *,
        refresh_margin: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ):
        self._transport = transport
        self._public_key = public_key
        self._private_key = private_key
        self._refresh_margin = refresh_margin
        self._clock = clock
        self._lock = asyncio.Lock()
        self._tokens: _Tokens | None = None
        self._renewals = 0
        self._last_failure: PixlparkError | None = None

    def __repr__(self) -> str:
        return f"<TokenManager logged_in={self._tokens is not None}>"

    def secrets(self) -> tuple[str | None, ...]:
        """Every secret value this manager knows, for scrubbing text."""
        tokens = self._tokens
        current = (tokens.access_token, tokens.refresh_token) if tokens else ()
        return (self._public_key, self._private_key, *current)

    async def token(self) -> str:
        """A valid access token, logging in or refreshing first when needed."""
        tokens = self._tokens
        if tokens is not None and self._clock() < tokens.renew_at:
            return tokens.access_token
        seen = self._renewals
        async with self._lock:
            tokens = self._tokens
            if tokens is not None and self._clock() < tokens.renew_at:
                return tokens.access_token
            if self._renewals != seen and self._last_failure is not None:
                # Whoever held the lock just failed; share that answer instead of hammering.
                raise copy.copy(self._last_failure)
            return await self._renew(tokens)

    async def invalidate(self, access_token: str) -> None:
        """Forget `access_token` after a 401 (no-op if a newer token is already cached)."""
        async with self._lock:
            if self._tokens is not None and self._tokens.access_token == access_token:
                self._tokens = None

    async def login(self) -> None:
        """Log in from scratch, replacing any cached token; raises the typed error."""
        async with self._lock:
            self._tokens = None
            await self._renew(None)

    async def _renew(self, tokens: _Tokens | None) -> str:
        try:
            self._tokens = await self._obtain(tokens)
        except PixlparkError as exc:
            now = self._clock()
            if tokens is not None and now < tokens.expires_at:
                # Keep using the still-valid token and try renewing again a little later.
                logger.warning("token renewal failed (%s); the current token is still valid", exc)
                tokens.renew_at = min(tokens.expires_at, now + RENEW_RETRY_DELAY)
                self._last_failure = None
                return tokens.access_token
            self._last_failure = exc
            self._tokens = None
            raise
        finally:
            self._renewals += 1  # counted when done, so callers already waiting can tell
        self._last_failure = None
        return self._tokens.access_token

    async def _obtain(self, tokens: _Tokens | None) -> _Tokens:
        if (
            tokens is not None
            and tokens.refresh_token
            and self._clock() < (tokens.refresh_usable_until)
        ):
            try:
                return await self._refresh(tokens.refresh_token)
            except (AuthError, ApiError, NotFound, NotSupported, UnexpectedResponse) as exc:
                logger.info("token refresh failed (%s); logging in again", exc)
        return await self._login()

    async def _refresh(self, refresh_token: str) -> _Tokens:
        endpoint = endpoints.REFRESH_TOKEN
        data = await self._get(endpoint, [("refreshToken", refresh_token)])
        if data.get("Success") is False:
            raise AuthError("Pixlpark refused to refresh the token", path=endpoint.path)
        logger.debug("access token refreshed")
        return self._parse_tokens(data, endpoint)

    async def _login(self) -> _Tokens:
        request_endpoint = endpoints.REQUEST_TOKEN
        data = await self._get(request_endpoint, [])
        request_token = data.get("RequestToken")
        if data.get("Success") is False or not request_token:
            if data.get("Success") is False:
                raise classify_auth_failure(data.get("Error"), path=request_endpoint.path)
            raise UnexpectedResponse("no RequestToken in the answer", path=request_endpoint.path)
        endpoint = endpoints.ACCESS_TOKEN
        params = [
            ("oauth_token", str(request_token)),
            ("grant_type", "api"),
            ("username", self._public_key),
            ("password", password_hash(str(request_token), self._private_key)),
        ]
        data = await self._get(endpoint, params)
        if data.get("Success") is False:
            raise classify_auth_failure(data.get("Error"), path=endpoint.path)
        tokens = self._parse_tokens(data, endpoint)
        logger.info(
            "logged in to Pixlpark (token valid for %.0f s)", tokens.expires_at - self._clock()
        )
        return tokens

    async def _get(self, endpoint: Endpoint, params: list[tuple[str, str]]) -> dict[str, Any]:
        try:
            data = await self._transport.request(
                endpoint, endpoint.path, params=params, envelope=False
            )
        except (AuthError, ApiError) as exc:
            if endpoint is endpoints.REFRESH_TOKEN:
                raise
            raise classify_auth_failure(exc.message, path=endpoint.path) from None
        if not isinstance(data, dict):
            raise UnexpectedResponse("the answer is not a JSON object", path=endpoint.path)
        return data

    def _parse_tokens(self, data: dict[str, Any], endpoint: Endpoint) -> _Tokens:
        access_token = data.get("AccessToken")
        if not access_token or not isinstance(access_token, str):
            raise UnexpectedResponse("no AccessToken in the answer", path=endpoint.path)
        refresh_token = data.get("RefreshToken")
        lifetime = _lifetime(data.get("Expires"))
        now = self._clock()
        margin = min(self._refresh_margin, lifetime / 2)
        return _Tokens(
            access_token=access_token,
            refresh_token=refresh_token if isinstance(refresh_token, str) else None,
            expires_at=now + lifetime,
            renew_at=now + lifetime - margin,
            refresh_usable_until=now + lifetime - min(REFRESH_TOKEN_MARGIN, lifetime / 4),
        )


def _lifetime(expires: object) -> float:
    """Seconds the token lives. `Expires` is LIKELY relative seconds; epoch values are handled."""
    try:
        value = float(expires)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return DEFAULT_TOKEN_LIFETIME
    if value > 100_000_000_000:  # epoch milliseconds
        value = value / 1000 - time.time()
    elif value > 1_000_000_000:  # epoch seconds
        value = value - time.time()
    return value if value > 0 else DEFAULT_TOKEN_LIFETIME
