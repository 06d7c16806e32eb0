"""/alerts: which alerts a linked chat (or topic) gets from a shop; /timezone: the shop's zone.

One settings message per shop, edited in place by its buttons: a toggle per alert kind, a
status filter (none selected = every status), loud statuses (a change to one of them always
alerts and rings), a minimum order total and quiet hours (alerts still arrive, silently,
in the shop's time zone). The same edits work as commands: ``/alerts min 1000``,
``/alerts min 0`` (clears), ``/alerts quiet 22-8``, ``/alerts quiet off``; with several
shops linked, a shop word goes first (``/alerts demo min 1000``).

Who may edit: the shop's owners and managers, and in groups also the group's admins.
Every button carries the shop id and is re-checked against this chat and this user.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramBadRequest
from aiogram.filters import Command, CommandObject, Filter, StateFilter
from aiogram.filters.callback_data import CallbackData
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import (
    CallbackQuery,
    Chat,
    ForceReply,
    InlineKeyboardMarkup,
    Message,
    TelegramObject,
    User,
)
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.access import (
    Access,
    AccessDenied,
    NeedAccess,
    ShopAccess,
    is_group_admin,
    pick_shop,
    resolve_access,
)
from handlers.alert_kinds import ALL_KINDS, AlertKind
from handlers.callbacks import ButtonAccess, PickedShop, find_shop
from handlers.fallback import answer_expired, expired_text
from handlers.order_view import current_lang, fmt_money
from handlers.text import esc
from pixlpark.statuses import OrderStatus, status_label
from storage import ShopState, Storage
from storage.errors import NotFoundError
from storage.models import Link
from storage.repos.links import UNSET

STATUS_CHOICES: tuple[str, ...] = tuple(OrderStatus)
"""Statuses offered by the filter and loud screens; buttons carry the index."""

QUIET_PRESETS: tuple[tuple[int, int], ...] = ((22, 8), (23, 7), (21, 9), (20, 10))
MAX_MIN_TOTAL = Decimal(1_000_000_000)

_MIN_WORDS = frozenset({"min", "мин", "минимум"})
_QUIET_WORDS = frozenset({"quiet", "тихо", "тишина"})
_OFF_WORDS = frozenset({"off", "no", "none", "выкл", "нет"})
_QUIET_RE = re.compile(r"^(\d{1,2})(?::00)?\s*[-–—]\s*(\d{1,2})(?::00)?$")


class AlertCb(CallbackData, prefix="al"):
    """A button of the alert settings of shop ``s``.

    ``a``: "o" open (after a shop choice; ``v`` an edit to apply first), "v" main screen,
    "k" toggle kind ``v``, "sf"/"lf" status filter / loud screen, "ts"/"tl" toggle status
    number ``v``, "sc"/"lc" clear them, "m" ask for the minimum total, "qf" quiet hours
    screen, "qs" set quiet hours ``v`` ("22-8" or "off").
    """

    a: str
    s: int
    v: str = ""


class TzCb(CallbackData, prefix="tz"):
    """The shop chosen for /timezone; ``z`` is the zone to set (empty: just show)."""

    s: int
    z: str = ""


class AlertsFlow(StatesGroup):
    """Waiting for the minimum total after the "Minimum total" button."""

    min_total = State()


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Edit:
    """One change asked for by a command: a minimum total or quiet hours."""

    min_total: Decimal | None = None
    set_min: bool = False
    quiet: tuple[int, int] | None = None
    set_quiet: bool = False

    def token(self) -> str:
        """A compact form for button data (no colons)."""
        if self.set_min:
            return f"m{self.min_total or 0}"
        if self.set_quiet:
            return f"q{self.quiet[0]}-{self.quiet[1]}" if self.quiet else "qoff"
        return ""

    @classmethod
    def from_token(cls, token: str) -> Edit | None:
        """The edit a button carries; None when there is none or it is not valid."""
        try:
            if token.startswith("m"):
                return cls(min_total=parse_min_total(token[1:]), set_min=True)
            if token.startswith("q"):
                return cls(quiet=parse_quiet(token[1:]), set_quiet=True)
        except ValueError:
            return None
        return None


_CURRENCY = re.compile(r"(₽|руб\.?|р\.?|rub)$", re.IGNORECASE)


def parse_min_total(text: str) -> Decimal | None:
    """``1000``, ``1 000``, ``1000,50``, ``1000₽`` → Decimal; ``0`` → None (clear).

    Raises ValueError for anything else.
    """
    cleaned = _CURRENCY.sub("", "".join(text.split()).replace(",", "."))
    if not re.fullmatch(r"\d{1,10}(\.\d{1,2})?", cleaned):
        raise ValueError(f"not an amount: {text!r}")
    value = Decimal(cleaned)
    if value > MAX_MIN_TOTAL:
        raise ValueError(f"amount too large: {text!r}")
    return None if value == 0 else value


def parse_quiet(text: str) -> tuple[int, int] | None:
    """``22-8`` → (22, 8); ``off`` → None; raises ValueError for anything else."""
    text = text.strip().casefold()
    if text in _OFF_WORDS:
        return None
    match = _QUIET_RE.match(text)
    if match is None:
        raise ValueError(f"not quiet hours: {text!r}")
    start, end = int(match.group(1)), int(match.group(2))
    if start > 23 or end > 23 or start == end:
        raise ValueError(f"not quiet hours: {text!r}")
    return start, end


def parse_edit(words: list[str]) -> Edit | None:
    """The edit the words after the shop ask for (None: none); raises ValueError."""
    if not words:
        return None
    head, rest = words[0].casefold(), " ".join(words[1:])
    if head in _MIN_WORDS:
        return Edit(min_total=parse_min_total(rest), set_min=True)
    if head in _QUIET_WORDS:
        return Edit(quiet=parse_quiet(rest), set_quiet=True)
    raise ValueError(f"unknown setting: {head!r}")


def usage_text() -> str:
    """The usage line of /alerts."""
    return _(
        "Usage: /alerts — the settings with buttons; /alerts min 1000 — only orders from "
        "1000 (/alerts min 0 clears); /alerts quiet 22-8 — quiet hours (/alerts quiet off). "
        "With several shops, name the shop first: /alerts demo min 1000"
    )


# ---------------------------------------------------------------- permissions


async def _admin_here(bot: Bot, chat: Chat, user_id: int, sender_chat: Chat | None) -> bool:
    if chat.type == "private":
        return False
    if sender_chat is not None and sender_chat.id == chat.id:
        return True  # an anonymous admin
    return await is_group_admin(bot, chat.id, user_id)


async def editable_shops(
    db: Storage, bot: Bot, chat: Chat, user_id: int, sender_chat: Chat | None = None
) -> list[ShopAccess]:
    """The shops linked to ``chat`` whose alerts ``user_id`` may change here.

    Owners and managers may; in a group, so may the group's admins. Raises AccessDenied.
    """
    accesses = await resolve_access(db, chat, user_id)
    if not accesses:
        raise AccessDenied("not_linked", Access.MANAGER)
    allowed = [a for a in accesses if a.level >= Access.MANAGER]
    if len(allowed) < len(accesses) and await _admin_here(bot, chat, user_id, sender_chat):
        allowed = accesses
    if not allowed:
        raise AccessDenied("role", Access.MANAGER)
    allowed.sort(key=lambda a: (a.shop.state is not ShopState.ACTIVE, a.shop.id))
    return allowed


async def may_edit(bot: Bot, chat: Chat, user_id: int, access: ShopAccess) -> bool:
    """Whether the user may change this shop's alerts in this chat."""
    return access.level >= Access.MANAGER or await _admin_here(bot, chat, user_id, None)


