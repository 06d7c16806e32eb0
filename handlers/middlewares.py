"""Middlewares: the language of each update."""

from __future__ import annotations

from typing import Any

from aiogram.types import Chat, TelegramObject, User
from aiogram.utils.i18n import I18n, I18nMiddleware

from handlers.i18n import pick_language
from storage import Storage


class LanguageMiddleware(I18nMiddleware):
    """Per user in private chats, per chat in groups; Telegram's language code as first guess."""

    def __init__(self, i18n: I18n) -> None:
        super().__init__(i18n)

    async def get_locale(self, event: TelegramObject, data: dict[str, Any]) -> str:
        """Pick the language for this update."""
        db: Storage = data["db"]
        chat: Chat | None = data.get("event_chat")
        user: User | None = data.get("event_from_user")
        default = self.i18n.default_locale
        if chat is not None and chat.type != "private":
            row = await db.chats.get(chat.id)
            return row.language if row is not None and row.language else default
        if user is not None:
            stored = await db.users.get_language(user.id)
            return stored or pick_language(user.language_code, default)
        return default
