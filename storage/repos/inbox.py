"""Inbox of events received from Pixlpark, processed at least once.

A worker :meth:`~InboxRepository.claim` s a batch: each row gets a lease and its
attempt count goes up. The worker then marks each row processed or failed; a row
whose worker died becomes claimable again when its lease runs out.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from storage.db import Row
from storage.models import InboxEvent
from storage.repos.base import Repository, clip_error, placeholders
from storage.timeutil import from_db, opt_from_db, to_db


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
        now = to_db(self._clock())
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                """
                INSERT INTO inbox (shop_id, kind, order_id, body, dedupe_key, received_at,
                                   not_before)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (dedupe_key) DO NOTHING
                RETURNING *
                """,
                (shop_id, kind, order_id, body, dedupe_key, now, now),
            )
            created = row is not None
            if row is None:
                row = await tx.fetchone("SELECT * FROM inbox WHERE dedupe_key = ?", (dedupe_key,))
        assert row is not None
        return event_from_row(row), created

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
