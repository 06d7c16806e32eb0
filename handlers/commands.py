"""Command menus, set at start-up for both languages and per scope.

Scopes: private chats, all group chats, and group admins (who also see the settings
commands). Each command's description is an English msgid translated from the `.po` files.
Every feature's menu entries are listed in `COMMANDS`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError
from aiogram.types import (
    BotCommand,
    BotCommandScopeAllChatAdministrators,
    BotCommandScopeAllGroupChats,
    BotCommandScopeAllPrivateChats,
    BotCommandScopeDefault,
)
from aiogram.utils.i18n import I18n

from handlers.i18n import LANGUAGES, make_i18n

log = logging.getLogger(__name__)

PRIVATE = "private"
GROUP = "group"
ADMIN = "admin"


@dataclass(frozen=True)
class MenuCommand:
    """One command of the menu and the scopes where it is shown."""

    command: str
    description: str  # an English msgid
    scopes: frozenset[str]


def __(msgid: str) -> str:
    """Marks a msgid for translation; translated per language in `menu`."""
    return msgid


def _cmd(command: str, description: str, *scopes: str) -> MenuCommand:
    return MenuCommand(command, description, frozenset(scopes))


COMMANDS: tuple[MenuCommand, ...] = (
    _cmd("start", __("What the bot does"), PRIVATE),
    _cmd("connect", __("Connect a shop with its API keys"), PRIVATE),
    _cmd("shops", __("Shops linked to this chat"), PRIVATE, GROUP, ADMIN),
    _cmd("invite", __("Invite a colleague"), PRIVATE),
    _cmd("staff", __("Colleagues and their roles"), PRIVATE),
    _cmd("link", __("Link a group to a shop"), PRIVATE, ADMIN),
    _cmd("unlink", __("Unlink this group from a shop"), ADMIN),
    _cmd("disconnect", __("Remove a shop and its keys"), PRIVATE),
    _cmd("alerts", __("Alert settings"), PRIVATE, ADMIN),
    _cmd("timezone", __("Shop time zone"), PRIVATE, ADMIN),
    _cmd("lang", __("Language"), PRIVATE, ADMIN),
    _cmd("order", __("Order card by number"), PRIVATE, GROUP, ADMIN),
    _cmd("status", __("Order status in one line"), PRIVATE, GROUP, ADMIN),
    _cmd("orders", __("Newest orders"), PRIVATE, GROUP, ADMIN),
    _cmd("today", __("Today's orders"), PRIVATE, GROUP, ADMIN),
    _cmd("find", __("Find by e-mail, phone or name"), PRIVATE, GROUP, ADMIN),
    _cmd("health", __("Delivery and connection health"), PRIVATE),
    _cmd("help", __("Help"), PRIVATE, GROUP, ADMIN),
)
"""Every menu command, in menu order."""


def menu(scope: str, lang: str, i18n: I18n) -> list[BotCommand]:
    """The commands of one scope in one language."""
    return [
        BotCommand(command=c.command, description=i18n.gettext(c.description, locale=lang))
        for c in COMMANDS
        if scope in c.scopes
    ]


async def set_bot_commands(bot: Bot, default_language: str = "ru") -> None:
    """Set the menus of every scope for each language (and the default language)."""
    i18n = make_i18n(default_language)
    scopes: dict[
        str,
        BotCommandScopeAllPrivateChats
        | BotCommandScopeAllGroupChats
        | BotCommandScopeAllChatAdministrators,
    ] = {
        PRIVATE: BotCommandScopeAllPrivateChats(),
        GROUP: BotCommandScopeAllGroupChats(),
        ADMIN: BotCommandScopeAllChatAdministrators(),
    }
    try:
        for name, scope in scopes.items():
            for lang in LANGUAGES:
                await bot.set_my_commands(menu(name, lang, i18n), scope=scope, language_code=lang)
            await bot.set_my_commands(menu(name, default_language, i18n), scope=scope)
        await bot.set_my_commands(
            menu(PRIVATE, default_language, i18n), scope=BotCommandScopeDefault()
        )
    except TelegramAPIError as exc:
        log.warning("could not set the command menus", extra={"error": type(exc).__name__})
