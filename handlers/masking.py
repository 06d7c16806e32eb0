"""Masking of customer contact data shown in group chats."""

from __future__ import annotations

import re

_DIGITS = re.compile(r"\d")


def mask_phone(phone: str | None) -> str:
    """`+7 (999) 111 11-11` → `+7 *** ***-11-11`: country code and last four digits."""
    if not phone:
        return ""
    digits = "".join(_DIGITS.findall(phone))
    if len(digits) < 5:
        return "***"
    country = digits[:-10] if len(digits) > 10 else ""
    head = f"+{country} " if country else ""
    return f"{head}*** ***-{digits[-4:-2]}-{digits[-2:]}"


def mask_email(email: str | None) -> str:
    """`andrew@pixlpark.com` → `a***@pixlpark.com`."""
    if not email:
        return ""
    local, sep, domain = email.partition("@")
    if not sep:
        return "***"
    return f"{local[:1]}***@{domain}"


def mask_name(name: str | None) -> str:
    """`Иванов Иван` → `Иванов И.`: enough to recognise, not a full identity."""
    if not name:
        return ""
    words = name.split()
    if len(words) == 1:
        return words[0]
    return " ".join([words[0], *(w[:1] + "." for w in words[1:])])
