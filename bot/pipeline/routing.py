"""Who gets which alert, and what it looks like: outbox rows from detected changes.

For each chat linked to the shop (active chats only), the detected kinds are narrowed to
the link's preferences (events, statuses, minimum total); quiet hours in the shop's time
zone make the alert silent. The first alert for an order in a chat is a card; later ones
edit that card (the sender sends or edits, see ``storage.cards``) and, when a selected
kind is new, add a short reply to it, ringing for loud kinds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from aiogram.utils.i18n import I18n
from aiogram.utils.i18n import gettext as _

from bot.pipeline.detect import AlertKind
from handlers.order_view import current_lang, fmt_money, order_number, render_card, zone
from handlers.text import esc
from pixlpark.models import Order
from pixlpark.statuses import render_status_label, status_label
from storage import Link, OutboxKind, Shop, Storage

try:  # the lookups' buttons, when that package is present
    from handlers.lookups.callbacks import OrderAction, StatusFlow
except ImportError:  # pragma: no cover - lookups not installed
    OrderAction = StatusFlow = None  # type: ignore[assignment,misc]

LOUD_KINDS = frozenset({AlertKind.PAID, AlertKind.CANCELLED})
"""Kinds whose reply rings; a status change rings when the chat chose that status."""


@dataclass(frozen=True)
class PlannedMessage:
    """One outbox row to enqueue (see ``storage.outbox.enqueue``)."""

    kind: OutboxKind
    chat_id: int
    topic_id: int | None
    text: str
    reply_markup: str | None
    disable_notification: bool
    dedupe_key: str


@dataclass(frozen=True)
class HistoryEntry:
    """One status the order went through, and when the bot saw it."""

    status: str
    at: datetime


def in_quiet_hours(quiet: tuple[int, int] | None, now: datetime, timezone: str | None) -> bool:
    """Whether ``now`` falls into the (start, end) hours in the shop's time zone."""
    if quiet is None:
        return False
    start, end = quiet
    hour = now.astimezone(zone(timezone)).hour
    if start < end:
        return start <= hour < end
    return hour >= start or hour < end


def selected_kinds(link: Link, kinds: Sequence[AlertKind], order: Order) -> list[AlertKind]:
    """The kinds this chat wants for this order (events, status filter, minimum total)."""
    if link.statuses and (order.status or "") not in link.statuses:
        return []
    if link.min_total is not None and (order.total_price or Decimal(0)) < link.min_total:
        return []
    chosen: list[AlertKind] = []
    for kind in kinds:
        if kind.value in link.events or (
            kind is AlertKind.STATUS_CHANGED and (order.status or "") in link.loud_statuses
        ):
            chosen.append(kind)
    return chosen


def is_loud(link: Link, kind: AlertKind, order: Order) -> bool:
    """Whether a reply for ``kind`` should ring in this chat."""
    if kind in LOUD_KINDS:
        return True
    return kind is AlertKind.STATUS_CHANGED and (order.status or "") in link.loud_statuses


def history_lines(history: Sequence[HistoryEntry], timezone: str | None) -> list[str]:
    """The card's status history, ``Новый 24.07 12:27``, in the current language."""
    tz = zone(timezone)
    lang = current_lang()
    return [
        f"{status_label(entry.status, lang)} {entry.at.astimezone(tz).strftime('%d.%m %H:%M')}"
        for entry in history
    ]


def card_keyboard(shop_id: int, order_id: str) -> str | None:
    """JSON of the lookup buttons under a card, as the lookups show them to managers.

    The lookup handlers check the presser's access, so every chat gets the same buttons.
    """
    if OrderAction is None or StatusFlow is None:
        return None
    rows = [
        [
            ("🔄 " + _("Refresh"), OrderAction(a="r", s=shop_id, o=order_id).pack()),
            ("📋 " + _("Items"), OrderAction(a="i", s=shop_id, o=order_id).pack()),
            ("👤 " + _("Customer"), OrderAction(a="c", s=shop_id, o=order_id).pack()),
        ],
        [
            ("✏️ " + _("Change status"), StatusFlow(s=shop_id, o=order_id).pack()),
            ("💬 " + _("Add comment"), OrderAction(a="m", s=shop_id, o=order_id).pack()),
        ],
    ]
    keyboard = [[{"text": text, "callback_data": data} for text, data in row] for row in rows]
    return json.dumps({"inline_keyboard": keyboard}, ensure_ascii=False)


