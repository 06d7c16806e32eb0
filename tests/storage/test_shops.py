"""The shops repository."""

from __future__ import annotations

import re
from dataclasses import FrozenInstanceError
from datetime import datetime, timedelta

import pytest

from storage import Role, Shop, ShopState, Storage

from .conftest import FakeClock


async def test_create_and_lookups(storage: Storage, clock: FakeClock) -> None:
    shop = await storage.shops.create(
        " pub ", "priv-secret-1", title="Photo", site_id=5, linked_by=42
    )
    assert shop.public_key == "pub"
    assert shop.private_key == "priv-secret-1"
    assert (shop.title, shop.site_id, shop.linked_by) == ("Photo", 5, 42)
    assert shop.state is ShopState.ACTIVE
    assert shop.timezone == "Europe/Moscow"
    assert shop.created_at == clock.now
    assert shop.baseline_done is False
    assert shop.last_event_at is None and shop.last_poll_at is None
    assert re.fullmatch(r"[A-Za-z0-9_-]{43}", shop.webhook_token)  # 256 random bits
    assert await storage.shops.get(shop.id) == shop
    assert await storage.shops.get_by_public_key("pub") == shop
    assert await storage.shops.get_by_webhook_token(shop.webhook_token) == shop
    assert await storage.shops.get_by_webhook_token("nope") is None
    assert await storage.shops.get_by_webhook_token("") is None
    assert await storage.shops.get(999) is None
    with pytest.raises(FrozenInstanceError):
        shop.title = "x"  # type: ignore[misc]


async def test_repr_hides_secrets(storage: Storage) -> None:
    shop = await storage.shops.create("pub", "very-private-key")
    assert "very-private-key" not in repr(shop)
    assert shop.webhook_token not in repr(shop)
    assert "very-private-key" not in repr(await storage.members.shops_for_user(1))


async def test_same_public_key_updates_one_row(storage: Storage) -> None:
    first = await storage.shops.create("pub", "old-private", title="T", linked_by=1)
    await storage.shops.set_state(first.id, ShopState.KEYS_REJECTED)
    second = await storage.shops.create("pub", "new-private", linked_by=2)
    assert second.id == first.id
    assert second.private_key == "new-private"
    assert second.state is ShopState.ACTIVE
    assert second.title == "T"  # kept when not given
    assert second.webhook_token == first.webhook_token
    assert second.linked_by == 1
    assert len(await storage.shops.list_all()) == 1


async def test_tokens_differ(storage: Storage) -> None:
    tokens = {(await storage.shops.create(f"pub{i}", "private-x")).webhook_token for i in range(5)}
    assert len(tokens) == 5


async def test_empty_keys_are_refused(storage: Storage) -> None:
    with pytest.raises(ValueError):
        await storage.shops.create("", "x-private")
    with pytest.raises(ValueError):
        await storage.shops.create("pub", "  ")


async def test_state_and_listing(storage: Storage) -> None:
    a = await storage.shops.create("a", "private-a")
    b = await storage.shops.create("b", "private-b")
    paused = await storage.shops.set_state(b.id, ShopState.PAUSED)
    assert paused is not None and paused.state is ShopState.PAUSED
    assert [s.id for s in await storage.shops.list_active()] == [a.id]
    assert [s.id for s in await storage.shops.list_all()] == [a.id, b.id]
    assert await storage.shops.set_state(999, "paused") is None
    with pytest.raises(ValueError):
        await storage.shops.set_state(a.id, "bogus")


async def test_update_private_key(storage: Storage, shop: Shop) -> None:
    await storage.shops.set_state(shop.id, ShopState.KEYS_REJECTED)
    updated = await storage.shops.update_private_key(shop.id, "brand-new-private")
    assert updated is not None
    assert updated.private_key == "brand-new-private" and updated.state is ShopState.ACTIVE
    assert await storage.shops.update_private_key(999, "whatever-key") is None


async def test_title_timezone_and_touches(storage: Storage, shop: Shop, clock: FakeClock) -> None:
    titled = await storage.shops.set_title(shop.id, "Studio", site_id=77)
    assert titled is not None and (titled.title, titled.site_id) == ("Studio", 77)
    titled = await storage.shops.set_title(shop.id, "Studio 2")
    assert titled is not None and (titled.title, titled.site_id) == ("Studio 2", 77)

    zoned = await storage.shops.set_timezone(shop.id, "Asia/Yekaterinburg")
    assert zoned is not None and zoned.timezone == "Asia/Yekaterinburg"
    with pytest.raises(ValueError):
        await storage.shops.set_timezone(shop.id, "Mars/Olympus")

    later = clock.advance(minutes=5)
    await storage.shops.touch_event(shop.id, later)
    await storage.shops.touch_event(shop.id, clock.now.replace(year=2020))  # never backwards
    await storage.shops.touch_poll(shop.id, later)
    await storage.shops.set_webhook_hint(shop.id, later)
    got = await storage.shops.get(shop.id)
    assert got is not None
    assert got.last_event_at == later and got.last_poll_at == later
    assert got.baseline_done is True
    assert got.last_webhook_hint_at == later
    await storage.shops.touch_poll(shop.id, clock.advance(minutes=1), baseline_done=False)
    got = await storage.shops.get(shop.id)
    assert got is not None and got.baseline_done is True and got.last_poll_at == clock.now


async def test_naive_datetime_is_refused(storage: Storage, shop: Shop) -> None:
    with pytest.raises(ValueError, match="naive"):
        await storage.shops.touch_event(shop.id, datetime(2024, 1, 1))


async def test_delete_cascades(storage: Storage, shop: Shop) -> None:
    other = await storage.shops.create("other", "other-private")
    await storage.chats.upsert(-1, "group", "G")
    await storage.links.link(-1, shop.id)
    await storage.links.link(-1, other.id)
    await storage.members.set_role(shop.id, 10, Role.OWNER)
    await storage.codes.create("invite", shop.id, created_by=10, ttl=timedelta(hours=1))
    await storage.cards.upsert(-1, shop.id, "O1", message_id=5)
    await storage.snapshots.upsert(shop.id, "O1", status="new")
    await storage.inbox.add(shop.id, "order", "O1", "{}", "k1")
    msg = await storage.outbox.enqueue(chat_id=-1, text="t", dedupe_key="m1", shop_id=shop.id)
    await storage.audit.record("keys_linked", shop_id=shop.id)

    assert await storage.shops.delete(shop.id) is True
    assert await storage.shops.delete(shop.id) is False
    assert await storage.shops.get(shop.id) is None
    assert [link.shop_id for link in await storage.links.for_chat(-1)] == [other.id]
    assert await storage.members.list(shop.id) == []
    assert await storage.cards.get(-1, shop.id, "O1") is None
    assert await storage.snapshots.count(shop.id) == 0
    assert await storage.inbox.pending_count() == 0
    assert await storage.chats.get(-1) is not None
    assert msg is not None
    kept = await storage.outbox.get(msg)
    assert kept is not None and kept.shop_id is None  # the message itself is kept
    assert len(await storage.audit.list(shop_id=shop.id)) == 1  # audit outlives the shop
