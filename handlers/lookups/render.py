"""HTML of the lookup answers other than the card: list rows, items, the customer card.

Every dynamic value goes through `esc`; each row is one line, so `split_message` cuts long
lists between rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from aiogram.utils.i18n import gettext as _

from handlers.masking import mask_email, mask_phone
from handlers.order_view import (
    customer_name,
    fmt_date,
    fmt_money,
    order_number,
    payment_text,
    status_text,
    zone,
)
from handlers.text import esc, truncate
from pixlpark import Order, OrderItem, User


def order_row(order: Order, *, timezone: str | None, with_status: bool = True) -> str:
    """One order in a list: number, date, status, total, paid or not, customer."""
    tz = zone(timezone)
    parts = [f"<b>№{esc(order_number(order))}</b>", esc(fmt_date(order.date_created, tz))]
    if with_status:
        parts.append(esc(status_text(order)))
    total = esc(fmt_money(order.total_price))
    if order.payment_status == "Paid" or (order.total_price and not order.amount_due):
        total += " ✅"
    parts.append(total)
    name = customer_name(order)
    if name:
        parts.append(esc(truncate(name, 40)))
    return " · ".join(parts)


def orders_block(orders: Sequence[Order], *, timezone: str | None) -> list[str]:
    """Rows of several orders."""
    return [order_row(order, timezone=timezone) for order in orders]


def items_text(order: Order, items: Sequence[OrderItem] | None) -> str:
    """Every line of an order in full: title, quantity, price and chosen options."""
    lines = [f"<b>{esc(_('Items of order {number}').format(number=order_number(order)))}</b>"]
    if not items:
        if order.order_details:
            for detail in order.order_details:
                lines.append(f"• {esc(detail.title or '—')} × {detail.quantity or 1}")
        elif order.title:
            lines.append(f"• {esc(order.title)}")
        else:
            lines.append(esc(_("Pixlpark gives no items for this order.")))
        return "\n".join(lines)
    total = Decimal(0)
    for item in items:
        title = item.name or item.description or "—"
        line = f"• {esc(truncate(title, 300))} × {item.quantity or 1}"
        if item.total_price is not None:
            line += f" — {esc(fmt_money(item.total_price))}"
            total += item.total_price
        lines.append(line)
        options = [
            f"{option.title}: {option.description}" if option.description else option.title
            for option in item.options or []
            if option.title
        ]
        if options:
            lines.append("   " + esc(truncate("; ".join(o for o in options if o), 500)))
        if item.comment:
            lines.append("   💬 " + esc(truncate(item.comment, 500)))
    lines.append(f"{esc(_('Items total'))}: <b>{esc(fmt_money(total))}</b>")
    return "\n".join(lines)


def customer_text(
    user: User | None,
    orders: Sequence[Order],
    *,
    full_contacts: bool,
    timezone: str | None,
    fallback: Order | None = None,
) -> str:
    """The customer card and their last orders; contacts masked unless `full_contacts`."""
    name = user.full_name if user is not None else ""
    phone = user.phone if user is not None else None
    email = user.email if user is not None else None
    if fallback is not None:
        name = name or customer_name(fallback)
        info = fallback.user_additional_info
        address = fallback.delivery_address
        phone = phone or (info.phone if info else None) or (address.phone if address else None)
        email = email or (info.email if info else None)
    if not full_contacts:
        phone, email = mask_phone(phone), mask_email(email)
    head = _("Customer")
    if user is not None and user.id:
        head += f" #{user.id}"
    lines = [f"👤 <b>{esc(head)}</b>"]
    if name:
        lines.append(esc(name))
    if phone:
        lines.append(f"{esc(_('Phone'))}: {esc(phone)}")
    if email:
        lines.append(f"{esc(_('E-mail'))}: {esc(email)}")
    if user is not None and user.date_created:
        since = fmt_date(user.date_created, zone(timezone))
        lines.append(esc(_("Customer since {date}").format(date=since)))
    lines.append("")
    if orders:
        lines.append(f"<b>{esc(_('Last orders'))}</b>:")
        lines.extend(orders_block(orders, timezone=timezone))
    else:
        lines.append(esc(_("No orders.")))
    return "\n".join(lines)


def payment_short(order: Order) -> str:
    """The payment status label."""
    return payment_text(order)
