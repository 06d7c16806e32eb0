"""Order cards: which Telegram message shows which order in which chat."""

from __future__ import annotations

from storage.db import Row
from storage.models import OrderCard
from storage.repos.base import Repository
from storage.timeutil import from_db, to_db


def card_from_row(row: Row) -> OrderCard:
    """Build an OrderCard from an ``order_cards`` row."""
    return OrderCard(
        chat_id=row["chat_id"],
        shop_id=row["shop_id"],
        order_id=row["order_id"],
        message_id=row["message_id"],
        topic_id=row["topic_id"],
        history=row["history"],
        updated_at=from_db(row["updated_at"]),
    )


class CardRepository(Repository):
    """Live order cards, edited in place."""

    async def get(self, chat_id: int, shop_id: int, order_id: str) -> OrderCard | None:
        """The card of this order in this chat."""
        row = await self._db.fetchone(
            "SELECT * FROM order_cards WHERE chat_id = ? AND shop_id = ? AND order_id = ?",
            (chat_id, shop_id, order_id),
        )
        return None if row is None else card_from_row(row)

    async def upsert(
        self,
        chat_id: int,
        shop_id: int,
        order_id: str,
        *,
        message_id: int,
        topic_id: int | None = None,
        history: str = "",
    ) -> OrderCard:
        """Record (or replace) the message that shows the order in the chat."""
        now = to_db(self._clock())
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                """
                INSERT INTO order_cards (chat_id, shop_id, order_id, message_id, topic_id,
                                         history, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (chat_id, shop_id, order_id) DO UPDATE SET
                    message_id = excluded.message_id,
                    topic_id = excluded.topic_id,
                    history = excluded.history,
                    updated_at = excluded.updated_at
                RETURNING *
                """,
                (chat_id, shop_id, order_id, message_id, topic_id, history, now, now),
            )
        assert row is not None
        return card_from_row(row)

    async def delete(self, chat_id: int, shop_id: int, order_id: str) -> bool:
        """Forget the card; False if there was none."""
        deleted = await self._db.execute(
            "DELETE FROM order_cards WHERE chat_id = ? AND shop_id = ? AND order_id = ?",
            (chat_id, shop_id, order_id),
        )
        return deleted > 0
