"""/find QUERY: by e-mail (the customer and their orders), order number, phone or name.

The API has no search: phones and names are matched against the newest `SCAN_LIMIT`
orders, and the answer says so. Phones compare digits only (the last ten when the query
has that many); names compare case-folded words with "ё" read as "е".
"""

from __future__ import annotations

import re

from aiogram.utils.i18n import gettext as _

from handlers.access import ShopAccess
from handlers.lookups.common import (
    LookupCtx,
    Reply,
    command,
    fetch_card_data,
    parse_order_number,
)
from handlers.lookups.customer import show_customer
from handlers.lookups.order import send_card
from handlers.lookups.render import orders_block
from handlers.order_view import customer_name
from handlers.text import esc
from pixlpark import NotFound, NotSupported, Order

SCAN_LIMIT = 500
MAX_RESULTS = 50
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE = re.compile(r"^\+?[\d\s()\-.]{5,}$")


def usage_find() -> str:
    """The usage line of /find."""
    return _("Usage: /find e-mail, phone, name or order number, for example /find +7 900 123-45-67")


def fold(text: str) -> str:
    """Case-folded, "ё" → "е", spaces squeezed."""
    return " ".join(text.casefold().replace("ё", "е").split())


def digits(text: str | None) -> str:
    """Only the digits."""
    return re.sub(r"\D", "", text or "")


def phone_matches(query_digits: str, phone: str | None) -> bool:
    """Digits of the query found in the phone (the last ten digits when the query is long)."""
    have = digits(phone)
    if not have or len(query_digits) < 5:
        return False
    if len(query_digits) >= 10:
        return have[-10:] == query_digits[-10:]
    return query_digits in have


def name_matches(query: str, order: Order) -> bool:
    """Every word of the query starts a word of the customer's name."""
    names = [customer_name(order)]
    if order.delivery_address is not None and order.delivery_address.full_name:
        names.append(order.delivery_address.full_name)
    words = fold(query).split()
    for name in names:
        have = fold(name or "").split()
        if words and all(any(h.startswith(w) for h in have) for w in words):
            return True
    return False


def order_phones(order: Order) -> list[str | None]:
    """Every phone an order carries."""
    phones: list[str | None] = []
    if order.delivery_address is not None:
        phones.append(order.delivery_address.phone)
    if order.user_additional_info is not None:
        phones.append(order.user_additional_info.phone)
    return phones


async def scan(
    ctx: LookupCtx, sa: ShopAccess, query: str, by_phone: bool
) -> tuple[list[Order], int]:
    """Matching orders among the newest `SCAN_LIMIT`, and how many were read."""
    wanted = digits(query)
    found: list[Order] = []
    read = 0
    async for order in ctx.client(sa).iter_orders(limit=SCAN_LIMIT):
        read += 1
        if by_phone:
            hit = any(phone_matches(wanted, phone) for phone in order_phones(order))
        else:
            hit = name_matches(query, order)
        if hit:
            found.append(order)
    return found, read


def render_found(sa: ShopAccess, query: str, orders: list[Order], read: int) -> str:
    """The answer of a phone or name search."""
    lines = [
        f"🔎 <b>{esc(query)}</b> · {esc(sa.name)}",
        esc(_("Searched the last {count} orders.").format(count=read)),
        "",
    ]
    if not orders:
        lines.append(esc(_("Nothing found.")))
    else:
        lines.append(esc(_("Found: {count}").format(count=len(orders))))
        lines.extend(orders_block(orders[:MAX_RESULTS], timezone=sa.shop.timezone))
        if len(orders) > MAX_RESULTS:
            lines.append(esc(_("…and {count} more").format(count=len(orders) - MAX_RESULTS)))
    return "\n".join(lines)


@command("find")
async def run_find(ctx: LookupCtx, sa: ShopAccess, args: str) -> None:
    """/find QUERY."""
    query = " ".join(args.split())
    if len(query) < 2:
        raise Reply(usage_find())
    if _EMAIL.match(query):
        try:
            user = await ctx.client(sa).find_user_by_email(query)
        except NotSupported:
            raise Reply(
                _("This shop's Pixlpark account does not offer the search by e-mail.")
            ) from None
        if user is None or user.id is None:
            raise Reply(
                _("No customer with the e-mail {email} in {shop}.").format(
                    email=esc(query), shop=esc(sa.name)
                )
            )
        await show_customer(ctx, sa, user.id)
        return
    number = parse_order_number(query)
    if number is not None and (query.startswith(("#", "№")) or len(number) < 10):
        try:
            order, items = await fetch_card_data(ctx, sa, number)
        except NotFound:
            if query.startswith(("#", "№")) or len(number) < 5:
                raise Reply(
                    _("Order {number} not found in {shop}.").format(
                        number=esc(number), shop=esc(sa.name)
                    )
                ) from None
        else:
            await send_card(ctx, sa, order, items)
            return
    by_phone = bool(_PHONE.match(query)) and len(digits(query)) >= 5
    if not by_phone and len(fold(query)) < 2:
        raise Reply(usage_find())
    orders, read = await scan(ctx, sa, query, by_phone)
    await ctx.answer(render_found(sa, query, orders, read))
