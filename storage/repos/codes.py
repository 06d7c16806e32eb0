"""One-time invite and group-link codes that expire.

Only a SHA-256 hash of each code is stored, so the database never holds a code
that could still be redeemed.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import timedelta

from storage.db import Row
from storage.errors import ConstraintError
from storage.models import Code, CodeKind, Role
from storage.repos.base import Repository
from storage.timeutil import from_db, opt_from_db, to_db

CODE_BYTES = 18
"""Random bytes per code: 144 bits, 24 URL-safe characters (fits a t.me deep link)."""

_CODE_SHAPE = re.compile(r"[A-Za-z0-9_-]{16,64}")


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode("ascii")).hexdigest()


def _code_from_row(code: str, row: Row) -> Code:
    return Code(
        code=code,
        kind=CodeKind(row["kind"]),
        shop_id=row["shop_id"],
        role=None if row["role"] is None else Role(row["role"]),
        created_by=row["created_by"],
        expires_at=from_db(row["expires_at"]),
        used_by=row["used_by"],
        used_at=opt_from_db(row["used_at"]),
    )


class CodeRepository(Repository):
    """Create and redeem one-time codes."""

    async def create(
        self,
        kind: CodeKind | str,
        shop_id: int,
        *,
        created_by: int,
        role: Role | str | None = None,
        ttl: timedelta,
    ) -> Code:
        """Issue a new random code for the shop, valid for ``ttl``."""
        kind = CodeKind(kind)
        role_value = None if role is None else Role(role)
        if ttl <= timedelta(0):
            raise ValueError("ttl must be positive")
        code = secrets.token_urlsafe(CODE_BYTES)
        now = self._clock()
        async with self._db.transaction() as tx:
            if await tx.fetchone("SELECT 1 AS found FROM shops WHERE id = ?", (shop_id,)) is None:
                raise ConstraintError(f"shop {shop_id} does not exist")
            row = await tx.fetchone(
                """
                INSERT INTO codes (code_hash, kind, shop_id, role, created_by, created_at,
                                   expires_at)
                VALUES (?, ?, ?, ?, ?, ?, ?)
                RETURNING *
                """,
                (
                    _hash(code),
                    kind.value,
                    shop_id,
                    None if role_value is None else role_value.value,
                    created_by,
                    to_db(now),
                    to_db(now + ttl),
                ),
            )
        assert row is not None
        return _code_from_row(code, row)

    async def consume(self, code: str, *, kind: CodeKind | str, user_id: int) -> Code | None:
        """Redeem a code once: None if it is unknown, used, expired or of another kind.

        The check and the marking happen in one statement, so of concurrent
        consumers exactly one gets the code.
        """
        if not _CODE_SHAPE.fullmatch(code):
            return None
        now = to_db(self._clock())
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                """
                UPDATE codes SET used_by = ?, used_at = ?
                WHERE code_hash = ? AND kind = ? AND used_at IS NULL AND expires_at > ?
                RETURNING *
                """,
                (user_id, now, _hash(code), CodeKind(kind).value, now),
            )
        return None if row is None else _code_from_row(code, row)

    async def purge_expired(self) -> int:
        """Delete expired codes (used or not); returns how many."""
        return await self._db.execute(
            "DELETE FROM codes WHERE expires_at <= ?", (to_db(self._clock()),)
        )
