"""Assembly of the feature routers and middlewares onto a dispatcher."""

from __future__ import annotations

from aiogram import Dispatcher, Router
from aiogram.utils.i18n import I18n

from handlers.alert_settings import make_alert_settings_router
from handlers.connect import make_connect_router
from handlers.errors import make_errors_router
from handlers.fallback import make_fallback_router
from handlers.groups import make_groups_router
from handlers.health import make_health_router
from handlers.language import make_language_router
from handlers.lookups import make_lookups_router
from handlers.members import make_members_router
from handlers.middlewares import LanguageMiddleware
from handlers.shops import make_shops_router
from handlers.start import make_start_router


def make_root_router() -> Router:
    """Build every feature router under one root; a new instance on each call."""
    root = Router(name="root")
    root.include_router(make_errors_router())
    # Lookups first: its /help (linked chats only), bare order numbers and comment flow.
    root.include_router(make_lookups_router())
    # Linking: keys, groups, members, /start, /shops, /lang.
    root.include_router(make_connect_router())
    root.include_router(make_groups_router())
    root.include_router(make_members_router())
    root.include_router(make_start_router())
    root.include_router(make_shops_router())
    root.include_router(make_language_router())
    root.include_router(make_health_router())
    root.include_router(make_alert_settings_router())
    # Keep last: answers every callback query nobody else handled ("button expired").
    root.include_router(make_fallback_router())
    return root


def setup_handlers(dp: Dispatcher, i18n: I18n) -> None:
    """Attach middlewares and routers to a dispatcher."""
    LanguageMiddleware(i18n).setup(dp)
    dp.include_router(make_root_router())
