"""/order: the order card with its buttons, the status change flow and the comment flow.

A bare number (or `#N`) in a private chat is an /order too. Comments need the author's
Pixlpark e-mail (the API's `email` field): the bot asks a manager for it the first time
and remembers it per shop and Telegram user in memory, so after a restart it asks again.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, Filter, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    TelegramObject,
)
from aiogram.utils.i18n import gettext as _

from handlers.access import Access, AccessDenied, NeedAccess, ShopAccess
from handlers.cache import OrderCache
from handlers.clients import ShopClients
from handlers.lookups.callbacks import OrderAction, StatusFlow
from handlers.lookups.common import (
    ORDER_NUMBER,
    LookupCtx,
    LookupState,
    Reply,
    button_shop,
    command,
    expired,
    fetch_card_data,
    fetch_order,
    linked_shop,
    order_not_found,
    parse_order_number,
    run_or_ask,
    safe_edit,
    within_deadline,
)
from handlers.lookups.customer import show_customer
from handlers.lookups.render import items_text
from handlers.order_view import current_lang, order_number, render_card
from handlers.text import CAPTION_LIMIT, esc, truncate, visible_len
from pixlpark import NotFound, Order, OrderItem, StatusChangeFailed
from pixlpark.statuses import SETTABLE_STATUSES, status_label
from storage import Storage

log = logging.getLogger(__name__)

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
COMMENT_LIMIT = 2000


class CommentFlow(StatesGroup):
    """Waiting for the manager's Pixlpark e-mail, then for the comment text."""

    email = State()
    text = State()


def usage_order() -> str:
    """The usage line of /order."""
    return _("Usage: /order NUMBER, for example /order 2336327")


def card_keyboard(sa: ShopAccess, order: Order) -> InlineKeyboardMarkup:
    """Refresh, items, customer; change status and comment for managers."""
    sid, oid = sa.shop.id, order.id
    rows = [
        [
            InlineKeyboardButton(
                text="🔄 " + _("Refresh"), callback_data=OrderAction(a="r", s=sid, o=oid).pack()
            ),
            InlineKeyboardButton(
                text="📋 " + _("Items"), callback_data=OrderAction(a="i", s=sid, o=oid).pack()
            ),
            InlineKeyboardButton(
                text="👤 " + _("Customer"), callback_data=OrderAction(a="c", s=sid, o=oid).pack()
            ),
        ]
    ]
    if sa.level >= Access.MANAGER:
        rows.append(
            [
                InlineKeyboardButton(
                    text="✏️ " + _("Change status"),
                    callback_data=StatusFlow(s=sid, o=oid).pack(),
                ),
                InlineKeyboardButton(
                    text="💬 " + _("Add comment"),
                    callback_data=OrderAction(a="m", s=sid, o=oid).pack(),
                ),
            ]
        )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def status_keyboard(sa: ShopAccess, order: Order, lang: str, notify: int) -> InlineKeyboardMarkup:
    """Every status staff may set (never Deleted, not the current one), two per row."""
    buttons = [
        InlineKeyboardButton(
            text=status_label(status, lang),
            callback_data=StatusFlow(s=sa.shop.id, o=order.id, st=index, n=notify).pack(),
        )
        for index, status in enumerate(SETTABLE_STATUSES)
        if status != order.status
    ]
    rows = [buttons[i : i + 2] for i in range(0, len(buttons), 2)]
    rows.append(
        [
            InlineKeyboardButton(
                text="↩ " + _("Back"),
                callback_data=StatusFlow(s=sa.shop.id, o=order.id, st=-2).pack(),
            )
        ]
    )
    return InlineKeyboardMarkup(inline_keyboard=rows)


