"""Groups and forum topics: linking (startgroup link or /link CODE), /unlink, the bot being
added, removed or re-added (my_chat_member), and group → supergroup migration."""

from __future__ import annotations

import logging
from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, ChatMemberUpdated, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.access import Access, AccessDenied, NeedAccess, ShopAccess, is_group_admin
from handlers.callbacks import ButtonAccess, PickCb, PickedShop, choose_shop
from handlers.i18n import pick_language
from handlers.text import esc
from storage import CodeKind, Role, Shop, Storage

log = logging.getLogger(__name__)

GROUP_CODE_TTL = timedelta(hours=24)
GROUP_TYPES = {"group", "supergroup"}
_IN = {"member", "administrator", "creator", "restricted"}
_OUT = {"left", "kicked"}


async def group_link(bot: Bot, db: Storage, shop_id: int, user_id: int) -> str:
    """A one-time https://t.me/<bot>?startgroup=<code> link that links the chosen group."""
    code = await db.codes.create(CodeKind.GROUP, shop_id, created_by=user_id, ttl=GROUP_CODE_TTL)
    me = await bot.me()
    return f"https://t.me/{me.username}?startgroup={code.code}"


def add_to_group_markup(link: str) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("➕ Add to a group"), url=link)
    return builder.as_markup()


def how_to_text() -> str:
    """The short how-to shown when the bot lands in a group without a code."""
    return _(
        "Hi! I send order alerts of Pixlpark shops and look orders up.\n"
        "To link this group to a shop, the shop owner or a manager sends /link to me in a "
        "private chat and presses “Add to a group”, or sends <code>/link CODE</code> here "
        "(inside a topic, alerts will go to that topic)."
    )


async def link_group(message: Message, db: Storage, i18n: I18n, code_text: str) -> str:
    """Link the message's group (or topic) to the shop of a group code; the answer to show."""
    user = message.from_user
    assert user is not None
    chat = message.chat
    code = await db.codes.consume(code_text, kind=CodeKind.GROUP, user_id=user.id)
    if code is None:
        return _(
            "This link code is invalid, already used or expired. Get a new one with /link "
            "in a private chat with me."
        )
    shop = await db.shops.get(code.shop_id)
    if shop is None:
        return _("This shop is no longer connected to the bot.")
    role = await db.members.get_role(shop.id, user.id)
    if role is None or not role.at_least(Role.MANAGER):
        await db.audit.record(
            "group_link_refused", user_id=user.id, shop_id=shop.id, chat_id=chat.id
        )
        raise AccessDenied("role", Access.MANAGER)
    topic_id = message.message_thread_id if message.is_topic_message else None
    known = await db.chats.get(chat.id)
    await db.chats.upsert(chat.id, chat.type, chat.title)
    await db.chats.set_active(chat.id, True)
    if known is None or not known.language:
        # A new group speaks the language of whoever linked it (until /lang).
        lang = await db.users.get_language(user.id) or pick_language(
            user.language_code, i18n.default_locale
        )
        await db.chats.set_language(chat.id, lang)
        i18n.current_locale = lang
    await db.links.link(chat.id, shop.id, topic_id=topic_id, created_by=user.id)
    await db.audit.record(
        "group_linked",
        user_id=user.id,
        shop_id=shop.id,
        chat_id=chat.id,
        details={"topic_id": topic_id},
    )
    if topic_id is not None:
        return _(
            "This topic is now linked to <b>{shop}</b>: order alerts will come here. "
            "Everyone in the group can look orders up (customer contacts are masked)."
        ).format(shop=esc(shop.display_name))
    return _(
        "This group is now linked to <b>{shop}</b>: order alerts will come here. "
        "Everyone in the group can look orders up (customer contacts are masked)."
    ).format(shop=esc(shop.display_name))


async def notify_owners(
    bot: Bot, db: Storage, i18n: I18n, shops: list[Shop], chat_title: str, removed: bool
) -> None:
    """Tell each linked shop's owners in private that the bot left or came back to a group."""
    for shop in shops:
        for member in await db.members.list(shop.id):
            if member.role is not Role.OWNER:
                continue
            lang = await db.users.get_language(member.user_id) or i18n.default_locale
            with i18n.use_locale(lang):
                if removed:
                    text = _(
                        "I was removed from the group “{chat}”, so alerts of <b>{shop}</b> "
                        "no longer reach it. Add me back to the group to resume them."
                    )
                else:
                    text = _(
                        "I am back in the group “{chat}”; alerts of <b>{shop}</b> go there again."
                    )
                text = text.format(chat=esc(chat_title), shop=esc(shop.display_name))
            try:
                await bot.send_message(member.user_id, text)
            except TelegramAPIError as exc:
                log.info("could not tell an owner", extra={"error": type(exc).__name__})


