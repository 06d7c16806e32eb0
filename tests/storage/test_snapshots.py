"""Order snapshots."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from storage import Shop, Storage

from .conftest import FakeClock


async def test_upsert_get_count(storage: Storage, shop: Shop, clock: FakeClock) -> None:
    assert await storage.snapshots.get(shop.id, "A-1") is None
    modified = datetime(2024, 4, 30, 8, 15, 1, 500, tzinfo=UTC)
    snap = await storage.snapshots.upsert(
        shop.id,
        "A-1",
        status="new",
        payment_status="unpaid",
        render_status="pending",
        date_modified=modified,
        comments_count=0,
        total=Decimal("1250.00"),
        data='{"id": "A-1"}',
    )
    assert snap.status == "new" and snap.payment_status == "unpaid"
    assert snap.render_status == "pending" and snap.date_modified == modified
    assert snap.comments_count == 0 and snap.total == Decimal("1250.00")
    assert snap.data == '{"id": "A-1"}' and snap.updated_at == clock.now
    assert await storage.snapshots.get(shop.id, "A-1") == snap

    clock.advance(minutes=1)
    updated = await storage.snapshots.upsert(shop.id, "A-1", status="paid")
    assert updated.status == "paid" and updated.total is None and updated.data == "{}"
    assert updated.updated_at == clock.now
    await storage.snapshots.upsert(shop.id, "A-2")
    assert await storage.snapshots.count(shop.id) == 2
    assert await storage.snapshots.count(404) == 0
