"""The redactor and the line formatter: no secret reaches a log line."""

from __future__ import annotations

import json
import logging

from bot.logs import LineFormatter, Redactor


def test_registered_secrets_are_replaced_longest_first() -> None:
    redactor = Redactor()
    redactor.add("private-key-1", "private-key-1-extended", None, "tiny")
    text = redactor("a private-key-1-extended b private-key-1 c tiny")
    assert text == "a <redacted> b <redacted> c tiny"


def test_credential_shaped_text_is_replaced() -> None:
    redactor = Redactor()
    line = redactor(
        "GET /orders?oauth_token=abc123&take=5 via /bot123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA/x "
        "mail andrew@pixlpark.com phone +7 (999) 111-11-11"
    )
    assert "abc123" not in line and "AAAAAAAA" not in line
    assert "andrew@" not in line and "a***@pixlpark.com" in line
    assert "111-11-11" not in line


def test_formatter_redacts_exceptions_and_json() -> None:
    redactor = Redactor()
    redactor.add("s3cret-value")
    record = logging.LogRecord(
        "x", logging.ERROR, __file__, 1, "failed %s", ("s3cret-value",), None
    )
    try:
        raise RuntimeError("boom s3cret-value")
    except RuntimeError as exc:
        record.exc_info = (type(exc), exc, exc.__traceback__)
    record.shop = 7
    line = LineFormatter(redactor, "json").format(record)
    data = json.loads(line)
    assert "s3cret-value" not in line
    assert data["shop"] == 7 and data["level"] == "ERROR" and "RuntimeError" in data["exc"]
    kv = LineFormatter(redactor, "kv").format(record)
    assert "s3cret-value" not in kv and "shop=7" in kv
