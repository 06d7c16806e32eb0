"""Encryption at rest of shops' private keys (AES-256-GCM) and the SECRET_KEY.

The AES key is derived with HKDF-SHA256 from SECRET_KEY, which may be any string
(a Fernet key works too). Every ciphertext is bound to a context string (for a shop:
its public key) as associated data, so a ciphertext copied into another row fails
to decrypt instead of yielding the wrong shop's key.

Without SECRET_KEY a random key is generated once into a file beside the database
(``<database>.key``, mode 0600) and reused on later starts.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import logging
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from storage.errors import StorageError, WrongSecretKey

log = logging.getLogger("storage.crypto")

_VERSION = "v1"
_NONCE_BYTES = 12
_HKDF_SALT = b"pixlpark-telegram-bot/storage"
_HKDF_INFO = b"aes-256-gcm private keys v1"

CHECK_CONTEXT = "meta:secret_check"
CHECK_PLAINTEXT = "pixlpark-bot secret check"


class DecryptError(StorageError):
    """A ciphertext did not authenticate: wrong key, wrong row or tampering."""


def generate_secret() -> str:
    """A new random secret (32 bytes, URL-safe base64: also a valid Fernet key)."""
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).decode("ascii")


class Cipher:
    """Authenticated encryption of short strings under a key derived from a secret."""

    __slots__ = ("_aead",)

    def __init__(self, secret: str) -> None:
        if not secret:
            raise StorageError("SECRET_KEY is empty")
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=_HKDF_SALT, info=_HKDF_INFO).derive(
            secret.encode("utf-8")
        )
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return "Cipher(<hidden>)"

    def encrypt(self, plaintext: str, *, context: str) -> str:
        """Encrypt ``plaintext``; the same ``context`` is needed to decrypt."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), context.encode("utf-8"))
        return f"{_VERSION}:{base64.urlsafe_b64encode(nonce + sealed).decode('ascii')}"

    def decrypt(self, token: str, *, context: str) -> str:
        """Decrypt a value from :meth:`encrypt`; raises DecryptError if it does not verify."""
        version, sep, body = token.partition(":")
        if not sep or version != _VERSION:
            raise DecryptError("unknown ciphertext format")
        try:
            raw = base64.urlsafe_b64decode(body.encode("ascii"))
        except (binascii.Error, ValueError) as exc:
            raise DecryptError("malformed ciphertext") from exc
        nonce, sealed = raw[:_NONCE_BYTES], raw[_NONCE_BYTES:]
        try:
            plain = self._aead.decrypt(nonce, sealed, context.encode("utf-8"))
        except InvalidTag:
            raise DecryptError("ciphertext does not verify with this key") from None
        return plain.decode("utf-8")


def key_file_for(database: Path) -> Path:
    """Where the generated key of a database lives: ``<database>.key``."""
    return database.with_name(database.name + ".key")


def read_key_file(path: Path) -> str | None:
    """The secret stored in ``path``, or None if there is no such file."""
    try:
        text = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise StorageError(f"cannot read key file {path}: {exc}") from exc
    if not text:
        raise StorageError(f"key file {path} is empty; restore it or set SECRET_KEY")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        log.warning("key file %s is readable by others (mode %o); chmod 600 it", path, mode)
    return text


def create_key_file(path: Path) -> str:
    """Write a new random secret to ``path`` with mode 0600 and return it.

    The file appears atomically and is never overwritten: if another process
    created it first, its secret is returned instead.
    """
    secret = generate_secret()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            os.write(fd, (secret + "\n").encode("ascii"))
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            existing = read_key_file(path)
            if existing is None:  # pragma: no cover - removed between link and read
                raise StorageError(f"key file {path} vanished while being created") from None
            return existing
    except OSError as exc:
        raise StorageError(f"cannot write key file {path}: {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
    log.warning(
        "SECRET_KEY is not set: generated a new encryption key in %s (mode 0600). "
        "Back it up together with the database, or put its content into SECRET_KEY.",
        path,
    )
    return secret


def resolve_secret(
    secret_key: str | None, database: Path | None, *, has_encrypted_data: bool
) -> str:
    """Choose the secret: SECRET_KEY if set, else the key file beside the database.

    A key file is created only for a database that holds no encrypted data yet;
    otherwise a missing key is a :class:`WrongSecretKey` error at start-up.
    """
    if secret_key is not None and secret_key.strip():
        return secret_key.strip()
    if database is None:
        return generate_secret()  # in-memory database: the key lives as long as it does
    path = key_file_for(database)
    existing = read_key_file(path)
    if existing is not None:
        return existing
    if has_encrypted_data:
        raise WrongSecretKey(
            f"database {database} holds encrypted data but SECRET_KEY is not set and "
            f"the key file {path} is missing; set SECRET_KEY or restore the key file"
        )
    return create_key_file(path)


def verify_check_value(cipher: Cipher, token: str, *, where: str) -> None:
    """Raise WrongSecretKey unless ``token`` is the check value under this key."""
    try:
        plain = cipher.decrypt(token, context=CHECK_CONTEXT)
    except DecryptError:
        plain = None
    if plain != CHECK_PLAINTEXT:
        raise WrongSecretKey(
            f"SECRET_KEY does not match the key database {where} was created with; "
            "set the original SECRET_KEY (or restore its key file)"
        )