def alert_line(kind: AlertKind, order: Order, previous_status: str | None) -> str:
    """The short reply text for one kind (HTML), in the current language."""
    lang = current_lang()
    number = esc(order_number(order))
    if kind is AlertKind.NEW_ORDER:
        return "🆕 " + esc(_("New order {number}")).format(number=f"<b>{number}</b>")
    if kind is AlertKind.PAID:
        line = "💰 " + esc(_("Order {number} paid")).format(number=f"<b>{number}</b>")
        amount = order.paid_price or order.total_price
        return line + (f": {esc(fmt_money(amount))}" if amount else "")
    if kind is AlertKind.CANCELLED:
        line = "❌ " + esc(_("Order {number} cancelled")).format(number=f"<b>{number}</b>")
        return line + f" ({esc(status_label(order.status, lang))})"
    if kind is AlertKind.STATUS_CHANGED:
        before = status_label(previous_status, lang) if previous_status else "—"
        after = status_label(order.status, lang)
        return "🔄 " + esc(_("Order {number}: {before} → {after}")).format(
            number=f"<b>{number}</b>", before=esc(before), after=f"<b>{esc(after)}</b>"
        )
    if kind is AlertKind.COMMENT:
        return "💬 " + esc(_("New comment on order {number}")).format(number=f"<b>{number}</b>")
    if kind is AlertKind.ARCHIVE_READY:
        return "📦 " + esc(_("Print archive ready for order {number}")).format(
            number=f"<b>{number}</b>"
        )
    label = esc(render_status_label(order.render_status, lang))
    return (
        "⚠️ "
        + esc(_("Print archive failed for order {number}")).format(number=f"<b>{number}</b>")
        + f" ({label})"
    )


async def chat_language(storage: Storage, chat_id: int, default: str) -> str:
    """The chat's language, else (private chats) the user's, else the default."""
    chat = await storage.chats.get(chat_id)
    if chat is not None and chat.language:
        return chat.language
    if chat_id > 0:
        lang = await storage.users.get_language(chat_id)
        if lang:
            return lang
    return default


async def plan_alerts(
    *,
    storage: Storage,
    i18n: I18n,
    default_language: str,
    shop: Shop,
    order: Order,
    kinds: Sequence[AlertKind],
    previous_status: str | None,
    history: Sequence[HistoryEntry],
    carded_chats: frozenset[int],
    event_id: int,
    now: datetime,
) -> list[PlannedMessage]:
    """The outbox rows for one processed event, every linked chat included.

    ``carded_chats``: chats that already got a card row for this order. Dedupe keys derive
    from the inbox event, so planning the same event twice enqueues nothing new.
    """
    if not kinds:
        return []
    planned: list[PlannedMessage] = []
    for link in await storage.links.for_shop(shop.id):
        chosen = selected_kinds(link, kinds, order)
        has_card = link.chat_id in carded_chats or (
            await storage.cards.get(link.chat_id, shop.id, order.id) is not None
        )
        if not chosen and not has_card:
            continue
        quiet = in_quiet_hours(link.quiet_hours, now, shop.timezone)
        full_contacts = (
            link.chat_id > 0 and await storage.members.get_role(shop.id, link.chat_id) is not None
        )
        lang = await chat_language(storage, link.chat_id, default_language)
        with i18n.context(), i18n.use_locale(lang):
            card = render_card(
                order,
                shop_name=shop.title or shop.public_key,
                timezone=shop.timezone,
                full_contacts=full_contacts,
                history=history_lines(history, shop.timezone),
            )
            markup = card_keyboard(shop.id, order.id)
            reply_lines = [alert_line(kind, order, previous_status) for kind in chosen]
        # Same event, same chat, same kinds → same keys: re-processing adds nothing. Kinds
        # are part of the key so that a re-run that sees a newer change still alerts it.
        base = f"alert:{event_id}:{link.chat_id}:{'+'.join(kind.value for kind in kinds)}"
        planned.append(
            PlannedMessage(
                kind=OutboxKind.CARD,
                chat_id=link.chat_id,
                topic_id=link.topic_id,
                text=card,
                reply_markup=markup,
                # An edit never rings; a new card rings unless in quiet hours.
                disable_notification=quiet or has_card,
                dedupe_key=f"{base}:card",
            )
        )
        if has_card and chosen:
            loud = any(is_loud(link, kind, order) for kind in chosen)
            planned.append(
                PlannedMessage(
                    kind=OutboxKind.REPLY,
                    chat_id=link.chat_id,
                    topic_id=link.topic_id,
                    text="\n".join(reply_lines),
                    reply_markup=None,
                    disable_notification=quiet or not loud,
                    dedupe_key=f"{base}:reply",
                )
            )
    return planned