class CanEditAlerts(Filter):
    """Injects ``shops``: the linked shops whose alerts the user may change here."""

    async def __call__(
        self,
        event: TelegramObject,
        db: Storage,
        bot: Bot,
        event_chat: Chat | None = None,
        event_from_user: User | None = None,
        **_: Any,
    ) -> dict[str, Any]:
        if event_chat is None or event_from_user is None:
            raise AccessDenied("not_linked", Access.MANAGER)
        sender_chat = getattr(event, "sender_chat", None)
        shops = await editable_shops(db, bot, event_chat, event_from_user.id, sender_chat)
        return {"shops": shops}


# ---------------------------------------------------------------- rendering


def kind_name(kind: AlertKind) -> str:
    """The name of an alert kind, in the current language."""
    names = {
        AlertKind.NEW_ORDER: _("New orders"),
        AlertKind.PAID: _("Paid"),
        AlertKind.STATUS_CHANGED: _("Status changes"),
        AlertKind.CANCELLED: _("Cancelled"),
        AlertKind.COMMENT: _("Comments"),
        AlertKind.ARCHIVE_READY: _("Print archive ready"),
        AlertKind.ARCHIVE_FAILED: _("Print archive failed"),
    }
    return names[kind]


def _mark(on: bool) -> str:
    return "✅" if on else "▫️"


