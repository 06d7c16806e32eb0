"""The outbox sender: delivers queued Telegram messages within Telegram's limits.

One worker task per process (started by ``start_app``, drained by ``stop_app``):

- it wakes when the processor enqueues (``signals.outbox``), when a send finishes,
  when a paced chat becomes free, or on a short tick;
- it claims due rows from the outbox (at most one per chat; the outbox hands out a
  chat's rows strictly in order), leaving out chats that are paused or paced, and
  only as many as the global pace allows in the next moment;
- each claimed row gets a slot from :class:`~bot.pipeline.limits.RateLimiter` and
  its own task that sleeps until the slot, calls Telegram and records the outcome.

Outcomes: sent (``mark_sent``); 429 → the chat pauses for ``retry_after`` and the row
waits without counting an attempt (flood control on several chats at once pauses
everything and slows the global pace); 403 → the chat is marked inactive, its rows
die and the owners of its shops are told; group migrated → the chat moves to the new
id and the row is retried at once; "message to edit not found" → a new card; other
400s → dead; 5xx and network errors → exponential backoff with jitter, dead after
``outbox_max_attempts``; an outage (several failures in a row) pauses everything and
probes with one message at a time.

A card row whose order got newer card updates meanwhile is not sent as it is: just
before the call, the newest queued update is claimed in its place and the older ones
are marked sent (superseded), so a busy order's card costs one call, not one per change.
The replies queued in between follow the card, threaded to it as usual.

Crash safety comes from the outbox: a row is ``sending`` only while its task lives,
``recover_inflight`` returns leftovers to ``pending`` at start, and ``mark_sent``
follows the Telegram call directly, so only a message Telegram accepted in the
instant before a kill can go out twice.

Message texts carry customer data: logs name row ids, chat ids, kinds and error
classes only.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import logging
import random
import time
from collections import deque
from collections.abc import Callable
from datetime import datetime, timedelta

from aiogram import Bot
from aiogram.exceptions import (
    ClientDecodeError,
    TelegramAPIError,
    TelegramBadRequest,
    TelegramEntityTooLarge,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardMarkup, ReplyParameters
from aiogram.utils.i18n import I18n

from bot.config import Settings
from bot.pipeline.limits import RateLimiter
from bot.pipeline.signals import Signals
from handlers.delivery_status import DeliveryError, DeliveryStatus
from storage import OutboxKind, OutboxMessage, Role, Storage
from storage.timeutil import utcnow

log = logging.getLogger(__name__)

EDIT_GONE = ("message to edit not found", "message can't be edited", "message_id_invalid")
NOT_MODIFIED = "message is not modified"
FLOOD_WINDOW = 2.0
FLOOD_CHATS = 3
"""429s for this many different chats within FLOOD_WINDOW seconds mean global flood control."""
OUTAGE_AFTER = 2
"""Consecutive 5xx/network failures after which the whole sender pauses."""
RECOVER_EVERY = 50
"""Clean sends after which a lowered global pace is raised one step."""


class _Failed(Exception):
    """Internal: a delivery attempt ended in a handled, non-sent outcome."""


class Sender:
    """Delivers outbox rows; see the module docstring."""

    def __init__(
        self,
        *,
        storage: Storage,
        bot: Bot,
        i18n: I18n,
        settings: Settings,
        signals: Signals,
        clock: Callable[[], float] = time.monotonic,
        max_concurrency: int = 64,
        tick: float = 0.5,
        horizon: float = 0.25,
    ) -> None:
        self.storage = storage
        self.bot = bot
        self.i18n = i18n
        self.settings = settings
        self.signals = signals
        self.clock = clock
        self.max_concurrency = max_concurrency
        self.tick = tick
        self.horizon = horizon
        self.limiter = RateLimiter(
            settings.telegram_rate,
            settings.telegram_chat_interval,
            settings.telegram_group_per_minute,
        )
        self.status = DeliveryStatus()
        self._tasks: dict[int, asyncio.Task[None]] = {}  # row id -> task
        self._chats: dict[int, int] = {}  # chat id -> row id in flight
        self._started: set[int] = set()  # row ids whose Telegram call has begun
        self._stopping = False
        self._stopped = asyncio.Event()
        self._next_due: float | None = None
        self._failures = 0
        self._floods: deque[tuple[float, int]] = deque()
        self._clean = 0

    # ------------------------------------------------------------------ lifecycle

    async def run(self) -> None:
        """Deliver until :meth:`drain` is called (or the task is cancelled)."""
        recovered = await self.storage.outbox.recover_inflight()
        if recovered:
            log.info("outbox rows recovered after restart", extra={"rows": recovered})
        try:
            while not self._stopping:
                self.signals.outbox.clear()
                try:
                    full = await self._fill()
                except Exception as exc:  # keep the worker alive on a storage hiccup
                    log.error("outbox claim failed", extra={"error": type(exc).__name__})
                    full = False
                if self._stopping:
                    break
                await self._sleep(self._sleep_time(full))
        finally:
            self._stopped.set()

    async def drain(self, timeout: float = 5.0) -> None:
        """Stop claiming, let sends already talking to Telegram finish, release the rest.

        Bounded by ``timeout``; rows still in flight afterwards are returned to
        pending (a send cut off mid-call may have reached Telegram: the one case in
        which a message can go out twice).
        """
        self._stopping = True
        self.signals.outbox.set()
        waiting = [task for row_id, task in self._tasks.items() if row_id not in self._started]
        for task in waiting:
            task.cancel()
        tasks = list(self._tasks.values())
        if tasks:
            _done, pending = await asyncio.wait(tasks, timeout=timeout)
            for task in pending:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
        with contextlib.suppress(Exception):
            released = await self.storage.outbox.recover_inflight()
            if released:
                log.info("outbox rows released at shutdown", extra={"rows": released})
        log.info(
            "sender drained",
            extra={"sent": self.status.sent, "dead": self.status.dead},
        )

    # ------------------------------------------------------------------ the loop

    async def _fill(self) -> bool:
        """Claim what may go out now and start its tasks; True if the budget ran out."""
        now = self.clock()
        limiter = self.limiter
        if limiter.paused_all_until() > now:
            return False
        budget = self.max_concurrency - len(self._tasks)
        if self._failures >= OUTAGE_AFTER:
            budget = min(budget, 1 - len(self._tasks))  # outage: one probe at a time
        slots_from = limiter.global_next(now)
        slots = int((now + self.horizon - slots_from) / limiter.spacing) + 1
        budget = min(budget, slots)
        if budget <= 0:
            return True
        exclude = set(self._chats) | limiter.blocked_chats(now, horizon=self.horizon)
        rows = await self.storage.outbox.claim(budget, exclude_chats=exclude)
        for row in rows:
            if row.chat_id in self._chats:  # claimed elsewhere meanwhile: never twice
                continue
            at = limiter.reserve(row.chat_id, self.clock())
            self._chats[row.chat_id] = row.id
            self._tasks[row.id] = asyncio.create_task(self._run_row(row, at))
        return len(rows) >= budget

    def _sleep_time(self, full: bool) -> float:
        now = self.clock()
        wake = now + self.tick
        limiter = self.limiter
        if full:
            wake = min(wake, max(now + 0.005, limiter.global_next(now) - self.horizon / 2))
        change = limiter.earliest_change(now)
        if change is not None:
            wake = min(wake, change)
        if self._next_due is not None:
            if self._next_due <= now:
                self._next_due = None
            else:
                wake = min(wake, self._next_due)
        paused = limiter.paused_all_until()
        if paused > now:
            wake = max(wake, paused)
        return max(0.005, wake - now)

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.signals.outbox.wait(), seconds)

    def _due_in(self, seconds: float) -> datetime:
        """A storage ``not_before`` ``seconds`` from now, remembered as a wake-up time."""
        moment = self.clock() + seconds
        self._next_due = moment if self._next_due is None else min(self._next_due, moment)
        return utcnow() + timedelta(seconds=seconds)

    # ------------------------------------------------------------------ one row

    async def _run_row(self, row: OutboxMessage, at: float) -> None:
        target = row  # what is delivered: the row, or the newest update of its card
        try:
            delay = at - self.clock()
            if delay > 0:
                await asyncio.sleep(delay)
            self._started.add(row.id)
            target = await self._newest_card(row)
            await self._attempt(target)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # storage trouble while recording an outcome
            log.error(
                "outbox row failed unexpectedly",
                extra={"row": target.id, "chat_id": row.chat_id, "error": type(exc).__name__},
            )
            with contextlib.suppress(Exception):
                await self.storage.outbox.retry(
                    target.id,
                    not_before=self._due_in(self._backoff(target.attempts + 1)),
                    error=_err(exc),
                )
        finally:
            self._tasks.pop(row.id, None)
            if self._chats.get(row.chat_id) == row.id:
                del self._chats[row.chat_id]
            self._started.discard(row.id)
            self.signals.outbox.set()

    async def _newest_card(self, row: OutboxMessage) -> OutboxMessage:
        """For a card row with newer updates queued, the newest (the rest are superseded)."""
        if row.kind is not OutboxKind.CARD or row.shop_id is None or row.order_id is None:
            return row
        newest = await self.storage.outbox.supersede_cards(row.id)
        if newest is None:
            return row
        self.status.superseded += 1
        log.debug(
            "card updates superseded",
            extra={"row": row.id, "chat_id": row.chat_id, "newest": newest.id},
        )
        return newest

    async def _attempt(self, row: OutboxMessage) -> None:
        outbox = self.storage.outbox
        try:
            message_id = await self._deliver(row)
        except TelegramRetryAfter as exc:
            await self._flood(row, exc)
        except TelegramMigrateToChat as exc:
            new_id = exc.migrate_to_chat_id
            await self.storage.chats.migrate(row.chat_id, new_id)
            await outbox.retry(
                row.id, not_before=utcnow(), error=f"migrated to {new_id}", count_attempt=False
            )
            log.info(
                "chat migrated, rows follow",
                extra={"row": row.id, "chat_id": row.chat_id, "new_chat_id": new_id},
            )
        except TelegramForbiddenError as exc:
            await self._chat_lost(row, exc)
        except TelegramEntityTooLarge as exc:
            await self._dead(row, exc)
        except (TelegramServerError, TelegramNetworkError, ClientDecodeError) as exc:
            await self._temporary(row, exc, outage=True)
        except TelegramUnauthorizedError as exc:
            await self._temporary(row, exc, outage=True)
        except TelegramBadRequest as exc:
            await self._dead(row, exc)
        except TelegramAPIError as exc:  # 404, 409 and anything new: retry, bounded
            await self._temporary(row, exc, outage=False)
        except ValueError as exc:  # a reply_markup that does not parse: never sendable
            await self._dead(row, exc)
        else:
            await outbox.mark_sent(row.id, message_id)
            self._sent(row)

    def _sent(self, row: OutboxMessage) -> None:
        status = self.status
        status.sent += 1
        status.last_sent_at = utcnow()
        self._failures = 0
        self._clean += 1
        if self._clean >= RECOVER_EVERY and self.limiter.rate_factor < 1.0:
            self._clean = 0
            self.limiter.recover()
        log.debug(
            "outbox row sent", extra={"row": row.id, "chat_id": row.chat_id, "kind": row.kind}
        )

    def _note(self, row: OutboxMessage, exc: BaseException, outcome: str) -> None:
        self.status.errors.append(
            DeliveryError(utcnow(), row.chat_id, row.id, row.kind.value, _err(exc), outcome)
        )
        log.warning(
            "outbox delivery failed",
            extra={
                "row": row.id,
                "chat_id": row.chat_id,
                "kind": row.kind.value,
                "error": type(exc).__name__,
                "outcome": outcome,
                "attempts": row.attempts,
            },
        )

    # ------------------------------------------------------------------ outcomes

    async def _flood(self, row: OutboxMessage, exc: TelegramRetryAfter) -> None:
        now = self.clock()
        wait = float(exc.retry_after) + 0.1
        self.limiter.pause(row.chat_id, now + wait)
        self._clean = 0
        self._floods.append((now, row.chat_id))
        while self._floods and self._floods[0][0] < now - FLOOD_WINDOW:
            self._floods.popleft()
        if len({chat for _t, chat in self._floods}) >= FLOOD_CHATS:
            self.limiter.pause_all(now + wait)
            self.limiter.slow_down()
            self._floods.clear()
            log.warning(
                "global flood control: pausing all sends",
                extra={"retry_after": exc.retry_after, "rate_factor": self.limiter.rate_factor},
            )
        self.status.throttled += 1
        self._note(row, exc, "wait")
        await self.storage.outbox.retry(
            row.id, not_before=self._due_in(wait), error=_err(exc), count_attempt=False
        )

    async def _temporary(self, row: OutboxMessage, exc: BaseException, *, outage: bool) -> None:
        attempts = row.attempts + 1
        if attempts >= self.settings.outbox_max_attempts:
            await self._dead(row, exc, note=f"gave up after {attempts} attempts")
            return
        if outage:
            self._failures += 1
            if self._failures >= OUTAGE_AFTER:
                pause = self._backoff(self._failures - OUTAGE_AFTER + 1)
                self.limiter.pause_all(self.clock() + pause)
        self.status.retried += 1
        self._note(row, exc, "retry")
        await self.storage.outbox.retry(
            row.id, not_before=self._due_in(self._backoff(attempts)), error=_err(exc)
        )

    async def _dead(self, row: OutboxMessage, exc: BaseException, *, note: str = "") -> None:
        reason = _err(exc) + (f" ({note})" if note else "")
        self.status.dead += 1
        self._note(row, exc, "dead")
        await self.storage.outbox.mark_dead(row.id, reason)

    async def _chat_lost(self, row: OutboxMessage, exc: TelegramForbiddenError) -> None:
        """403: the bot was blocked or removed. Stop the chat and tell its shops' owners."""
        reason = _err(exc)
        chat_id = row.chat_id
        self.status.dead += 1
        self._note(row, exc, "dead")
        await self.storage.outbox.mark_dead(row.id, reason)
        killed = await self.storage.outbox.kill_chat(chat_id, reason)
        self.status.dead += killed
        await self.storage.chats.set_active(chat_id, False)
        log.warning(
            "chat lost: marked inactive",
            extra={"chat_id": chat_id, "dropped": killed + 1, "error": type(exc).__name__},
        )
        await self._tell_owners(row, killed + 1)

    async def _tell_owners(self, row: OutboxMessage, dropped: int) -> None:
        chat_id = row.chat_id
        chat = await self.storage.chats.get(chat_id)
        shops: dict[int, list[str]] = {}
        for link in await self.storage.links.for_chat(chat_id):
            shop = await self.storage.shops.get(link.shop_id)
            if shop is None:
                continue
            for member in await self.storage.members.list(shop.id):
                if member.role is Role.OWNER and member.user_id != chat_id:
                    shops.setdefault(member.user_id, []).append(shop.display_name)
        if not shops:
            return
        if chat is not None and chat.title:
            chat_name = f"«{html.escape(chat.title)}»"
        else:
            chat_name = f"<code>{chat_id}</code>"
        for owner, titles in shops.items():
            lang = await self.storage.users.get_language(owner) or self.settings.default_language
            text = self.i18n.gettext(
                "⚠️ I can no longer post in the chat {chat}: I was blocked or removed there. "
                "Alerts of {shops} to that chat have stopped; {count} undelivered "
                "message(s) were dropped. Add me back and link the chat again to resume.",
                locale=lang,
            ).format(
                chat=chat_name,
                shops=", ".join(f"«{html.escape(t)}»" for t in titles),
                count=dropped,
            )
            await self.storage.outbox.enqueue(
                chat_id=owner,
                text=text,
                dedupe_key=f"chat-lost:{chat_id}:{owner}:{row.id}",
                kind=OutboxKind.MESSAGE,
            )
        self.signals.outbox.set()

    def _backoff(self, attempt: int) -> float:
        """Delay before attempt ``attempt + 1``: exponential, capped, with jitter."""
        base = self.settings.outbox_retry_base * 2 ** max(0, attempt - 1)
        capped = min(self.settings.outbox_retry_max, base)
        return capped * random.uniform(0.5, 1.0)

    # ------------------------------------------------------------------ Telegram calls

    async def _deliver(self, row: OutboxMessage) -> int | None:
        """Send or edit the row's message; returns the Telegram message id."""
        markup = _markup(row.reply_markup)
        has_order = row.shop_id is not None and row.order_id is not None
        if row.kind is OutboxKind.CARD and has_order:
            return await self._deliver_card(row, markup)
        reply_to = row.reply_to_message_id
        topic = row.topic_id
        if row.kind is OutboxKind.REPLY and has_order and reply_to is None:
            assert row.shop_id is not None and row.order_id is not None
            card = await self.storage.cards.get(row.chat_id, row.shop_id, row.order_id)
            if card is not None:
                reply_to = card.message_id
                topic = topic if topic is not None else card.topic_id
        if row.edit_message_id is not None:
            edited = await self._edit(row, row.edit_message_id, markup)
            if edited is not None:
                return edited
        return await self._send(row, markup, topic=topic, reply_to=reply_to)

    async def _deliver_card(self, row: OutboxMessage, markup: InlineKeyboardMarkup | None) -> int:
        assert row.shop_id is not None and row.order_id is not None
        cards = self.storage.cards
        card = await cards.get(row.chat_id, row.shop_id, row.order_id)
        if card is not None:
            edited = await self._edit(row, card.message_id, markup)
            if edited is not None:
                return edited
        message_id = await self._send(row, markup, topic=row.topic_id, reply_to=None)
        await cards.upsert(
            row.chat_id,
            row.shop_id,
            row.order_id,
            message_id=message_id,
            topic_id=row.topic_id,
            history=card.history if card is not None else "",
        )
        return message_id

    async def _edit(
        self, row: OutboxMessage, message_id: int, markup: InlineKeyboardMarkup | None
    ) -> int | None:
        """Edit in place; None when the message is gone and a new one must be sent."""
        try:
            await self.bot.edit_message_text(
                text=row.text, chat_id=row.chat_id, message_id=message_id, reply_markup=markup
            )
        except TelegramBadRequest as exc:
            description = exc.message.lower()
            if NOT_MODIFIED in description:
                return message_id
            if any(marker in description for marker in EDIT_GONE):
                log.info(
                    "message to edit is gone, sending a new one",
                    extra={"row": row.id, "chat_id": row.chat_id},
                )
                # The failed edit may have counted against the chat's limit.
                at = self.limiter.reserve(row.chat_id, self.clock())
                await asyncio.sleep(max(0.0, at - self.clock()))
                return None
            raise
        return message_id

    async def _send(
        self,
        row: OutboxMessage,
        markup: InlineKeyboardMarkup | None,
        *,
        topic: int | None,
        reply_to: int | None,
    ) -> int:
        reply = (
            ReplyParameters(message_id=reply_to, allow_sending_without_reply=True)
            if reply_to is not None
            else None
        )
        message = await self.bot.send_message(
            chat_id=row.chat_id,
            text=row.text,
            message_thread_id=topic,
            reply_markup=markup,
            reply_parameters=reply,
            disable_notification=row.disable_notification or None,
        )
        return message.message_id


def _markup(raw: str | None) -> InlineKeyboardMarkup | None:
    if not raw:
        return None
    return InlineKeyboardMarkup.model_validate_json(raw)


def _err(exc: BaseException) -> str:
    """``ErrorClass: description`` (Telegram's descriptions carry no customer data)."""
    message = getattr(exc, "message", None) or str(exc)
    return f"{type(exc).__name__}: {message}"[:500]
