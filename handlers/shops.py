"""/shops (the shops linked to this chat, with buttons), /disconnect and /rename."""

from __future__ import annotations

from aiogram import Bot, F, Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.access import Access, AccessDenied, NeedAccess, ShopAccess
from handlers.alert_settings import open_alert_settings
from handlers.callbacks import (
    ButtonAccess,
    DisconnectCb,
    PickCb,
    PickedShop,
    ShopCb,
    choose_shop,
    find_shop,
)
from handlers.clients import ShopClients
from handlers.config import HandlerConfig
from handlers.fallback import answer_expired
from handlers.groups import add_to_group_markup, group_link, unlink_group
from handlers.members import role_name
from handlers.text import esc, split_message
from storage import Role, ShopState, Storage

TITLE_LIMIT = 64


def state_text(state: ShopState) -> str:
    names = {
        ShopState.ACTIVE: _("active"),
        ShopState.KEYS_REJECTED: _("keys rejected by Pixlpark — send /connect again"),
        ShopState.PAUSED: _("paused"),
    }
    return names.get(state, str(state))


def shop_line(access: ShopAccess) -> str:
    """One shop of /shops: name, id, state, the user's role, the topic alerts go to."""
    parts = [f"<b>{esc(access.name)}</b> (#{access.shop.id})", esc(state_text(access.shop.state))]
    if access.role is not None:
        parts.append(_("your role: {role}").format(role=esc(role_name(access.role))))
    if access.link.topic_id is not None:
        parts.append(_("alerts go to a topic"))
    return " · ".join(parts)


def shop_buttons(access: ShopAccess, private: bool) -> list[tuple[str, ShopCb]]:
    """The buttons of one shop, by what the user may do with it here."""
    sid = access.shop.id
    buttons = [(_("🔔 Alerts"), ShopCb(action="alerts", shop_id=sid))]
    if access.level >= Access.OWNER:
        buttons.append((_("🔗 Webhook URLs"), ShopCb(action="hooks", shop_id=sid)))
    if private:
        if access.level >= Access.MANAGER:
            buttons.append((_("➕ Group"), ShopCb(action="group", shop_id=sid)))
        if access.level >= Access.OWNER:
            buttons.append((_("❌ Disconnect"), ShopCb(action="disc", shop_id=sid)))
    else:
        buttons.append((_("✂️ Unlink"), ShopCb(action="unlink", shop_id=sid)))
    return buttons


def shops_view(shops: list[ShopAccess], private: bool) -> tuple[str, InlineKeyboardMarkup]:
    lines = [_("Shops linked to this chat:")]
    builder = InlineKeyboardBuilder()
    for access in shops:
        lines.append(shop_line(access))
        buttons = shop_buttons(access, private)
        prefix = f"{access.name[:12]}: " if len(shops) > 1 else ""
        for text, data in buttons:
            builder.button(text=prefix + text, callback_data=data)
    builder.adjust(2)
    return "\n".join(lines), builder.as_markup()


def hooks_text(access: ShopAccess, config: HandlerConfig) -> str:
    urls = config.webhook_urls(access.shop.webhook_token)
    hooks = "\n".join(f"{esc(event)}: <code>{esc(url)}</code>" for event, url in urls.items())
    return (
        _(
            "Webhook URLs of <b>{shop}</b> for Pixlpark "
            "(“Маркетинг / Уведомления → Настройка вебхуков”):"
        ).format(shop=esc(access.name))
        + "\n"
        + hooks
    )


def confirm_markup(shop_id: int) -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(
        text=_("Yes, disconnect"), callback_data=DisconnectCb(action="yes", shop_id=shop_id)
    )
    builder.button(text=_("No"), callback_data=DisconnectCb(action="no", shop_id=shop_id))
    return builder.as_markup()


def confirm_text(access: ShopAccess) -> str:
    return _(
        "Disconnect <b>{shop}</b>? Its keys, every chat link, members and settings are removed; "
        "alerts stop. Remove the webhooks in Pixlpark too."
    ).format(shop=esc(access.name))


async def answer_not_found(message: Message) -> None:
    await message.answer(_("No shop of yours has this ID here. See /shops."))


