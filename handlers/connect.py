"""/connect: the owner's keys, checked live against Pixlpark before anything is stored.

The wizard asks for the Public Key, then the Private Key; `/connect PUBLIC PRIVATE` does it
in one message. The message that carried the private key is deleted as soon as it is read.
Keys never reach the logs or the FSM storage after use; keys waiting for a re-check (API
access not activated yet, Pixlpark down) are kept in memory only, for a limited time.
In groups, keys are refused: the message is deleted and the chat warned once.
"""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

from aiogram import Bot, F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import Command, CommandObject, StateFilter
from aiogram.fsm.context import FSMContext
from aiogram.fsm.state import State, StatesGroup
from aiogram.types import CallbackQuery, InlineKeyboardMarkup, Message
from aiogram.utils.i18n import gettext as _
from aiogram.utils.keyboard import InlineKeyboardBuilder

from handlers.callbacks import ConnectCb
from handlers.clients import ShopClients
from handlers.config import HandlerConfig
from handlers.fallback import answer_expired
from handlers.groups import add_to_group_markup, group_link
from handlers.members import invite_link, remember_language
from handlers.text import esc
from pixlpark import ApiNotActivated, AuthError, PixlparkError, ServiceUnavailable
from storage import Role, Shop, Storage

log = logging.getLogger(__name__)

PENDING_TTL = 3600.0
"""Seconds keys waiting for a re-check stay in memory."""

_KEY = re.compile(r"[A-Za-z0-9_\-+/=.:]{2,256}")
_LOOKS_LIKE_KEY = re.compile(r"(?=[^\s]*\d)(?=[^\s]*[A-Za-z])[A-Za-z0-9_\-]{24,}")


class ConnectForm(StatesGroup):
    """The /connect wizard."""

    public_key = State()
    private_key = State()


@dataclass
class _Pending:
    public_key: str
    private_key: str
    expires: float


class PendingKeys:
    """Keys of owners waiting to re-check them, in memory only, per user, with a deadline."""

    def __init__(self, ttl: float = PENDING_TTL) -> None:
        self.ttl = ttl
        self._keys: dict[int, _Pending] = {}

    def put(self, user_id: int, public_key: str, private_key: str) -> None:
        self._keys[user_id] = _Pending(public_key, private_key, time.monotonic() + self.ttl)

    def take(self, user_id: int) -> tuple[str, str] | None:
        """The user's pending keys (forgotten here; `put` them back to keep them)."""
        now = time.monotonic()
        for uid in [u for u, p in self._keys.items() if p.expires <= now]:
            del self._keys[uid]
        pending = self._keys.pop(user_id, None)
        return None if pending is None else (pending.public_key, pending.private_key)

    def drop(self, user_id: int) -> None:
        self._keys.pop(user_id, None)


def cancel_markup() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("Cancel"), callback_data=ConnectCb(action="cancel"))
    return builder.as_markup()


def recheck_markup() -> InlineKeyboardMarkup:
    builder = InlineKeyboardBuilder()
    builder.button(text=_("🔄 Check again"), callback_data=ConnectCb(action="recheck"))
    builder.button(text=_("Cancel"), callback_data=ConnectCb(action="cancel"))
    return builder.as_markup()


def ask_public_text() -> str:
    return _(
        "Send the <b>Public Key</b> of your Pixlpark shop.\n"
        "You find both keys in the Pixlpark admin panel under "
        "“Настройка / Доступ → Доступность API” (switch API access on if it is off). "
        "/cancel to stop."
    )


def ask_private_text() -> str:
    return _("Now send the <b>Private Key</b>. I will delete that message right after reading it.")


async def ask_private_key(message: Message, state: FSMContext, public_key: str) -> None:
    """Keep the public key in the wizard's state and ask for the private one."""
    await state.set_state(ConnectForm.private_key)
    await state.update_data(public_key=public_key)
    await message.answer(ask_private_text(), reply_markup=cancel_markup())


def connected_text(shop: Shop, urls: dict[str, str], invite: str, renewed: bool) -> str:
    """The success answer: shop name, webhook URLs, invite link."""
    head = (
        _("✅ Keys of <b>{shop}</b> updated; existing links are kept.")
        if renewed
        else _("✅ Shop <b>{shop}</b> is connected.")
    ).format(shop=esc(shop.display_name))
    hooks = "\n".join(f"{esc(event)}: <code>{esc(url)}</code>" for event, url in urls.items())
    return "\n\n".join(
        [
            head,
            _(
                "For instant alerts, paste these webhook URLs into Pixlpark: "
                "“Маркетинг / Уведомления → Настройка вебхуков”, one per event:"
            )
            + "\n"
            + hooks,
            _(
                "To get alerts in a group, press “Add to a group” and pick a group "
                "(or send /link any time)."
            ),
            _(
                "Invite a colleague (viewer, works once within 48 hours; /invite for a "
                "manager link):\n{link}"
            ).format(link=esc(invite)),
            _("Rename the shop with <code>/rename New name</code>; see it with /shops."),
        ]
    )


