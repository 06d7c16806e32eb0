"""HTML escaping, splitting and masking."""

from __future__ import annotations

import html
import re

from hypothesis import given
from hypothesis import strategies as st

from handlers.masking import mask_email, mask_phone
from handlers.text import esc, split_message, tg_len, visible_len

_TAG = re.compile(r"</?([a-z]+)[^>]*>")


def _plain(html_text: str) -> str:
    return "".join(html.unescape(_TAG.sub("", html_text)).split())


def balanced(html_text: str) -> bool:
    stack: list[str] = []
    for match in _TAG.finditer(html_text):
        tag = match.group(1)
        if match.group(0).startswith("</"):
            if not stack or stack.pop() != tag:
                return False
        else:
            stack.append(tag)
    return not stack


def test_mask_phone_keeps_country_and_last_digits() -> None:
    assert mask_phone("+7 (999) 111 11-11") == "+7 *** ***-11-11"
    assert mask_phone("79000000000") == "+7 *** ***-00-00"
    assert mask_phone("") == ""


def test_mask_email() -> None:
    assert mask_email("andrew@pixlpark.com") == "a***@pixlpark.com"
    assert mask_email("no-at-sign") == "***"


def test_escape() -> None:
    assert esc("<b>&</b>") == "&lt;b&gt;&amp;&lt;/b&gt;"
    assert esc(None) == ""


@given(st.lists(st.text(min_size=0, max_size=300), min_size=1, max_size=80))
def test_split_never_breaks_limits_or_tags(values: list[str]) -> None:
    text = "\n".join(f"<b>{esc(v)}</b> {esc(v)}" for v in values)
    parts = split_message(text)
    for part in parts:
        assert tg_len(part) <= 4096
        assert balanced(part)
        assert visible_len(part) > 0
    assert _plain("".join(parts)) == _plain(text)


@given(st.text(min_size=1, max_size=300), st.integers(min_value=15, max_value=40))
def test_split_single_huge_line(value: str, repeat: int) -> None:
    parts = split_message(f"<i>{esc(value * repeat)}</i>", limit=1000)
    assert all(tg_len(p) <= 1000 and balanced(p) for p in parts)
    assert all(not re.search(r"&[a-z]*$", p) for p in parts)
