"""Shop members: which Telegram user may do what for which shop."""

from __future__ import annotations

import builtins

from storage.db import Database, Row
from storage.errors import ConstraintError
from storage.models import Member, Role, Shop
from storage.repos.base import Repository
from storage.repos.shops import SHOP_COLUMNS, ShopRepository
from storage.timeutil import Clock, from_db, to_db


def member_from_row(row: Row) -> Member:
    """Build a Member from a ``members`` row."""
    return Member(
        shop_id=row["shop_id"],
        user_id=row["user_id"],
        role=Role(row["role"]),
        created_at=from_db(row["created_at"]),
    )


class MemberRepository(Repository):
    """Roles of users per shop."""

    def __init__(self, db: Database, clock: Clock, shops: ShopRepository) -> None:
        super().__init__(db, clock)
        self._shops = shops

    async def set_role(self, shop_id: int, user_id: int, role: Role | str) -> Member:
        """Give the user this role for the shop (replacing any previous role)."""
        role = Role(role)
        now = to_db(self._clock())
        async with self._db.transaction() as tx:
            if await tx.fetchone("SELECT 1 AS found FROM shops WHERE id = ?", (shop_id,)) is None:
                raise ConstraintError(f"shop {shop_id} does not exist")
            row = await tx.fetchone(
                """
                INSERT INTO members (shop_id, user_id, role, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?)
                ON CONFLICT (shop_id, user_id) DO UPDATE SET
                    role = excluded.role, updated_at = excluded.updated_at
                RETURNING *
                """,
                (shop_id, user_id, role.value, now, now),
            )
        assert row is not None
        return member_from_row(row)

    async def get_role(self, shop_id: int, user_id: int) -> Role | None:
        """The user's role for the shop, if any."""
        row = await self._db.fetchone(
            "SELECT role FROM members WHERE shop_id = ? AND user_id = ?", (shop_id, user_id)
        )
        return None if row is None else Role(row["role"])

    async def list(self, shop_id: int) -> builtins.list[Member]:
        """The shop's members, owners first, then by when they joined."""
        rows = await self._db.fetchall(
            """
            SELECT * FROM members WHERE shop_id = ?
            ORDER BY CASE role WHEN 'owner' THEN 0 WHEN 'manager' THEN 1 ELSE 2 END,
                     created_at, user_id
            """,
            (shop_id,),
        )
        return [member_from_row(row) for row in rows]

    async def count(self, shop_id: int, role: Role | str | None = None) -> int:
        """How many members the shop has (with this role, if given)."""
        if role is None:
            row = await self._db.fetchone(
                "SELECT COUNT(*) AS n FROM members WHERE shop_id = ?", (shop_id,)
            )
        else:
            row = await self._db.fetchone(
                "SELECT COUNT(*) AS n FROM members WHERE shop_id = ? AND role = ?",
                (shop_id, Role(role).value),
            )
        return int(row["n"]) if row else 0

    async def remove(self, shop_id: int, user_id: int) -> bool:
        """Take the user's role away; False if they had none."""
        deleted = await self._db.execute(
            "DELETE FROM members WHERE shop_id = ? AND user_id = ?", (shop_id, user_id)
        )
        return deleted > 0

    async def shops_for_user(self, user_id: int) -> builtins.list[tuple[Shop, Role]]:
        """Every shop the user has a role for, with that role, by shop id."""
        rows = await self._db.fetchall(
            f"""
            SELECT {SHOP_COLUMNS}, members.role AS member_role
            FROM members JOIN shops ON shops.id = members.shop_id
            WHERE members.user_id = ? ORDER BY shops.id
            """,
            (user_id,),
        )
        return [(self._shops.from_row(row), Role(row["member_role"])) for row in rows]
