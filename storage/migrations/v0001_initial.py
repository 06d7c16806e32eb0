"""0001: the initial schema.

Identifiers are Telegram/Pixlpark ids (64-bit integers) or text; timestamps are
fixed-width ISO-8601 UTC text; sets of strings are JSON arrays; amounts are exact
decimal text. ``INTEGER PRIMARY KEY`` is SQLite's auto-assigned id (an identity
column in PostgreSQL).
"""

from __future__ import annotations

from storage.migrations.base import Migration

MIGRATION = Migration(
    version=1,
    name="initial",
    statements=(
        """
        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE shops (
            id INTEGER PRIMARY KEY,
            public_key TEXT NOT NULL UNIQUE,
            private_key_enc TEXT NOT NULL,
            title TEXT,
            site_id INTEGER,
            webhook_token TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL DEFAULT 'active'
                CHECK (state IN ('active', 'keys_rejected', 'paused')),
            linked_by INTEGER,
            timezone TEXT NOT NULL DEFAULT 'Europe/Moscow',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            last_event_at TEXT,
            last_poll_at TEXT,
            baseline_done INTEGER NOT NULL DEFAULT 0,
            last_webhook_hint_at TEXT
        )
        """,
        """
        CREATE TABLE chats (
            id INTEGER PRIMARY KEY,
            type TEXT NOT NULL CHECK (type IN ('private', 'group', 'supergroup', 'channel')),
            title TEXT,
            language TEXT,
            is_active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE chat_migrations (
            old_id INTEGER PRIMARY KEY,
            new_id INTEGER NOT NULL,
            migrated_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            language TEXT,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        )
        """,
        """
        CREATE TABLE links (
            chat_id INTEGER NOT NULL REFERENCES chats (id) ON DELETE CASCADE,
            shop_id INTEGER NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
            topic_id INTEGER,
            events TEXT NOT NULL,
            statuses TEXT NOT NULL DEFAULT '[]',
            loud_statuses TEXT NOT NULL DEFAULT '[]',
            created_by INTEGER,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, shop_id)
        )
        """,
        "CREATE INDEX links_by_shop ON links (shop_id)",
        """
        CREATE TABLE members (
            shop_id INTEGER NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
            user_id INTEGER NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('owner', 'manager', 'viewer')),
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (shop_id, user_id)
        )
        """,
        """
        CREATE TABLE codes (
            code_hash TEXT PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('invite', 'group')),
            shop_id INTEGER NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
            role TEXT CHECK (role IS NULL OR role IN ('owner', 'manager', 'viewer')),
            created_by INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            used_by INTEGER,
            used_at TEXT
        )
        """,
        """
        CREATE TABLE inbox (
            id INTEGER PRIMARY KEY,
            shop_id INTEGER NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
            kind TEXT NOT NULL,
            order_id TEXT,
            body TEXT NOT NULL,
            dedupe_key TEXT NOT NULL UNIQUE,
            received_at TEXT NOT NULL,
            processed_at TEXT,
            attempts INTEGER NOT NULL DEFAULT 0,
            last_error TEXT,
            not_before TEXT NOT NULL,
            leased_until TEXT
        )
        """,
        """
        CREATE TABLE order_snapshots (
            shop_id INTEGER NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
            order_id TEXT NOT NULL,
            status TEXT,
            payment_status TEXT,
            render_status TEXT,
            date_modified TEXT,
            comments_count INTEGER,
            total TEXT,
            data TEXT NOT NULL DEFAULT '{}',
            updated_at TEXT NOT NULL,
            PRIMARY KEY (shop_id, order_id)
        )
        """,
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            chat_id INTEGER NOT NULL,
            topic_id INTEGER,
            kind TEXT NOT NULL DEFAULT 'message' CHECK (kind IN ('message', 'card', 'reply')),
            text TEXT NOT NULL,
            reply_markup TEXT,
            disable_notification INTEGER NOT NULL DEFAULT 0,
            shop_id INTEGER REFERENCES shops (id) ON DELETE SET NULL,
            order_id TEXT,
            edit_message_id INTEGER,
            reply_to_message_id INTEGER,
            dedupe_key TEXT NOT NULL UNIQUE,
            state TEXT NOT NULL DEFAULT 'pending'
                CHECK (state IN ('pending', 'sending', 'sent', 'dead')),
            attempts INTEGER NOT NULL DEFAULT 0,
            not_before TEXT NOT NULL,
            last_error TEXT,
            tg_message_id INTEGER,
            created_at TEXT NOT NULL,
            claimed_at TEXT,
            sent_at TEXT
        )
        """,
        "CREATE INDEX outbox_by_state ON outbox (state, not_before)",
        """
        CREATE TABLE order_cards (
            chat_id INTEGER NOT NULL,
            shop_id INTEGER NOT NULL REFERENCES shops (id) ON DELETE CASCADE,
            order_id TEXT NOT NULL,
            message_id INTEGER NOT NULL,
            topic_id INTEGER,
            history TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL,
            PRIMARY KEY (chat_id, shop_id, order_id)
        )
        """,
        """
        CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            user_id INTEGER,
            shop_id INTEGER,
            chat_id INTEGER,
            action TEXT NOT NULL,
            details TEXT
        )
        """,
    ),
)
