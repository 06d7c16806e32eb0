"""Members and roles."""

from __future__ import annotations

import pytest

from storage import ConstraintError, Role, Shop, Storage


def test_role_ranks() -> None:
    assert Role.OWNER.rank > Role.MANAGER.rank > Role.VIEWER.rank
    assert Role.OWNER.at_least(Role.MANAGER)
    assert Role.MANAGER.at_least(Role.MANAGER)
    assert not Role.VIEWER.at_least(Role.MANAGER)
    assert Role("owner") is Role.OWNER


async def test_roles(storage: Storage, shop: Shop) -> None:
    assert await storage.members.get_role(shop.id, 1) is None
    member = await storage.members.set_role(shop.id, 1, Role.VIEWER)
    assert (member.shop_id, member.user_id, member.role) == (shop.id, 1, Role.VIEWER)
    await storage.members.set_role(shop.id, 1, "owner")
    await storage.members.set_role(shop.id, 2, Role.MANAGER)
    await storage.members.set_role(shop.id, 3, Role.VIEWER)
    assert await storage.members.get_role(shop.id, 1) is Role.OWNER
    assert [m.user_id for m in await storage.members.list(shop.id)] == [1, 2, 3]
    assert await storage.members.count(shop.id) == 3
    assert await storage.members.count(shop.id, Role.OWNER) == 1
    assert await storage.members.remove(shop.id, 3) is True
    assert await storage.members.remove(shop.id, 3) is False
    assert await storage.members.get_role(shop.id, 3) is None
    with pytest.raises(ValueError):
        await storage.members.set_role(shop.id, 4, "admin")
    with pytest.raises(ConstraintError):
        await storage.members.set_role(404, 4, Role.OWNER)


async def test_shops_for_user(storage: Storage, shop: Shop) -> None:
    other = await storage.shops.create("pub-2", "private-2")
    await storage.members.set_role(shop.id, 1, Role.OWNER)
    await storage.members.set_role(other.id, 1, Role.VIEWER)
    await storage.members.set_role(other.id, 2, Role.MANAGER)
    mine = await storage.members.shops_for_user(1)
    assert [(s.id, role) for s, role in mine] == [(shop.id, Role.OWNER), (other.id, Role.VIEWER)]
    assert mine[0][0] == shop
    assert mine[1][0].private_key == "private-2"
    assert await storage.members.shops_for_user(99) == []
