"""Order snapshots: the last known state of each order, to tell a change from a repeat."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from storage.db import Executor, Row
from storage.models import OrderSnapshot
from storage.repos.base import Repository
from storage.timeutil import (
    decimal_from_db,
    decimal_to_db,
    from_db,
    opt_from_db,
    opt_to_db,
    to_db,
)


def snapshot_from_row(row: Row) -> OrderSnapshot:
    """Build an OrderSnapshot from an ``order_snapshots`` row."""
    return OrderSnapshot(
        shop_id=row["shop_id"],
        order_id=row["order_id"],
        status=row["status"],
        payment_status=row["payment_status"],
        render_status=row["render_status"],
        date_modified=opt_from_db(row["date_modified"]),
        comments_count=row["comments_count"],
        total=decimal_from_db(row["total"]),
        data=row["data"],
        updated_at=from_db(row["updated_at"]),
    )


_SELECT = "SELECT * FROM order_snapshots WHERE shop_id = ? AND order_id = ?"


class SnapshotRepository(Repository):
    """Last known order states per shop."""

    async def get(self, shop_id: int, order_id: str) -> OrderSnapshot | None:
        """The stored snapshot of the order."""
        row = await self._db.fetchone(_SELECT, (shop_id, order_id))
        return None if row is None else snapshot_from_row(row)

    async def _write(
        self,
        tx: Executor,
        shop_id: int,
        order_id: str,
        status: str | None,
        payment_status: str | None,
        render_status: str | None,
        date_modified: datetime | None,
        comments_count: int | None,
        total: Decimal | None,
        data: str,
    ) -> OrderSnapshot:
        row = await tx.fetchone(
            """
            INSERT INTO order_snapshots (shop_id, order_id, status, payment_status, render_status,
                                         date_modified, comments_count, total, data, updated_at)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            ON CONFLICT (shop_id, order_id) DO UPDATE SET
                status = excluded.status,
                payment_status = excluded.payment_status,
                render_status = excluded.render_status,
                date_modified = excluded.date_modified,
                comments_count = excluded.comments_count,
                total = excluded.total,
                data = excluded.data,
                updated_at = excluded.updated_at
            RETURNING *
            """,
            (
                shop_id,
                order_id,
                status,
                payment_status,
                render_status,
                opt_to_db(date_modified),
                comments_count,
                decimal_to_db(total),
                data,
                to_db(self._clock()),
            ),
        )
        assert row is not None
        return snapshot_from_row(row)

    async def upsert(
        self,
        shop_id: int,
        order_id: str,
        *,
        status: str | None = None,
        payment_status: str | None = None,
        render_status: str | None = None,
        date_modified: datetime | None = None,
        comments_count: int | None = None,
        total: Decimal | None = None,
        data: str = "{}",
    ) -> OrderSnapshot:
        """Replace the order's snapshot with these fields; returns the stored snapshot."""
        async with self._db.transaction() as tx:
            return await self._write(
                tx, shop_id, order_id, status, payment_status, render_status,
                date_modified, comments_count, total, data,
            )  # fmt: skip

    async def count(self, shop_id: int) -> int:
        """How many orders of the shop have a snapshot."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM order_snapshots WHERE shop_id = ?", (shop_id,)
        )
        return int(row["n"]) if row else 0
