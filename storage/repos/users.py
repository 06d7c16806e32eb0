"""Per-user settings (the language of private conversations)."""

from __future__ import annotations

from storage.repos.base import Repository
from storage.timeutil import to_db


class UserRepository(Repository):
    """Telegram users' preferences."""

    async def get_language(self, user_id: int) -> str | None:
        """The language the user chose, if any."""
        row = await self._db.fetchone("SELECT language FROM users WHERE id = ?", (user_id,))
        return None if row is None else row["language"]

    async def set_language(self, user_id: int, lang: str | None) -> None:
        """Remember the user's language (None forgets it)."""
        now = to_db(self._clock())
        await self._db.execute(
            """
            INSERT INTO users (id, language, created_at, updated_at) VALUES (?, ?, ?, ?)
            ON CONFLICT (id) DO UPDATE SET language = excluded.language,
                                           updated_at = excluded.updated_at
            """,
            (user_id, lang, now, now),
        )
