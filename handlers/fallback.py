"""The last router: any callback query nobody handled gets a polite "expired" answer."""

from __future__ import annotations

from aiogram import Router
from aiogram.types import CallbackQuery
from aiogram.utils.i18n import gettext as _


def expired_text() -> str:
    """What a stale or forged button press is told."""
    return _("This button has expired. Please run the command again.")


async def answer_expired(query: CallbackQuery) -> None:
    """Answer a button press whose data no longer points at anything valid."""
    await query.answer(expired_text(), show_alert=True)


def make_fallback_router() -> Router:
    """Build the catch-all router; include it after every other router."""
    router = Router(name="fallback")

    @router.callback_query()
    async def unknown_button(query: CallbackQuery) -> None:
        await answer_expired(query)

    return router