def _statuses_text(statuses: Iterable[str]) -> str:
    lang = current_lang()
    ordered = sorted(
        statuses, key=lambda s: (STATUS_CHOICES.index(s) if s in STATUS_CHOICES else 99, s)
    )
    return ", ".join(status_label(s, lang) for s in ordered)


def quiet_text(quiet: tuple[int, int] | None) -> str:
    """``22:00–08:00`` or "off"."""
    if quiet is None:
        return _("off")
    return f"{quiet[0]:02d}:00–{quiet[1]:02d}:00"


def main_text(access: ShopAccess, link: Link, note: str | None = None) -> str:
    """The summary above the main screen's buttons."""
    lines = []
    if note:
        lines.extend([note, ""])
    lines.append("🔔 " + _("Alerts of <b>{shop}</b> in this chat").format(shop=esc(access.name)))
    lines.append(_("Tap a kind to switch it on (✅) or off (▫️)."))
    lines.append("")
    statuses = _statuses_text(link.statuses) if link.statuses else _("all")
    lines.append(_("Statuses: {value}").format(value=esc(statuses)))
    loud = _statuses_text(link.loud_statuses) if link.loud_statuses else _("none")
    lines.append(_("Loud statuses: {value}").format(value=esc(loud)))
    total = fmt_money(link.min_total) if link.min_total is not None else _("none")
    lines.append(_("Minimum total: {value}").format(value=esc(total)))
    quiet = quiet_text(link.quiet_hours)
    if link.quiet_hours is not None:
        quiet += " — " + _("alerts arrive silently")
    lines.append(_("Quiet hours: {value}").format(value=esc(quiet)))
    lines.append(_("Time zone: {zone} (/timezone)").format(zone=esc(access.shop.timezone or "—")))
    lines.append("")
    lines.append(
        _("Paid, cancelled and loud statuses also send a reply to the order card that rings.")
    )
    return "\n".join(lines)


def main_markup(shop_id: int, link: Link) -> InlineKeyboardMarkup:
    """Kind toggles, then the filter, loud, minimum and quiet buttons."""
    builder = InlineKeyboardBuilder()
    for kind in ALL_KINDS:
        builder.button(
            text=f"{_mark(kind.value in link.events)} {kind_name(kind)}",
            callback_data=AlertCb(a="k", s=shop_id, v=kind.value),
        )
    statuses = str(len(link.statuses)) if link.statuses else _("all")
    builder.button(
        text="🔎 " + _("Statuses: {value}").format(value=statuses),
        callback_data=AlertCb(a="sf", s=shop_id),
    )
    builder.button(
        text="🔔 " + _("Loud: {value}").format(value=len(link.loud_statuses)),
        callback_data=AlertCb(a="lf", s=shop_id),
    )
    total = fmt_money(link.min_total) if link.min_total is not None else "—"
    builder.button(
        text="💰 " + _("Min. total: {value}").format(value=total),
        callback_data=AlertCb(a="m", s=shop_id),
    )
    builder.button(
        text="🌙 " + _("Quiet: {value}").format(value=quiet_text(link.quiet_hours)),
        callback_data=AlertCb(a="qf", s=shop_id),
    )
    builder.adjust(2, 2, 2, 1, 2, 2)
    return builder.as_markup()