def make_groups_router() -> Router:
    """Build the router of group linking, membership changes and migration."""
    router = Router(name="groups")
    in_group = F.chat.type.in_(GROUP_TYPES)
    private = F.chat.type == "private"

    @router.message(CommandStart(deep_link=True), in_group)
    async def startgroup(message: Message, command: CommandObject, db: Storage, i18n: I18n) -> None:
        await message.answer(await link_group(message, db, i18n, command.args or ""))

    @router.message(CommandStart(), in_group)
    async def start_in_group(message: Message, db: Storage) -> None:
        if await db.links.for_chat(message.chat.id):
            await message.answer(_("I am here. Send /shops to see the linked shops."))
        else:
            await message.answer(how_to_text())

    @router.message(Command("link"), in_group)
    async def link_in_group(
        message: Message, command: CommandObject, db: Storage, i18n: I18n
    ) -> None:
        if not command.args:
            await message.answer(how_to_text())
            return
        await message.answer(await link_group(message, db, i18n, command.args.strip()))

    @router.message(Command("link"), private, NeedAccess(Access.MANAGER))
    async def link_in_private(
        message: Message,
        command: CommandObject,
        shops: list[ShopAccess],
        db: Storage,
        bot: Bot,
    ) -> None:
        access = await choose_shop(message, shops, command.args, "link")
        if access is not None:
            await send_group_link(message, bot, db, access, message.chat.id)

    async def send_group_link(
        message: Message, bot: Bot, db: Storage, access: ShopAccess, user_id: int
    ) -> None:
        link = await group_link(bot, db, access.shop.id, user_id)
        code = link.rsplit("=", 1)[1]
        await message.answer(
            _(
                "Press the button and pick a group to link it to <b>{shop}</b>. "
                "For a forum topic, send <code>/link {code}</code> inside that topic instead. "
                "The code works once, within 24 hours."
            ).format(shop=esc(access.name), code=esc(code)),
            reply_markup=add_to_group_markup(link),
        )

    @router.callback_query(
        PickCb.filter(F.cmd == "link"), ButtonAccess(Access.MANAGER), PickedShop()
    )
    async def link_picked(
        query: CallbackQuery, access: ShopAccess, message: Message, db: Storage, bot: Bot
    ) -> None:
        await query.answer()
        await send_group_link(message, bot, db, access, query.from_user.id)

    @router.message(Command("unlink"), private)
    async def unlink_in_private(message: Message) -> None:
        await message.answer(
            _("/unlink works in a group. To remove a shop completely, use /disconnect.")
        )

    @router.message(Command("unlink"), in_group, NeedAccess(Access.GROUP_MEMBER))
    async def unlink(
        message: Message,
        command: CommandObject,
        shops: list[ShopAccess],
        db: Storage,
        bot: Bot,
    ) -> None:
        access = await choose_shop(message, shops, command.args, "unlink")
        if access is None:
            return
        assert message.from_user is not None
        await unlink_group(message, bot, db, access, message.from_user.id)

    @router.callback_query(
        PickCb.filter(F.cmd == "unlink"), ButtonAccess(Access.GROUP_MEMBER), PickedShop()
    )
    async def unlink_picked(
        query: CallbackQuery, access: ShopAccess, message: Message, db: Storage, bot: Bot
    ) -> None:
        await unlink_group(message, bot, db, access, query.from_user.id)
        await query.answer()

    @router.my_chat_member(F.chat.type.in_(GROUP_TYPES))
    async def membership(event: ChatMemberUpdated, db: Storage, bot: Bot, i18n: I18n) -> None:
        old, new = event.old_chat_member.status, event.new_chat_member.status
        chat = event.chat
        links = await db.links.for_chat(chat.id)
        shops = [s for s in [await db.shops.get(link.shop_id) for link in links] if s]
        title = chat.title or str(chat.id)
        if new in _OUT and old not in _OUT:
            if await db.chats.get(chat.id) is not None:
                await db.chats.set_active(chat.id, False)
            await db.audit.record("bot_removed", chat_id=chat.id, user_id=event.from_user.id)
            await notify_owners(bot, db, i18n, shops, title, removed=True)
        elif new in _IN and old in _OUT:
            if not links:
                await bot.send_message(chat.id, how_to_text())
                return
            await db.chats.upsert(chat.id, chat.type, chat.title)
            await db.chats.set_active(chat.id, True)
            await db.audit.record("bot_readded", chat_id=chat.id, user_id=event.from_user.id)
            await notify_owners(bot, db, i18n, shops, title, removed=False)
            await bot.send_message(
                chat.id,
                _("Thanks for adding me back. Alerts of {shops} resume here.").format(
                    shops=", ".join(f"<b>{esc(s.display_name)}</b>" for s in shops)
                ),
            )

    @router.my_chat_member(private)
    async def private_membership(event: ChatMemberUpdated, db: Storage) -> None:
        blocked = event.new_chat_member.status in _OUT
        if await db.chats.get(event.chat.id) is not None:
            await db.chats.set_active(event.chat.id, not blocked)

    @router.message(F.migrate_to_chat_id)
    async def migrated_to(message: Message, db: Storage) -> None:
        assert message.migrate_to_chat_id is not None
        await migrate(db, message.chat.id, message.migrate_to_chat_id)

    @router.message(F.migrate_from_chat_id)
    async def migrated_from(message: Message, db: Storage) -> None:
        assert message.migrate_from_chat_id is not None
        await migrate(db, message.migrate_from_chat_id, message.chat.id)

    return router


async def migrate(db: Storage, old_id: int, new_id: int) -> None:
    """Move everything of a group to its new supergroup id (safe to repeat)."""
    if await db.chats.get(old_id) is None and not await db.links.for_chat(old_id):
        return
    await db.chats.migrate(old_id, new_id)
    await db.audit.record("chat_migrated", chat_id=new_id, details={"from": old_id})


async def unlink_group(
    message: Message, bot: Bot, db: Storage, access: ShopAccess, user_id: int
) -> None:
    """Unlink the message's group from a shop: group admins and the shop's owners may."""
    chat = message.chat
    if access.role is not Role.OWNER and not await is_group_admin(bot, chat.id, user_id):
        raise AccessDenied("group_admin")
    await db.links.unlink(chat.id, access.shop.id)
    await db.audit.record(
        "group_unlinked", user_id=user_id, shop_id=access.shop.id, chat_id=chat.id
    )
    await message.answer(
        _("This group is no longer linked to <b>{shop}</b>.").format(shop=esc(access.name))
    )
