"""0002: per-link minimum order total and quiet hours; indexes for the workers.

- ``links.min_total``: alert only about orders at least this large (exact decimal text).
- ``links.quiet_start`` / ``quiet_end``: hours (0-23, shop's timezone) when alerts
  are delivered without sound.
- Indexes that keep the hot queries off full scans as tables grow: the outbox's
  per-chat queue head, unprocessed inbox rows, codes by expiry, a user's shops and
  a shop's audit trail.
"""

from __future__ import annotations

from storage.migrations.base import Migration

MIGRATION = Migration(
    version=2,
    name="link_filters",
    statements=(
        "ALTER TABLE links ADD COLUMN min_total TEXT",
        "ALTER TABLE links ADD COLUMN quiet_start INTEGER CHECK (quiet_start BETWEEN 0 AND 23)",
        "ALTER TABLE links ADD COLUMN quiet_end INTEGER CHECK (quiet_end BETWEEN 0 AND 23)",
        "CREATE INDEX outbox_by_chat ON outbox (chat_id, state, id)",
        "CREATE INDEX inbox_unprocessed ON inbox (not_before, id) WHERE processed_at IS NULL",
        "CREATE INDEX codes_by_expiry ON codes (expires_at)",
        "CREATE INDEX members_by_user ON members (user_id)",
        "CREATE INDEX audit_by_shop ON audit_log (shop_id, id)",
    ),
)
