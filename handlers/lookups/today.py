"""/today: orders created today (the shop's time zone), with count and total, by status."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from handlers.access import ShopAccess
from handlers.lookups.common import LookupCtx, command
from handlers.lookups.render import order_row
from handlers.order_view import current_lang, fmt_money, zone
from handlers.text import esc
from pixlpark import Order
from pixlpark.statuses import STATUS_LABELS, status_label

TODAY_LIMIT = 1000
"""At most this many of the newest orders are read for /today."""


def render_today(
    sa: ShopAccess, orders: Sequence[Order], day: datetime, *, truncated: bool = False
) -> str:
    """The /today answer: header with count and total, then one block per status."""
    lang = current_lang()
    total = sum((o.total_price or Decimal(0) for o in orders), Decimal(0))
    head = _("Today, {date}").format(date=day.strftime("%d.%m.%Y"))
    lines = [f"📅 <b>{esc(head)}</b> · {esc(sa.name)}"]
    lines.append(
        esc(_("Orders: {count} · total {total}").format(count=len(orders), total=fmt_money(total)))
    )
    if truncated:
        lines.append(esc(_("(only the newest {limit} orders were read)").format(limit=TODAY_LIMIT)))
    by_status: dict[str, list[Order]] = defaultdict(list)
    for order in orders:
        by_status[order.status or ""].append(order)
    known = list(STATUS_LABELS)
    for status in sorted(
        by_status, key=lambda s: (known.index(s) if s in known else len(known), s)
    ):
        group = by_status[status]
        subtotal = sum((o.total_price or Decimal(0) for o in group), Decimal(0))
        label = status_label(status, lang) or "—"
        lines.append("")
        lines.append(f"<b>{esc(label)}</b> — {len(group)} · {esc(fmt_money(subtotal))}")
        lines.extend(order_row(o, timezone=sa.shop.timezone, with_status=False) for o in group)
    if not orders:
        lines.append("")
        lines.append(esc(_("No orders yet today.")))
    return "\n".join(lines)


@command("today")
async def run_today(ctx: LookupCtx, sa: ShopAccess, args: str) -> None:
    """/today."""
    tz = zone(sa.shop.timezone)
    now = datetime.now(tz)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    found: list[Order] = []
    read = 0
    async for order in ctx.client(sa).iter_orders(limit=TODAY_LIMIT):
        read += 1
        if order.date_created is not None and order.date_created < start:
            break
        found.append(order)
    truncated = read >= TODAY_LIMIT
    await ctx.answer(render_today(sa, found, now, truncated=truncated))
