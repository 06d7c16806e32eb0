"""What every lookup shares: the context, the shop choice, API calls with a deadline and cache.

Commands are plain coroutines `run(ctx, shop_access, args)` registered in `COMMANDS`; the
routers only parse the message, pick the shop (a leading shop word such as
`/order demo 123`, the only linked shop, or buttons) and call `execute`, which turns
Pixlpark failures into one-line answers within the deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiogram import Bot
from aiogram.exceptions import TelegramBadRequest
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
)
from aiogram.utils.i18n import gettext as _

from handlers.access import Access, AccessDenied, ShopAccess, resolve_access
from handlers.cache import OrderCache
from handlers.clients import ShopClients
from handlers.errors import denial_text
from handlers.lookups.callbacks import ShopPick
from handlers.text import esc, split_message
from pixlpark import (
    ApiNotActivated,
    AuthError,
    NotFound,
    NotSupported,
    Order,
    OrderItem,
    PixlparkClient,
    PixlparkError,
    RateLimited,
    ServiceUnavailable,
)
from storage import Storage

log = logging.getLogger(__name__)
T = TypeVar("T")

_NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
MAX_DEADLINE = 10.0
"""An interactive lookup answers within this many seconds, whatever the client timeout."""


class Reply(Exception):
    """A one-line answer that ends a lookup (usage, not found, Pixlpark down...)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text


@dataclass
class _Pending:
    chat_id: int
    user_id: int
    name: str
    args: str
    created: float


@dataclass
class LookupState:
    """What the lookups remember between updates; one per router, never module-wide.

    Kept in memory on purpose: a restart only loses pending shop choices (the user asks
    again), de-duplicated API calls in flight and the staff e-mails used as comment author.
    """

    pending: dict[str, _Pending] = field(default_factory=dict)
    inflight: dict[tuple[int, str, str], asyncio.Task[Any]] = field(default_factory=dict)
    staff_emails: dict[tuple[int, int], str] = field(default_factory=dict)


@dataclass
class LookupCtx:
    """Everything a lookup needs: where to answer, who asks, and the shared services."""

    message: Message
    """The message to answer next to (the user's command, or the message a button is under)."""
    user_id: int
    db: Storage
    clients: ShopClients
    cache: OrderCache
    memory: LookupState

    @property
    def bot(self) -> Bot:
        """The bot answering."""
        bot = self.message.bot
        assert bot is not None
        return bot

    @property
    def chat_id(self) -> int:
        """The chat the lookup happens in."""
        return self.message.chat.id

    @property
    def private(self) -> bool:
        """Whether this is a private chat with the bot."""
        return self.message.chat.type == "private"

    def client(self, sa: ShopAccess) -> PixlparkClient:
        """The shop's Pixlpark client."""
        return self.clients.for_shop(sa.shop)

    async def answer(self, text: str, reply_markup: InlineKeyboardMarkup | None = None) -> Message:
        """Answer in the chat (and topic); long texts are split, buttons go on the last part."""
        parts = split_message(text)
        sent: Message | None = None
        for index, part in enumerate(parts):
            markup = reply_markup if index == len(parts) - 1 else None
            sent = await self.message.answer(
                part, reply_markup=markup, link_preview_options=_NO_PREVIEW
            )
        assert sent is not None
        return sent


def deadline(clients: ShopClients) -> float:
    """Seconds a lookup may spend on Pixlpark: the client timeout, at most `MAX_DEADLINE`."""
    return min(float(clients.timeout), MAX_DEADLINE)


def not_answering() -> str:
    """The one line for an unreachable or slow Pixlpark."""
    return _("Pixlpark is not answering, try again in a moment.")


def order_not_found(number: str, sa: ShopAccess) -> str:
    """`order N not found in SHOP`."""
    return _("Order {number} not found in {shop}.").format(number=esc(number), shop=esc(sa.name))


def error_text(exc: PixlparkError) -> str:
    """A one-line answer for a Pixlpark failure."""
    if isinstance(exc, ServiceUnavailable):
        return not_answering()
    if isinstance(exc, RateLimited):
        return _("Pixlpark asks to slow down; try again in a minute.")
    if isinstance(exc, ApiNotActivated):
        return _("The shop's Pixlpark API access is not active yet; try again later.")
    if isinstance(exc, AuthError):
        return _("Pixlpark rejected the shop's API keys; the shop owner should check them.")
    if isinstance(exc, NotSupported):
        return _("This shop's Pixlpark account does not offer that through the API.")
    return _("Pixlpark answered with an error; try again later.")


