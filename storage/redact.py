"""Keeping secrets out of text that is stored in the clear (the audit log)."""

from __future__ import annotations

import json
from collections.abc import Mapping

REDACTED = "***"

_SECRET_WORDS = ("private", "secret", "password", "token", "key")
_MIN_SECRET_LEN = 6


def _is_secret_name(name: str) -> bool:
    lowered = name.lower()
    return any(word in lowered for word in _SECRET_WORDS) and lowered != "public_key"


class SecretRegistry:
    """The secrets this process has handled (decrypted private keys, webhook tokens).

    Text passed through :meth:`redact` has every known secret replaced by ``***``.
    """

    __slots__ = ("_secrets",)

    def __init__(self) -> None:
        self._secrets: set[str] = set()

    def __repr__(self) -> str:
        return f"SecretRegistry({len(self._secrets)} secrets)"

    def add(self, secret: str) -> None:
        """Remember a secret (very short strings are ignored: they would redact noise)."""
        if len(secret) >= _MIN_SECRET_LEN:
            self._secrets.add(secret)

    def redact(self, text: str) -> str:
        """``text`` with every known secret, longest first, replaced by ``***``."""
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def details_text(self, details: str | Mapping[str, object] | None) -> str | None:
        """Audit details as text: mappings become JSON with secret-named fields masked."""
        if details is None:
            return None
        if isinstance(details, Mapping):
            clean = {
                str(k): (REDACTED if _is_secret_name(str(k)) else v) for k, v in details.items()
            }
            text = json.dumps(clean, ensure_ascii=False, sort_keys=True, default=str)
        else:
            text = details
        return self.redact(text)