def confirm_keyboard(sa: ShopAccess, order: Order, index: int, notify: int, lang: str) -> Any:
    """Confirm the chosen status, toggle "notify customer", or go back to the list."""
    label = status_label(SETTABLE_STATUSES[index], lang)
    sid, oid = sa.shop.id, order.id
    toggle = _("Notify customer: on") if notify else _("Notify customer: off")
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(
                    text="✅ " + _("Set «{status}»").format(status=label),
                    callback_data=StatusFlow(s=sid, o=oid, st=index, n=notify, c=1).pack(),
                )
            ],
            [
                InlineKeyboardButton(
                    text=("🔔 " if notify else "🔕 ") + toggle,
                    callback_data=StatusFlow(s=sid, o=oid, st=index, n=1 - notify).pack(),
                )
            ],
            [
                InlineKeyboardButton(
                    text="↩ " + _("Back"),
                    callback_data=StatusFlow(s=sid, o=oid, n=notify).pack(),
                )
            ],
        ]
    )


def card_text(sa: ShopAccess, order: Order, items: list[OrderItem] | None) -> str:
    """The card for this chat (contacts masked outside members' private chats)."""
    return render_card(
        order,
        shop_name=sa.name,
        timezone=sa.shop.timezone,
        full_contacts=sa.full_contacts,
        items=items,
    )


async def send_card(
    ctx: LookupCtx, sa: ShopAccess, order: Order, items: list[OrderItem] | None
) -> Message:
    """The card as a photo with the card as caption when it fits, else (or on failure) text."""
    text = card_text(sa, order, items)
    markup = card_keyboard(sa, order)
    url = order.preview_image_url
    if url and url.startswith(("http://", "https://")) and visible_len(text) <= CAPTION_LIMIT:
        try:
            return await ctx.message.answer_photo(url, caption=text, reply_markup=markup)
        except TelegramBadRequest as exc:
            log.info("preview image refused, sending text", extra={"error": str(exc)})
    return await ctx.answer(text, reply_markup=markup)


@command("order")
async def run_order(ctx: LookupCtx, sa: ShopAccess, args: str) -> None:
    """/order N."""
    number = parse_order_number(args)
    if number is None:
        raise Reply(usage_order())
    try:
        order, items = await fetch_card_data(ctx, sa, number)
    except NotFound:
        raise Reply(order_not_found(number, sa)) from None
    await send_card(ctx, sa, order, items)


async def refresh_card(
    ctx: LookupCtx, message: Message, sa: ShopAccess, order_id: str, *, fresh: bool = True
) -> Order:
    """Fetch the order again and edit the card in place."""
    order, items = await fetch_card_data(ctx, sa, order_id, fresh=fresh)
    text = card_text(sa, order, items)
    markup = card_keyboard(sa, order)
    if message.photo:
        if visible_len(text) <= CAPTION_LIMIT:
            await safe_edit(message.edit_caption(caption=text, reply_markup=markup))
        else:
            await safe_edit(message.edit_reply_markup(reply_markup=None))
            await ctx.answer(text, reply_markup=markup)
    elif len(text) <= 4096:
        await safe_edit(
            message.edit_text(
                text, reply_markup=markup, link_preview_options=LinkPreviewOptions(is_disabled=True)
            )
        )
    else:
        await ctx.answer(text, reply_markup=markup)
    return order


class SoftAccess(Filter):
    """Like `NeedAccess`, but a chat without access simply does not match (bare numbers)."""

    def __init__(self, level: Access = Access.GROUP_MEMBER) -> None:
        self.inner = NeedAccess(level)

    async def __call__(self, event: TelegramObject, **data: Any) -> bool | dict[str, Any]:
        try:
            return await self.inner(event, **data)
        except AccessDenied:
            return False


def _ctx(
    message: Message,
    user_id: int,
    db: Storage,
    clients: ShopClients,
    cache: OrderCache,
    memory: LookupState,
) -> LookupCtx:
    return LookupCtx(message, user_id, db, clients, cache, memory)


def _lang() -> str:
    return current_lang()


