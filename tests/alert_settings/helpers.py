"""Helpers of the /alerts tests: the settings message, its buttons, waiting for edits."""

from __future__ import annotations

from collections.abc import Callable

from tests.fakes.telegram import FakeTelegram
from tests.linking.helpers import buttons


def button(message: dict, starts: str) -> dict:
    """The button whose text starts with ``starts`` (after the ✅/▫️ mark, if given so)."""
    for b in buttons(message):
        if b["text"].startswith(starts):
            return b
    raise AssertionError(f"no button {starts!r} in {[b['text'] for b in buttons(message)]}")


def mark_of(message: dict, name: str) -> str:
    """The mark (✅ or ▫️) of the toggle button called ``name``."""
    for b in buttons(message):
        mark, _, rest = b["text"].partition(" ")
        if rest == name:
            return mark
    raise AssertionError(f"no toggle {name!r} in {[b['text'] for b in buttons(message)]}")


async def edited(
    tg: FakeTelegram, message: dict, predicate: Callable[[dict], bool], timeout: float = 5
) -> dict:
    """Wait until the same message (edited in place) satisfies ``predicate``."""
    chat_id, mid = message["chat"]["id"], message["message_id"]
    return await tg.wait_message(
        chat_id, lambda m: m["message_id"] == mid and predicate(m), timeout=timeout
    )