async def check_keys(clients: ShopClients, public_key: str, private_key: str) -> str | None:
    """Log in with the keys; returns a site-based title, or raises the client's errors."""
    client = clients.for_keys(public_key, private_key)
    await client.check_credentials()
    try:
        orders = await client.list_orders(take=1)
    except PixlparkError:
        return None
    if orders and orders[0].photolab_id:
        return str(orders[0].photolab_id)
    return None


async def delete_key_message(bot: Bot, message: Message) -> bool:
    """Delete the message that carried a key; False if Telegram refused."""
    try:
        return bool(await bot.delete_message(message.chat.id, message.message_id))
    except TelegramAPIError:
        return False


class Connector:
    """The key check and everything that follows it, for one owner."""

    def __init__(self, pending: PendingKeys) -> None:
        self.pending = pending

    async def connect(
        self,
        message: Message,
        user_id: int,
        public_key: str,
        private_key: str,
        *,
        db: Storage,
        clients: ShopClients,
        config: HandlerConfig,
        bot: Bot,
    ) -> None:
        """Check the keys live; store and report on success, explain any failure."""
        try:
            site = await check_keys(clients, public_key, private_key)
        except ApiNotActivated:
            self.pending.put(user_id, public_key, private_key)
            await message.answer(
                _(
                    "Pixlpark knows these keys, but API access is not active yet: Pixlpark "
                    "activates it about 30 minutes after it is switched on. "
                    "Press “Check again” in a while."
                ),
                reply_markup=recheck_markup(),
            )
            return
        except AuthError:
            await db.audit.record("keys_rejected", user_id=user_id)
            await message.answer(
                _(
                    "Pixlpark did not accept these keys. Check that you copied the Public and "
                    "the Private Key of the same shop, then try /connect again."
                )
            )
            return
        except (ServiceUnavailable, PixlparkError) as exc:
            log.warning("key check failed", extra={"error": type(exc).__name__})
            self.pending.put(user_id, public_key, private_key)
            await message.answer(
                _(
                    "Pixlpark is not answering right now, so I could not check the keys. "
                    "Nothing is stored. Press “Check again” in a few minutes."
                ),
                reply_markup=recheck_markup(),
            )
            return
        self.pending.drop(user_id)
        known = await db.shops.get_by_public_key(public_key)
        shop = await db.shops.create(public_key, private_key, linked_by=user_id)
        if known is not None:
            clients.forget(shop.id)
        if not shop.title:
            title = (
                _("Pixlpark site {site}").format(site=site)
                if site
                else _("Pixlpark {key}").format(key=public_key[:6])
            )
            shop = await db.shops.set_title(shop.id, title, int(site) if site else None) or shop
        await db.members.set_role(shop.id, user_id, Role.OWNER)
        await remember_language(db, user_id)
        await db.chats.upsert(message.chat.id, "private", None)
        await db.chats.set_active(message.chat.id, True)
        await db.links.link(message.chat.id, shop.id, created_by=user_id)
        await db.audit.record(
            "keys_linked",
            user_id=user_id,
            shop_id=shop.id,
            chat_id=message.chat.id,
            details={"renewed": known is not None},
        )
        invite = await invite_link(bot, db, shop.id, user_id, Role.VIEWER)
        group = await group_link(bot, db, shop.id, user_id)
        await message.answer(
            connected_text(
                shop, config.webhook_urls(shop.webhook_token), invite, known is not None
            ),
            reply_markup=add_to_group_markup(group),
        )


