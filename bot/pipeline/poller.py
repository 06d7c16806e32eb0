"""Reconciliation poller: catches what webhooks missed, and works before they are set up.

Every POLL_INTERVAL seconds each active shop's newest orders are compared with the
snapshots. A shop's first poll only records a baseline (no flood of old orders). Later,
each changed or new order goes into the inbox as a ``poll`` event, so the processor
handles it like a webhook. Further pages are read only while a page still had changes.
When the poller keeps finding changes no webhook reported, the owner is told once a day
to check Pixlpark's webhook settings.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from aiogram.utils.i18n import gettext as _

from bot.pipeline.detect import POLL, POLL_NEW
from bot.pipeline.processor import order_state, order_to_body
from bot.pipeline.routing import chat_language
from handlers.config import HandlerConfig
from handlers.text import esc
from pixlpark import MAX_TAKE, Order, PixlparkError
from storage import OrderSnapshot, OutboxKind, Role, Shop
from storage.timeutil import utcnow

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("bot.pipeline.poller")

HINT_EVERY = timedelta(hours=24)


def changed(snapshot: OrderSnapshot, order: Order) -> bool:
    """Whether the order differs from its snapshot in a field the alerts compare."""
    if (
        snapshot.date_modified is not None
        and order.date_modified is not None
        and order.date_modified < snapshot.date_modified
    ):
        return False  # the list is older than what a webhook already told
    return (
        snapshot.status != order.status
        or snapshot.payment_status != order.payment_status
        or snapshot.render_status != order.render_status
        or (order.comments_count is not None and snapshot.comments_count != order.comments_count)
        or (order.date_modified is not None and snapshot.date_modified != order.date_modified)
    )


def poll_key(shop_id: int, order: Order) -> str:
    """Inbox dedupe key of an observed order state."""
    state = order_state(order)
    text = "\n".join(
        [str(shop_id), order.id]
        + [str(state[name]) for name in ("status", "payment_status", "render_status")]
        + [str(state["comments_count"]), str(state["date_modified"])]
    )
    return "poll:" + hashlib.sha256(text.encode()).hexdigest()


class Poller:
    """Polls every active shop; run :meth:`run` as a task."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings
        self.storage = app.storage
        self.config = HandlerConfig(
            public_url=app.settings.public_url, default_language=app.settings.default_language
        )

    async def run(self) -> None:
        """Poll now, then every POLL_INTERVAL seconds, until cancelled."""
        interval = self.settings.poll_interval
        while True:
            try:
                await self.poll_all()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("poll pass failed")
            await asyncio.sleep(interval)

    async def poll_all(self) -> None:
        """One pass over the active shops."""
        for shop in await self.storage.shops.list_active():
            timeout = max(30.0, self.settings.poll_interval)
            try:
                async with asyncio.timeout(timeout):
                    await self.poll_shop(shop)
                self.app.metrics.polls.labels(outcome="ok").inc()
            except (PixlparkError, TimeoutError) as exc:
                self.app.metrics.polls.labels(outcome="error").inc()
                log.warning("poll of shop %d failed: %s", shop.id, type(exc).__name__)

    async def poll_shop(self, shop: Shop) -> int:
        """Poll one shop; returns how many changes went into the inbox."""
        client = self.app.clients.for_shop(shop)
        started = utcnow()
        if not shop.baseline_done:
            page = await client.list_orders(take=MAX_TAKE)
            for order in page:
                if await self.storage.snapshots.get(shop.id, order.id) is None:
                    await self._baseline(shop, order)
            await self.storage.shops.touch_poll(shop.id, started, baseline_done=True)
            log.info("baseline of shop %d taken: %d orders", shop.id, len(page))
            return 0
        found = 0
        for number in range(max(1, self.settings.poll_max_pages)):
            page = await client.list_orders(take=MAX_TAKE, skip=number * MAX_TAKE)
            page_changes = 0
            for order in page:
                kind = await self._classify(shop, order, first_page=number == 0)
                if kind is None:
                    continue
                page_changes += 1
                _, created = await self.storage.inbox.add(
                    shop.id, kind, order.id, order_to_body(order), poll_key(shop.id, order)
                )
                if created:
                    found += 1
            if not page_changes or len(page) < MAX_TAKE:
                break
        await self.storage.shops.touch_poll(shop.id, started)
        if found:
            self.app.metrics.poll_changes.inc(found)
            self.app.signals.inbox.set()
            log.info("poll of shop %d found %d changes", shop.id, found)
            await self._maybe_hint(shop, started)
        return found

    async def _classify(self, shop: Shop, order: Order, *, first_page: bool) -> str | None:
        """The inbox kind for this order ("poll"/"poll-new"), or None when nothing changed."""
        snapshot = await self.storage.snapshots.get(shop.id, order.id)
        if snapshot is not None:
            return POLL if changed(snapshot, order) else None
        # Unknown order: on the first page it is newer than the baseline; deeper down it
        # is only new if it was created since the last poll, else it is just recorded.
        recent = (
            order.date_created is not None
            and shop.last_poll_at is not None
            and order.date_created >= shop.last_poll_at
        )
        if first_page or recent:
            return POLL_NEW
        await self._baseline(shop, order)
        return None

    async def _baseline(self, shop: Shop, order: Order) -> None:
        await self.storage.snapshots.upsert(shop.id, order.id, **order_state(order), data="{}")

    def _webhooks_quiet(self, shop: Shop, now: datetime) -> bool:
        after = timedelta(seconds=self.settings.webhook_hint_after)
        if shop.last_webhook_hint_at is not None and now - shop.last_webhook_hint_at < HINT_EVERY:
            return False
        if shop.last_event_at is not None:
            return now - shop.last_event_at >= after
        return now - shop.created_at >= after

    async def _maybe_hint(self, shop: Shop, now: datetime) -> None:
        """Tell the owner once a day when webhooks seem not to be set up."""
        if not self._webhooks_quiet(shop, now):
            return
        members = await self.storage.members.list(shop.id)
        owners = [member.user_id for member in members if member.role is Role.OWNER]
        owner = owners[0] if owners else shop.linked_by
        if owner is None:
            return
        lang = await chat_language(self.storage, owner, self.settings.default_language)
        urls = self.config.webhook_urls(shop.webhook_token)
        i18n = self.app.i18n
        with i18n.context(), i18n.use_locale(lang):
            lines = [
                "⚠️ "
                + esc(
                    _(
                        "{shop}: the bot found order changes that Pixlpark's webhooks did not "
                        "report. Alerts still arrive through polling, but later."
                    )
                ).format(shop=f"<b>{esc(shop.title or shop.public_key)}</b>"),
                "",
                esc(
                    _(
                        "Check Pixlpark's webhook settings (Marketing → Notifications → "
                        "Webhook settings): one webhook per event, with these URLs:"
                    )
                ),
            ]
            labels = {
                "order-created": _("Order: placed"),
                "order-changed": _("Order: changed"),
                "order-comment": _("Order: comment added"),
                "render-status": _("Order: render status changed"),
            }
            for event, url in urls.items():
                lines.append(f"• {esc(labels.get(event, event))}: <code>{esc(url)}</code>")
        await self.storage.outbox.enqueue(
            chat_id=owner,
            kind=OutboxKind.MESSAGE,
            text="\n".join(lines),
            shop_id=shop.id,
            dedupe_key=f"hint:{shop.id}:{int(now.timestamp())}",
        )
        await self.storage.shops.set_webhook_hint(shop.id, now)
        self.app.metrics.outbox_enqueued.labels(kind=OutboxKind.MESSAGE.value).inc()
        self.app.signals.outbox.set()
        log.info("owner of shop %d told to check the webhook settings", shop.id)
