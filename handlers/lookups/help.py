"""/help in a linked chat: what the current user may do here, in their language.

Chats without a linked shop fall through to the linking flow's /help (handlers/start.py).
"""

from __future__ import annotations

from aiogram.types import Chat
from aiogram.utils.i18n import gettext as _

from handlers.access import Access, ShopAccess
from handlers.text import esc


def help_text(chat: Chat, shops: list[ShopAccess]) -> str:
    """The help for this chat and user (`shops`: the shops they may look up here)."""
    private = chat.type == "private"
    level = max(sa.level for sa in shops)
    lines = [f"<b>{esc(_('What you can do here'))}</b>", ""]
    commands = [
        ("/order 2336327", _("the order card with its items and buttons")),
        ("/status 2336327", _("one line: status, payment, due date, shipping")),
        ("/orders [ready]", _("the newest orders, 10 a page, with status group filters")),
        ("/today", _("orders created today with count and total")),
        ("/find " + _("e-mail, phone, name or number"), _("search customers and orders")),
        ("/customer 78238538", _("the customer card and their last orders")),
        ("/discounts", _("the shop's discounts")),
        ("/shipping", _("the shop's shipping methods")),
    ]
    lines.extend(f"{esc(cmd)} — {esc(what)}" for cmd, what in commands)
    if private:
        lines.append(esc(_("Here you can also just send an order number.")))
    lines.append("")
    if level >= Access.MANAGER:
        lines.append(
            esc(
                _(
                    "As a manager you change an order's status and add comments with the "
                    "card's buttons."
                )
            )
        )
    else:
        lines.append(esc(_("Changing statuses and adding comments needs the manager role.")))
    if not any(sa.full_contacts for sa in shops):
        lines.append(
            esc(
                _(
                    "Customer phone, e-mail and address are masked here; full contacts only "
                    "in a private chat of shop members."
                )
            )
        )
    if len(shops) > 1:
        names = ", ".join(f"{sa.name} ({sa.shop.id})" for sa in shops)
        lines.append("")
        lines.append(
            esc(
                _(
                    "Several shops are linked here: {shops}. Put the shop (its id or the start "
                    "of its name) first, for example /order {example} 2336327, or pick it "
                    "from the buttons."
                ).format(shops=names, example=shops[0].shop.id)
            )
        )
    lines.append("")
    if level >= Access.OWNER and private:
        lines.append(
            esc(
                _(
                    "Shop settings: /shops, /alerts, /timezone, /health, /invite, /staff, "
                    "/link, /disconnect, /lang."
                )
            )
        )
    elif private:
        lines.append(esc(_("Shops of this chat: /shops. Language: /lang.")))
    else:
        lines.append(esc(_("Shops of this group: /shops. Group admins: /alerts, /lang, /unlink.")))
    return "\n".join(lines)