def make_connect_router() -> Router:
    """Build the /connect router (private wizard, one-line form, refusal in groups)."""
    router = Router(name="connect")
    pending = PendingKeys()
    connector = Connector(pending)
    warned: set[int] = set()
    private = F.chat.type == "private"

    @router.message(Command("connect"), ~private)
    async def keys_in_group(message: Message, bot: Bot) -> None:
        await refuse_in_group(message, bot, warned)

    @router.message(~private, F.text.regexp(_LOOKS_LIKE_KEY.pattern + r"\s+\S{16,}"))
    async def key_pair_in_group(message: Message, bot: Bot) -> None:
        await refuse_in_group(message, bot, warned)

    @router.message(Command("cancel"), private)
    async def cancel(message: Message, state: FSMContext) -> None:
        await state.clear()
        assert message.from_user is not None
        pending.drop(message.from_user.id)
        await message.answer(_("Cancelled."))

    @router.message(Command("connect"), private)
    async def connect(
        message: Message,
        command: CommandObject,
        state: FSMContext,
        db: Storage,
        clients: ShopClients,
        config: HandlerConfig,
        bot: Bot,
    ) -> None:
        assert message.from_user is not None
        args = (command.args or "").split()
        await state.clear()
        if len(args) >= 2:
            deleted = await delete_key_message(bot, message)
            await warn_if_not_deleted(message, deleted)
            await connector.connect(
                message,
                message.from_user.id,
                args[0],
                args[1],
                db=db,
                clients=clients,
                config=config,
                bot=bot,
            )
            return
        if len(args) == 1 and _KEY.fullmatch(args[0]):
            await ask_private_key(message, state, args[0])
            return
        await state.set_state(ConnectForm.public_key)
        await message.answer(ask_public_text(), reply_markup=cancel_markup())

    @router.message(StateFilter(ConnectForm.public_key), private, F.text)
    async def got_public(message: Message, state: FSMContext) -> None:
        text = (message.text or "").strip()
        if text.startswith("/") or not _KEY.fullmatch(text):
            await message.answer(
                _("That does not look like a key. Send the Public Key, or /cancel.")
            )
            return
        await ask_private_key(message, state, text)

    @router.message(StateFilter(ConnectForm.private_key), private, F.text)
    async def got_private(
        message: Message,
        state: FSMContext,
        db: Storage,
        clients: ShopClients,
        config: HandlerConfig,
        bot: Bot,
    ) -> None:
        assert message.from_user is not None
        text = (message.text or "").strip()
        if text.startswith("/"):
            await message.answer(_("Send the Private Key, or /cancel."))
            return
        deleted = await delete_key_message(bot, message)
        data = await state.get_data()
        await state.clear()
        await warn_if_not_deleted(message, deleted)
        public_key = str(data.get("public_key") or "")
        if not public_key or not _KEY.fullmatch(text):
            await message.answer(_("That does not look like a key. Start again with /connect."))
            return
        await connector.connect(
            message,
            message.from_user.id,
            public_key,
            text,
            db=db,
            clients=clients,
            config=config,
            bot=bot,
        )

    @router.callback_query(ConnectCb.filter(F.action == "cancel"))
    async def cancel_button(query: CallbackQuery, state: FSMContext) -> None:
        await state.clear()
        pending.drop(query.from_user.id)
        await query.answer(_("Cancelled."))
        if isinstance(query.message, Message):
            await query.message.edit_reply_markup(reply_markup=None)

    @router.callback_query(
        ConnectCb.filter(F.action == "recheck"), F.message.chat.type == "private"
    )
    async def recheck(
        query: CallbackQuery,
        db: Storage,
        clients: ShopClients,
        config: HandlerConfig,
        bot: Bot,
    ) -> None:
        keys = pending.take(query.from_user.id)
        if keys is None or not isinstance(query.message, Message):
            await answer_expired(query)
            return
        await query.answer(_("Checking…"))
        await query.message.edit_reply_markup(reply_markup=None)
        await connector.connect(
            query.message,
            query.from_user.id,
            *keys,
            db=db,
            clients=clients,
            config=config,
            bot=bot,
        )

    return router


async def warn_if_not_deleted(message: Message, deleted: bool) -> None:
    if not deleted:
        await message.answer(
            _(
                "I could not delete your message with the key (Telegram refused). "
                "Please delete it yourself."
            )
        )


async def refuse_in_group(message: Message, bot: Bot, warned: set[int]) -> None:
    """Keys never belong in a group: delete the message, warn once per chat, store nothing."""
    deleted = await delete_key_message(bot, message)
    if message.chat.id in warned and deleted:
        return
    warned.add(message.chat.id)
    if deleted:
        text = _(
            "I deleted that message: API keys must never be posted in a group. "
            "Send /connect to me in a private chat instead."
        )
    else:
        text = _(
            "API keys must never be posted in a group, and I could not delete the message: "
            "please delete it now and consider generating new keys in Pixlpark. "
            "Send /connect to me in a private chat instead."
        )
    await message.answer(text)