def statuses_view(
    access: ShopAccess, link: Link, *, loud: bool
) -> tuple[str, InlineKeyboardMarkup]:
    """The status filter screen, or (``loud``) the loud statuses screen."""
    chosen = link.loud_statuses if loud else link.statuses
    name = esc(access.name)
    if loud:
        text = _(
            "Loud statuses of <b>{shop}</b>: a change to one of them always alerts this chat "
            "and rings, even with status changes off."
        ).format(shop=name)
    else:
        text = _(
            "Statuses of <b>{shop}</b> to alert about: only orders in the chosen statuses. "
            "None chosen: every status."
        ).format(shop=name)
    lang = current_lang()
    builder = InlineKeyboardBuilder()
    toggle, clear = ("tl", "lc") if loud else ("ts", "sc")
    sid = access.shop.id
    for index, status in enumerate(STATUS_CHOICES):
        builder.button(
            text=f"{_mark(status in chosen)} {status_label(status, lang)}",
            callback_data=AlertCb(a=toggle, s=sid, v=str(index)),
        )
    builder.button(text="✖️ " + _("Clear"), callback_data=AlertCb(a=clear, s=sid))
    builder.button(text="⬅️ " + _("Back"), callback_data=AlertCb(a="v", s=sid))
    pairs, odd = divmod(len(STATUS_CHOICES), 2)
    builder.adjust(*([2] * pairs), *([1] * odd), 2)
    return text, builder.as_markup()


def quiet_view(access: ShopAccess, link: Link) -> tuple[str, InlineKeyboardMarkup]:
    """The quiet hours screen: presets, off, back."""
    text = _(
        "Quiet hours of <b>{shop}</b> in this chat, in the shop's time zone ({zone}): "
        "alerts still arrive, but silently. Now: {value}. "
        "Other hours: /alerts quiet 22-8"
    ).format(
        shop=esc(access.name),
        zone=esc(access.shop.timezone),
        value=esc(quiet_text(link.quiet_hours)),
    )
    builder = InlineKeyboardBuilder()
    sid = access.shop.id
    for start, end in QUIET_PRESETS:
        builder.button(
            text=f"{_mark(link.quiet_hours == (start, end))} {quiet_text((start, end))}",
            callback_data=AlertCb(a="qs", s=sid, v=f"{start}-{end}"),
        )
    builder.button(
        text=f"{_mark(link.quiet_hours is None)} " + _("Off"),
        callback_data=AlertCb(a="qs", s=sid, v="off"),
    )
    builder.button(text="⬅️ " + _("Back"), callback_data=AlertCb(a="v", s=sid))
    builder.adjust(2, 2, 2)
    return text, builder.as_markup()


def edit_note(edit: Edit) -> str:
    """What a command changed, one line."""
    if edit.set_min:
        if edit.min_total is None:
            return "✅ " + _("Minimum total cleared: every order alerts.")
        return "✅ " + _("Minimum total: {value}.").format(value=esc(fmt_money(edit.min_total)))
    if edit.quiet is None:
        return "✅ " + _("Quiet hours are off.")
    return "✅ " + _("Quiet hours: {value}.").format(value=quiet_text(edit.quiet))


async def apply_edit(db: Storage, access: ShopAccess, edit: Edit) -> Link:
    """Store a command's change; returns the link as it is now."""
    return await db.links.update_prefs(
        access.link.chat_id,
        access.shop.id,
        min_total=edit.min_total if edit.set_min else UNSET,
        quiet_hours=edit.quiet if edit.set_quiet else UNSET,
    )


def shop_picker(shops: list[ShopAccess], edit: Edit | None) -> InlineKeyboardMarkup:
    """One button per shop; the chosen one opens its settings (applying ``edit``)."""
    token = edit.token() if edit else ""
    builder = InlineKeyboardBuilder()
    for access in shops:
        builder.button(text=access.name, callback_data=AlertCb(a="o", s=access.shop.id, v=token))
    builder.adjust(1)
    return builder.as_markup()


async def open_alert_settings(
    query: CallbackQuery, message: Message, db: Storage, bot: Bot, access: ShopAccess
) -> None:
    """The /shops "Alerts" button: a new settings message for this shop (permission checked)."""
    if not await may_edit(bot, message.chat, query.from_user.id, access):
        raise AccessDenied("role", Access.MANAGER)
    link = await db.links.get(message.chat.id, access.shop.id)
    if link is None:
        await answer_expired(query)
        return
    await query.answer()
    await message.answer(main_text(access, link), reply_markup=main_markup(access.shop.id, link))