def make_order_router(memory: LookupState) -> Router:
    """The bare number, and the card's buttons and flows (/order itself is one of the
    lookups router's commands)."""
    router = Router(name="lookups.order")

    @router.message(
        F.chat.type == "private",
        StateFilter(None),
        F.text.regexp(ORDER_NUMBER),
        SoftAccess(Access.GROUP_MEMBER),
    )
    async def on_bare_number(
        message: Message,
        shops: list[ShopAccess],
        db: Storage,
        clients: ShopClients,
        cache: OrderCache,
    ) -> None:
        assert message.from_user is not None and message.text is not None
        ctx = _ctx(message, message.from_user.id, db, clients, cache, memory)
        await run_or_ask(ctx, shops, "order", message.text)

    @router.callback_query(OrderAction.filter())
    async def on_card_button(
        query: CallbackQuery,
        callback_data: OrderAction,
        db: Storage,
        clients: ShopClients,
        cache: OrderCache,
        state: FSMContext,
    ) -> None:
        level = Access.MANAGER if callback_data.a == "m" else Access.GROUP_MEMBER
        found = await button_shop(query, db, callback_data.s, level)
        if found is None:
            return
        message, sa = found
        ctx = _ctx(message, query.from_user.id, db, clients, cache, memory)
        order_id = callback_data.o
        try:
            async with within_deadline(ctx):
                if callback_data.a == "r":
                    await refresh_card(ctx, message, sa, order_id)
                    await query.answer(_("Updated."))
                elif callback_data.a == "i":
                    order, items = await fetch_card_data(ctx, sa, order_id)
                    await query.answer()
                    await ctx.answer(items_text(order, items))
                elif callback_data.a == "c":
                    order = await fetch_order(ctx, sa, order_id)
                    await query.answer()
                    await show_customer(ctx, sa, order.user_id, fallback=order)
                elif callback_data.a == "m":
                    order = await fetch_order(ctx, sa, order_id)
                    await query.answer()
                    await start_comment(ctx, state, sa, order)
                else:
                    await query.answer(expired(), show_alert=True)
        except NotFound:
            await query.answer(order_not_found(order_id, sa), show_alert=True)
        except Reply as reply:
            await query.answer(truncate(reply.text, 200), show_alert=True)

    @router.callback_query(StatusFlow.filter())
    async def on_status_flow(
        query: CallbackQuery,
        callback_data: StatusFlow,
        db: Storage,
        clients: ShopClients,
        cache: OrderCache,
    ) -> None:
        found = await button_shop(query, db, callback_data.s, Access.MANAGER)
        if found is None:
            return
        message, sa = found
        ctx = _ctx(message, query.from_user.id, db, clients, cache, memory)
        cb = callback_data
        if cb.st >= len(SETTABLE_STATUSES) or cb.st < -2:
            await query.answer(expired(), show_alert=True)
            return
        try:
            async with within_deadline(ctx):
                order = await fetch_order(ctx, sa, cb.o)
                if cb.st == -2:
                    await safe_edit(
                        message.edit_reply_markup(reply_markup=card_keyboard(sa, order))
                    )
                    await query.answer()
                elif cb.st == -1:
                    markup = status_keyboard(sa, order, _lang(), cb.n)
                    await safe_edit(message.edit_reply_markup(reply_markup=markup))
                    await query.answer(_("Choose the new status."))
                elif not cb.c:
                    markup = confirm_keyboard(sa, order, cb.st, cb.n, _lang())
                    await safe_edit(message.edit_reply_markup(reply_markup=markup))
                    await query.answer()
                else:
                    text = await change_status(ctx, sa, order, SETTABLE_STATUSES[cb.st], bool(cb.n))
                    await refresh_card(ctx, message, sa, order.id)
                    await query.answer(truncate(text, 200), show_alert=True)
        except NotFound:
            await query.answer(order_not_found(cb.o, sa), show_alert=True)
        except Reply as reply:
            await query.answer(truncate(reply.text, 200), show_alert=True)

    @router.message(StateFilter(CommentFlow), Command("cancel"))
    async def on_comment_cancel(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("Cancelled."))

    @router.message(StateFilter(CommentFlow.email), F.text, ~F.text.startswith("/"))
    async def on_comment_email(message: Message, state: FSMContext) -> None:
        assert message.from_user is not None and message.text is not None
        email = message.text.strip()
        if not _EMAIL.match(email):
            await message.answer(
                _("That does not look like an e-mail. Send your Pixlpark staff e-mail or /cancel."),
                reply_markup=ForceReply(selective=True),
            )
            return
        data = await state.get_data()
        memory.staff_emails[(int(data["shop_id"]), message.from_user.id)] = email
        await state.set_state(CommentFlow.text)
        await message.answer(
            esc(
                _("Now send the comment for order {number} (or /cancel).").format(
                    number=data["number"]
                )
            ),
            reply_markup=ForceReply(selective=True),
        )

    @router.message(StateFilter(CommentFlow.text), F.text, ~F.text.startswith("/"))
    async def on_comment_text(
        message: Message,
        state: FSMContext,
        db: Storage,
        clients: ShopClients,
        cache: OrderCache,
        bot: Bot,
    ) -> None:
        assert message.from_user is not None and message.text is not None
        data = await state.get_data()
        await state.clear()
        shop_id, order_id = int(data["shop_id"]), str(data["order_id"])
        sa = await linked_shop(db, message, message.from_user.id, shop_id, Access.MANAGER)
        email = memory.staff_emails.get((shop_id, message.from_user.id))
        if sa is None or email is None:
            await message.answer(expired())
            return
        ctx = _ctx(message, message.from_user.id, db, clients, cache, memory)
        text = message.text.strip()[:COMMENT_LIMIT]
        try:
            async with within_deadline(ctx):
                await ctx.client(sa).add_order_comment(order_id, text, email)
        except NotFound:
            await message.answer(order_not_found(str(data["number"]), sa))
            return
        except Reply as reply:
            await message.answer(reply.text)
            return
        cache.invalidate(shop_id, order_id)
        await db.audit.record(
            "order_comment",
            user_id=message.from_user.id,
            shop_id=shop_id,
            chat_id=message.chat.id,
            details={"order_id": order_id, "email": email, "comment": truncate(text, 500)},
        )
        await message.answer(
            esc(_("Comment added to order {number}.").format(number=data["number"]))
        )

    return router


