"""Typed errors raised by the Pixlpark client.

Every message names at most the HTTP method and the path of the call; no message, repr or
attribute ever holds an API key, a password hash or a token.
"""

from __future__ import annotations

from typing import Any


class PixlparkError(Exception):
    """Base class of every error raised by `pixlpark`."""

    def __init__(self, message: str, *, path: str | None = None, status: int | None = None):
        super().__init__(message)
        self.message = message
        self.path = path
        self.status = status

    def __str__(self) -> str:
        return self.message


class AuthError(PixlparkError):
    """Authentication failed (token endpoint refused us, or HTTP 401 right after a fresh login)."""


class InvalidCredentials(AuthError):
    """The public or private key is wrong, or API access is switched off."""


class ApiNotActivated(AuthError):
    """API access was switched on recently; Pixlpark activates it about 30 minutes later."""


class NotFound(PixlparkError):
    """The object does not exist (HTTP 404, or `ResponseCode: 404` inside HTTP 200)."""


class NotSupported(PixlparkError):
    """A guessed endpoint answered 404: it is not supported by this Pixlpark account."""


class RateLimited(PixlparkError):
    """HTTP 429; `retry_after` holds the server's hint in seconds, if it gave one."""

    def __init__(self, message: str, *, retry_after: float | None = None, path: str | None = None):
        super().__init__(message, path=path, status=429)
        self.retry_after = retry_after


class ServiceUnavailable(PixlparkError):
    """Pixlpark is unreachable: HTTP 5xx, timeout, refused or dropped connection."""


class UnexpectedResponse(PixlparkError):
    """The response is not what the API documents: malformed JSON or a wrong shape."""


class ApiError(PixlparkError):
    """The API rejected the request for another reason (other 4xx, `Success: false`, ...)."""


class StatusChangeFailed(ApiError):
    """`POST /orders/{id}/status` answered with a result type other than Success or Warning."""

    def __init__(self, message: str, *, result: Any = None, path: str | None = None):
        super().__init__(message, path=path)
        self.result = result


# Substrings (lower case) that mark "API access not active yet" in a token-endpoint error.
# GUESS: Pixlpark's real wording was never captured; adjust here once it is known. The fake
# server answers "API access is not activated" for shops created with activated=False.
_NOT_ACTIVATED_MARKERS = (
    "not activated",
    "not active",
    "not enabled",
    "inactive",
    "disabled",
    "не активирован",
    "не активен",
    "не включен",
    "не включён",
    "отключен",
    "отключён",
)


def classify_auth_failure(error_text: object, *, path: str | None = None) -> AuthError:
    """Turn the `Error` of a failed `/oauth/accesstoken` answer into a typed error.

    This is the only place that interprets that text (see `_NOT_ACTIVATED_MARKERS`).
    Anything not recognised as "not activated" counts as invalid credentials.
    """
    text = "" if error_text is None else str(error_text)
    lowered = text.lower()
    if any(marker in lowered for marker in _NOT_ACTIVATED_MARKERS):
        return ApiNotActivated(
            "Pixlpark API access is not active yet (it activates about 30 minutes after it is "
            "switched on)" + (f": {text}" if text else ""),
            path=path,
        )
    return InvalidCredentials(
        "Pixlpark rejected the API keys" + (f": {text}" if text else ""), path=path
    )
