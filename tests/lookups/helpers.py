"""Shared set-up for the lookup tests: a shop on the fake Pixlpark linked to chats."""

from __future__ import annotations

from typing import Any

from storage import Role, Shop
from tests.fakes.pixlpark import FakeShop
from tests.fakes.telegram import FakeUser, parse_html, utf16_len
from tests.harness import Harness

OWNER = 1001
MANAGER = 1002
VIEWER = 1003
STRANGER = 1009
ORDER = "2336327"


async def setup_shop(
    h: Harness,
    *,
    lang: str = "en",
    title: str = "Demo Print",
    keys: tuple[str, str] = ("pub-1", "priv-1"),
) -> tuple[FakeUser, Shop, FakeShop]:
    """A shop with the sample orders, its owner (private chat linked) in `lang`."""
    fake = h.pixlpark_shop(*keys)
    owner = h.tg.user(OWNER, "Olga", language_code=lang)
    shop = await h.seed_shop(owner.id, *keys, title=title)
    return owner, shop, fake


async def add_member(
    h: Harness, shop: Shop, user_id: int, role: Role, lang: str = "en"
) -> FakeUser:
    """A shop member with their private chat linked."""
    user = h.tg.user(user_id, f"User {user_id}", language_code=lang)
    await h.storage.members.set_role(shop.id, user.id, role)
    await h.storage.chats.upsert(user.id, "private", None)
    await h.storage.links.link(user.id, shop.id, created_by=OWNER)
    return user


async def linked_group(
    h: Harness, *shops: Shop, lang: str | None = None, title: str = "Team"
) -> int:
    """A supergroup with the bot in it, linked to `shops`."""
    chat_id = h.tg.create_group(title, supergroup=True, bot_status="member")
    await h.storage.chats.upsert(chat_id, "supergroup", title)
    if lang:
        await h.storage.chats.set_language(chat_id, lang)
    for shop in shops:
        await h.storage.links.link(chat_id, shop.id, created_by=OWNER)
    return chat_id


async def ask(h: Harness, user: FakeUser | int, chat_id: int, text: str, **kw: Any) -> dict:
    """Send `text` and return the bot's next message in the chat."""
    await h.tg.send_text(user, chat_id, text)
    return await h.tg.next_bot_message(chat_id, **kw)


def body(message: dict) -> str:
    """The visible text or caption of a message."""
    return str(message.get("text") or message.get("caption") or "")


def buttons(message: dict) -> dict[str, str]:
    """Button text → callback data."""
    return {
        b["text"]: b.get("callback_data", "")
        for row in (message.get("reply_markup") or {}).get("inline_keyboard", [])
        for b in row
    }


def assert_valid_html(text: str, limit: int = 4096) -> None:
    """What Telegram would accept: parseable HTML and a visible length within `limit`."""
    visible, _ = parse_html(text)
    assert utf16_len(visible) <= limit


async def press(
    h: Harness, user: FakeUser | int, message: dict, data: str, *, strict: bool = True
) -> dict:
    """Press a button and wait until the bot answered the callback; returns that answer."""
    import asyncio

    query_id = await h.tg.click(user, message, data, strict=strict)
    for _ in range(200):
        if query_id in h.tg.answered_callbacks:
            return h.tg.answered_callbacks[query_id]
        await asyncio.sleep(0.02)
    raise AssertionError("the callback was not answered")


def button(message: dict, part: str) -> str:
    """The callback data of the button whose text contains `part`."""
    for text, data in buttons(message).items():
        if part in text:
            return data
    raise AssertionError(f"no button with {part!r} in {list(buttons(message))}")