# ---------------------------------------------------------------- time zones


@cache
def _zones() -> dict[str, str]:
    """Every IANA zone by its case-folded name."""
    return {name.casefold(): name for name in available_timezones()}


@cache
def _cities() -> dict[str, list[str]]:
    cities: dict[str, list[str]] = {}
    for name in available_timezones():
        if "/" in name:
            cities.setdefault(name.rsplit("/", 1)[1].casefold(), []).append(name)
    return cities


def resolve_zone(text: str) -> str | None:
    """The IANA zone ``text`` names (any case; a unique city like ``novosibirsk`` too)."""
    key = text.strip().casefold()
    if not key:
        return None
    if key in _zones():
        return _zones()[key]
    matches = _cities().get(key.replace(" ", "_"), [])
    return matches[0] if len(matches) == 1 else None


def tz_usage() -> str:
    """The usage line of /timezone, with examples."""
    return _(
        "Send an IANA time zone name, e.g. /timezone Europe/Moscow, "
        "/timezone Asia/Novosibirsk or /timezone Europe/Kaliningrad."
    )


def tz_now(name: str) -> str:
    """The time now in that zone, ``14:05``."""
    return datetime.now(ZoneInfo(name)).strftime("%H:%M")


def tz_shown(access: ShopAccess) -> str:
    zone = access.shop.timezone
    return (
        _("Time zone of <b>{shop}</b>: {zone} (now {time}).").format(
            shop=esc(access.name), zone=esc(zone), time=tz_now(zone)
        )
        + " "
        + _("Dates and quiet hours use it.")
        + "\n"
        + tz_usage()
    )


async def set_zone(db: Storage, access: ShopAccess, zone: str, user_id: int, chat_id: int) -> str:
    """Store the shop's zone, audit it; the confirmation text."""
    before = access.shop.timezone
    try:
        await db.shops.set_timezone(access.shop.id, zone)
    except ValueError:
        return tz_usage()
    await db.audit.record(
        "shop_timezone",
        user_id=user_id,
        shop_id=access.shop.id,
        chat_id=chat_id,
        details={"from": before, "to": zone},
    )
    return _("Time zone of <b>{shop}</b> is now {zone} (now {time}).").format(
        shop=esc(access.name), zone=esc(zone), time=tz_now(zone)
    )


def split_tz_args(args: str, shops: list[ShopAccess]) -> tuple[str | None, str | None]:
    """(shop hint, zone text) from the words after /timezone."""
    words = args.split()
    if not words:
        return None, None
    if len(words) >= 2:
        return " ".join(words[:-1]), words[-1]
    word = words[0]
    if resolve_zone(word) is None and pick_shop(shops, word) is not None and "/" not in word:
        return word, None
    return None, word


# ---------------------------------------------------------------- the router


def _matches(shops: list[ShopAccess], hint: str) -> bool:
    """Whether a shop word names at least one of the shops (by id or title prefix)."""
    needle = hint.casefold().lstrip("#")
    return any(
        str(a.shop.id) == needle or (a.shop.title or "").casefold().startswith(needle)
        for a in shops
    )


async def _edit_screen(message: Message, text: str, markup: InlineKeyboardMarkup) -> None:
    """Edit the settings message in place; an unchanged message is fine."""
    try:
        await message.edit_text(text, reply_markup=markup)
    except TelegramBadRequest as exc:
        if "not modified" not in str(exc):
            raise


async def _toggle_status(db: Storage, link: Link, index_text: str, *, loud: bool) -> Link | None:
    index = int(index_text) if index_text.isdigit() else -1
    if not 0 <= index < len(STATUS_CHOICES):
        return None
    chosen = set(link.loud_statuses if loud else link.statuses) ^ {STATUS_CHOICES[index]}
    if loud:
        return await db.links.update_prefs(link.chat_id, link.shop_id, loud_statuses=chosen)
    return await db.links.update_prefs(link.chat_id, link.shop_id, statuses=chosen)


