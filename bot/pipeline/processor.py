"""The inbox worker: turns received events into order snapshots and outbox rows.

For each claimed event (serialised per shop and order, a few at a time): the webhook is
only a hint, so the order is fetched again from Pixlpark; if Pixlpark does not answer, the
webhook body is used and a re-check is scheduled. A fetch that Pixlpark did not answer
opens the shop's circuit breaker (bot/pipeline/breaker.py) for ALERT_FETCH_COOLDOWN:
meanwhile the shop's webhooks are alerted from their bodies at once, without waiting for
a fetch that would time out, and its re-checks are postponed, without counting an
attempt; when the cool-down is over a re-check probes, and once Pixlpark answers the
postponed re-checks are due at once. The change against the stored snapshot
gives the alert kinds; the outbox rows are enqueued first, then the snapshot is written,
then the event is marked processed. A crash anywhere re-runs the event, and the outbox's
dedupe keys (derived from the event id) keep that from sending anything twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.pipeline.breaker import Breaker
from bot.pipeline.detect import POLL, POLL_NEW, RECHECK, detect_changes
from bot.pipeline.routing import HistoryEntry, plan_alerts
from pixlpark import NotFound, Order, PixlparkError, ServiceUnavailable, parse_order
from storage import InboxEvent, OrderSnapshot, Shop, ShopState
from storage.timeutil import utcnow

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger("bot.pipeline.processor")

MAX_HISTORY = 10
MAX_ATTEMPTS = 10
MAX_RECHECKS = 8
IDLE_WAKE = 1.0
MAX_COOLDOWN_FACTOR = 8
"""The breaker's cool-down grows up to this many ALERT_FETCH_COOLDOWNs (15 s → 2 min)."""
NO_ANSWER = (ServiceUnavailable, TimeoutError)
"""What counts as Pixlpark not answering (any other error is an answer)."""
RECHECK_SCHEDULED = "re-check scheduled: Pixlpark did not answer"
POSTPONED = "postponed: Pixlpark is not answering"


@dataclass
class SnapshotData:
    """What the snapshot's ``data`` JSON keeps beside the compared fields."""

    history: list[HistoryEntry] = field(default_factory=list)
    cards: set[int] = field(default_factory=set)

    @classmethod
    def load(cls, snapshot: OrderSnapshot | None) -> SnapshotData:
        """Read it from a snapshot (tolerating anything malformed)."""
        if snapshot is None:
            return cls()
        try:
            raw = json.loads(snapshot.data or "{}")
            history = [
                HistoryEntry(str(item["s"]), datetime.fromisoformat(item["at"]))
                for item in raw.get("history", [])
            ]
            cards = {int(chat) for chat in raw.get("cards", [])}
        except (ValueError, TypeError, KeyError, AttributeError):
            return cls()
        return cls(history, cards)

    def dump(self) -> str:
        """The JSON to store."""
        return json.dumps(
            {
                "history": [
                    {"s": entry.status, "at": entry.at.isoformat()}
                    for entry in self.history[-MAX_HISTORY:]
                ],
                "cards": sorted(self.cards),
            }
        )


def order_state(order: Order) -> dict[str, Any]:
    """The snapshot fields of an order."""
    return {
        "status": order.status,
        "payment_status": order.payment_status,
        "render_status": order.render_status,
        "date_modified": order.date_modified,
        "comments_count": order.comments_count,
        "total": order.total_price,
    }


def is_stale(previous: OrderSnapshot | None, order: Order) -> bool:
    """Whether ``order`` is older than what the snapshot already knows."""
    return bool(
        previous is not None
        and previous.date_modified is not None
        and order.date_modified is not None
        and order.date_modified < previous.date_modified
    )


def order_to_body(order: Order) -> str:
    """An order as JSON that :func:`pixlpark.parse_order` reads back."""
    return json.dumps(order.model_dump(mode="json", by_alias=True), ensure_ascii=False)


