"""Inbox of events received from Pixlpark, processed at least once.

A worker :meth:`~InboxRepository.claim` s a batch: each row gets a lease and its
attempt count goes up. The worker then marks each row processed or failed; a row
whose worker died becomes claimable again when its lease runs out. A process that
starts after a crash hands its predecessor's leases back with
:meth:`~InboxRepository.release_all`.

:class:`InboxWriter` is the group commit of the webhook handler: concurrent adds
share one transaction, and each caller returns only after that transaction committed.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from storage.db import Row
from storage.models import InboxEvent
from storage.repos.base import Repository, clip_error, placeholders
from storage.timeutil import from_db, opt_from_db, to_db

log = logging.getLogger(__name__)

MAX_BATCH = 500
"""Most events one multi-row INSERT carries (7 parameters each, far below SQLite's cap)."""


@dataclass(frozen=True, slots=True)
class NewEvent:
    """An event to store in the inbox."""

    shop_id: int
    kind: str
    order_id: str | None
    body: str
    dedupe_key: str


def event_from_row(row: Row) -> InboxEvent:
    """Build an InboxEvent from an ``inbox`` row."""
    return InboxEvent(
        id=row["id"],
        shop_id=row["shop_id"],
        kind=row["kind"],
        order_id=row["order_id"],
        body=row["body"],
        dedupe_key=row["dedupe_key"],
        received_at=from_db(row["received_at"]),
        processed_at=opt_from_db(row["processed_at"]),
        attempts=row["attempts"],
        last_error=row["last_error"],
        not_before=from_db(row["not_before"]),
    )


class InboxRepository(Repository):
    """Received events, de-duplicated by key."""

    async def add(
        self, shop_id: int, kind: str, order_id: str | None, body: str, dedupe_key: str
    ) -> tuple[InboxEvent, bool]:
        """Store an event; returns it and whether it is new (False: a repeated delivery).

        The row is committed when this returns.
        """
        [result] = await self.add_many([NewEvent(shop_id, kind, order_id, body, dedupe_key)])
        return result

    async def add_many(
        self, events: Sequence[NewEvent], *, touch_shops: bool = False
    ) -> list[tuple[InboxEvent, bool]]:
        """Store events in one transaction; for each, the stored row and whether it is new.

        A key already stored, or repeated earlier in ``events``, gives the first stored
        row and False. With ``touch_shops`` the shops' ``last_event_at`` moves to now
        in the same transaction (as :meth:`ShopRepository.touch_event` would). All of it
        is committed when this returns; on an error nothing is.
        """
        if not events:
            return []
        now = to_db(self._clock())
        inserted: dict[str, Row] = {}
        async with self._db.transaction() as tx:
            for start in range(0, len(events), MAX_BATCH):
                chunk = events[start : start + MAX_BATCH]
                values = ", ".join(["(?, ?, ?, ?, ?, ?, ?)"] * len(chunk))
                params: list[object] = []
                for e in chunk:
                    params += [e.shop_id, e.kind, e.order_id, e.body, e.dedupe_key, now, now]
                rows = await tx.fetchall(
                    f"""
                    INSERT INTO inbox (shop_id, kind, order_id, body, dedupe_key, received_at,
                                       not_before)
                    VALUES {values}
                    ON CONFLICT (dedupe_key) DO NOTHING
                    RETURNING *
                    """,
                    params,
                )
                inserted.update((row["dedupe_key"], row) for row in rows)
            missing = list({e.dedupe_key for e in events} - inserted.keys())
            known: dict[str, Row] = {}
            for start in range(0, len(missing), MAX_BATCH):
                keys = missing[start : start + MAX_BATCH]
                rows = await tx.fetchall(
                    f"SELECT * FROM inbox WHERE dedupe_key IN ({placeholders(len(keys))})", keys
                )
                known.update((row["dedupe_key"], row) for row in rows)
            if touch_shops:
                shops = sorted({e.shop_id for e in events})
                await tx.execute(
                    f"UPDATE shops SET last_event_at = ? WHERE id IN ({placeholders(len(shops))}) "
                    "AND (last_event_at IS NULL OR last_event_at < ?)",
                    (now, *shops, now),
                )
        results: list[tuple[InboxEvent, bool]] = []
        built: dict[str, InboxEvent] = {}
        for e in events:
            key = e.dedupe_key
            if key in built:
                results.append((built[key], False))
                continue
            row = inserted.get(key)
            created = row is not None
            if row is None:
                row = known[key]
            built[key] = event_from_row(row)
            results.append((built[key], created))
        return results

    async def get(self, event_id: int) -> InboxEvent | None:
        """The event with this id."""
        row = await self._db.fetchone("SELECT * FROM inbox WHERE id = ?", (event_id,))
        return None if row is None else event_from_row(row)

    async def claim(self, limit: int = 50, *, lease_seconds: float = 60) -> list[InboxEvent]:
        """Lease up to ``limit`` due, unprocessed events, oldest first.

        Atomic across processes: a claimed row is not handed out again until its
        lease expires or it is released or marked failed.
        """
        if limit <= 0:
            return []
        now = self._clock()
        stamp = to_db(now)
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                """
                UPDATE inbox SET leased_until = ?, attempts = attempts + 1
                WHERE id IN (
                    SELECT id FROM inbox
                    WHERE processed_at IS NULL AND not_before <= ?
                      AND (leased_until IS NULL OR leased_until <= ?)
                    ORDER BY id LIMIT ?)
                RETURNING *
                """,
                (to_db(now + timedelta(seconds=lease_seconds)), stamp, stamp, limit),
            )
        return sorted((event_from_row(row) for row in rows), key=lambda event: event.id)

    async def mark_processed(self, event_id: int) -> None:
        """The event was handled; it will not be claimed again."""
        await self._db.execute(
            "UPDATE inbox SET processed_at = ?, leased_until = NULL WHERE id = ?",
            (to_db(self._clock()), event_id),
        )

    async def mark_failed(self, event_id: int, error: str, *, retry_at: datetime | None) -> None:
        """Handling failed: retry at ``retry_at``, or give up for good when it is None."""
        if retry_at is None:
            await self._db.execute(
                "UPDATE inbox SET processed_at = ?, last_error = ?, leased_until = NULL "
                "WHERE id = ?",
                (to_db(self._clock()), clip_error(error), event_id),
            )
            return
        await self._db.execute(
            "UPDATE inbox SET not_before = ?, last_error = ?, leased_until = NULL WHERE id = ?",
            (to_db(retry_at), clip_error(error), event_id),
        )

    async def postpone(self, event_id: int, until: datetime, reason: str) -> None:
        """Not handled now and not a failure: due again at ``until``; the claim's attempt
        is not counted."""
        await self._db.execute(
            "UPDATE inbox SET not_before = ?, last_error = ?, leased_until = NULL, "
            "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END WHERE id = ?",
            (to_db(until), clip_error(reason), event_id),
        )

    async def wake(self, shop_id: int, reasons: Collection[str]) -> int:
        """Make the shop's waiting events whose last error is one of ``reasons`` due now.

        Returns how many. For events held back until something came back (Pixlpark).
        """
        if not reasons:
            return 0
        stamp = to_db(self._clock())
        return await self._db.execute(
            "UPDATE inbox SET not_before = ? "
            "WHERE shop_id = ? AND processed_at IS NULL AND not_before > ? "
            f"AND last_error IN ({placeholders(len(reasons))})",
            (stamp, shop_id, stamp, *[clip_error(reason) for reason in reasons]),
        )

    async def release(self, event_ids: Collection[int]) -> int:
        """End the leases of claimed events without counting a failure (e.g. at shutdown)."""
        if not event_ids:
            return 0
        return await self._db.execute(
            "UPDATE inbox SET leased_until = NULL, "
            "attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END "
            f"WHERE processed_at IS NULL AND id IN ({placeholders(len(event_ids))})",
            tuple(event_ids),
        )

    async def release_all(self) -> int:
        """End every lease on unprocessed events (at start-up: their worker is gone).

        Only for a single processor per database: a live worker elsewhere would lose its
        claims. The attempt a killed worker counted stays counted.
        """
        return await self._db.execute(
            "UPDATE inbox SET leased_until = NULL "
            "WHERE processed_at IS NULL AND leased_until IS NOT NULL"
        )

    async def pending_count(self) -> int:
        """How many events are not processed yet."""
        row = await self._db.fetchone("SELECT COUNT(*) AS n FROM inbox WHERE processed_at IS NULL")
        return int(row["n"]) if row else 0

    async def last_received_at(self) -> datetime | None:
        """When the newest event arrived."""
        row = await self._db.fetchone("SELECT MAX(received_at) AS at FROM inbox")
        return opt_from_db(row["at"] if row else None)

    async def purge_processed(self, older_than: timedelta) -> int:
        """Delete events processed more than ``older_than`` ago; returns how many."""
        cutoff = to_db(self._clock() - older_than)
        return await self._db.execute(
            "DELETE FROM inbox WHERE processed_at IS NOT NULL AND processed_at < ?", (cutoff,)
        )


