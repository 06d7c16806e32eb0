"""How an order looks in Telegram: the card, the one-line status, money and dates.

Shared by the lookups and the alert pipeline, so an alert card and a looked-up card
are the same thing. Customer contacts are masked unless `full_contacts` is set.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from handlers.masking import mask_email, mask_phone
from handlers.text import esc, truncate
from pixlpark.models import Order, OrderItem
from pixlpark.statuses import payment_status_label, render_status_label, status_label

MAX_ITEMS_ON_CARD = 10


def current_lang() -> str:
    """The language of the update being handled (or the renderer's context)."""
    i18n = I18n.get_current()
    return i18n.current_locale if i18n is not None else "ru"


def zone(name: str | None) -> ZoneInfo:
    """The shop's time zone, Moscow when unset or unknown."""
    try:
        return ZoneInfo(name or "Europe/Moscow")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("Europe/Moscow")


def fmt_money(amount: Decimal | None) -> str:
    """`15658.5` → `15 658.50`, `700` → `700`; the shop's currency is implied."""
    if amount is None:
        return "—"
    quantized = amount.quantize(Decimal("0.01"))
    text = f"{quantized:,.2f}" if quantized % 1 else f"{quantized:,.0f}"
    return text.replace(",", "\u202f")


def fmt_date(moment: datetime | None, tz: ZoneInfo) -> str:
    """A date in the shop's time zone, `24.07.2020 12:27`."""
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M") if moment else "—"


def order_number(order: Order) -> str:
    """The number staff know the order by."""
    return order.custom_id or order.id


def customer_name(order: Order) -> str:
    """The customer's name as far as the order tells it."""
    info = order.user_additional_info
    if info is not None and info.name:
        return info.name
    if order.delivery_address is not None and order.delivery_address.full_name:
        return order.delivery_address.full_name
    return ""


def customer_contacts(order: Order, *, full_contacts: bool) -> tuple[str, str]:
    """(phone, e-mail), masked unless `full_contacts`."""
    info = order.user_additional_info
    phone = (info.phone if info else None) or (
        order.delivery_address.phone if order.delivery_address else None
    )
    email = info.email if info else None
    if full_contacts:
        return phone or "", email or ""
    return mask_phone(phone), mask_email(email)


def address_line(order: Order, *, full_contacts: bool) -> str:
    """The delivery address; only the city when contacts are masked."""
    addr = order.delivery_address
    if addr is None:
        return ""
    if not full_contacts:
        return addr.city or ""
    parts = [addr.zip_code, addr.country, addr.state, addr.city, addr.address_line1]
    parts += [addr.address_line2, addr.description]
    return ", ".join(p for p in parts if p)


def status_text(order: Order) -> str:
    """The order status in the current language."""
    return status_label(order.status, current_lang())


def payment_text(order: Order) -> str:
    """The payment status in the current language."""
    return payment_status_label(order.payment_status, current_lang())


def render_card(
    order: Order,
    *,
    shop_name: str,
    timezone: str | None,
    full_contacts: bool,
    items: Sequence[OrderItem] | None = None,
    history: Sequence[str] = (),
    all_items: bool = False,
) -> str:
    """The order card (HTML), in the current language."""
    tz = zone(timezone)
    lines = [f"🧾 <b>{esc(_('Order {number}').format(number=order_number(order)))}</b>"]
    lines[0] += f" · {esc(shop_name)}"
    lines.append(f"{esc(_('Status'))}: <b>{esc(status_text(order))}</b>")
    paid_line = f"{esc(_('Payment'))}: {esc(payment_text(order))}"
    if order.paid_price:
        paid_line += f" · {esc(_('paid'))} {esc(fmt_money(order.paid_price))}"
    if order.amount_due:
        paid_line += f" · {esc(_('to pay'))} <b>{esc(fmt_money(order.amount_due))}</b>"
    lines.append(paid_line)
    total = f"{esc(_('Total'))}: <b>{esc(fmt_money(order.total_price))}</b>"
    if order.delivery_price:
        total += f" ({esc(_('delivery'))} {esc(fmt_money(order.delivery_price))})"
    if order.discount_price:
        total += f" · {esc(_('discount'))} {esc(fmt_money(order.discount_price))}"
        if order.discount_title:
            total += f" «{esc(order.discount_title)}»"
    lines.append(total)
    name = customer_name(order)
    phone, email = customer_contacts(order, full_contacts=full_contacts)
    customer = ", ".join(p for p in (name, phone, email) if p)
    if customer:
        lines.append(f"{esc(_('Customer'))}: {esc(customer)}")
    if order.shipping is not None and order.shipping.title:
        lines.append(f"{esc(_('Shipping'))}: {esc(order.shipping.title)}")
    address = address_line(order, full_contacts=full_contacts)
    if address:
        lines.append(f"{esc(_('Address'))}: {esc(address)}")
    if order.tracking_number or order.tracking_url:
        tracking = order.tracking_number or ""
        if order.tracking_url:
            tracking = f'<a href="{esc(order.tracking_url)}">{esc(tracking or _("track"))}</a>'
        else:
            tracking = esc(tracking)
        lines.append(f"{esc(_('Tracking'))}: {tracking}")
    dates = [f"{esc(_('Created'))} {esc(fmt_date(order.date_created, tz))}"]
    if order.date_paid:
        dates.append(f"{esc(_('paid'))} {esc(fmt_date(order.date_paid, tz))}")
    if order.date_ready:
        dates.append(f"{esc(_('ready'))} {esc(fmt_date(order.date_ready, tz))}")
    lines.append(" · ".join(dates))
    if order.render_status and order.render_status not in ("DoNothing",):
        label = render_status_label(order.render_status, current_lang())
        lines.append(f"📦 {esc(label)}")
    lines.extend(_item_lines(order, items, all_items=all_items))
    if history:
        lines.append("")
        lines.append("🕓 " + esc(" → ".join(history[-6:])))
    return "\n".join(lines)


def _item_lines(order: Order, items: Sequence[OrderItem] | None, *, all_items: bool) -> list[str]:
    rows: list[str] = []
    if items:
        for item in items:
            price = fmt_money(item.total_price) if item.total_price is not None else ""
            title = item.name or item.description or "—"
            qty = item.quantity or 1
            rows.append(
                f"• {esc(truncate(title, 120))} × {qty}" + (f" — {esc(price)}" if price else "")
            )
    elif order.order_details:
        for detail in order.order_details:
            title = detail.title or "—"
            rows.append(f"• {esc(truncate(title, 120))} × {detail.quantity or 1}")
    elif order.title:
        rows.append(f"• {esc(truncate(order.title, 300))}")
    if not rows:
        return []
    shown = rows if all_items else rows[:MAX_ITEMS_ON_CARD]
    result = ["", f"<b>{esc(_('Items'))}</b> ({len(rows)}):", *shown]
    if len(shown) < len(rows):
        result.append(esc(_("…and {count} more").format(count=len(rows) - len(shown))))
    return result


def render_status_line(order: Order, *, timezone: str | None) -> str:
    """One line made for groups: number, status, paid or not, due date, shipping."""
    tz = zone(timezone)
    parts = [
        f"<b>№{esc(order_number(order))}</b>",
        esc(status_text(order)),
        esc(payment_text(order)),
    ]
    if order.amount_due:
        parts.append(esc(_("to pay {amount}").format(amount=fmt_money(order.amount_due))))
    if order.date_ready:
        parts.append(esc(_("ready by {date}").format(date=fmt_date(order.date_ready, tz))))
    if order.shipping is not None and order.shipping.title:
        parts.append(esc(order.shipping.title))
    return " · ".join(parts)
