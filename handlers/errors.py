"""The error router: every handler failure is logged without secrets and answered in one line."""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.types import ErrorEvent
from aiogram.utils.i18n import gettext as _

from handlers.access import Access, AccessDenied

log = logging.getLogger(__name__)

_ROLE_NAMES = {
    Access.VIEWER: "viewer",
    Access.MANAGER: "manager",
    Access.OWNER: "owner",
}


def denial_text(exc: AccessDenied) -> str:
    """The one-line explanation for a refused action."""
    if exc.reason == "not_linked":
        return _(
            "This chat is not linked to a shop yet. Connect one with /connect "
            "in a private chat with me, or ask the shop owner for a link."
        )
    if exc.reason == "group_admin":
        return _("Only admins of this group can change that.")
    if exc.reason == "private_only":
        return _("This works only in a private chat with me.")
    role = _ROLE_NAMES.get(exc.needed, "owner")
    return _("This needs the {role} role in the shop. Ask the shop owner.").format(role=_(role))


def make_errors_router() -> Router:
    """Build the router that catches every exception raised by other handlers."""
    router = Router(name="errors")

    @router.error()
    async def on_error(event: ErrorEvent) -> bool:
        exc = event.exception
        update = event.update
        if isinstance(exc, AccessDenied):
            text = denial_text(exc)
        else:
            log.error(
                "handler failed",
                extra={"update_id": update.update_id, "error": type(exc).__name__},
                exc_info=exc,
            )
            text = _("Something went wrong on my side. Please try again in a minute.")
        if update.callback_query is not None:
            await update.callback_query.answer(text, show_alert=True)
        elif update.message is not None:
            await update.message.answer(text)
        return True

    return router
