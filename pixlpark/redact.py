"""Keep keys and tokens out of logs and error messages.

Pixlpark wants credentials in the query string (`oauth_token`, `username`, `password`,
`refreshToken`), and httpx logs every request URL at INFO ("HTTP Request: GET https://...").
We keep the documented transport and install `RedactingFilter` on the "httpx" logger: it
rewrites the log record's arguments so those parameters read `***`. The client installs the
filter when it is imported and again on every `PixlparkClient(...)` (idempotent).
Our own log lines and error messages mention only the method and the path.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

SENSITIVE_PARAMS = ("oauth_token", "password", "username", "refreshToken", "refresh_token")

_PARAM_RE = re.compile(
    r"(?i)\b(" + "|".join(re.escape(name) for name in SENSITIVE_PARAMS) + r")=([^&\s\"'<>]*)"
)
_MASK = "***"


def redact_text(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Mask sensitive query parameters and any of the given secret values in `text`."""
    text = _PARAM_RE.sub(lambda m: f"{m.group(1)}={_MASK}", text)
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, _MASK)
    return text


class RedactingFilter(logging.Filter):
    """A logging filter that masks credentials in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = redact_text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redact_arg(arg) for arg in record.args)
        elif isinstance(record.args, dict):
            record.args = {key: _redact_arg(value) for key, value in record.args.items()}
        return True


def _redact_arg(arg: object) -> object:
    if isinstance(arg, (int, float)) or arg is None:
        return arg
    text = str(arg)
    return redact_text(text) if "=" in text else arg


_FILTER = RedactingFilter()
REDACTED_LOGGERS = ("httpx",)


def install_log_redaction() -> None:
    """Attach the redacting filter to the httpx logger (safe to call many times)."""
    for name in REDACTED_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactingFilter) for f in logger.filters):
            logger.addFilter(_FILTER)