async def _ask_min_total(
    query: CallbackQuery, message: Message, access: ShopAccess, state: FSMContext
) -> None:
    await query.answer()
    await state.set_state(AlertsFlow.min_total)
    await state.set_data({"shop_id": access.shop.id, "message_id": message.message_id})
    prompt = esc(
        _(
            "Send the minimum order total for alerts in this chat, e.g. 1000 "
            "(0: every order), or /cancel."
        )
    )
    if message.chat.type != "private":  # ForceReply(selective) goes to the mentioned user
        user = query.from_user
        prompt = f'<a href="tg://user?id={user.id}">{esc(user.first_name)}</a>, ' + prompt
    await message.answer(prompt, reply_markup=ForceReply(selective=True))


async def _handle_button(
    query: CallbackQuery,
    message: Message,
    cb: AlertCb,
    access: ShopAccess,
    db: Storage,
    state: FSMContext,
) -> None:
    """One press on the settings of a shop the user may edit here."""
    link: Link | None = access.link
    assert link is not None
    sid, action, value = access.shop.id, cb.a, cb.v
    if action in ("ts", "tl"):
        link = await _toggle_status(db, link, value, loud=action == "tl")
        if link is None:
            await answer_expired(query)
            return
        await query.answer()
        await _edit_screen(message, *statuses_view(access, link, loud=action == "tl"))
    elif action in ("sc", "lc"):
        if action == "lc":
            link = await db.links.update_prefs(link.chat_id, sid, loud_statuses=())
        else:
            link = await db.links.update_prefs(link.chat_id, sid, statuses=())
        await query.answer()
        await _edit_screen(message, *statuses_view(access, link, loud=action == "lc"))
    elif action in ("sf", "lf"):
        await query.answer()
        await _edit_screen(message, *statuses_view(access, link, loud=action == "lf"))
    elif action == "qf":
        await query.answer()
        await _edit_screen(message, *quiet_view(access, link))
    elif action == "qs":
        try:
            quiet = parse_quiet(value)
        except ValueError:
            await answer_expired(query)
            return
        link = await db.links.update_prefs(link.chat_id, sid, quiet_hours=quiet)
        await query.answer()
        await _edit_screen(message, *quiet_view(access, link))
    elif action == "k" and value in {kind.value for kind in ALL_KINDS}:
        events = set(link.events) ^ {value}
        link = await db.links.update_prefs(link.chat_id, sid, events=events)
        await query.answer()
        await _edit_screen(message, main_text(access, link), main_markup(sid, link))
    elif action == "m":
        await _ask_min_total(query, message, access, state)
    elif action in ("v", "o"):
        note = None
        if action == "o" and value:
            edit = Edit.from_token(value)
            if edit is None:
                await answer_expired(query)
                return
            link = await apply_edit(db, access, edit)
            note = edit_note(edit)
        await query.answer()
        await _edit_screen(message, main_text(access, link, note), main_markup(sid, link))
    else:
        await answer_expired(query)


def _which_shop(hint: str | None) -> str:
    if hint:
        return _("No shop here matches “{hint}”. Which shop?").format(hint=esc(hint))
    return _("This chat is linked to several shops. Which one?")


