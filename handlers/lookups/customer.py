"""/customer ID: the customer card and their last orders (contacts masked in groups)."""

from __future__ import annotations

import re

from aiogram.utils.i18n import gettext as _

from handlers.access import ShopAccess
from handlers.lookups.common import LookupCtx, Reply, command
from handlers.lookups.render import customer_text
from handlers.text import esc
from pixlpark import NotFound, NotSupported, Order, User

LAST_ORDERS = 5


def usage_customer() -> str:
    """The usage line of /customer."""
    return _("Usage: /customer ID, for example /customer 78238538")


async def show_customer(
    ctx: LookupCtx, sa: ShopAccess, user_id: int | str | None, *, fallback: Order | None = None
) -> None:
    """Answer with the customer card; `fallback` is the order the customer came from."""
    client = ctx.client(sa)
    user: User | None = None
    orders: list[Order] = []
    if user_id is not None:
        try:
            user = await client.get_user(user_id)
        except (NotFound, NotSupported):
            if fallback is None:
                raise Reply(
                    _("Customer {id} not found in {shop}.").format(
                        id=esc(user_id), shop=esc(sa.name)
                    )
                ) from None
        orders = await client.list_orders(take=LAST_ORDERS, user_id=user_id)
    elif fallback is not None:
        orders = [fallback]
    await ctx.answer(
        customer_text(
            user,
            orders,
            full_contacts=sa.full_contacts,
            timezone=sa.shop.timezone,
            fallback=fallback,
        )
    )


@command("customer")
async def run_customer(ctx: LookupCtx, sa: ShopAccess, args: str) -> None:
    """/customer ID."""
    match = re.fullmatch(r"#?(\d{1,12})", args.strip())
    if match is None:
        raise Reply(usage_customer())
    await show_customer(ctx, sa, match.group(1))
