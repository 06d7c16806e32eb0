"""/discounts and /shipping: the shop's lists, or one line when the account lacks them."""

from __future__ import annotations

from aiogram.utils.i18n import gettext as _

from handlers.access import ShopAccess
from handlers.lookups.common import LookupCtx, Reply, command
from handlers.order_view import fmt_date, fmt_money, zone
from handlers.text import esc
from pixlpark import NotSupported


@command("discounts")
async def run_discounts(ctx: LookupCtx, sa: ShopAccess, args: str) -> None:
    """/discounts."""
    try:
        discounts = await ctx.client(sa).get_discounts()
    except NotSupported:
        raise Reply(
            _("{shop}: this Pixlpark account does not offer the discount list.").format(
                shop=esc(sa.name)
            )
        ) from None
    tz = zone(sa.shop.timezone)
    lines = [f"🏷 <b>{esc(_('Discounts'))}</b> · {esc(sa.name)}"]
    for discount in discounts:
        parts = [f"<b>{esc(discount.title or discount.code or discount.id or '—')}</b>"]
        if discount.code:
            parts.append(f"<code>{esc(discount.code)}</code>")
        if discount.percent:
            parts.append(f"{esc(fmt_money(discount.percent))}%")
        if discount.amount:
            parts.append(esc(fmt_money(discount.amount)))
        if discount.date_end:
            parts.append(esc(_("until {date}").format(date=fmt_date(discount.date_end, tz))))
        if discount.is_active is False:
            parts.append(esc(_("inactive")))
        lines.append("• " + " · ".join(parts))
    if not discounts:
        lines.append(esc(_("No discounts.")))
    await ctx.answer("\n".join(lines))


@command("shipping")
async def run_shipping(ctx: LookupCtx, sa: ShopAccess, args: str) -> None:
    """/shipping."""
    try:
        methods = await ctx.client(sa).get_shipping_methods()
    except NotSupported:
        raise Reply(
            _("{shop}: this Pixlpark account does not offer the shipping methods list.").format(
                shop=esc(sa.name)
            )
        ) from None
    lines = [f"🚚 <b>{esc(_('Shipping methods'))}</b> · {esc(sa.name)}"]
    for method in methods:
        parts = [f"<b>{esc(method.title or method.id or '—')}</b>"]
        if method.type:
            parts.append(esc(method.type))
        if method.price is not None:
            parts.append(esc(fmt_money(method.price)))
        if method.phone:
            parts.append(esc(method.phone))
        if method.is_active is False:
            parts.append(esc(_("inactive")))
        lines.append("• " + " · ".join(parts))
    if not methods:
        lines.append(esc(_("No shipping methods.")))
    await ctx.answer("\n".join(lines))
