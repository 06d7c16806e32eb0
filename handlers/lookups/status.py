"""/status N: one line made for groups."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.access import ShopAccess
from handlers.lookups.common import (
    LookupCtx,
    Reply,
    command,
    fetch_order,
    order_not_found,
    parse_order_number,
)
from handlers.order_view import render_status_line
from pixlpark import NotFound


def usage_status() -> str:
    """The usage line of /status."""
    return _("Usage: /status NUMBER, for example /status 2336327")


@command("status")
async def run_status(ctx: LookupCtx, sa: ShopAccess, args: str) -> None:
    """/status N."""
    number = parse_order_number(args)
    if number is None:
        raise Reply(usage_status())
    try:
        order = await fetch_order(ctx, sa, number)
    except NotFound:
        raise Reply(order_not_found(number, sa)) from None
    await ctx.answer(render_status_line(order, timezone=sa.shop.timezone))