def make_shops_router() -> Router:
    """Build the router of /shops, its buttons, /disconnect and /rename."""
    router = Router(name="shops")
    private = F.chat.type == "private"

    @router.message(Command("shops"), NeedAccess(Access.GROUP_MEMBER))
    async def shops(message: Message, shops: list[ShopAccess]) -> None:
        text, markup = shops_view(shops, message.chat.type == "private")
        parts = split_message(text)
        for part in parts[:-1]:
            await message.answer(part)
        await message.answer(parts[-1], reply_markup=markup)

    @router.callback_query(
        ShopCb.filter(F.action.in_({"alerts", "hooks", "group", "disc", "unlink"})),
        ButtonAccess(Access.GROUP_MEMBER),
        PickedShop(),
    )
    async def shop_button(
        query: CallbackQuery,
        callback_data: ShopCb,
        access: ShopAccess,
        message: Message,
        db: Storage,
        bot: Bot,
        config: HandlerConfig,
    ) -> None:
        action = callback_data.action
        is_private = message.chat.type == "private"
        if action == "alerts":
            await open_alert_settings(query, message, db, bot, access)
        elif action == "hooks":
            if access.level < Access.OWNER:
                raise AccessDenied("role", Access.OWNER)
            await query.answer()
            await message.answer(hooks_text(access, config))
        elif action == "group" and is_private:
            if access.level < Access.MANAGER:
                raise AccessDenied("role", Access.MANAGER)
            await query.answer()
            link = await group_link(bot, db, access.shop.id, query.from_user.id)
            await message.answer(
                _("Press the button and pick a group to link it to <b>{shop}</b>.").format(
                    shop=esc(access.name)
                ),
                reply_markup=add_to_group_markup(link),
            )
        elif action == "disc" and is_private:
            if access.level < Access.OWNER:
                raise AccessDenied("role", Access.OWNER)
            await query.answer()
            await message.answer(confirm_text(access), reply_markup=confirm_markup(access.shop.id))
        elif action == "unlink" and not is_private:
            await unlink_group(message, bot, db, access, query.from_user.id)
            await query.answer()
        else:
            await answer_expired(query)

    @router.message(Command("disconnect", "rename"), ~private)
    async def private_only(message: Message) -> None:
        raise AccessDenied("private_only")

    @router.message(Command("disconnect"), private, NeedAccess(Access.OWNER))
    async def disconnect(message: Message, command: CommandObject, shops: list[ShopAccess]) -> None:
        access = await choose_shop(message, shops, command.args, "disconnect")
        if access is not None:
            await message.answer(confirm_text(access), reply_markup=confirm_markup(access.shop.id))

    @router.callback_query(
        PickCb.filter(F.cmd == "disconnect"), ButtonAccess(Access.OWNER), PickedShop()
    )
    async def disconnect_picked(query: CallbackQuery, access: ShopAccess, message: Message) -> None:
        await query.answer()
        await message.edit_text(confirm_text(access), reply_markup=confirm_markup(access.shop.id))

    @router.callback_query(
        DisconnectCb.filter(F.action.in_({"yes", "no"})),
        F.message.chat.type == "private",
        ButtonAccess(Access.OWNER),
        PickedShop(),
    )
    async def disconnect_confirmed(
        query: CallbackQuery,
        callback_data: DisconnectCb,
        access: ShopAccess,
        message: Message,
        db: Storage,
        clients: ShopClients,
    ) -> None:
        if callback_data.action == "no":
            await query.answer()
            await message.edit_text(_("Nothing changed."))
            return
        shop = access.shop
        chats = await db.links.for_shop(shop.id, active_chats_only=False)
        await db.shops.delete(shop.id)
        clients.forget(shop.id)
        await db.audit.record(
            "shop_disconnected",
            user_id=query.from_user.id,
            shop_id=shop.id,
            details={"links": len(chats)},
        )
        await query.answer()
        await message.edit_text(
            _(
                "<b>{shop}</b> is disconnected: keys and {count} chat link(s) removed. "
                "Remember to remove the webhooks in Pixlpark."
            ).format(shop=esc(access.name), count=len(chats))
        )

    @router.message(Command("rename"), private, NeedAccess(Access.OWNER))
    async def rename(
        message: Message, command: CommandObject, shops: list[ShopAccess], db: Storage
    ) -> None:
        title = " ".join((command.args or "").split())[:TITLE_LIMIT]
        if not title:
            await message.answer(_("Send the new name after the command: /rename New name"))
            return
        owned = [a for a in shops if a.role is Role.OWNER]
        head, _sep, rest = title.partition(" ")
        if head.startswith("#") and head[1:].isdigit() and rest.strip():
            match = find_shop(owned, int(head[1:]))
            if match is None:
                await answer_not_found(message)
                return
            target, title = match, rest.strip()
        elif len(owned) == 1:
            target = owned[0]
        else:
            await message.answer(
                _("You own several shops; rename one with /rename #ID New name (IDs: /shops).")
            )
            return
        await db.shops.set_title(target.shop.id, title)
        await db.audit.record("shop_renamed", user_id=message.chat.id, shop_id=target.shop.id)
        await message.answer(_("Renamed to <b>{title}</b>.").format(title=esc(title)))

    return router