class InboxWriter:
    """Group commit for :meth:`InboxRepository.add_many`.

    :meth:`add` queues the event and waits. While no transaction is open, one starts
    at the next turn of the event loop with everything queued so far; while one is
    open, new events queue up for the next. So a lone event costs one transaction, and
    under load many concurrent requests share each ``BEGIN IMMEDIATE … COMMIT`` (and
    its fsync). :meth:`add` returns only after the transaction holding its event
    committed. If a shared transaction fails, its events are retried one by one, so
    one bad event fails alone.
    """

    def __init__(
        self, inbox: InboxRepository, *, touch_shops: bool = False, max_batch: int = MAX_BATCH
    ) -> None:
        self._inbox = inbox
        self._touch_shops = touch_shops
        self._max_batch = max(1, max_batch)
        self._queue: list[tuple[NewEvent, asyncio.Future[tuple[InboxEvent, bool]]]] = []
        self._task: asyncio.Task[None] | None = None
        self.transactions = 0
        """Transactions committed so far (for tests and the curious)."""

    async def add(self, event: NewEvent) -> tuple[InboxEvent, bool]:
        """Store ``event``; returns its row and whether it is new, once committed."""
        future: asyncio.Future[tuple[InboxEvent, bool]] = asyncio.get_running_loop().create_future()
        self._queue.append((event, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._flush(), name="inbox-writer")
        return await future

    async def _flush(self) -> None:
        batch: list[tuple[NewEvent, asyncio.Future[tuple[InboxEvent, bool]]]] = []
        try:
            while self._queue:
                batch = self._queue[: self._max_batch]
                del self._queue[: self._max_batch]
                await self._commit(batch)
                batch = []
        except BaseException:  # cancelled at shutdown: nobody is left waiting
            for _event, future in batch + self._queue:
                future.cancel()
            self._queue.clear()
            raise

    async def _commit(
        self, batch: list[tuple[NewEvent, asyncio.Future[tuple[InboxEvent, bool]]]]
    ) -> None:
        try:
            results = await self._inbox.add_many(
                [event for event, _ in batch], touch_shops=self._touch_shops
            )
        except Exception as exc:
            if len(batch) == 1:
                _resolve(batch[0][1], error=exc)
                return
            log.warning("inbox group commit failed; storing its events one by one")
            for item in batch:
                await self._commit([item])
            return
        self.transactions += 1
        for (_event, future), result in zip(batch, results, strict=True):
            _resolve(future, result=result)


def _resolve(
    future: asyncio.Future[tuple[InboxEvent, bool]],
    *,
    result: tuple[InboxEvent, bool] | None = None,
    error: BaseException | None = None,
) -> None:
    if future.done():  # the caller was cancelled; its event is stored all the same
        return
    if error is not None:
        future.set_exception(error)
    else:
        assert result is not None
        future.set_result(result)
