"""Every user-facing string of the bot has its Russian translation, with the same fields."""

from __future__ import annotations

import string
from pathlib import Path

from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
KEYWORDS = {"_": None, "__": None, "gettext": None, "lazy_gettext": None, "ngettext": (1, 2)}


def russian() -> dict[str, str]:
    found: dict[str, str] = {}
    for po in sorted((ROOT / "handlers/locales/ru/LC_MESSAGES").glob("*.po")):
        with po.open("rb") as fp:
            for message in read_po(fp, locale="ru"):
                if message.id and isinstance(message.id, str) and message.string:
                    found[message.id] = str(message.string)
    return found


def used_msgids() -> set[str]:
    ids: set[str] = set()
    for package in ("handlers", "bot"):
        for _file, _line, msg, _comments, _ctx in extract_from_dir(
            ROOT / package, method_map=[("**.py", "python")], keywords=KEYWORDS
        ):
            first = msg[0] if isinstance(msg, tuple) else msg
            if first:
                ids.add(first)
    return ids


def fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_string_is_translated() -> None:
    translations = russian()
    used = used_msgids()
    assert len(used) > 200
    assert sorted(used - translations.keys()) == []


def test_translations_keep_format_fields() -> None:
    broken = {msgid: text for msgid, text in russian().items() if fields(msgid) != fields(text)}
    assert broken == {}