async def start_comment(ctx: LookupCtx, state: FSMContext, sa: ShopAccess, order: Order) -> None:
    """Ask for the staff e-mail (first time) or straight for the comment text."""
    number = order_number(order)
    await state.set_data({"shop_id": sa.shop.id, "order_id": order.id, "number": number})
    if (sa.shop.id, ctx.user_id) in ctx.memory.staff_emails:
        await state.set_state(CommentFlow.text)
        text = _("Send the comment for order {number} (or /cancel).").format(number=number)
    else:
        await state.set_state(CommentFlow.email)
        text = _(
            "Pixlpark posts comments in the name of a staff account. Send your Pixlpark "
            "staff e-mail (I will remember it), or /cancel."
        )
    await ctx.message.answer(esc(text), reply_markup=ForceReply(selective=True))


async def change_status(
    ctx: LookupCtx, sa: ShopAccess, order: Order, status: str, notify: bool
) -> str:
    """Set the status on Pixlpark, write the audit entry, and say what happened."""
    client = ctx.client(sa)
    try:
        result = await client.set_order_status(order.id, status, send_notifications=notify)
    except StatusChangeFailed as exc:
        reason = exc.result.description if exc.result is not None else ""
        raise Reply(
            _("Pixlpark refused the change: {reason}").format(reason=reason or "—")
        ) from None
    finally:
        ctx.cache.invalidate(sa.shop.id, order.id)
    await ctx.db.audit.record(
        "order_status",
        user_id=ctx.user_id,
        shop_id=sa.shop.id,
        chat_id=ctx.chat_id,
        details={
            "order_id": order.id,
            "from": order.status,
            "to": status,
            "notify": notify,
            "result": result.type,
        },
    )
    label = status_label(status, _lang())
    number = order_number(order)
    if (result.type or "").lower() == "warning":
        return _("Order {number} already has the status «{status}».").format(
            number=number, status=label
        )
    return _("Order {number}: status changed to «{status}».").format(number=number, status=label)
