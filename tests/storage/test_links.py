"""Chat–shop links and their alert preferences."""

from __future__ import annotations

from decimal import Decimal

import pytest

from storage import DEFAULT_EVENTS, ChatType, ConstraintError, NotFoundError, Shop, Storage

from .conftest import FakeClock


async def test_link_defaults_and_relink(storage: Storage, shop: Shop, clock: FakeClock) -> None:
    await storage.chats.upsert(-9, "supergroup", "Team")
    link = await storage.links.link(-9, shop.id, created_by=5)
    assert link.events == DEFAULT_EVENTS == {"new_order", "paid", "cancelled", "comment"}
    assert link.statuses == frozenset() and link.loud_statuses == frozenset()
    assert link.min_total is None and link.quiet_hours is None and link.topic_id is None
    assert (link.created_by, link.created_at) == (5, clock.now)

    await storage.links.update_prefs(-9, shop.id, events={"paid"})
    relinked = await storage.links.link(-9, shop.id, topic_id=77, created_by=6)
    assert relinked.topic_id == 77
    assert relinked.events == {"paid"}  # preferences survive re-linking
    assert relinked.created_by == 5
    assert await storage.links.get(-9, shop.id) == relinked
    assert len(await storage.links.for_chat(-9)) == 1


async def test_link_creates_unknown_chat(storage: Storage, shop: Shop) -> None:
    await storage.links.link(555, shop.id)
    await storage.links.link(-1001234567890, shop.id)
    private = await storage.chats.get(555)
    group = await storage.chats.get(-1001234567890)
    assert private is not None and private.type is ChatType.PRIVATE
    assert group is not None and group.type is ChatType.SUPERGROUP


async def test_link_to_missing_shop(storage: Storage) -> None:
    with pytest.raises(ConstraintError):
        await storage.links.link(-1, 404)


async def test_unlink(storage: Storage, shop: Shop) -> None:
    await storage.links.link(-1, shop.id)
    assert await storage.links.unlink(-1, shop.id) is True
    assert await storage.links.unlink(-1, shop.id) is False
    assert await storage.links.get(-1, shop.id) is None


async def test_for_shop_skips_inactive_chats(storage: Storage, shop: Shop) -> None:
    await storage.links.link(-1, shop.id)
    await storage.links.link(-2, shop.id)
    await storage.chats.set_active(-2, False)
    assert [link.chat_id for link in await storage.links.for_shop(shop.id)] == [-1]
    everything = await storage.links.for_shop(shop.id, active_chats_only=False)
    assert {link.chat_id for link in everything} == {-1, -2}


async def test_update_prefs(storage: Storage, shop: Shop) -> None:
    await storage.links.link(-1, shop.id)
    link = await storage.links.update_prefs(
        -1,
        shop.id,
        events=["paid", "new_order"],
        statuses={"ready", "shipped"},
        min_total=Decimal("999.99"),
        quiet_hours=(23, 7),
        loud_statuses=frozenset({"ready"}),
    )
    assert link.events == {"paid", "new_order"}
    assert link.statuses == {"ready", "shipped"}
    assert link.min_total == Decimal("999.99")
    assert link.quiet_hours == (23, 7)
    assert link.loud_statuses == {"ready"}

    # Only what is passed changes; None clears the optional ones.
    link = await storage.links.update_prefs(-1, shop.id, statuses=set())
    assert link.statuses == frozenset() and link.min_total == Decimal("999.99")
    link = await storage.links.update_prefs(-1, shop.id, min_total=None, quiet_hours=None)
    assert link.min_total is None and link.quiet_hours is None
    assert link.events == {"paid", "new_order"}
    assert await storage.links.get(-1, shop.id) == link


@pytest.mark.parametrize("hours", [(24, 1), (-1, 5), (5, 5)])
async def test_bad_quiet_hours(storage: Storage, shop: Shop, hours: tuple[int, int]) -> None:
    await storage.links.link(-1, shop.id)
    with pytest.raises(ValueError):
        await storage.links.update_prefs(-1, shop.id, quiet_hours=hours)


async def test_update_prefs_of_missing_link(storage: Storage, shop: Shop) -> None:
    with pytest.raises(NotFoundError):
        await storage.links.update_prefs(-1, shop.id, events={"paid"})