# --- running a command ---------------------------------------------

Runner = Callable[[LookupCtx, ShopAccess, str], Awaitable[None]]


@dataclass(frozen=True)
class LookupCommand:
    """A registered lookup command."""

    name: str
    run: Runner
    takes_shop_word: bool = True


COMMANDS: dict[str, LookupCommand] = {}


def command(name: str) -> Callable[[Runner], Runner]:
    """Register `run(ctx, shop, args)` as the lookup `/name`."""

    def register(run: Runner) -> Runner:
        COMMANDS[name] = LookupCommand(name, run)
        return run

    return register


async def execute(ctx: LookupCtx, sa: ShopAccess, name: str, args: str) -> None:
    """Run a lookup within the deadline; failures become one-line answers, never silence."""
    cmd = COMMANDS[name]
    try:
        async with asyncio.timeout(deadline(ctx.clients)):
            await cmd.run(ctx, sa, args)
    except Reply as reply:
        await ctx.answer(reply.text)
    except TimeoutError:
        log.warning("lookup timed out", extra={"command": name, "shop_id": sa.shop.id})
        await ctx.answer(not_answering())
    except PixlparkError as exc:
        log.warning(
            "lookup failed", extra={"command": name, "shop_id": sa.shop.id, "error": str(exc)}
        )
        await ctx.answer(error_text(exc))


@contextlib.asynccontextmanager
async def within_deadline(ctx: LookupCtx) -> AsyncIterator[None]:
    """The same deadline for button actions; raises `Reply` with the one-line answer."""
    try:
        async with asyncio.timeout(deadline(ctx.clients)):
            yield
    except TimeoutError:
        raise Reply(not_answering()) from None
    except NotFound:
        raise
    except PixlparkError as exc:
        raise Reply(error_text(exc)) from None


# --- choosing the shop ---------------------------------------------


def split_shop(shops: list[ShopAccess], args: str) -> tuple[ShopAccess | None, str]:
    """A leading shop word (`/order demo 123`): the shop it names and the rest of the arguments.

    The first word counts as a shop only when it names exactly one of the linked shops (its
    id, or the start of its title) and is not a number.
    """
    words = args.split(maxsplit=1)
    if not words:
        return None, ""
    first = words[0]
    if re.fullmatch(r"[#№]?\d+", first) and not any(str(a.shop.id) == first for a in shops):
        return None, args
    if len(shops) == 1 and len(words) == 1:
        return None, args
    needle = first.casefold().lstrip("#")
    by_id = [a for a in shops if str(a.shop.id) == needle]
    if by_id:
        return by_id[0], words[1] if len(words) > 1 else ""
    if len(needle) < 2:
        return None, args
    matches = [a for a in shops if (a.shop.title or "").casefold().startswith(needle)]
    if len(matches) == 1:
        return matches[0], words[1] if len(words) > 1 else ""
    return None, args


_PENDING_TTL = 600.0


def remember_pending(state: LookupState, chat_id: int, user_id: int, name: str, args: str) -> str:
    """Keep a command waiting for the shop choice; returns its token."""
    now = time.monotonic()
    for token in [t for t, p in state.pending.items() if now - p.created > _PENDING_TTL]:
        del state.pending[token]
    token = secrets.token_urlsafe(6)
    state.pending[token] = _Pending(chat_id, user_id, name, args, now)
    return token


def take_pending(state: LookupState, token: str, chat_id: int, user_id: int) -> _Pending | None:
    """The waiting command of this user in this chat, once."""
    pending = state.pending.get(token)
    if pending is None or pending.chat_id != chat_id or pending.user_id != user_id:
        return None
    if time.monotonic() - pending.created > _PENDING_TTL:
        del state.pending[token]
        return None
    del state.pending[token]
    return pending


def shop_buttons(shops: list[ShopAccess], token: str) -> InlineKeyboardMarkup:
    """One button per shop."""
    rows = [
        [InlineKeyboardButton(text=a.name, callback_data=ShopPick(t=token, s=a.shop.id).pack())]
        for a in shops
    ]
    return InlineKeyboardMarkup(inline_keyboard=rows)