def make_alert_settings_router() -> Router:
    """Build the router of /alerts, its buttons and /timezone."""
    router = Router(name="alert_settings")

    @router.message(Command("alerts"), CanEditAlerts())
    async def alerts(
        message: Message, command: CommandObject, shops: list[ShopAccess], db: Storage
    ) -> None:
        words = (command.args or "").split()
        hint: str | None = None
        if words and words[0].casefold() not in _MIN_WORDS | _QUIET_WORDS:
            hint, words = words[0], words[1:]
        try:
            edit = parse_edit(words)
        except ValueError:
            await message.answer(esc(usage_text()))
            return
        if hint and not _matches(shops, hint):
            await message.answer(esc(usage_text()))
            return
        access = pick_shop(shops, hint)
        if access is None:
            await message.answer(_which_shop(hint), reply_markup=shop_picker(shops, edit))
            return
        link = access.link
        note = None
        if edit is not None:
            link = await apply_edit(db, access, edit)
            note = edit_note(edit)
        await message.answer(
            main_text(access, link, note), reply_markup=main_markup(access.shop.id, link)
        )

    @router.callback_query(AlertCb.filter())
    async def alert_button(
        query: CallbackQuery,
        callback_data: AlertCb,
        db: Storage,
        bot: Bot,
        state: FSMContext,
    ) -> None:
        message = query.message
        if not isinstance(message, Message):
            await answer_expired(query)
            return
        accesses = await resolve_access(db, message.chat, query.from_user.id)
        access = find_shop(accesses, callback_data.s)
        if access is None:
            await answer_expired(query)
            return
        if not await may_edit(bot, message.chat, query.from_user.id, access):
            raise AccessDenied("role", Access.MANAGER)
        await _handle_button(query, message, callback_data, access, db, state)

    @router.message(StateFilter(AlertsFlow.min_total), Command("cancel"))
    async def min_cancel(message: Message, state: FSMContext) -> None:
        await state.clear()
        await message.answer(_("Cancelled."))

    @router.message(StateFilter(AlertsFlow.min_total), F.text, ~F.text.startswith("/"))
    async def min_entered(message: Message, state: FSMContext, db: Storage, bot: Bot) -> None:
        assert message.from_user is not None and message.text is not None
        data = await state.get_data()
        try:
            total = parse_min_total(message.text)
        except ValueError:
            await message.answer(
                esc(_("Send a number like 1000 (0: every order), or /cancel.")),
                reply_markup=ForceReply(selective=True),
            )
            return
        await state.clear()
        shops = await editable_shops(db, bot, message.chat, message.from_user.id)
        access = find_shop(shops, int(data.get("shop_id", 0)))
        if access is None:
            await message.answer(expired_text())
            return
        edit = Edit(min_total=total, set_min=True)
        try:
            link = await apply_edit(db, access, edit)
        except NotFoundError:
            await message.answer(expired_text())
            return
        text, markup = main_text(access, link), main_markup(access.shop.id, link)
        try:
            await bot.edit_message_text(
                text,
                chat_id=message.chat.id,
                message_id=int(data.get("message_id", 0)),
                reply_markup=markup,
            )
        except TelegramBadRequest as exc:
            if "not modified" not in str(exc):  # the settings message is gone: a new one
                await message.answer(main_text(access, link, edit_note(edit)), reply_markup=markup)
                return
        await message.answer(edit_note(edit))

    @router.message(Command("timezone"), NeedAccess(Access.OWNER))
    async def timezone(
        message: Message, command: CommandObject, shops: list[ShopAccess], db: Storage
    ) -> None:
        assert message.from_user is not None
        hint, zone_text = split_tz_args(command.args or "", shops)
        zone = resolve_zone(zone_text) if zone_text else None
        if zone_text and zone is None:
            await message.answer(
                _("Unknown time zone “{zone}”.").format(zone=esc(zone_text)) + " " + esc(tz_usage())
            )
            return
        access = pick_shop(shops, hint)
        if access is None:
            builder = InlineKeyboardBuilder()
            for sa in shops:
                builder.button(text=sa.name, callback_data=TzCb(s=sa.shop.id, z=zone or ""))
            builder.adjust(1)
            await message.answer(_which_shop(hint), reply_markup=builder.as_markup())
            return
        if zone is None:
            await message.answer(tz_shown(access))
            return
        await message.answer(
            await set_zone(db, access, zone, message.from_user.id, message.chat.id)
        )

    @router.callback_query(TzCb.filter(), ButtonAccess(Access.OWNER), PickedShop(field="s"))
    async def timezone_picked(
        query: CallbackQuery,
        callback_data: TzCb,
        access: ShopAccess,
        message: Message,
        db: Storage,
    ) -> None:
        zone = resolve_zone(callback_data.z) if callback_data.z else None
        if callback_data.z and not zone:
            await answer_expired(query)
            return
        await query.answer()
        if zone is None:
            text = tz_shown(access)
        else:
            text = await set_zone(db, access, zone, query.from_user.id, message.chat.id)
        with contextlib.suppress(TelegramBadRequest):
            await message.edit_text(text)

    return router
