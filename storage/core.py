"""The Storage object: one database connection and the repositories over it."""

from __future__ import annotations

import logging
from types import TracebackType

from storage.crypto import (
    CHECK_CONTEXT,
    CHECK_PLAINTEXT,
    Cipher,
    resolve_secret,
    verify_check_value,
)
from storage.db import Database
from storage.errors import SchemaOutdated, SchemaTooNew
from storage.migrations import LATEST_VERSION, apply_migrations, schema_version
from storage.redact import SecretRegistry
from storage.repos import (
    AuditRepository,
    CardRepository,
    ChatRepository,
    CodeRepository,
    InboxRepository,
    LinkRepository,
    MemberRepository,
    OutboxRepository,
    ShopRepository,
    SnapshotRepository,
    UserRepository,
)
from storage.sqlite import DEFAULT_BUSY_TIMEOUT, SqliteTarget, connect, parse_database_url
from storage.timeutil import Clock, utcnow

log = logging.getLogger("storage")

_CHECK_KEY = "secret_check"


class Storage:
    """Everything the bot remembers, behind one repository per kind of data.

    Create it with :func:`open_storage`; close it with :meth:`close` or ``async with``.
    """

    def __init__(self, db: Database, *, cipher: Cipher, clock: Clock, where: str) -> None:
        self._db = db
        self._clock = clock
        self._where = where
        secrets_seen = SecretRegistry()
        self.shops = ShopRepository(db, clock, cipher, secrets_seen)
        self.chats = ChatRepository(db, clock)
        self.users = UserRepository(db, clock)
        self.links = LinkRepository(db, clock)
        self.members = MemberRepository(db, clock, self.shops)
        self.codes = CodeRepository(db, clock)
        self.inbox = InboxRepository(db, clock)
        self.snapshots = SnapshotRepository(db, clock)
        self.outbox = OutboxRepository(db, clock)
        self.cards = CardRepository(db, clock)
        self.audit = AuditRepository(db, clock, secrets_seen)
        self._closed = False

    def __repr__(self) -> str:
        return f"Storage({self._where})"

    async def __aenter__(self) -> Storage:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the database connection; safe to call twice."""
        if not self._closed:
            self._closed = True
            await self._db.close()

    async def migrate(self) -> int:
        """Apply any pending migrations; returns the schema version now in force."""
        return await apply_migrations(self._db, where=self._where, clock=self._clock)

    async def schema_version(self) -> int:
        """The schema version of the database."""
        return await schema_version(self._db)

    async def ping(self) -> bool:
        """Whether the database answers a trivial query."""
        try:
            row = await self._db.fetchone("SELECT 1 AS ok")
        except Exception:
            return False
        return bool(row and row["ok"] == 1)


async def _unlock(db: Database, secret_key: str | None, target: SqliteTarget) -> Cipher:
    """Pick the encryption key and check it against the database's check value."""
    check = await db.fetchone("SELECT value FROM meta WHERE key = ?", (_CHECK_KEY,))
    shops = await db.fetchone("SELECT COUNT(*) AS n FROM shops")
    has_data = check is not None or bool(shops and shops["n"])
    cipher = Cipher(resolve_secret(secret_key, target.path, has_encrypted_data=has_data))
    if check is None:
        token = cipher.encrypt(CHECK_PLAINTEXT, context=CHECK_CONTEXT)
        async with db.transaction() as tx:
            await tx.execute(
                "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
                (_CHECK_KEY, token),
            )
            check = await tx.fetchone("SELECT value FROM meta WHERE key = ?", (_CHECK_KEY,))
    assert check is not None
    verify_check_value(cipher, check["value"], where=target.describe())
    return cipher


async def open_storage(
    database_url: str,
    secret_key: str | None,
    *,
    auto_migrate: bool = True,
    clock: Clock = utcnow,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
) -> Storage:
    """Open the database at DATABASE_URL, migrate it and check SECRET_KEY.

    Raises :class:`SchemaTooNew` for a database of a newer bot, :class:`WrongSecretKey`
    when the key does not fit, :class:`SchemaOutdated` when ``auto_migrate`` is off
    and migrations are due, and :class:`StorageError` for anything else.
    """
    target = parse_database_url(database_url)
    db = await connect(target, busy_timeout=busy_timeout)
    where = target.describe()
    try:
        version = await schema_version(db)
        if version > LATEST_VERSION:
            raise SchemaTooNew(version, LATEST_VERSION)
        if auto_migrate:
            version = await apply_migrations(db, where=where, clock=clock)
        elif version < LATEST_VERSION:
            raise SchemaOutdated(
                f"database {where} has schema version {version}, this bot needs "
                f"{LATEST_VERSION}; run `python -m bot migrate`"
            )
        cipher = await _unlock(db, secret_key, target)
    except BaseException:
        await db.close()
        raise
    storage = Storage(db, cipher=cipher, clock=clock, where=where)
    await storage.shops.prime_secrets()
    log.debug("storage open: %s, schema version %d", where, version)
    return storage


async def migrate_database(database_url: str, secret_key: str | None = None) -> int:
    """Open, migrate and close the database (for ``python -m bot migrate``); returns the version."""
    async with await open_storage(database_url, secret_key) as storage:
        return await storage.migrate()
