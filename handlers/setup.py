"""Assembly of the feature routers and middlewares onto a dispatcher."""

from __future__ import annotations

from aiogram import Dispatcher, Router
from aiogram.utils.i18n import I18n

from handlers.errors import make_errors_router
from handlers.lookups import make_lookups_router
from handlers.middlewares import LanguageMiddleware


def make_root_router() -> Router:
    """Build every feature router under one root; a new instance on each call."""
    root = Router(name="root")
    root.include_router(make_errors_router())
    # Lookups first: its /help (linked chats only), bare order numbers and comment flow.
    root.include_router(make_lookups_router())
    return root


def setup_handlers(dp: Dispatcher, i18n: I18n) -> None:
    """Attach middlewares and routers to a dispatcher."""
    LanguageMiddleware(i18n).setup(dp)
    dp.include_router(make_root_router())
