"""/orders [status or group]: newest orders, 10 a page, with pages and group filters.

The header counts orders per status group (one count call per group, cached briefly).
A group of several statuses is listed by merging the newest orders of each status.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Sequence

from aiogram import Router
from aiogram.types import CallbackQuery, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.utils.i18n import gettext as _

from handlers.access import ShopAccess
from handlers.cache import OrderCache
from handlers.clients import ShopClients
from handlers.lookups.callbacks import ListPage
from handlers.lookups.common import (
    LookupCtx,
    LookupState,
    Reply,
    button_shop,
    command,
    expired,
    safe_edit,
    within_deadline,
)
from handlers.lookups.render import orders_block
from handlers.order_view import current_lang
from handlers.text import esc, truncate
from pixlpark import Order
from pixlpark.statuses import (
    GROUP_LABELS,
    STATUS_GROUPS,
    STATUS_LABELS,
    OrderStatus,
    group_label,
    status_label,
)
from storage import Storage

PAGE_SIZE = 10
GROUPS: tuple[str, ...] = tuple(STATUS_GROUPS)
STATUSES: tuple[str, ...] = tuple(OrderStatus)
_COUNTS_KEY = "*counts*"


def usage_orders() -> str:
    """The usage line of /orders."""
    return _(
        "Usage: /orders [group or status], for example /orders ready. Groups: {groups}"
    ).format(groups=", ".join(GROUPS))


def parse_filter(text: str) -> str | None:
    """A group key/label or a status value/label → the filter code; "" → "-"; unknown → None."""
    needle = " ".join(text.split()).casefold().replace("ё", "е")
    if not needle:
        return "-"
    for index, group in enumerate(GROUPS):
        names = {group, group.replace("_", " "), *GROUP_LABELS[group].values()}
        if needle in {n.casefold().replace("ё", "е") for n in names}:
            return f"g{index}"
    for index, status in enumerate(STATUSES):
        names = {status, *STATUS_LABELS[status].values()}
        if needle in {n.casefold().replace("ё", "е") for n in names}:
            return f"s{index}"
    return None


def filter_statuses(code: str) -> tuple[str, ...] | None:
    """The statuses of a filter code (None: every order)."""
    if code.startswith("g") and code[1:].isdigit() and int(code[1:]) < len(GROUPS):
        return tuple(STATUS_GROUPS[GROUPS[int(code[1:])]])
    if code.startswith("s") and code[1:].isdigit() and int(code[1:]) < len(STATUSES):
        return (STATUSES[int(code[1:])],)
    return None


def filter_label(code: str, lang: str) -> str:
    """How a filter is named in the header."""
    if code.startswith("g") and code[1:].isdigit() and int(code[1:]) < len(GROUPS):
        return group_label(GROUPS[int(code[1:])], lang)
    if code.startswith("s") and code[1:].isdigit() and int(code[1:]) < len(STATUSES):
        return status_label(STATUSES[int(code[1:])], lang)
    return _("all")


async def group_counts(ctx: LookupCtx, sa: ShopAccess) -> dict[str, int]:
    """Orders per status group: one count call per group, reused for a few seconds."""
    cached = ctx.cache.get(sa.shop.id, _COUNTS_KEY, "counts")
    if isinstance(cached, dict):
        return cached
    client = ctx.client(sa)
    values = await asyncio.gather(
        *(client.count_orders(list(STATUS_GROUPS[group])) for group in GROUPS)
    )
    counts = dict(zip(GROUPS, values, strict=True))
    ctx.cache.put(sa.shop.id, _COUNTS_KEY, counts, "counts")
    return counts


async def fetch_page(
    ctx: LookupCtx, sa: ShopAccess, statuses: Sequence[str] | None, page: int
) -> tuple[list[Order], bool]:
    """The orders of one page, newest first, and whether there is a next page."""
    client = ctx.client(sa)
    skip = page * PAGE_SIZE
    if statuses is None or len(statuses) == 1:
        status = statuses[0] if statuses else None
        orders = await client.list_orders(take=PAGE_SIZE + 1, skip=skip, status=status)
        return orders[:PAGE_SIZE], len(orders) > PAGE_SIZE
    wanted = skip + PAGE_SIZE + 1

    async def newest(status: str) -> list[Order]:
        return [order async for order in client.iter_orders(status=status, limit=wanted)]

    lists = await asyncio.gather(*(newest(status) for status in statuses))
    merged = sorted(
        (order for orders in lists for order in orders),
        key=lambda o: (o.date_created.timestamp() if o.date_created else 0.0, o.id),
        reverse=True,
    )
    return merged[skip : skip + PAGE_SIZE], len(merged) > skip + PAGE_SIZE


def render_page(
    sa: ShopAccess,
    code: str,
    page: int,
    orders: Sequence[Order],
    has_next: bool,
    counts: dict[str, int],
) -> tuple[str, InlineKeyboardMarkup]:
    """The text and the buttons of one page."""
    lang = current_lang()
    statuses = filter_statuses(code)
    if statuses is None:
        total: int | None = sum(counts.values())
    elif code.startswith("g"):
        total = counts.get(GROUPS[int(code[1:])])
    else:
        total = None
    lines = [f"📦 <b>{esc(_('Orders'))}</b> · {esc(sa.name)}"]
    lines.append(
        esc(" · ".join(f"{group_label(group, lang)} {counts.get(group, 0)}" for group in GROUPS))
    )
    head = _("Filter: {filter}").format(filter=filter_label(code, lang))
    if total is not None:
        pages = max(1, math.ceil(total / PAGE_SIZE))
        head += " · " + _("page {page} of {pages}").format(page=page + 1, pages=pages)
    else:
        head += " · " + _("page {page}").format(page=page + 1)
    lines.append(f"<i>{esc(head)}</i>")
    lines.append("")
    if orders:
        lines.extend(orders_block(orders, timezone=sa.shop.timezone))
    else:
        lines.append(esc(_("No orders.")))
    sid = sa.shop.id
    nav: list[InlineKeyboardButton] = []
    if page > 0:
        nav.append(
            InlineKeyboardButton(
                text="◀ " + _("Previous"), callback_data=ListPage(s=sid, f=code, p=page - 1).pack()
            )
        )
    if has_next:
        nav.append(
            InlineKeyboardButton(
                text=_("Next") + " ▶", callback_data=ListPage(s=sid, f=code, p=page + 1).pack()
            )
        )
    filters = [
        InlineKeyboardButton(
            text=("• " if code == f"g{index}" else "")
            + truncate(f"{group_label(group, lang)} ({counts.get(group, 0)})", 40),
            callback_data=ListPage(s=sid, f=f"g{index}").pack(),
        )
        for index, group in enumerate(GROUPS)
    ]
    filters.append(
        InlineKeyboardButton(
            text=("• " if code == "-" else "") + _("All"),
            callback_data=ListPage(s=sid, f="-").pack(),
        )
    )
    rows = [nav] if nav else []
    rows += [filters[i : i + 2] for i in range(0, len(filters), 2)]
    return "\n".join(lines), InlineKeyboardMarkup(inline_keyboard=rows)


async def build_page(
    ctx: LookupCtx, sa: ShopAccess, code: str, page: int
) -> tuple[str, InlineKeyboardMarkup]:
    """Fetch the page and the counts side by side, then render."""
    statuses = filter_statuses(code)
    (orders, has_next), counts = await asyncio.gather(
        fetch_page(ctx, sa, statuses, page), group_counts(ctx, sa)
    )
    return render_page(sa, code, page, orders, has_next, counts)


@command("orders")
async def run_orders(ctx: LookupCtx, sa: ShopAccess, args: str) -> None:
    """/orders [filter]."""
    code = parse_filter(args)
    if code is None:
        raise Reply(esc(usage_orders()))
    text, markup = await build_page(ctx, sa, code, 0)
    await ctx.answer(text, reply_markup=markup)


def make_orders_router(memory: LookupState) -> Router:
    """The page and filter buttons of /orders (they edit the same message)."""
    router = Router(name="lookups.orders")

    @router.callback_query(ListPage.filter())
    async def on_page(
        query: CallbackQuery,
        callback_data: ListPage,
        db: Storage,
        clients: ShopClients,
        cache: OrderCache,
    ) -> None:
        found = await button_shop(query, db, callback_data.s)
        if found is None:
            return
        message, sa = found
        page = callback_data.p
        code = callback_data.f
        if page < 0 or page > 10_000 or (code != "-" and filter_statuses(code) is None):
            await query.answer(expired(), show_alert=True)
            return
        ctx = LookupCtx(
            message=message,
            user_id=query.from_user.id,
            db=db,
            clients=clients,
            cache=cache,
            memory=memory,
        )
        try:
            async with within_deadline(ctx):
                text, markup = await build_page(ctx, sa, code, page)
        except Reply as reply:
            await query.answer(truncate(reply.text, 200), show_alert=True)
            return
        await safe_edit(message.edit_text(text, reply_markup=markup))
        await query.answer()

    return router
