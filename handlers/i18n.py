"""Translations: aiogram's gettext-based I18n, fed straight from the `.po` sources.

English strings are the message ids; every other language has one or more `.po`
files under `handlers/locales/<lang>/LC_MESSAGES/` (one per feature, so features do
not edit one shared file). They are merged and compiled in memory at start-up, so
there is no build step and no binary file in the repository.
"""

from __future__ import annotations

import gettext
from io import BytesIO
from pathlib import Path

from aiogram.utils.i18n import I18n
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGES: tuple[str, ...] = ("ru", "en")


def load_po_catalogues(path: Path) -> dict[str, gettext.GNUTranslations]:
    """Compile each language's `.po` files under `path` into one in-memory catalogue."""
    translations: dict[str, gettext.GNUTranslations] = {}
    for lang_dir in sorted(path.iterdir()):
        po_files = sorted((lang_dir / "LC_MESSAGES").glob("*.po"))
        if not po_files:
            continue
        merged = Catalog(locale=lang_dir.name)
        for po_file in po_files:
            with po_file.open("rb") as fp:
                for message in read_po(fp, locale=lang_dir.name):
                    if message.id and message.string:
                        merged[message.id] = message
        buffer = BytesIO()
        write_mo(buffer, merged)
        buffer.seek(0)
        translations[lang_dir.name] = gettext.GNUTranslations(buffer)
    return translations


def make_i18n(default_language: str, path: Path = LOCALES_DIR) -> I18n:
    """Build the translator used by every router and by the alert renderer.

    aiogram's `I18n` looks for compiled `messages.mo` files; ours are `.po` sources
    named per feature, so it finds none and the compiled catalogues are set here.
    """
    i18n = I18n(path=path, default_locale=default_language, domain="messages")
    i18n.locales = load_po_catalogues(path)
    return i18n


def pick_language(code: str | None, default: str) -> str:
    """Map a Telegram `language_code` (e.g. "en-US") to a supported language."""
    if code:
        short = code.split("-")[0].lower()
        if short in LANGUAGES:
            return short
    return default
