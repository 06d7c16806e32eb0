"""Colleagues: /invite links with a role, joining through them, and /staff (owner only)."""

from __future__ import annotations

import contextlib
import logging
from datetime import timedelta

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _
from aiogram.utils.i18n.context import get_i18n
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.access import Access, AccessDenied, NeedAccess, ShopAccess
from handlers.callbacks import ButtonAccess, InviteCb, PickCb, PickedShop, StaffCb, choose_shop
from handlers.fallback import answer_expired
from handlers.text import esc
from storage import CodeKind, Member, Role, Shop, Storage

log = logging.getLogger(__name__)

INVITE_TTL = timedelta(hours=48)
INVITE_ROLES = (Role.MANAGER, Role.VIEWER)


async def remember_language(db: Storage, user_id: int) -> None:
    """Keep the language of this conversation for messages the user gets unasked
    (e.g. "the bot was removed from your group"), unless they chose one with /lang."""
    if await db.users.get_language(user_id) is None:
        await db.users.set_language(user_id, get_i18n().current_locale)


def role_name(role: Role | str) -> str:
    """The translated name of a role."""
    names = {Role.OWNER: _("owner"), Role.MANAGER: _("manager"), Role.VIEWER: _("viewer")}
    return names.get(Role(role), str(role))


async def invite_link(bot: Bot, db: Storage, shop_id: int, user_id: int, role: Role) -> str:
    """A new one-time deep link that makes whoever opens it a member with `role`."""
    code = await db.codes.create(
        CodeKind.INVITE, shop_id, created_by=user_id, role=role, ttl=INVITE_TTL
    )
    me = await bot.me()
    return f"https://t.me/{me.username}?start={code.code}"


def invite_text(shop: Shop, role: Role, link: str) -> str:
    return _(
        "Invite link for <b>{shop}</b> with the {role} role. Send it to your colleague; "
        "it works once, within 48 hours:\n{link}"
    ).format(shop=esc(shop.display_name), role=esc(role_name(role)), link=esc(link))


async def create_invite(bot: Bot, db: Storage, shop: Shop, user_id: int, role: Role) -> str:
    """A new invite for ``role``, recorded in the audit log; returns the text showing it."""
    link = await invite_link(bot, db, shop.id, user_id, role)
    await db.audit.record(
        "invite_created", user_id=user_id, shop_id=shop.id, details={"role": role.value}
    )
    return invite_text(shop, role, link)


def role_question(shop: Shop) -> str:
    return _(
        "Which role should the colleague get in <b>{shop}</b>? "
        "A manager may change order status and comment; a viewer only looks."
    ).format(shop=esc(shop.display_name))


