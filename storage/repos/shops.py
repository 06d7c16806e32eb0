"""Shops: Pixlpark API keys (private key encrypted), webhook token, state, timestamps."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from storage.crypto import Cipher, DecryptError
from storage.db import Database, Row
from storage.errors import StorageError
from storage.models import DEFAULT_TIMEZONE, Shop, ShopState
from storage.redact import SecretRegistry
from storage.repos.base import Repository
from storage.timeutil import Clock, from_db, opt_from_db, to_db

log = logging.getLogger("storage.shops")

WEBHOOK_TOKEN_BYTES = 32
"""Random bytes in a webhook token (256 bits; 43 URL-safe characters)."""

SHOP_COLUMNS = (
    "shops.id, shops.public_key, shops.private_key_enc, shops.title, shops.site_id, "
    "shops.webhook_token, shops.state, shops.linked_by, shops.timezone, shops.created_at, "
    "shops.last_event_at, shops.last_poll_at, shops.baseline_done, shops.last_webhook_hint_at"
)


def _key_context(public_key: str) -> str:
    return f"shop-private-key:{public_key}"


def _clean_key(value: str, name: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError(f"{name} must not be empty")
    return value


class ShopRepository(Repository):
    """One row per Pixlpark public key."""

    def __init__(
        self, db: Database, clock: Clock, cipher: Cipher, secrets_seen: SecretRegistry
    ) -> None:
        super().__init__(db, clock)
        self._cipher = cipher
        self._secrets = secrets_seen

    def from_row(self, row: Row) -> Shop:
        """Build a Shop from a row selected with :data:`SHOP_COLUMNS` (decrypts the key)."""
        try:
            private_key = self._cipher.decrypt(
                row["private_key_enc"], context=_key_context(row["public_key"])
            )
        except DecryptError:
            raise StorageError(
                f"cannot decrypt the private key of shop {row['id']}: "
                "the row was altered or encrypted with another key"
            ) from None
        self._secrets.add(private_key)
        self._secrets.add(row["webhook_token"])
        return Shop(
            id=row["id"],
            public_key=row["public_key"],
            private_key=private_key,
            title=row["title"],
            site_id=row["site_id"],
            webhook_token=row["webhook_token"],
            state=ShopState(row["state"]),
            linked_by=row["linked_by"],
            created_at=from_db(row["created_at"]),
            timezone=row["timezone"],
            last_event_at=opt_from_db(row["last_event_at"]),
            last_poll_at=opt_from_db(row["last_poll_at"]),
            baseline_done=bool(row["baseline_done"]),
            last_webhook_hint_at=opt_from_db(row["last_webhook_hint_at"]),
        )

    async def prime_secrets(self) -> int:
        """Decrypt every stored key once, so that redaction knows them; returns how many.

        A row that does not decrypt is logged (by id) instead of failing start-up.
        """
        rows = await self._db.fetchall(f"SELECT {SHOP_COLUMNS} FROM shops")
        good = 0
        for row in rows:
            try:
                self.from_row(row)
            except StorageError as exc:
                log.error("%s", exc)
            else:
                good += 1
        return good

    async def _one(self, where: str, params: tuple[object, ...]) -> Shop | None:
        row = await self._db.fetchone(f"SELECT {SHOP_COLUMNS} FROM shops WHERE {where}", params)
        return None if row is None else self.from_row(row)

    async def create(
        self,
        public_key: str,
        private_key: str,
        *,
        title: str | None = None,
        site_id: int | None = None,
        linked_by: int | None = None,
    ) -> Shop:
        """Store a shop's keys; for a known public key, replace its private key and reactivate it.

        The webhook token and creator of an existing shop are kept.
        """
        public_key = _clean_key(public_key, "public key")
        private_key = _clean_key(private_key, "private key")
        self._secrets.add(private_key)
        encrypted = self._cipher.encrypt(private_key, context=_key_context(public_key))
        now = to_db(self._clock())
        token = secrets.token_urlsafe(WEBHOOK_TOKEN_BYTES)
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                f"""
                INSERT INTO shops (public_key, private_key_enc, title, site_id, webhook_token,
                                   state, linked_by, timezone, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (public_key) DO UPDATE SET
                    private_key_enc = excluded.private_key_enc,
                    state = excluded.state,
                    title = COALESCE(excluded.title, shops.title),
                    site_id = COALESCE(excluded.site_id, shops.site_id),
                    updated_at = excluded.updated_at
                RETURNING {SHOP_COLUMNS}
                """,
                (
                    public_key,
                    encrypted,
                    title,
                    site_id,
                    token,
                    ShopState.ACTIVE.value,
                    linked_by,
                    DEFAULT_TIMEZONE,
                    now,
                    now,
                ),
            )
        assert row is not None
        return self.from_row(row)

    async def get(self, shop_id: int) -> Shop | None:
        """The shop with this id."""
        return await self._one("id = ?", (shop_id,))

    async def get_by_public_key(self, public_key: str) -> Shop | None:
        """The shop with this Pixlpark public key."""
        return await self._one("public_key = ?", (public_key.strip(),))

    async def get_by_webhook_token(self, token: str) -> Shop | None:
        """The shop whose webhook URL carries this token."""
        if not token:
            return None
        return await self._one("webhook_token = ?", (token,))

    async def id_by_webhook_token(self, token: str) -> int | None:
        """The id of the shop whose webhook URL carries this token (no key decrypted)."""
        if not token:
            return None
        row = await self._db.fetchone("SELECT id FROM shops WHERE webhook_token = ?", (token,))
        return None if row is None else int(row["id"])

    async def list_active(self) -> list[Shop]:
        """Shops in state active, by id."""
        rows = await self._db.fetchall(
            f"SELECT {SHOP_COLUMNS} FROM shops WHERE state = ? ORDER BY id",
            (ShopState.ACTIVE.value,),
        )
        return [self.from_row(row) for row in rows]

    async def list_all(self) -> list[Shop]:
        """Every shop, by id."""
        rows = await self._db.fetchall(f"SELECT {SHOP_COLUMNS} FROM shops ORDER BY id")
        return [self.from_row(row) for row in rows]

    async def _update(
        self, shop_id: int, assignments: str, params: tuple[object, ...]
    ) -> Shop | None:
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                f"UPDATE shops SET {assignments}, updated_at = ? WHERE id = ? "
                f"RETURNING {SHOP_COLUMNS}",
                (*params, to_db(self._clock()), shop_id),
            )
        return None if row is None else self.from_row(row)

    async def set_state(self, shop_id: int, state: ShopState | str) -> Shop | None:
        """Change the state; returns the shop, or None if there is none."""
        return await self._update(shop_id, "state = ?", (ShopState(state).value,))

    async def update_private_key(self, shop_id: int, private_key: str) -> Shop | None:
        """Replace the private key (and make the shop active again)."""
        private_key = _clean_key(private_key, "private key")
        self._secrets.add(private_key)
        async with self._db.transaction() as tx:
            current = await tx.fetchone("SELECT public_key FROM shops WHERE id = ?", (shop_id,))
            if current is None:
                return None
            encrypted = self._cipher.encrypt(
                private_key, context=_key_context(current["public_key"])
            )
            row = await tx.fetchone(
                f"UPDATE shops SET private_key_enc = ?, state = ?, updated_at = ? WHERE id = ? "
                f"RETURNING {SHOP_COLUMNS}",
                (encrypted, ShopState.ACTIVE.value, to_db(self._clock()), shop_id),
            )
        return None if row is None else self.from_row(row)

    async def set_title(
        self, shop_id: int, title: str | None, site_id: int | None = None
    ) -> Shop | None:
        """Record the shop's title (and its site id when known)."""
        return await self._update(
            shop_id, "title = ?, site_id = COALESCE(?, site_id)", (title, site_id)
        )

    async def set_timezone(self, shop_id: int, tz: str) -> Shop | None:
        """Set the shop's IANA timezone; raises ValueError for an unknown name."""
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown timezone {tz!r}") from exc
        return await self._update(shop_id, "timezone = ?", (tz,))

    async def touch_event(self, shop_id: int, at: datetime) -> None:
        """Note that an event arrived at ``at`` (never moves backwards)."""
        stamp = to_db(at)
        await self._db.execute(
            "UPDATE shops SET last_event_at = ? WHERE id = ? "
            "AND (last_event_at IS NULL OR last_event_at < ?)",
            (stamp, shop_id, stamp),
        )

    async def touch_poll(self, shop_id: int, at: datetime, baseline_done: bool = True) -> None:
        """Note a completed poll at ``at``; ``baseline_done`` records the first full pass."""
        stamp = to_db(at)
        await self._db.execute(
            """
            UPDATE shops SET
                last_poll_at = CASE WHEN last_poll_at IS NULL OR last_poll_at < ?
                                    THEN ? ELSE last_poll_at END,
                baseline_done = CASE WHEN ? THEN 1 ELSE baseline_done END
            WHERE id = ?
            """,
            (stamp, stamp, baseline_done, shop_id),
        )

    async def set_webhook_hint(self, shop_id: int, at: datetime) -> None:
        """Remember when the owner was last told to set up the webhook."""
        await self._db.execute(
            "UPDATE shops SET last_webhook_hint_at = ? WHERE id = ?", (to_db(at), shop_id)
        )

    async def delete(self, shop_id: int) -> bool:
        """Delete the shop with its links, members, codes, cards, snapshots and inbox."""
        return await self._db.execute("DELETE FROM shops WHERE id = ?", (shop_id,)) > 0
