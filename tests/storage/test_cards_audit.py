"""Order cards and the audit log."""

from __future__ import annotations

from storage import Shop, Storage

from .conftest import FakeClock


async def test_cards(storage: Storage, shop: Shop, clock: FakeClock) -> None:
    assert await storage.cards.get(-1, shop.id, "A") is None
    card = await storage.cards.upsert(-1, shop.id, "A", message_id=10, topic_id=3, history="new")
    assert (card.chat_id, card.shop_id, card.order_id, card.message_id) == (-1, shop.id, "A", 10)
    assert (card.topic_id, card.history, card.updated_at) == (3, "new", clock.now)
    clock.advance(seconds=1)
    card = await storage.cards.upsert(-1, shop.id, "A", message_id=11, history="new\npaid")
    assert card.message_id == 11 and card.history == "new\npaid" and card.topic_id is None
    assert await storage.cards.get(-1, shop.id, "A") == card
    assert await storage.cards.delete(-1, shop.id, "A") is True
    assert await storage.cards.delete(-1, shop.id, "A") is False


async def test_audit_record_and_list(storage: Storage, shop: Shop, clock: FakeClock) -> None:
    await storage.audit.record("keys_linked", user_id=1, shop_id=shop.id, details="via /link")
    clock.advance(seconds=1)
    await storage.audit.record("chat_linked", user_id=1, shop_id=shop.id, chat_id=-5)
    await storage.audit.record("role_changed", user_id=2, details={"user": 3, "role": "viewer"})
    everything = await storage.audit.list()
    assert [e.action for e in everything] == ["role_changed", "chat_linked", "keys_linked"]
    assert everything[0].details == '{"role": "viewer", "user": 3}'
    mine = await storage.audit.list(shop_id=shop.id, limit=1)
    assert [(e.action, e.chat_id, e.at) for e in mine] == [("chat_linked", -5, clock.now)]


async def test_audit_never_stores_keys(storage: Storage, shop: Shop) -> None:
    await storage.audit.record(
        "keys_linked", shop_id=shop.id, details=f"private key {shop.private_key} accepted"
    )
    await storage.audit.record(
        "keys_linked",
        shop_id=shop.id,
        details={
            "public_key": shop.public_key,
            "private_key": "anything",
            "url": shop.webhook_token,
        },
    )
    texts = [e.details or "" for e in await storage.audit.list(shop_id=shop.id)]
    assert all(shop.private_key not in text for text in texts)
    assert all(shop.webhook_token not in text for text in texts)
    assert all("anything" not in text for text in texts)
    assert shop.public_key in texts[0]  # the public key is not a secret