async def run_or_ask(ctx: LookupCtx, shops: list[ShopAccess], name: str, args: str) -> None:
    """Run the lookup on the named or only shop, or ask which shop with buttons."""
    args = args.strip()
    chosen, rest = split_shop(shops, args)
    if chosen is None and len(shops) == 1:
        chosen, rest = shops[0], args
    if chosen is not None:
        await execute(ctx, chosen, name, rest)
        return
    token = remember_pending(ctx.memory, ctx.chat_id, ctx.user_id, name, args)
    await ctx.answer(
        _("Several shops are linked here. Which one?"), reply_markup=shop_buttons(shops, token)
    )


async def linked_shop(
    db: Storage, message: Message, user_id: int, shop_id: int, level: Access
) -> ShopAccess | None:
    """The shop of a button if it is still linked to this chat and the user has `level`."""
    for sa in await resolve_access(db, message.chat, user_id):
        if sa.shop.id == shop_id and sa.level >= level:
            return sa
    return None


def expired() -> str:
    """The answer to a button that is no longer valid here."""
    return _("This button has expired.")


async def button_shop(
    query: CallbackQuery, db: Storage, shop_id: int, level: Access = Access.GROUP_MEMBER
) -> tuple[Message, ShopAccess] | None:
    """The message and the shop of a button, re-checked for this chat and user; None once
    the press is answered (expired, or a missing role)."""
    message = query.message
    if not isinstance(message, Message):
        await query.answer(expired(), show_alert=True)
        return None
    sa = await linked_shop(db, message, query.from_user.id, shop_id, Access.GROUP_MEMBER)
    if sa is None:
        await query.answer(expired(), show_alert=True)
        return None
    if sa.level < level:
        await query.answer(denial_text(AccessDenied("role", level)), show_alert=True)
        return None
    return message, sa


# --- orders with a short cache ---------------------------------------------


async def _shared(
    state: LookupState, key: tuple[int, str, str], make: Callable[[], Awaitable[T]]
) -> T:
    """One API call for concurrent identical lookups (shielded from a caller's deadline)."""
    task = state.inflight.get(key)
    if task is None or task.done():

        async def call() -> T:
            try:
                return await make()
            finally:
                state.inflight.pop(key, None)

        task = asyncio.ensure_future(call())
        state.inflight[key] = task
    result: T = await asyncio.shield(task)
    return result


async def fetch_order(
    ctx: LookupCtx, sa: ShopAccess, order_id: str, *, fresh: bool = False
) -> Order:
    """The order, from the cache when it was fetched a few seconds ago."""
    shop_id = sa.shop.id
    if fresh:
        ctx.cache.invalidate(shop_id, order_id)
    cached = ctx.cache.get(shop_id, order_id, "order")
    if isinstance(cached, Order):
        return cached
    client = ctx.client(sa)
    order = await _shared(
        ctx.memory, (shop_id, order_id, "order"), lambda: client.get_order(order_id)
    )
    ctx.cache.put(shop_id, order_id, order, "order")
    return order


async def fetch_items(ctx: LookupCtx, sa: ShopAccess, order_id: str) -> list[OrderItem] | None:
    """The order's lines, cached like the order; None when Pixlpark does not give them."""
    shop_id = sa.shop.id
    cached = ctx.cache.get(shop_id, order_id, "items")
    if isinstance(cached, list):
        return cached
    client = ctx.client(sa)
    try:
        items = await _shared(
            ctx.memory, (shop_id, order_id, "items"), lambda: client.get_order_items(order_id)
        )
    except (NotFound, NotSupported):
        return None
    ctx.cache.put(shop_id, order_id, items, "items")
    return items


async def fetch_card_data(
    ctx: LookupCtx, sa: ShopAccess, order_id: str, *, fresh: bool = False
) -> tuple[Order, list[OrderItem] | None]:
    """The order and its items, fetched side by side."""
    order_task = asyncio.ensure_future(fetch_order(ctx, sa, order_id, fresh=fresh))
    items_task = asyncio.ensure_future(fetch_items(ctx, sa, order_id))
    try:
        order = await order_task
    except BaseException:
        items_task.cancel()
        with contextlib.suppress(BaseException):
            await items_task
        raise
    try:
        items = await items_task
    except ServiceUnavailable:
        items = None
    return order, items


ORDER_NUMBER = re.compile(r"^[#№]?\s*(\d{1,12})$")


def parse_order_number(text: str) -> str | None:
    """`123`, `#123`, `№123` → "123"; anything else → None."""
    match = ORDER_NUMBER.match(text.strip())
    return match.group(1) if match else None


async def safe_edit(call: Awaitable[Any]) -> None:
    """An edit that may say "message is not modified"."""
    try:
        await call
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            raise
