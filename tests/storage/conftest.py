"""Fixtures for the storage tests: a real SQLite file in a temporary directory."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from storage import Shop, Storage, open_storage

SECRET = "test secret key, not for production"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2024, 5, 1, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> datetime:
        self.now += timedelta(**delta)
        return self.now


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "db" / "bot.sqlite3"


@pytest.fixture
def db_url(db_path: Path) -> str:
    return f"sqlite:///{db_path}"  # tmp_path is absolute, so this is sqlite:////abs/path


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def storage(db_url: str, clock: FakeClock) -> AsyncIterator[Storage]:
    async with await open_storage(db_url, SECRET, clock=clock) as opened:
        yield opened


@pytest.fixture
async def shop(storage: Storage) -> Shop:
    return await storage.shops.create("pub-key-1", "private-key-1-secret", linked_by=100)


def write_file(path: Path, data: bytes) -> None:
    """Create ``path`` (and its directory) with ``data``; sync, for test setup."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def read_file(path: Path) -> bytes:
    """The raw bytes of ``path``."""
    return path.read_bytes()
