"""Outbox of Telegram messages to send, delivered at least once, in order per chat.

Rows go ``pending`` → ``sending`` (claimed by a sender) → ``sent``, or back to
``pending`` with a later ``not_before`` on a temporary error, or ``dead`` when the
sender gives up. A sender only ever gets the head of a chat's queue, and not while
another row of that chat is in flight, so each chat sees its messages in order.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

from storage.db import Row
from storage.models import OutboxKind, OutboxMessage, OutboxState
from storage.repos.base import Repository, clip_error, placeholders
from storage.repos.chats import move_outbox, resolve_chat
from storage.timeutil import from_db, opt_from_db, to_db

_PENDING = OutboxState.PENDING.value
_SENDING = OutboxState.SENDING.value
_SENT = OutboxState.SENT.value
_DEAD = OutboxState.DEAD.value


def message_from_row(row: Row) -> OutboxMessage:
    """Build an OutboxMessage from an ``outbox`` row."""
    return OutboxMessage(
        id=row["id"],
        chat_id=row["chat_id"],
        topic_id=row["topic_id"],
        kind=OutboxKind(row["kind"]),
        text=row["text"],
        reply_markup=row["reply_markup"],
        disable_notification=bool(row["disable_notification"]),
        shop_id=row["shop_id"],
        order_id=row["order_id"],
        edit_message_id=row["edit_message_id"],
        reply_to_message_id=row["reply_to_message_id"],
        dedupe_key=row["dedupe_key"],
        state=OutboxState(row["state"]),
        attempts=row["attempts"],
        not_before=from_db(row["not_before"]),
        last_error=row["last_error"],
        tg_message_id=row["tg_message_id"],
        created_at=from_db(row["created_at"]),
        sent_at=opt_from_db(row["sent_at"]),
    )


class OutboxRepository(Repository):
    """Messages waiting to be sent, and what became of them."""

    async def enqueue(
        self,
        *,
        chat_id: int,
        text: str,
        dedupe_key: str,
        kind: OutboxKind | str = OutboxKind.MESSAGE,
        topic_id: int | None = None,
        reply_markup: str | None = None,
        disable_notification: bool = False,
        shop_id: int | None = None,
        order_id: str | None = None,
        edit_message_id: int | None = None,
        reply_to_message_id: int | None = None,
        not_before: datetime | None = None,
    ) -> int | None:
        """Queue a message; returns its id, or None if ``dedupe_key`` was queued before.

        A migrated group's old id is replaced by the supergroup's. Committed on return.
        """
        now = self._clock()
        due = now if not_before is None else not_before
        async with self._db.transaction() as tx:
            target = await resolve_chat(tx, chat_id)
            row = await tx.fetchone(
                """
                INSERT INTO outbox (chat_id, topic_id, kind, text, reply_markup,
                                    disable_notification, shop_id, order_id, edit_message_id,
                                    reply_to_message_id, dedupe_key, state, not_before,
                                    created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (dedupe_key) DO NOTHING
                RETURNING id
                """,
                (
                    target,
                    topic_id,
                    OutboxKind(kind).value,
                    text,
                    reply_markup,
                    bool(disable_notification),
                    shop_id,
                    order_id,
                    edit_message_id,
                    reply_to_message_id,
                    dedupe_key,
                    _PENDING,
                    to_db(due),
                    to_db(now),
                ),
            )
        return None if row is None else int(row["id"])

    async def get(self, message_id: int) -> OutboxMessage | None:
        """The outbox row with this id."""
        row = await self._db.fetchone("SELECT * FROM outbox WHERE id = ?", (message_id,))
        return None if row is None else message_from_row(row)

    async def claim(
        self, limit: int, *, now: datetime | None = None, exclude_chats: Collection[int] = ()
    ) -> list[OutboxMessage]:
        """Move up to ``limit`` due messages from pending to sending and return them.

        Oldest first, at most one per chat: a row is taken only if no older row of its
        chat is still pending (due or not) and none is being sent. Atomic across
        processes: no row is ever handed to two senders.
        """
        if limit <= 0:
            return []
        moment = to_db(self._clock() if now is None else now)
        excluded = tuple(exclude_chats)
        skip = f"AND o.chat_id NOT IN ({placeholders(len(excluded))})" if excluded else ""
        async with self._db.transaction() as tx:
            rows = await tx.fetchall(
                f"""
                UPDATE outbox SET state = ?, claimed_at = ?
                WHERE id IN (
                    SELECT o.id FROM outbox AS o
                    WHERE o.state = ? AND o.not_before <= ? {skip}
                      AND NOT EXISTS (
                          SELECT 1 FROM outbox AS other
                          WHERE other.chat_id = o.chat_id
                            AND (other.state = ? OR (other.state = ? AND other.id < o.id)))
                    ORDER BY o.id LIMIT ?)
                RETURNING *
                """,
                (_SENDING, moment, _PENDING, moment, *excluded, _SENDING, _PENDING, limit),
            )
        return sorted((message_from_row(row) for row in rows), key=lambda m: m.id)

    async def supersede_cards(self, message_id: int) -> OutboxMessage | None:
        """Skip straight to the newest pending update of a claimed card row.

        ``message_id`` is a card row being sent. When newer card rows of the same chat,
        shop and order are pending, the newest of them is claimed (``sending``) in its
        place and returned, and the claimed row and the ones in between are marked sent
        (``last_error`` says by which row they were superseded): the card shows only its
        latest state, in one Telegram call. The newest row rings (``disable_notification``
        off) if any of the collapsed rows would have. None when there is nothing newer;
        the claimed row then stays as it is. One transaction.
        """
        now = to_db(self._clock())
        async with self._db.transaction() as tx:
            claimed = await tx.fetchone(
                "SELECT chat_id, shop_id, order_id, disable_notification FROM outbox "
                "WHERE id = ? AND kind = ? AND state = ?",
                (message_id, OutboxKind.CARD.value, _SENDING),
            )
            if claimed is None or claimed["shop_id"] is None or claimed["order_id"] is None:
                return None
            newer = await tx.fetchall(
                "SELECT id, disable_notification FROM outbox "
                "WHERE chat_id = ? AND shop_id = ? AND order_id = ? AND kind = ? AND state = ? "
                "AND id > ? ORDER BY id",
                (
                    claimed["chat_id"],
                    claimed["shop_id"],
                    claimed["order_id"],
                    OutboxKind.CARD.value,
                    _PENDING,
                    message_id,
                ),
            )
            if not newer:
                return None
            newest = int(newer[-1]["id"])
            quiet = all(row["disable_notification"] for row in [claimed, *newer])
            older = [message_id] + [int(row["id"]) for row in newer[:-1]]
            await tx.execute(
                "UPDATE outbox SET state = ?, sent_at = ?, claimed_at = NULL, last_error = ? "
                f"WHERE id IN ({placeholders(len(older))})",
                (_SENT, now, f"superseded by #{newest}", *older),
            )
            row = await tx.fetchone(
                "UPDATE outbox SET state = ?, claimed_at = ?, disable_notification = ? "
                "WHERE id = ? RETURNING *",
                (_SENDING, now, quiet, newest),
            )
        assert row is not None
        return message_from_row(row)

    async def mark_sent(self, message_id: int, tg_message_id: int | None) -> None:
        """The message went out (``tg_message_id``: the Telegram message id, if any)."""
        await self._db.execute(
            "UPDATE outbox SET state = ?, tg_message_id = ?, sent_at = ?, claimed_at = NULL "
            "WHERE id = ?",
            (_SENT, tg_message_id, to_db(self._clock()), message_id),
        )

    async def retry(
        self, message_id: int, *, not_before: datetime, error: str, count_attempt: bool = True
    ) -> bool:
        """Put the message back as pending until ``not_before``; False if it was sent or dead.

        ``count_attempt=False`` is for waits that are not failures (flood control).
        """
        changed = await self._db.execute(
            """
            UPDATE outbox SET state = ?, not_before = ?, last_error = ?, claimed_at = NULL,
                              attempts = attempts + ?
            WHERE id = ? AND state IN (?, ?)
            """,
            (
                _PENDING,
                to_db(not_before),
                clip_error(error),
                1 if count_attempt else 0,
                message_id,
                _PENDING,
                _SENDING,
            ),
        )
        return changed > 0

    async def mark_dead(self, message_id: int, reason: str) -> bool:
        """Give up on the message; False if it had been sent already."""
        changed = await self._db.execute(
            "UPDATE outbox SET state = ?, last_error = ?, claimed_at = NULL "
            "WHERE id = ? AND state <> ?",
            (_DEAD, clip_error(reason), message_id, _SENT),
        )
        return changed > 0

    async def kill_chat(self, chat_id: int, reason: str) -> int:
        """Give up on every pending message of a chat (the bot was blocked or removed)."""
        return await self._db.execute(
            "UPDATE outbox SET state = ?, last_error = ? WHERE chat_id = ? AND state = ?",
            (_DEAD, clip_error(reason), chat_id, _PENDING),
        )

    async def migrate_chat(self, old_id: int, new_id: int) -> int:
        """Point pending and in-flight messages of ``old_id`` at ``new_id``; returns how many.

        :meth:`storage.repos.chats.ChatRepository.migrate` does this too, together
        with the rest of the chat's data.
        """
        async with self._db.transaction() as tx:
            return await move_outbox(tx, old_id, new_id)

    async def recover_inflight(self, older_than: timedelta | None = None) -> int:
        """Return messages stuck in sending to pending (at start-up, after a crash).

        With ``older_than``, only rows claimed at least that long ago are touched,
        so a sender of another live process keeps its claims.
        """
        if older_than is None:
            return await self._db.execute(
                "UPDATE outbox SET state = ?, claimed_at = NULL WHERE state = ?",
                (_PENDING, _SENDING),
            )
        cutoff = to_db(self._clock() - older_than)
        return await self._db.execute(
            "UPDATE outbox SET state = ?, claimed_at = NULL WHERE state = ? "
            "AND (claimed_at IS NULL OR claimed_at <= ?)",
            (_PENDING, _SENDING, cutoff),
        )

    async def backlog(self) -> int:
        """How many messages are not delivered yet (pending or being sent)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM outbox WHERE state IN (?, ?)", (_PENDING, _SENDING)
        )
        return int(row["n"]) if row else 0

    async def stats(self) -> dict[str, float | int | None]:
        """Counts per state, and ``oldest_pending_age`` in seconds (None when none pending)."""
        rows = await self._db.fetchall("SELECT state, COUNT(*) AS n FROM outbox GROUP BY state")
        result: dict[str, float | int | None] = {state.value: 0 for state in OutboxState}
        for row in rows:
            result[row["state"]] = int(row["n"])
        oldest = await self._db.fetchone(
            "SELECT MIN(created_at) AS at FROM outbox WHERE state = ?", (_PENDING,)
        )
        since = opt_from_db(oldest["at"] if oldest else None)
        result["oldest_pending_age"] = (
            None if since is None else max(0.0, (self._clock() - since).total_seconds())
        )
        return result

    async def dead_rows(
        self, limit: int = 10, chat_ids: Collection[int] | None = None
    ) -> list[OutboxMessage]:
        """The most recent dead messages (of these chats, if given), newest first."""
        if chat_ids is not None and not chat_ids:
            return []
        where = "state = ?"
        params: list[object] = [_DEAD]
        if chat_ids is not None:
            where += f" AND chat_id IN ({placeholders(len(chat_ids))})"
            params.extend(chat_ids)
        rows = await self._db.fetchall(
            f"SELECT * FROM outbox WHERE {where} ORDER BY id DESC LIMIT ?", (*params, limit)
        )
        return [message_from_row(row) for row in rows]

    async def purge(self, older_than: timedelta) -> int:
        """Delete sent and dead rows created more than ``older_than`` ago.

        Their de-duplication keys are forgotten with them: keep ``older_than`` longer
        than any window in which the same key could be enqueued again.
        """
        cutoff = to_db(self._clock() - older_than)
        return await self._db.execute(
            "DELETE FROM outbox WHERE state IN (?, ?) AND created_at < ?", (_SENT, _DEAD, cutoff)
        )
