"""Test data written straight through `storage`, shared by both harnesses."""

from __future__ import annotations

from storage import Role, Shop, Storage


async def seed_linked_shop(
    storage: Storage,
    owner_id: int,
    public_key: str,
    private_key: str,
    *,
    title: str,
    site_id: int | None,
    language: str | None = None,
) -> Shop:
    """A shop with its owner: owner role, owner's private chat linked (and its language)."""
    shop = await storage.shops.create(
        public_key, private_key, title=title, site_id=site_id, linked_by=owner_id
    )
    await storage.members.set_role(shop.id, owner_id, Role.OWNER)
    await storage.chats.upsert(owner_id, "private", None)
    if language:
        await storage.users.set_language(owner_id, language)
    await storage.links.link(owner_id, shop.id, created_by=owner_id)
    return shop
