"""Links between chats and shops, with each link's alert preferences."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from enum import Enum
from typing import Final

from storage.db import Row
from storage.errors import ConstraintError, NotFoundError
from storage.models import DEFAULT_EVENTS, Link
from storage.repos.base import Repository
from storage.repos.chats import ensure_chat, resolve_chat
from storage.timeutil import decimal_from_db, decimal_to_db, from_db, set_from_db, set_to_db, to_db


class _Unset(Enum):
    UNSET = "unset"


UNSET: Final = _Unset.UNSET
"""Marks a preference that :meth:`LinkRepository.update_prefs` leaves unchanged."""

_COLUMNS = (
    "links.chat_id, links.shop_id, links.topic_id, links.events, links.statuses, "
    "links.min_total, links.quiet_start, links.quiet_end, links.loud_statuses, "
    "links.created_by, links.created_at"
)


def link_from_row(row: Row) -> Link:
    """Build a Link from a ``links`` row."""
    start, end = row["quiet_start"], row["quiet_end"]
    return Link(
        chat_id=row["chat_id"],
        shop_id=row["shop_id"],
        topic_id=row["topic_id"],
        events=set_from_db(row["events"]),
        statuses=set_from_db(row["statuses"]),
        min_total=decimal_from_db(row["min_total"]),
        quiet_hours=None if start is None or end is None else (int(start), int(end)),
        loud_statuses=set_from_db(row["loud_statuses"]),
        created_by=row["created_by"],
        created_at=from_db(row["created_at"]),
    )


def _check_quiet_hours(hours: tuple[int, int] | None) -> tuple[int | None, int | None]:
    if hours is None:
        return None, None
    start, end = hours
    if not (0 <= start <= 23 and 0 <= end <= 23) or start == end:
        raise ValueError("quiet hours are two different hours from 0 to 23")
    return start, end


def _strings(values: Iterable[str]) -> str:
    if isinstance(values, str):
        raise TypeError("pass a collection of strings, not one string")
    return set_to_db(values)


class LinkRepository(Repository):
    """Which chats receive which shop's alerts, and how."""

    async def link(
        self,
        chat_id: int,
        shop_id: int,
        *,
        topic_id: int | None = None,
        created_by: int | None = None,
    ) -> Link:
        """Link a chat to a shop (default preferences); re-linking only updates the topic.

        A chat not seen yet gets a placeholder row; a migrated group's old id is followed
        to the supergroup. Raises ConstraintError if the shop does not exist.
        """
        now = to_db(self._clock())
        async with self._db.transaction() as tx:
            if await tx.fetchone("SELECT 1 AS found FROM shops WHERE id = ?", (shop_id,)) is None:
                raise ConstraintError(f"shop {shop_id} does not exist")
            chat_id = await resolve_chat(tx, chat_id)
            await ensure_chat(tx, chat_id, now)
            row = await tx.fetchone(
                f"""
                INSERT INTO links (chat_id, shop_id, topic_id, events, statuses, loud_statuses,
                                   created_by, created_at, updated_at)
                VALUES (?, ?, ?, ?, '[]', '[]', ?, ?, ?)
                ON CONFLICT (chat_id, shop_id) DO UPDATE SET
                    topic_id = excluded.topic_id, updated_at = excluded.updated_at
                RETURNING {_COLUMNS}
                """,
                (chat_id, shop_id, topic_id, set_to_db(DEFAULT_EVENTS), created_by, now, now),
            )
        assert row is not None
        return link_from_row(row)

    async def unlink(self, chat_id: int, shop_id: int) -> bool:
        """Remove the link; False if there was none."""
        deleted = await self._db.execute(
            "DELETE FROM links WHERE chat_id = ? AND shop_id = ?", (chat_id, shop_id)
        )
        return deleted > 0

    async def get(self, chat_id: int, shop_id: int) -> Link | None:
        """The link between this chat and shop."""
        row = await self._db.fetchone(
            f"SELECT {_COLUMNS} FROM links WHERE chat_id = ? AND shop_id = ?", (chat_id, shop_id)
        )
        return None if row is None else link_from_row(row)

    async def for_chat(self, chat_id: int) -> list[Link]:
        """The chat's links, oldest first."""
        rows = await self._db.fetchall(
            f"SELECT {_COLUMNS} FROM links WHERE chat_id = ? ORDER BY created_at, shop_id",
            (chat_id,),
        )
        return [link_from_row(row) for row in rows]

    async def for_shop(self, shop_id: int, *, active_chats_only: bool = True) -> list[Link]:
        """Links of the shop; by default only to chats where the bot still is."""
        condition = "AND chats.is_active = ?" if active_chats_only else ""
        params: tuple[object, ...] = (shop_id, True) if active_chats_only else (shop_id,)
        rows = await self._db.fetchall(
            f"""
            SELECT {_COLUMNS} FROM links JOIN chats ON chats.id = links.chat_id
            WHERE links.shop_id = ? {condition}
            ORDER BY links.created_at, links.chat_id
            """,
            params,
        )
        return [link_from_row(row) for row in rows]

    async def update_prefs(
        self,
        chat_id: int,
        shop_id: int,
        *,
        events: Iterable[str] | None = None,
        statuses: Iterable[str] | None = None,
        min_total: Decimal | _Unset | None = UNSET,
        quiet_hours: tuple[int, int] | _Unset | None = UNSET,
        loud_statuses: Iterable[str] | None = None,
    ) -> Link:
        """Change the given preferences; ``None`` clears ``min_total``/``quiet_hours``.

        Raises NotFoundError if the chat and shop are not linked.
        """
        assignments: list[str] = []
        params: list[object] = []
        if events is not None:
            assignments.append("events = ?")
            params.append(_strings(events))
        if statuses is not None:
            assignments.append("statuses = ?")
            params.append(_strings(statuses))
        if loud_statuses is not None:
            assignments.append("loud_statuses = ?")
            params.append(_strings(loud_statuses))
        if not isinstance(min_total, _Unset):
            assignments.append("min_total = ?")
            params.append(decimal_to_db(min_total))
        if not isinstance(quiet_hours, _Unset):
            assignments.extend(["quiet_start = ?", "quiet_end = ?"])
            params.extend(_check_quiet_hours(quiet_hours))
        assignments.append("updated_at = ?")
        params.append(to_db(self._clock()))
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                f"UPDATE links SET {', '.join(assignments)} WHERE chat_id = ? AND shop_id = ? "
                f"RETURNING {_COLUMNS}",
                (*params, chat_id, shop_id),
            )
        if row is None:
            raise NotFoundError(f"chat {chat_id} is not linked to shop {shop_id}")
        return link_from_row(row)
