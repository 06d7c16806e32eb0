"""Exceptions raised by the storage package.

No message built here ever includes a private key, a webhook token or any other
secret value: only identifiers, paths and SQLite's own (value-free) messages.
"""

from __future__ import annotations


class StorageError(Exception):
    """Base class of every error the storage package raises."""


class ConstraintError(StorageError):
    """A write broke a constraint (unknown shop, duplicate key, bad value)."""


class WrongSecretKey(StorageError):
    """The encryption key does not match the one the database was created with."""


class SchemaTooNew(StorageError):
    """The database was written by a newer version of the bot than this one."""

    def __init__(self, found: int, supported: int) -> None:
        self.found = found
        self.supported = supported
        super().__init__(
            f"database schema version {found} is newer than this bot supports "
            f"(up to {supported}); upgrade the bot or restore a matching backup"
        )


class SchemaOutdated(StorageError):
    """The schema needs migrations but automatic migration was turned off."""


class NotFoundError(StorageError):
    """The row an update was meant for does not exist."""
