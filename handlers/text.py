"""Telegram text helpers: HTML escaping and splitting under Telegram's limits."""

from __future__ import annotations

import html
import re

MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024
_TAG = re.compile(r"<[^>]*>")


def esc(value: object) -> str:
    """Escape any dynamic value for HTML parse mode."""
    return html.escape("" if value is None else str(value), quote=False)


def tg_len(text: str) -> int:
    """Length as Telegram counts it: UTF-16 code units."""
    return len(text.encode("utf-16-le")) // 2


def visible_len(html_text: str) -> int:
    """Length of the text a user sees once HTML tags and entities are resolved."""
    return tg_len(html.unescape(_TAG.sub("", html_text)))


def split_message(text: str, limit: int = MESSAGE_LIMIT) -> list[str]:
    """Split HTML text into parts of at most `limit` UTF-16 units.

    Cuts at the last line break that fits, or anywhere between characters when a
    single line is too long, but never inside a tag or an HTML entity. Tags open at a
    cut are closed at the end of the part and opened again at the start of the next,
    so every part is balanced HTML on its own. Parts with no visible text are dropped.
    """
    parts: list[str] = []
    buf: list[str] = []
    size = 0
    stack: list[tuple[str, str]] = []
    newline: tuple[int, list[tuple[str, str]]] | None = None

    def flush() -> None:
        nonlocal buf, size, newline, stack
        if newline is not None and newline[0] > 0:
            cut, cut_stack = newline
            head, tail = buf[:cut], buf[cut + 1 :]
            parts.append("".join(head) + _close(cut_stack))
            buf = [_reopen(cut_stack), *tail]
        else:
            parts.append("".join(buf) + _close(stack))
            buf = [_reopen(stack)]
        size = sum(tg_len(piece) for piece in buf)
        newline = None

    for token in _TOKEN.findall(text):
        token_len = tg_len(token)
        name, opening = _tag(token)
        after = [*stack, (name, token)] if opening and name else stack
        while buf and size + token_len + tg_len(_close(after)) > limit:
            before = len(buf)
            flush()
            if len(buf) >= before:
                break
        if token == "\n":
            newline = (len(buf), list(stack))
        elif name:
            if opening:
                stack.append((name, token))
            elif stack and stack[-1][0] == name:
                stack.pop()
        buf.append(token)
        size += token_len
    parts.append("".join(buf))
    return [part for part in parts if visible_len(part.strip()) > 0 and part.strip()] or [" "]


_TOKEN = re.compile(r"<[^>]*>|&#?\w+;|\n|.", re.S)
_TAG_NAME = re.compile(r"<\s*(/?)\s*([a-zA-Z][a-zA-Z0-9-]*)")


def _tag(token: str) -> tuple[str, bool]:
    """(tag name, is opening) for a tag token, ("", False) for anything else."""
    if not token.startswith("<"):
        return "", False
    match = _TAG_NAME.match(token)
    if match is None:
        return "", False
    return match.group(2).lower(), match.group(1) != "/"


def _close(stack: list[tuple[str, str]]) -> str:
    return "".join(f"</{name}>" for name, _ in reversed(stack))


def _reopen(stack: list[tuple[str, str]]) -> str:
    return "".join(tag for _, tag in stack)


def truncate(text: str, limit: int) -> str:
    """Shorten plain (unescaped) text to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"
