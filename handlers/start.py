"""/start and /help in a private chat: what the bot does and how to connect a shop."""

from __future__ import annotations

from aiogram import F, Router
from aiogram.filters import Command, CommandStart
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.text import esc
from storage import Storage


def welcome_text(first_name: str | None, has_shops: bool) -> str:
    """The welcome and how-to text of a private chat."""
    hello = _("Hello, {name}!").format(name=esc(first_name or ""))
    about = _(
        "I help the staff of Pixlpark photo-print shops: instant alerts about new, paid and "
        "cancelled orders in Telegram, order lookups, and status changes from the chat."
    )
    if has_shops:
        steps = _(
            "Your shops: /shops. Invite colleagues with /invite, manage them with /staff, "
            "link a group with /link. Language: /lang."
        )
    else:
        steps = _(
            "To connect your shop (takes a minute):\n"
            "1. In the Pixlpark admin panel open “Настройка / Доступ → Доступность API” "
            "and switch API access on.\n"
            "2. Send /connect here and paste the Public Key, then the Private Key "
            "(or send <code>/connect PUBLIC PRIVATE</code> in one message).\n"
            "3. I check the keys with Pixlpark and give you the webhook URLs and a button "
            "to add me to your team's group.\n\n"
            "Got an invite link from a colleague? Just open it. Language: /lang."
        )
    return "\n\n".join([hello, about, steps])


def make_start_router() -> Router:
    """Build the router of /start (without a code) and /help."""
    router = Router(name="start")
    private = F.chat.type == "private"

    @router.message(CommandStart(), private)
    @router.message(Command("help"), private)
    async def start(message: Message, db: Storage) -> None:
        user = message.from_user
        has_shops = bool(user and await db.members.shops_for_user(user.id))
        await db.chats.upsert(message.chat.id, "private", None)
        await message.answer(welcome_text(user.first_name if user else None, has_shops))

    @router.message(Command("help"), ~private)
    async def help_in_group(message: Message) -> None:
        await message.answer(
            _(
                "In a linked group: /shops shows the linked shops, /unlink removes a link "
                "(group admins), /lang sets the group's language. Keys and settings of a "
                "shop are handled in a private chat with me."
            )
        )

    return router
