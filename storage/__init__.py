"""Durable storage on SQLite: schema, migrations and repositories.

Nothing outside this package opens the database or writes SQL::

    async with await open_storage(settings.database_url, secret_key) as storage:
        shop = await storage.shops.create(public_key, private_key, linked_by=user_id)
"""

from storage.core import Storage, migrate_database, open_storage
from storage.errors import (
    ConstraintError,
    NotFoundError,
    SchemaOutdated,
    SchemaTooNew,
    StorageError,
    WrongSecretKey,
)
from storage.migrations import LATEST_VERSION
from storage.models import (
    DEFAULT_EVENTS,
    DEFAULT_TIMEZONE,
    AuditEntry,
    Chat,
    ChatType,
    Code,
    CodeKind,
    InboxEvent,
    Link,
    Member,
    OrderCard,
    OrderSnapshot,
    OutboxKind,
    OutboxMessage,
    OutboxState,
    Role,
    Shop,
    ShopState,
)

__all__ = [
    "DEFAULT_EVENTS",
    "DEFAULT_TIMEZONE",
    "LATEST_VERSION",
    "AuditEntry",
    "Chat",
    "ChatType",
    "Code",
    "CodeKind",
    "ConstraintError",
    "InboxEvent",
    "Link",
    "Member",
    "NotFoundError",
    "OrderCard",
    "OrderSnapshot",
    "OutboxKind",
    "OutboxMessage",
    "OutboxState",
    "Role",
    "SchemaOutdated",
    "SchemaTooNew",
    "Shop",
    "ShopState",
    "Storage",
    "StorageError",
    "WrongSecretKey",
    "migrate_database",
    "open_storage",
]
