"""/lang: the interface language, per user in private chats and per chat in groups."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Chat, InlineKeyboardMarkup, Message, User
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.access import IsGroupAdmin
from handlers.callbacks import LangCb
from handlers.fallback import answer_expired
from handlers.i18n import LANGUAGES
from storage import Storage

LANGUAGE_NAMES = {"ru": "Русский", "en": "English"}


def language_markup() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for code in LANGUAGES:
        builder.button(text=LANGUAGE_NAMES.get(code, code), callback_data=LangCb(lang=code))
    return builder.as_markup()


async def set_language(db: Storage, i18n: I18n, chat: Chat, user: User, lang: str) -> str:
    """Store the language for this chat (group) or user (private); the confirmation text."""
    if chat.type == "private":
        await db.users.set_language(user.id, lang)
    else:
        if await db.chats.get(chat.id) is None:
            await db.chats.upsert(chat.id, chat.type, chat.title)
        await db.chats.set_language(chat.id, lang)
    i18n.current_locale = lang
    if chat.type == "private":
        return _("Language: English. I will talk to you in English.")
    return _("Language: English. I will write in English in this group.")


def make_language_router() -> Router:
    """Build the /lang router (group admins only in groups)."""
    router = Router(name="language")

    @router.message(Command("lang"), IsGroupAdmin())
    async def lang(message: Message, command: CommandObject, db: Storage, i18n: I18n) -> None:
        arg = (command.args or "").strip().lower()
        if arg in LANGUAGES and message.from_user is not None:
            text = await set_language(db, i18n, message.chat, message.from_user, arg)
            await message.answer(text)
            return
        await message.answer(_("Choose the language:"), reply_markup=language_markup())

    @router.callback_query(LangCb.filter(F.lang.in_(set(LANGUAGES))), IsGroupAdmin())
    async def lang_chosen(
        query: CallbackQuery, callback_data: LangCb, db: Storage, i18n: I18n
    ) -> None:
        if not isinstance(query.message, Message):
            await answer_expired(query)
            return
        text = await set_language(db, i18n, query.message.chat, query.from_user, callback_data.lang)
        await query.answer()
        await query.message.edit_text(text)

    return router
