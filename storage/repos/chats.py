"""Telegram chats, and the history of groups that became supergroups."""

from __future__ import annotations

from storage.db import Executor, Row
from storage.models import Chat, ChatType
from storage.repos.base import Repository
from storage.timeutil import from_db, to_db

MAX_MIGRATION_HOPS = 16

_LIVE_OUTBOX_STATES = ("pending", "sending")


def guess_chat_type(chat_id: int) -> ChatType:
    """The chat type Telegram's id ranges imply (channels look like supergroups)."""
    if chat_id > 0:
        return ChatType.PRIVATE
    if chat_id <= -1_000_000_000_000:
        return ChatType.SUPERGROUP
    return ChatType.GROUP


def chat_from_row(row: Row) -> Chat:
    """Build a Chat from a ``chats`` row."""
    return Chat(
        id=row["id"],
        type=ChatType(row["type"]),
        title=row["title"],
        language=row["language"],
        is_active=bool(row["is_active"]),
        created_at=from_db(row["created_at"]),
        updated_at=from_db(row["updated_at"]),
    )


async def ensure_chat(tx: Executor, chat_id: int, now: str) -> None:
    """Create a placeholder row for a chat not seen yet (type guessed from the id)."""
    await tx.execute(
        "INSERT INTO chats (id, type, is_active, created_at, updated_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT (id) DO NOTHING",
        (chat_id, guess_chat_type(chat_id).value, True, now, now),
    )


async def resolve_chat(db: Executor, chat_id: int) -> int:
    """Follow the migration history from ``chat_id`` to the chat's current id."""
    current = chat_id
    for _ in range(MAX_MIGRATION_HOPS):
        row = await db.fetchone("SELECT new_id FROM chat_migrations WHERE old_id = ?", (current,))
        if row is None or row["new_id"] == chat_id:
            return current
        current = row["new_id"]
    return current


async def move_outbox(tx: Executor, old_id: int, new_id: int) -> int:
    """Point the pending and in-flight outbox rows of ``old_id`` at ``new_id``."""
    return await tx.execute(
        "UPDATE outbox SET chat_id = ? WHERE chat_id = ? AND state IN (?, ?)",
        (new_id, old_id, *_LIVE_OUTBOX_STATES),
    )


class ChatRepository(Repository):
    """Chats the bot is or was in."""

    async def upsert(self, chat_id: int, type: ChatType | str, title: str | None) -> Chat:
        """Create or update a chat's type and title (a new chat is active; ``is_active``
        of a known chat is left to :meth:`set_active`)."""
        chat_type = ChatType(type).value
        now = to_db(self._clock())
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                """
                INSERT INTO chats (id, type, title, is_active, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?)
                ON CONFLICT (id) DO UPDATE SET
                    type = excluded.type, title = excluded.title, updated_at = excluded.updated_at
                RETURNING *
                """,
                (chat_id, chat_type, title, True, now, now),
            )
        assert row is not None
        return chat_from_row(row)

    async def get(self, chat_id: int) -> Chat | None:
        """The chat with this id."""
        row = await self._db.fetchone("SELECT * FROM chats WHERE id = ?", (chat_id,))
        return None if row is None else chat_from_row(row)

    async def set_language(self, chat_id: int, lang: str | None) -> bool:
        """Set the chat's interface language; False if the chat is unknown."""
        return (
            await self._db.execute(
                "UPDATE chats SET language = ?, updated_at = ? WHERE id = ?",
                (lang, to_db(self._clock()), chat_id),
            )
            > 0
        )

    async def set_active(self, chat_id: int, active: bool) -> bool:
        """Mark the chat active, or inactive when the bot was removed or blocked."""
        return (
            await self._db.execute(
                "UPDATE chats SET is_active = ?, updated_at = ? WHERE id = ?",
                (bool(active), to_db(self._clock()), chat_id),
            )
            > 0
        )

    async def migrate(self, old_id: int, new_id: int) -> Chat | None:
        """Move a group to its new supergroup id, in one transaction; safe to repeat.

        The chat row, its links, order cards and pending/in-flight outbox rows move to
        ``new_id``; where the new chat already has a link or card for the same shop/order,
        the new one is kept. The move is recorded in ``chat_migrations``. Returns the
        chat under its new id (None if neither id is known).
        """
        if old_id == new_id:
            return await self.get(new_id)
        now = to_db(self._clock())
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT INTO chat_migrations (old_id, new_id, migrated_at) VALUES (?, ?, ?) "
                "ON CONFLICT (old_id) DO NOTHING",
                (old_id, new_id, now),
            )
            await tx.execute(
                "UPDATE chat_migrations SET new_id = ? WHERE new_id = ? AND old_id <> ?",
                (new_id, old_id, new_id),
            )
            old = await tx.fetchone("SELECT * FROM chats WHERE id = ?", (old_id,))
            if old is not None:
                await tx.execute(
                    """
                    INSERT INTO chats (id, type, title, language, is_active, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET
                        language = COALESCE(chats.language, excluded.language),
                        updated_at = excluded.updated_at
                    """,
                    (
                        new_id,
                        ChatType.SUPERGROUP.value,
                        old["title"],
                        old["language"],
                        old["is_active"],
                        now,
                        now,
                    ),
                )
                await tx.execute(
                    "UPDATE links SET chat_id = ?, updated_at = ? WHERE chat_id = ? "
                    "AND shop_id NOT IN (SELECT shop_id FROM links WHERE chat_id = ?)",
                    (new_id, now, old_id, new_id),
                )
                await tx.execute("DELETE FROM chats WHERE id = ?", (old_id,))
            await tx.execute(
                """
                UPDATE order_cards SET chat_id = ? WHERE chat_id = ? AND NOT EXISTS (
                    SELECT 1 FROM order_cards AS kept
                    WHERE kept.chat_id = ? AND kept.shop_id = order_cards.shop_id
                      AND kept.order_id = order_cards.order_id)
                """,
                (new_id, old_id, new_id),
            )
            await tx.execute("DELETE FROM order_cards WHERE chat_id = ?", (old_id,))
            await move_outbox(tx, old_id, new_id)
            row = await tx.fetchone("SELECT * FROM chats WHERE id = ?", (new_id,))
        return None if row is None else chat_from_row(row)

    async def resolve(self, chat_id: int) -> int:
        """The current id of a chat, following group → supergroup migrations."""
        return await resolve_chat(self._db, chat_id)
