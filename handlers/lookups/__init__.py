"""The lookup commands: /order, /status, /orders, /today, /find, /customer, /discounts,
/shipping and /help, for chats linked to a shop.

`make_lookups_router()` builds the router; `handlers/setup.py` includes it first, so its
/help (linked chats only), bare order numbers and the comment flow's /cancel win.

With several shops linked to a chat, the shop goes first: `/order demo 2336327` or
`/status 7 2336327` (shop id or the start of its title); otherwise buttons ask which one.
Every button carries the shop id and is re-checked against this chat and this user.
Pixlpark calls of one lookup share a deadline (the client timeout, at most 10 s).
"""

from __future__ import annotations

from aiogram import Router
from aiogram.filters import Command, CommandObject
from aiogram.types import CallbackQuery, Message

from handlers.access import Access, NeedAccess, ShopAccess
from handlers.cache import OrderCache
from handlers.clients import ShopClients
from handlers.lookups import catalog, customer, find, orders, status, today  # noqa: F401
from handlers.lookups.callbacks import ShopPick
from handlers.lookups.common import (
    COMMANDS,
    LookupCtx,
    LookupState,
    execute,
    expired,
    linked_shop,
    run_or_ask,
    safe_edit,
    take_pending,
)
from handlers.lookups.help import help_text
from handlers.lookups.order import SoftAccess, make_order_router
from handlers.lookups.orders import make_orders_router
from handlers.lookups.throttling import ThrottlingMiddleware
from storage import Storage

SIMPLE_COMMANDS = (
    "order",
    "status",
    "orders",
    "today",
    "find",
    "customer",
    "discounts",
    "shipping",
)


def make_lookups_router(throttle_interval: float = 3.0) -> Router:
    """Build the lookup routers; a new instance on each call."""
    router = Router(name="lookups")
    memory = LookupState()
    router.message.middleware(ThrottlingMiddleware(interval=throttle_interval))

    @router.message(Command("help"), SoftAccess(Access.GROUP_MEMBER))
    async def on_help(message: Message, shops: list[ShopAccess]) -> None:
        await message.answer(help_text(message.chat, shops))

    @router.message(Command(*SIMPLE_COMMANDS), NeedAccess(Access.GROUP_MEMBER))
    async def on_lookup(
        message: Message,
        command: CommandObject,
        shops: list[ShopAccess],
        db: Storage,
        clients: ShopClients,
        cache: OrderCache,
    ) -> None:
        assert message.from_user is not None
        ctx = LookupCtx(message, message.from_user.id, db, clients, cache, memory)
        await run_or_ask(ctx, shops, command.command.lower(), command.args or "")

    @router.callback_query(ShopPick.filter())
    async def on_shop_pick(
        query: CallbackQuery,
        callback_data: ShopPick,
        db: Storage,
        clients: ShopClients,
        cache: OrderCache,
    ) -> None:
        message = query.message
        if not isinstance(message, Message):
            await query.answer(expired(), show_alert=True)
            return
        sa = await linked_shop(
            db, message, query.from_user.id, callback_data.s, Access.GROUP_MEMBER
        )
        pending = take_pending(memory, callback_data.t, message.chat.id, query.from_user.id)
        if sa is None or pending is None or pending.name not in COMMANDS:
            await query.answer(expired(), show_alert=True)
            return
        await query.answer()
        await safe_edit(message.edit_reply_markup(reply_markup=None))
        ctx = LookupCtx(message, query.from_user.id, db, clients, cache, memory)
        await execute(ctx, sa, pending.name, pending.args)

    router.include_router(make_order_router(memory))
    router.include_router(make_orders_router(memory))
    return router
