"""Callback data of the linking routers, and the shop picker they share.

Every factory has a short prefix and typed fields, so aiogram validates a button's data
before a handler sees it; data that does not unpack falls through to the fallback router,
which answers "this button has expired".
"""

from __future__ import annotations

from typing import Any

from aiogram.filters import Filter
from aiogram.filters.callback_data import CallbackData
from aiogram.types import CallbackQuery, Chat, InlineKeyboardMarkup, Message, TelegramObject, User
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.access import Access, AccessDenied, NeedAccess, ShopAccess, pick_shop
from handlers.text import esc
from storage import Storage


class ConnectCb(CallbackData, prefix="cn"):
    """The /connect wizard: "recheck" the pending keys or "cancel"."""

    action: str


class PickCb(CallbackData, prefix="pk"):
    """A shop chosen for a command (`cmd`) when the chat is linked to several shops."""

    cmd: str
    shop_id: int


class ShopCb(CallbackData, prefix="sh"):
    """A button under /shops: "alerts", "hooks", "unlink", "group", "disc"."""

    action: str
    shop_id: int


class InviteCb(CallbackData, prefix="iv"):
    """Create an invite link for the shop with this role ("manager" or "viewer")."""

    shop_id: int
    role: str


class StaffCb(CallbackData, prefix="st"):
    """Change a member's role ("manager"/"viewer") or remove them ("rm")."""

    action: str
    shop_id: int
    user_id: int


class DisconnectCb(CallbackData, prefix="dc"):
    """Confirm ("yes") or cancel ("no") /disconnect of a shop."""

    action: str
    shop_id: int


class LangCb(CallbackData, prefix="lg"):
    """Switch the interface language."""

    lang: str


class ButtonAccess(Filter):
    """`NeedAccess` for buttons: in a chat no longer linked to any shop the button is just
    stale, so the press falls through to the fallback router's "expired" answer. A missing
    role is still explained."""

    def __init__(self, level: Access = Access.GROUP_MEMBER) -> None:
        self._inner = NeedAccess(level)

    async def __call__(
        self,
        event: TelegramObject,
        db: Storage,
        event_chat: Chat | None = None,
        event_from_user: User | None = None,
        **_: Any,
    ) -> dict[str, Any] | bool:
        try:
            return await self._inner(
                event, db, event_chat=event_chat, event_from_user=event_from_user
            )
        except AccessDenied as exc:
            if exc.reason == "not_linked":
                return False
            raise


def shop_picker(shops: list[ShopAccess], cmd: str) -> InlineKeyboardMarkup:
    """One button per shop, for a command that needs to know which shop is meant."""
    builder = InlineKeyboardBuilder()
    for access in shops:
        builder.button(text=access.name, callback_data=PickCb(cmd=cmd, shop_id=access.shop.id))
    builder.adjust(1)
    return builder.as_markup()


async def choose_shop(
    message: Message, shops: list[ShopAccess], hint: str | None, cmd: str
) -> ShopAccess | None:
    """The shop `hint` names (or the only one); otherwise ask with buttons and return None."""
    chosen = pick_shop(shops, hint)
    if chosen is not None:
        return chosen
    if hint:
        text = _("No shop here matches “{hint}”. Which shop?").format(hint=esc(hint))
    else:
        text = _("This chat is linked to several shops. Which one?")
    await message.answer(text, reply_markup=shop_picker(shops, cmd))
    return None


def find_shop(shops: list[ShopAccess], shop_id: int) -> ShopAccess | None:
    """The shop with this id among those the user may act on here (a button's target)."""
    return next((a for a in shops if a.shop.id == shop_id), None)


class PickedShop(Filter):
    """The shop a button points at (the `field` of its callback data, `shop_id` by default)
    among the `shops` injected by `ButtonAccess` (so list it after that filter), under a
    message the bot can still edit.

    Injects `access: ShopAccess` and `message: Message`. When the shop is no longer one the
    user may act on here, or the message is gone, the button is stale: the press falls
    through to the fallback router, which answers "this button has expired".
    """

    def __init__(self, field: str = "shop_id") -> None:
        self.field = field

    async def __call__(
        self, query: CallbackQuery, callback_data: Any, shops: list[ShopAccess], **_: Any
    ) -> dict[str, Any] | bool:
        access = find_shop(shops, getattr(callback_data, self.field))
        if access is None or not isinstance(query.message, Message):
            return False
        return {"access": access, "message": query.message}
