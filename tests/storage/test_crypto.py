"""Private keys encrypted at rest; SECRET_KEY handling."""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from storage import StorageError, WrongSecretKey, open_storage
from storage.crypto import Cipher, DecryptError, key_file_for

from .conftest import SECRET, read_file

PRIVATE = "PRIVATE-a8f3c2d1e0b94f7a-KEY-DO-NOT-LEAK"


def test_cipher_round_trip_and_context_binding() -> None:
    cipher = Cipher("any string at all")
    token = cipher.encrypt(PRIVATE, context="shop-private-key:a")
    assert PRIVATE not in token
    assert cipher.decrypt(token, context="shop-private-key:a") == PRIVATE
    assert cipher.encrypt(PRIVATE, context="x") != cipher.encrypt(PRIVATE, context="x")  # nonce
    with pytest.raises(DecryptError):
        cipher.decrypt(token, context="shop-private-key:b")  # copied into another row
    with pytest.raises(DecryptError):
        Cipher("another key").decrypt(token, context="shop-private-key:a")
    with pytest.raises(DecryptError):
        cipher.decrypt(token[:-4] + "AAAA", context="shop-private-key:a")  # tampered
    assert "any string" not in repr(cipher)


def test_fernet_key_is_accepted_as_secret() -> None:
    key = Fernet.generate_key().decode()
    token = Cipher(key).encrypt("x", context="c")
    assert Cipher(key).decrypt(token, context="c") == "x"


async def test_round_trip_through_database(db_url: str) -> None:
    async with await open_storage(db_url, SECRET) as storage:
        shop = await storage.shops.create("pub", PRIVATE)
    async with await open_storage(db_url, SECRET) as storage:
        again = await storage.shops.get(shop.id)
        assert again is not None and again.private_key == PRIVATE


async def test_wrong_key_fails_at_startup(db_url: str) -> None:
    async with await open_storage(db_url, SECRET) as storage:
        await storage.shops.create("pub", PRIVATE)
    with pytest.raises(WrongSecretKey, match="does not match") as info:
        await open_storage(db_url, "a different secret")
    assert PRIVATE not in str(info.value)
    assert SECRET not in str(info.value)


async def test_wrong_key_fails_even_without_shops(db_url: str) -> None:
    async with await open_storage(db_url, SECRET):
        pass
    with pytest.raises(WrongSecretKey):
        await open_storage(db_url, "a different secret")


async def test_no_private_key_in_database_files(db_url: str, db_path: Path) -> None:
    async with await open_storage(db_url, SECRET) as storage:
        shop = await storage.shops.create("pub", PRIVATE)
        await storage.shops.update_private_key(shop.id, PRIVATE + "-2")
        await storage.audit.record("keys_linked", shop_id=shop.id, details=f"key={PRIVATE}")
        # While open, most of it is still in the WAL.
        files = [db_path, Path(f"{db_path}-wal")]
        assert files[1].exists()
        for file in files:
            assert PRIVATE.encode() not in read_file(file)
            assert PRIVATE.encode("utf-16-le") not in read_file(file)
    assert PRIVATE.encode() not in read_file(db_path)


async def test_generated_key_file(db_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    url = f"sqlite:///{db_path}"
    caplog.set_level(logging.INFO, logger="storage")
    async with await open_storage(url, None) as storage:
        shop = await storage.shops.create("pub", PRIVATE)
    key_file = key_file_for(db_path)
    assert key_file.is_file()
    assert os.stat(key_file).st_mode & 0o777 == 0o600
    generated = [r for r in caplog.records if "generated a new encryption key" in r.getMessage()]
    assert len(generated) == 1
    assert key_file.read_text().strip() not in caplog.text  # the key itself is never logged

    caplog.clear()
    async with await open_storage(url, None) as storage:  # the file is reused, quietly
        again = await storage.shops.get(shop.id)
        assert again is not None and again.private_key == PRIVATE
    assert "generated" not in caplog.text

    # The key file's content works as SECRET_KEY (e.g. to move the database).
    async with await open_storage(url, key_file.read_text().strip()) as storage:
        assert (await storage.shops.get(shop.id)) is not None


async def test_missing_key_file_for_existing_data(db_path: Path) -> None:
    url = f"sqlite:///{db_path}"
    async with await open_storage(url, None) as storage:
        await storage.shops.create("pub", PRIVATE)
    key_file_for(db_path).unlink()
    with pytest.raises(WrongSecretKey, match="key file"):
        await open_storage(url, None)
    assert not key_file_for(db_path).exists()  # no new key was made up


async def test_empty_key_file_is_an_error(db_path: Path) -> None:
    db_path.parent.mkdir(parents=True)
    key_file_for(db_path).write_text("")
    with pytest.raises(StorageError, match="empty"):
        await open_storage(f"sqlite:///{db_path}", None)


async def test_tampered_row_gives_clear_error(db_url: str, db_path: Path) -> None:
    async with await open_storage(db_url, SECRET) as storage:
        one = await storage.shops.create("pub-1", PRIVATE)
        two = await storage.shops.create("pub-2", "other-private-key")
    with closing(sqlite3.connect(db_path)) as raw, raw:
        # Move shop 2's ciphertext onto shop 1: it must not decrypt as shop 1's key.
        raw.execute(
            "UPDATE shops SET private_key_enc = (SELECT private_key_enc FROM shops WHERE id = ?) "
            "WHERE id = ?",
            (two.id, one.id),
        )
    async with await open_storage(db_url, SECRET) as storage:  # start-up survives one bad row
        with pytest.raises(StorageError, match=f"shop {one.id}") as info:
            await storage.shops.get(one.id)
        assert "other-private-key" not in str(info.value)
        assert (await storage.shops.get(two.id)) is not None
