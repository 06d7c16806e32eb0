"""/health for shop owners: is delivery keeping up, what failed, and is Pixlpark reaching us.

Shows the outbox backlog, undelivered (dead) messages of the owner's chats with their
reasons, the sender's recent errors, inactive chats, and per shop the last webhook
received and the last reconciliation poll. Times are in the shop's time zone.
"""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from aiogram import Router
from aiogram.filters import Command
from aiogram.types import Message
from aiogram.utils.i18n import gettext as _

from handlers.access import Access, NeedAccess, ShopAccess
from handlers.delivery_status import DeliveryStatus
from storage import Role, Shop, Storage
from storage.timeutil import utcnow

DEAD_SHOWN = 3
ERRORS_SHOWN = 3
DEAD_COUNTED = 100


def _ago(moment: datetime, now: datetime) -> str:
    seconds = max(0, int((now - moment).total_seconds()))
    if seconds < 60:
        return _("{n} s ago").format(n=seconds)
    if seconds < 3600:
        return _("{n} min ago").format(n=seconds // 60)
    if seconds < 86400:
        return _("{n} h ago").format(n=seconds // 3600)
    return _("{n} d ago").format(n=seconds // 86400)


def _when(moment: datetime | None, tz: str, now: datetime) -> str:
    if moment is None:
        return _("never")
    try:
        zone = ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = moment.astimezone(zone).strftime("%d.%m %H:%M")
    return f"{local} ({_ago(moment, now)})"


def _age(seconds: float) -> str:
    seconds = int(seconds)
    if seconds < 60:
        return _("{n} s").format(n=seconds)
    if seconds < 3600:
        return _("{n} min").format(n=seconds // 60)
    return _("{n} h").format(n=seconds // 3600)


async def _owned_shops(db: Storage, shops: list[ShopAccess], user_id: int) -> list[Shop]:
    """The shops of this chat the user owns; in a private chat, every shop they own."""
    found = {a.shop.id: a.shop for a in shops if a.role is Role.OWNER}
    for shop, role in await db.members.shops_for_user(user_id):
        if role is Role.OWNER:
            found.setdefault(shop.id, shop)
    return [found[k] for k in sorted(found)]


async def health_text(
    db: Storage, shops: list[Shop], delivery: DeliveryStatus | None, tz: str
) -> str:
    """The /health report for these shops (in the current language)."""
    now = utcnow()
    lines = [_("🩺 <b>Health</b>"), "", _("<b>Delivery</b>")]
    stats = await db.outbox.stats()
    backlog = await db.outbox.backlog()
    oldest = stats.get("oldest_pending_age")
    if backlog:
        age = _age(float(oldest)) if oldest is not None else "—"
        lines.append(_("Queue: {n} waiting, oldest {age}").format(n=backlog, age=age))
    else:
        lines.append(_("Queue: empty"))
    if delivery is not None:
        lines.append(
            _("Since {since}: sent {sent}, retried {retried}, flood waits {throttled}").format(
                since=_when(delivery.started_at, tz, now),
                sent=delivery.sent,
                retried=delivery.retried,
                throttled=delivery.throttled,
            )
        )

    chat_ids: set[int] = set()
    for shop in shops:
        for link in await db.links.for_shop(shop.id, active_chats_only=False):
            chat_ids.add(link.chat_id)
    names: dict[int, str] = {}
    inactive: list[str] = []
    for chat_id in sorted(chat_ids):
        chat = await db.chats.get(chat_id)
        if chat is not None and chat.title:
            names[chat_id] = f"«{html.escape(chat.title)}»"
        elif chat_id > 0:
            names[chat_id] = _("private chat {id}").format(id=chat_id)
        else:
            names[chat_id] = _("chat {id}").format(id=chat_id)
        if chat is not None and not chat.is_active:
            inactive.append(names[chat_id])

    dead = await db.outbox.dead_rows(limit=DEAD_COUNTED, chat_ids=sorted(chat_ids))
    count = f"{len(dead)}+" if len(dead) >= DEAD_COUNTED else str(len(dead))
    lines.append(_("Undelivered messages in your chats: {n}").format(n=count))
    for row in dead[:DEAD_SHOWN]:
        lines.append(
            "  • {at} {chat}: {reason}".format(
                at=_when(row.created_at, tz, now),
                chat=names.get(row.chat_id, str(row.chat_id)),
                reason=html.escape(row.last_error or "?"),
            )
        )
    if delivery is not None:
        errors = delivery.errors_for(chat_ids, ERRORS_SHOWN)
        if errors:
            lines.append(_("Last errors:"))
            for error in errors:
                at = _when(error.at, tz, now)
                where = names.get(error.chat_id, str(error.chat_id))
                lines.append(f"  • {at} {where}: {html.escape(error.error)}")
        else:
            lines.append(_("No delivery errors since the start."))
    if inactive:
        lines.append(
            _("⚠️ Not reachable (blocked or removed): {chats}").format(chats=", ".join(inactive))
        )

    for shop in shops:
        lines.append("")
        lines.append(f"<b>{html.escape(shop.title or f'#{shop.id}')}</b>")
        if shop.state.value != "active":
            lines.append(_("State: {state}").format(state=shop.state.value))
        lines.append(
            _("Last webhook: {when}").format(when=_when(shop.last_event_at, shop.timezone, now))
        )
        lines.append(
            _("Last poll: {when}").format(when=_when(shop.last_poll_at, shop.timezone, now))
        )
    return "\n".join(lines)


def make_health_router() -> Router:
    """Build the /health router (owners only)."""
    router = Router(name="health")

    @router.message(Command("health"), NeedAccess(Access.OWNER))
    async def health(
        message: Message,
        shops: list[ShopAccess],
        db: Storage,
        delivery: DeliveryStatus | None = None,
    ) -> None:
        user_id = message.from_user.id if message.from_user else 0
        owned = await _owned_shops(db, shops, user_id)
        tz = owned[0].timezone if owned else "UTC"
        await message.answer(await health_text(db, owned, delivery, tz))

    return router