def backoff(attempts: int) -> timedelta:
    """Wait before retrying an event that failed ``attempts`` times."""
    return timedelta(seconds=min(2 ** max(attempts, 1), 300))


def retry_time(attempts: int, limit: int) -> datetime | None:
    """When to retry after ``attempts`` tries; None (give up) once ``limit`` is reached."""
    return None if attempts >= limit else utcnow() + backoff(attempts)


class Processor:
    """Claims inbox events and processes them; run :meth:`run` as a task.

    Claimed events are processed as tasks (at most PROCESSOR_CONCURRENCY at once, up to
    four times that claimed), and more are claimed as soon as some finish: one slow event
    does not hold back the events claimed after it.
    """

    def __init__(self, app: App) -> None:
        self.app = app
        self.settings = app.settings
        self.storage = app.storage
        self._locks: dict[tuple[int, str], asyncio.Lock] = {}
        self._inflight: set[int] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._finished = asyncio.Event()
        self._limit = asyncio.Semaphore(max(1, app.settings.processor_concurrency))
        cooldown = app.settings.alert_fetch_cooldown
        self.breaker: Breaker[int] = Breaker(
            cooldown=cooldown,
            max_cooldown=cooldown * MAX_COOLDOWN_FACTOR,
            probe_timeout=app.settings.alert_fetch_timeout + 1,
        )
        """Per shop: whether Pixlpark answered its latest fetches."""

    @property
    def capacity(self) -> int:
        """Most events claimed at once."""
        return max(1, self.settings.processor_concurrency) * 4

    async def run(self) -> None:
        """Process events until cancelled, waking on the inbox signal, when a claimed event
        is done while all are taken, or every second.

        First the leases a killed predecessor left are handed back (one processor per
        database), so its events are processed now instead of when the leases run out.
        """
        try:
            released = await self.storage.inbox.release_all()
        except Exception:
            log.exception("could not release the inbox leases of a previous run")
        else:
            if released:
                log.info("inbox leases of a previous run released", extra={"events": released})
        signal = self.app.signals.inbox
        try:
            while True:
                # Cleared before the claim, so a signal set while claiming is not lost.
                signal.clear()
                self._finished.clear()
                try:
                    busy = await self.run_once()
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("processor pass failed")
                    busy = False
                if not busy:
                    await self._idle(signal)
        finally:
            await self._stop()

    async def run_once(self) -> bool:
        """Claim due events up to the free capacity and start them; returns whether it
        claimed as many as it could (so more may be due)."""
        free = self.capacity - len(self._tasks)
        if free <= 0:
            return False
        claimed = await self.storage.inbox.claim(free, lease_seconds=self.settings.inbox_lease)
        for event in claimed:
            if event.id in self._inflight:
                continue  # its lease ran out while it was processed: it is still in hand
            self._inflight.add(event.id)
            task = asyncio.create_task(self._guarded(event), name=f"inbox-event-{event.id}")
            self._tasks.add(task)
            task.add_done_callback(self._task_done)
        return len(claimed) >= free

    async def _idle(self, signal: asyncio.Event) -> None:
        waits = [asyncio.ensure_future(signal.wait())]
        if len(self._tasks) >= self.capacity:
            waits.append(asyncio.ensure_future(self._finished.wait()))
        try:
            await asyncio.wait(waits, timeout=IDLE_WAKE, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for wait in waits:
                wait.cancel()

    def _task_done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self._finished.set()
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("inbox event task failed", exc_info=error)

    async def _stop(self) -> None:
        """Shutting down: cancel the events in hand and give them back at once instead of
        at lease end."""
        unfinished = list(self._inflight)
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks)
        if unfinished:
            with contextlib.suppress(Exception):
                await self.storage.inbox.release(unfinished)

    async def _guarded(self, event: InboxEvent) -> None:
        key = (event.shop_id, event.order_id or "")
        lock = self._locks.setdefault(key, asyncio.Lock())
        try:
            async with lock, self._limit:
                await self._process_safely(event)
        finally:
            self._inflight.discard(event.id)
            if not lock.locked() and not getattr(lock, "_waiters", None):
                self._locks.pop(key, None)

    async def _process_safely(self, event: InboxEvent) -> None:
        metrics = self.app.metrics
        try:
            outcome = await self.process(event)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            log.exception("processing inbox event %d failed", event.id)
            retry_at = retry_time(event.attempts, MAX_ATTEMPTS)
            with contextlib.suppress(Exception):
                await self.storage.inbox.mark_failed(
                    event.id, f"{type(exc).__name__}: {exc}", retry_at=retry_at
                )
            outcome = "failed"
        metrics.events_processed.labels(kind=event.kind, outcome=outcome).inc()

    async def _fetch(self, shop: Shop, order_id: str) -> Order:
        """The order from Pixlpark, keeping the shop's breaker up to date."""
        client = self.app.clients.for_shop(shop)
        try:
            order = await asyncio.wait_for(
                client.get_order(order_id), timeout=self.settings.alert_fetch_timeout
            )
        except NO_ANSWER as exc:
            closed = self.breaker.is_closed(shop.id)
            self.breaker.failure(shop.id)
            if closed:
                log.warning(
                    "Pixlpark did not answer for shop %d (%s); its re-fetches pause for %g s",
                    shop.id,
                    type(exc).__name__,
                    self.breaker.wait(shop.id),
                )
            raise
        except PixlparkError:
            await self._answered(shop)  # an answer all the same (404, refused, ...)
            raise
        except BaseException:
            self.breaker.abandon(shop.id)
            raise
        await self._answered(shop)
        return order

    async def _answered(self, shop: Shop) -> None:
        """Pixlpark answered a fetch: after an outage, the shop's held-back re-checks are
        due now."""
        if not self.breaker.success(shop.id):
            return
        try:
            woken = await self.storage.inbox.wake(shop.id, (RECHECK_SCHEDULED, POSTPONED))
        except Exception:
            log.exception("could not wake the re-checks of shop %d", shop.id)
            return
        log.info("Pixlpark answers again", extra={"shop": shop.id, "rechecks": woken})
        if woken:
            self.app.signals.inbox.set()

    def _after_cooldown(self, shop_id: int, at_least: float = 0.0) -> datetime:
        """When the shop's breaker lets a fetch go (now when it is closed), not before
        ``at_least`` seconds from now."""
        return utcnow() + timedelta(seconds=max(at_least, self.breaker.wait(shop_id)))

    async def process(self, event: InboxEvent) -> str:
        """Handle one event; returns an outcome label for the counters."""
        storage = self.storage
        shop = await storage.shops.get(event.shop_id)
        if shop is None or shop.state is ShopState.PAUSED or not event.order_id:
            await storage.inbox.mark_processed(event.id)
            return "skipped"
        order: Order | None = None
        from_body = False
        if event.kind in (POLL, POLL_NEW):
            order = parse_order(json.loads(event.body))
        elif event.kind != RECHECK and not self.breaker.is_closed(shop.id):
            # Pixlpark did not answer this shop lately: no fetch that would time out.
            order = self._order_from_body(event)
            from_body = order is not None
            if from_body:
                log.info(
                    "Pixlpark is not answering for shop %d; order %s alerted from the webhook",
                    shop.id,
                    event.order_id,
                )
        if order is None:
            if not self.breaker.allow(shop.id):
                # Open (or another fetch probes): due again once a fetch may go.
                await storage.inbox.postpone(
                    event.id, self._after_cooldown(shop.id, at_least=0.05), POSTPONED
                )
                return "postponed"
            try:
                order = await self._fetch(shop, event.order_id)
            except NotFound:
                log.info("order %s of shop %d is gone; event dropped", event.order_id, shop.id)
                await storage.inbox.mark_processed(event.id)
                return "gone"
            except (PixlparkError, TimeoutError) as exc:
                reason = f"{type(exc).__name__}: {exc}"
                if event.kind == RECHECK:
                    retry_at = retry_time(event.attempts, MAX_RECHECKS)
                    if retry_at is not None:
                        retry_at = max(retry_at, self._after_cooldown(shop.id))
                    await storage.inbox.mark_failed(event.id, reason, retry_at=retry_at)
                    return "recheck_later"
                order = self._order_from_body(event)
                if order is None:
                    raise
                from_body = True
                log.warning(
                    "Pixlpark did not answer for order %s of shop %d (%s); using the webhook body",
                    event.order_id,
                    shop.id,
                    type(exc).__name__,
                )
        assert order is not None
        await self.apply(shop, order, event)
        if from_body:
            await self._schedule_recheck(event)
        await storage.inbox.mark_processed(event.id)
        return "body" if from_body else "ok"

    def _order_from_body(self, event: InboxEvent) -> Order | None:
        try:
            body = json.loads(event.body)
        except ValueError:
            return None
        if not isinstance(body, dict) or "OrderId" in body:
            return None  # not an order DTO (a comment DTO, say)
        try:
            return parse_order(body)
        except PixlparkError:
            return None

    async def _schedule_recheck(self, event: InboxEvent) -> None:
        """A re-check of an order alerted from its webhook body: when the shop's breaker
        lets a fetch go (it probes), or after RECHECK_DELAY when Pixlpark answered with an
        error instead."""
        stored, created = await self.storage.inbox.add(
            event.shop_id, RECHECK, event.order_id, event.body, f"recheck:{event.id}"
        )
        if created:
            delay = (
                0.0 if not self.breaker.is_closed(event.shop_id) else self.settings.recheck_delay
            )
            await self.storage.inbox.mark_failed(
                stored.id, RECHECK_SCHEDULED, retry_at=self._after_cooldown(event.shop_id, delay)
            )

    async def apply(self, shop: Shop, order: Order, event: InboxEvent) -> int:
        """Compare with the snapshot, enqueue the alerts, store the snapshot; returns rows."""
        storage = self.storage
        previous = await storage.snapshots.get(shop.id, order.id)
        if is_stale(previous, order):
            log.info("order %s of shop %d: older data than known, ignored", order.id, shop.id)
            return 0
        kinds = detect_changes(previous, order, event.kind)
        data = SnapshotData.load(previous)
        now = utcnow()
        if order.status and (previous is None or previous.status != order.status):
            data.history.append(HistoryEntry(order.status, now))
        for kind in kinds:
            self.app.metrics.alerts.labels(kind=kind.value).inc()
        planned = await plan_alerts(
            storage=storage,
            i18n=self.app.i18n,
            default_language=self.settings.default_language,
            shop=shop,
            order=order,
            kinds=kinds,
            previous_status=previous.status if previous else None,
            history=data.history,
            carded_chats=frozenset(data.cards),
            event_id=event.id,
            now=now,
        )
        enqueued = 0
        for message in planned:
            row = await storage.outbox.enqueue(
                chat_id=message.chat_id,
                topic_id=message.topic_id,
                kind=message.kind,
                text=message.text,
                reply_markup=message.reply_markup,
                disable_notification=message.disable_notification,
                shop_id=shop.id,
                order_id=order.id,
                dedupe_key=message.dedupe_key,
            )
            data.cards.add(message.chat_id)
            if row is not None:
                enqueued += 1
                self.app.metrics.outbox_enqueued.labels(kind=message.kind.value).inc()
        await storage.snapshots.upsert(shop.id, order.id, **order_state(order), data=data.dump())
        self.app.cache.invalidate(shop.id, order.id)
        if planned:
            self.app.signals.outbox.set()
        if kinds:
            log.info(
                "order changed",
                extra={
                    "shop": shop.id,
                    "order": order.id,
                    "event": event.kind,
                    "inbox": event.id,
                    "kinds": ",".join(kind.value for kind in kinds),
                    "outbox": enqueued,
                },
            )
        return enqueued