def role_buttons(shop_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    for role in INVITE_ROLES:
        builder.button(
            text=role_name(role).capitalize(),
            callback_data=InviteCb(shop_id=shop_id, role=role.value),
        )
    return builder.as_markup()


async def member_name(bot: Bot, user_id: int) -> str:
    """The user's name as Telegram shows it (unescaped), or their id."""
    with contextlib.suppress(TelegramAPIError):
        chat = await bot.get_chat(user_id)
        name = " ".join(p for p in (chat.first_name, chat.last_name) if p)
        if chat.username:
            name = f"{name} (@{chat.username})" if name else f"@{chat.username}"
        if name:
            return name
    return str(user_id)


async def staff_view(bot: Bot, db: Storage, shop: Shop) -> tuple[str, InlineKeyboardMarkup]:
    """The member list of a shop with buttons to change roles (not for owners)."""
    members: list[Member] = await db.members.list(shop.id)
    lines = [_("Members of <b>{shop}</b>:").format(shop=esc(shop.display_name))]
    builder = InlineKeyboardBuilder()
    sizes: list[int] = []
    for member in members:
        name = await member_name(bot, member.user_id)
        lines.append(f"• {esc(name)} — {esc(role_name(member.role))}")
        if member.role is Role.OWNER:
            continue
        short = name if len(name) <= 20 else name[:19] + "…"
        builder.button(
            text=short,
            callback_data=StaffCb(action="noop", shop_id=shop.id, user_id=member.user_id),
        )
        other = Role.VIEWER if member.role is Role.MANAGER else Role.MANAGER
        builder.button(
            text="→ " + role_name(other),
            callback_data=StaffCb(action=other.value, shop_id=shop.id, user_id=member.user_id),
        )
        builder.button(
            text=_("Remove"),
            callback_data=StaffCb(action="rm", shop_id=shop.id, user_id=member.user_id),
        )
        sizes.append(3)
    if len(members) <= 1:
        lines.append(_("No colleagues yet. Invite them with /invite."))
    if sizes:
        builder.adjust(*sizes)
    return "\n".join(lines), builder.as_markup()


async def join_by_code(db: Storage, bot: Bot, i18n: I18n, message: Message, code_text: str) -> str:
    """Redeem an invite code for the sender; returns the answer to show."""
    user = message.from_user
    assert user is not None
    code = await db.codes.consume(code_text, kind=CodeKind.INVITE, user_id=user.id)
    if code is None or code.role is None:
        return _(
            "This invite link is invalid, already used or expired. "
            "Ask the shop owner for a new one."
        )
    shop = await db.shops.get(code.shop_id)
    if shop is None:
        return _("This shop is no longer connected to the bot.")
    current = await db.members.get_role(shop.id, user.id)
    role = code.role
    if current is not None and current.at_least(role):
        role = current
    else:
        await db.members.set_role(shop.id, user.id, role)
    await db.chats.upsert(message.chat.id, "private", None)
    await db.links.link(message.chat.id, shop.id, created_by=code.created_by)
    await remember_language(db, user.id)
    await db.audit.record(
        "member_joined",
        user_id=user.id,
        shop_id=shop.id,
        chat_id=message.chat.id,
        details={"role": role.value, "invited_by": code.created_by},
    )
    await notify_inviter(bot, db, i18n, code.created_by, shop, user.full_name, role)
    return _(
        "Welcome! You are now a {role} of <b>{shop}</b>. Send /shops to see it, "
        "/help for what I can do."
    ).format(role=esc(role_name(role)), shop=esc(shop.display_name))


async def notify_inviter(
    bot: Bot, db: Storage, i18n: I18n, inviter: int, shop: Shop, name: str, role: Role
) -> None:
    """Tell whoever created the invite that it was used (in their language)."""
    lang = await db.users.get_language(inviter) or i18n.default_locale
    with i18n.use_locale(lang):
        text = _("{name} joined <b>{shop}</b> as {role}.").format(
            name=esc(name), shop=esc(shop.display_name), role=esc(role_name(role))
        )
    try:
        await bot.send_message(inviter, text)
    except TelegramAPIError as exc:
        log.info("could not notify the inviter", extra={"error": type(exc).__name__})


def make_members_router() -> Router:
    """Build the router of /invite, invite deep links and /staff."""
    router = Router(name="members")
    private = F.chat.type == "private"

    @router.message(CommandStart(deep_link=True), private)
    async def join(
        message: Message, command: CommandObject, db: Storage, bot: Bot, i18n: I18n
    ) -> None:
        await message.answer(await join_by_code(db, bot, i18n, message, command.args or ""))

    @router.message(Command("invite", "staff"), ~private)
    async def private_only(message: Message) -> None:
        raise AccessDenied("private_only")

    @router.message(Command("invite"), private, NeedAccess(Access.OWNER))
    async def invite(
        message: Message,
        command: CommandObject,
        shops: list[ShopAccess],
        db: Storage,
        bot: Bot,
    ) -> None:
        words = (command.args or "").split()
        role: Role | None = None
        if words and words[0].lower() in {r.value for r in INVITE_ROLES}:
            role = Role(words.pop(0).lower())
        access = await choose_shop(message, shops, " ".join(words) or None, "invite")
        if access is None:
            return
        await send_invite(message, bot, db, access.shop, role)

    async def send_invite(
        message: Message, bot: Bot, db: Storage, shop: Shop, role: Role | None
    ) -> None:
        if role is None:
            await message.answer(role_question(shop), reply_markup=role_buttons(shop.id))
            return
        assert message.chat is not None
        await message.answer(await create_invite(bot, db, shop, message.chat.id, role))

    @router.callback_query(
        PickCb.filter(F.cmd == "invite"), ButtonAccess(Access.OWNER), PickedShop()
    )
    async def invite_picked(query: CallbackQuery, access: ShopAccess, message: Message) -> None:
        await query.answer()
        await message.edit_text(
            role_question(access.shop), reply_markup=role_buttons(access.shop.id)
        )

    @router.callback_query(
        InviteCb.filter(F.role.in_({r.value for r in INVITE_ROLES})),
        ButtonAccess(Access.OWNER),
        PickedShop(),
    )
    async def invite_role(
        query: CallbackQuery,
        callback_data: InviteCb,
        access: ShopAccess,
        message: Message,
        db: Storage,
        bot: Bot,
    ) -> None:
        role = Role(callback_data.role)
        text = await create_invite(bot, db, access.shop, query.from_user.id, role)
        await query.answer()
        await message.edit_text(text)

    @router.message(Command("staff"), private, NeedAccess(Access.OWNER))
    async def staff(
        message: Message,
        command: CommandObject,
        shops: list[ShopAccess],
        db: Storage,
        bot: Bot,
    ) -> None:
        access = await choose_shop(message, shops, command.args, "staff")
        if access is None:
            return
        text, markup = await staff_view(bot, db, access.shop)
        await message.answer(text, reply_markup=markup)

    @router.callback_query(
        PickCb.filter(F.cmd == "staff"), ButtonAccess(Access.OWNER), PickedShop()
    )
    async def staff_picked(
        query: CallbackQuery, access: ShopAccess, message: Message, db: Storage, bot: Bot
    ) -> None:
        await query.answer()
        text, markup = await staff_view(bot, db, access.shop)
        await message.edit_text(text, reply_markup=markup)

    @router.callback_query(
        StaffCb.filter(F.action.in_({"manager", "viewer", "rm", "noop"})),
        ButtonAccess(Access.OWNER),
        PickedShop(),
    )
    async def staff_change(
        query: CallbackQuery,
        callback_data: StaffCb,
        access: ShopAccess,
        message: Message,
        db: Storage,
        bot: Bot,
    ) -> None:
        target = callback_data.user_id
        current = await db.members.get_role(access.shop.id, target)
        if current is None or current is Role.OWNER:
            await answer_expired(query)
            return
        shop = access.shop
        action = callback_data.action
        if action == "noop":
            await query.answer()
            return
        if action == "rm":
            await db.members.remove(shop.id, target)
            await db.links.unlink(target, shop.id)
            note = _("Removed.")
        else:
            await db.members.set_role(shop.id, target, Role(action))
            note = _("Role changed.")
        await db.audit.record(
            "member_removed" if action == "rm" else "role_changed",
            user_id=query.from_user.id,
            shop_id=shop.id,
            details={"member": target, "role": action},
        )
        await query.answer(note)
        text, markup = await staff_view(bot, db, shop)
        await message.edit_text(text, reply_markup=markup)

    return router
