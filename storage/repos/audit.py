"""Audit log of security-relevant actions (keys, links, roles, status changes)."""

from __future__ import annotations

import builtins
from collections.abc import Mapping

from storage.db import Database, Row
from storage.models import AuditEntry
from storage.redact import SecretRegistry
from storage.repos.base import Repository
from storage.timeutil import Clock, from_db, to_db

MAX_DETAILS_LEN = 4000


def entry_from_row(row: Row) -> AuditEntry:
    """Build an AuditEntry from an ``audit_log`` row."""
    return AuditEntry(
        id=row["id"],
        at=from_db(row["at"]),
        user_id=row["user_id"],
        shop_id=row["shop_id"],
        chat_id=row["chat_id"],
        action=row["action"],
        details=row["details"],
    )


class AuditRepository(Repository):
    """Append-only record of who did what; kept after a shop is deleted."""

    def __init__(self, db: Database, clock: Clock, secrets_seen: SecretRegistry) -> None:
        super().__init__(db, clock)
        self._secrets = secrets_seen

    async def record(
        self,
        action: str,
        *,
        user_id: int | None = None,
        shop_id: int | None = None,
        chat_id: int | None = None,
        details: str | Mapping[str, object] | None = None,
    ) -> None:
        """Append an entry. ``details`` may be text or a mapping (stored as JSON).

        Known private keys and webhook tokens are replaced by ``***``, as are
        mapping fields named like a secret (``private_key``, ``token``...).
        """
        text = self._secrets.details_text(details)
        if text is not None and len(text) > MAX_DETAILS_LEN:
            text = text[: MAX_DETAILS_LEN - 1] + "…"
        await self._db.execute(
            "INSERT INTO audit_log (at, user_id, shop_id, chat_id, action, details) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (to_db(self._clock()), user_id, shop_id, chat_id, action, text),
        )

    async def list(
        self, *, shop_id: int | None = None, limit: int = 50
    ) -> builtins.list[AuditEntry]:
        """The newest entries first (of one shop, if given)."""
        if shop_id is None:
            rows = await self._db.fetchall(
                "SELECT * FROM audit_log ORDER BY id DESC LIMIT ?", (limit,)
            )
        else:
            rows = await self._db.fetchall(
                "SELECT * FROM audit_log WHERE shop_id = ? ORDER BY id DESC LIMIT ?",
                (shop_id, limit),
            )
        return [entry_from_row(row) for row in rows]
