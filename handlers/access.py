"""Who may do what for which shop in this chat.

Access levels, lowest first: a member of a linked group may look things up (with
customer contacts masked); viewers, managers and owners are shop members with a role.
Filters in this module raise `AccessDenied`, which the error router turns into a
one-line explanation, so handlers never repeat permission checks themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Filter
from aiogram.types import Chat, TelegramObject, User

from storage import Role, Shop, ShopState, Storage
from storage.models import Link


class Access(IntEnum):
    """What a user may do with one shop in one chat."""

    NONE = 0
    GROUP_MEMBER = 1
    VIEWER = 2
    MANAGER = 3
    OWNER = 4


_ROLE_ACCESS = {Role.VIEWER: Access.VIEWER, Role.MANAGER: Access.MANAGER, Role.OWNER: Access.OWNER}


@dataclass(frozen=True)
class ShopAccess:
    """One shop reachable from the current chat, with the user's access to it."""

    shop: Shop
    link: Link
    role: Role | None
    level: Access
    full_contacts: bool

    @property
    def name(self) -> str:
        """A display name for the shop."""
        return self.shop.display_name


class AccessDenied(Exception):
    """Raised by access filters; `reason` selects the answer shown to the user."""

    def __init__(self, reason: str, needed: Access = Access.NONE) -> None:
        super().__init__(reason)
        self.reason = reason
        self.needed = needed


async def resolve_access(storage: Storage, chat: Chat, user_id: int) -> list[ShopAccess]:
    """Every shop linked to `chat` that `user_id` may at least look at."""
    result: list[ShopAccess] = []
    private = chat.type == "private"
    for link in await storage.links.for_chat(chat.id):
        shop = await storage.shops.get(link.shop_id)
        if shop is None:
            continue
        role = await storage.members.get_role(shop.id, user_id)
        if role is not None:
            level = _ROLE_ACCESS[role]
        else:
            level = Access.NONE if private else Access.GROUP_MEMBER
        if level is Access.NONE:
            continue
        result.append(
            ShopAccess(shop, link, role, level, full_contacts=private and role is not None)
        )
    return result


class NeedAccess(Filter):
    """Passes when the user has `level` in at least one shop linked to this chat.

    Injects `shops: list[ShopAccess]` (only the shops where the level is met, active
    first) into the handler's arguments.
    """

    def __init__(self, level: Access = Access.GROUP_MEMBER) -> None:
        self.level = level

    async def __call__(
        self,
        event: TelegramObject,
        db: Storage,
        event_chat: Chat | None = None,
        event_from_user: User | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        if event_chat is None or event_from_user is None:
            raise AccessDenied("not_linked", self.level)
        accesses = await resolve_access(db, event_chat, event_from_user.id)
        if not accesses:
            raise AccessDenied("not_linked", self.level)
        allowed = [a for a in accesses if a.level >= self.level]
        if not allowed:
            raise AccessDenied("role", self.level)
        allowed.sort(key=lambda a: (a.shop.state is not ShopState.ACTIVE, a.shop.id))
        return {"shops": allowed}


def pick_shop(shops: list[ShopAccess], hint: str | None) -> ShopAccess | None:
    """The shop meant by `hint` (id or title prefix), or the only one; None if ambiguous."""
    if len(shops) == 1 and not hint:
        return shops[0]
    if not hint:
        return None
    needle = hint.casefold().lstrip("#")
    by_id = [a for a in shops if str(a.shop.id) == needle]
    if by_id:
        return by_id[0]
    matches = [a for a in shops if (a.shop.title or "").casefold().startswith(needle)]
    return matches[0] if len(matches) == 1 else None


_ADMIN_STATUSES = frozenset({"creator", "administrator"})


async def is_group_admin(bot: Bot, chat_id: int, user_id: int) -> bool:
    """Whether the user is an admin (or the creator) of the group, as Telegram says now."""
    try:
        member = await bot.get_chat_member(chat_id, user_id)
    except TelegramAPIError:
        return False
    return member.status in _ADMIN_STATUSES


class IsGroupAdmin(Filter):
    """Passes in private chats and for admins of a group; raises `AccessDenied("group_admin")`.

    An anonymous admin (a message sent on behalf of the group itself) counts as an admin.
    """

    async def __call__(
        self,
        event: TelegramObject,
        bot: Bot,
        event_chat: Chat | None = None,
        event_from_user: User | None = None,
        **_: Any,
    ) -> bool:
        if event_chat is None or event_from_user is None:
            raise AccessDenied("group_admin")
        if event_chat.type == "private":
            return True
        sender_chat = getattr(event, "sender_chat", None)
        if sender_chat is not None and sender_chat.id == event_chat.id:
            return True
        if await is_group_admin(bot, event_chat.id, event_from_user.id):
            return True
        raise AccessDenied("group_admin")
