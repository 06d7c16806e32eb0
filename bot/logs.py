"""Logging set-up: one line per event, key=value or JSON, with secrets scrubbed."""

from __future__ import annotations

import json
import logging
import re
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

_STANDARD_ATTRS = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__.keys() | {"message", "asctime"}
)

# Patterns that look like credentials wherever they appear (URLs, reprs, tracebacks).
_PATTERNS = (
    (re.compile(r"\b\d{5,}:[A-Za-z0-9_-]{30,}\b"), "<bot-token>"),
    (re.compile(r"/bot\d+:[^/\s]+"), "/bot<bot-token>"),
    (
        re.compile(r"(?i)\b(oauth_token|password|refreshToken|username|private_?key)=[^&\s\"']+"),
        r"\1=<redacted>",
    ),
    # Customer contacts must not reach the logs whole, should an error message carry one.
    (
        re.compile(r"\b([A-Za-z0-9._%+-])[A-Za-z0-9._%+-]*@([A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)"),
        r"\1***@\2",
    ),
    (re.compile(r"\+\d[\d ()-]{8,}(\d\d)\b"), r"+***\1"),
)


request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
"""The id of the HTTP request being handled (set by the web middleware); tasks started
while handling it (a Telegram update processed in the background) inherit it."""


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every record logged while a request id is set."""

    def filter(self, record: logging.LogRecord) -> bool:
        current = request_id.get()
        if current is not None and not hasattr(record, "request_id"):
            record.request_id = current
        return True


class Redactor:
    """Removes known secret values and credential-shaped substrings from text."""

    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._known: re.Pattern[str] | None = None

    def add(self, *secrets: str | None) -> None:
        """Register values that must never be printed (keys, tokens)."""
        fresh = {s for s in secrets if s and len(s) >= 6} - self._secrets
        if fresh:
            self._secrets |= fresh
            # One alternation, longest first, so a secret containing another wins.
            ordered = sorted(self._secrets, key=len, reverse=True)
            self._known = re.compile("|".join(re.escape(s) for s in ordered))

    def __call__(self, text: str) -> str:
        if self._known is not None:
            text = self._known.sub("<redacted>", text)
        for pattern, replacement in _PATTERNS:
            text = pattern.sub(replacement, text)
        return text


class LineFormatter(logging.Formatter):
    """Formats a record as one `key=value` line or one JSON object, then redacts it."""

    def __init__(self, redactor: Redactor, fmt: str = "kv") -> None:
        super().__init__()
        self.redactor = redactor
        self.json = fmt == "json"

    def format(self, record: logging.LogRecord) -> str:
        fields: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                fields[key] = value
        if record.exc_info:
            fields["exc"] = self.formatException(record.exc_info)
        if self.json:
            line = json.dumps(fields, ensure_ascii=False, default=str)
        else:
            line = " ".join(f"{key}={_kv_value(value)}" for key, value in fields.items())
        return self.redactor(line)


def _kv_value(value: object) -> str:
    text = str(value)
    if text and not any(ch in text for ch in ' "=\n\t'):
        return text
    return json.dumps(text, ensure_ascii=False)


def setup_logging(level: str, fmt: str, redactor: Redactor) -> None:
    """Send every log record to stderr through the redacting formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(LineFormatter(redactor, fmt))
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # httpx logs every request URL at INFO; the URLs carry oauth_token.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    logging.getLogger("aiohttp.access").setLevel(max(logging.WARNING, root.level))
    # aiosqlite logs every statement with its parameters at DEBUG: tokens, customers' data.
    logging.getLogger("aiosqlite").setLevel(max(logging.INFO, root.level))
