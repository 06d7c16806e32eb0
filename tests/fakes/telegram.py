"""Fake Telegram Bot API server for end-to-end tests.

An aiohttp app on loopback that speaks the Bot API the way aiogram uses it: ``POST`` with
form-encoded or multipart bodies, nested objects as JSON strings, strict JSON answers and
Telegram's error format (``parameters.retry_after`` / ``migrate_to_chat_id``).

Point a real bot at it::

    async with FakeTelegram() as fake:
        bot = fake.make_bot()            # Bot(token, session=AiohttpSession(api=...))
        alice = fake.user(1001, "Alice")
        await fake.send_text(alice, alice.id, "/start")
        reply = await fake.next_bot_message(alice.id)

The fake keeps chats, users and every message (bot's and users'), produces updates for
``getUpdates`` (long poll) or POSTs them to a webhook, records every call and can inject
faults (``fail_next``, ``set_delay``, ``down_status``, ``enforce_limits``).

Notes: user-side helpers are coroutines (they wake long polls); a call is appended to
``calls`` when its answer is ready, so a pending long-poll ``getUpdates`` shows up only when it
returns. Only ``parse_mode=HTML`` is parsed and validated; other modes count the raw text.

Run standalone: ``python -m tests.fakes.telegram --port 8082 --token 123456:TEST-token``
(a small JSON control API lives under ``/_fake/``: ``calls``, ``chats/{id}/messages``,
``text``, ``click``, ``down``).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import copy
import inspect
import json
import math
import re
import signal
import time
from collections import deque
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

if TYPE_CHECKING:
    from aiogram import Bot
    from aiogram.client.telegram import TelegramAPIServer

__all__ = [
    "Call",
    "EntityParseError",
    "FakeChat",
    "FakeTelegram",
    "FakeUser",
    "WebhookDelivery",
    "parse_html",
    "utf16_len",
]

DEFAULT_TOKEN = "123456:TEST-token"
DEFAULT_USERNAME = "pixl_test_bot"

TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
MSG_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
MSG_WRONG_FILE = "Bad Request: wrong file identifier/HTTP URL specified"
MSG_QUERY_INVALID = (
    "Bad Request: query is too old and response timeout expired or query ID is invalid"
)
MSG_WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
MSG_POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
STATUS_TEXT = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
# Update types Telegram leaves out when allowed_updates is empty or was never set.
DEFAULT_EXCLUDED_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
TOPIC_ICON_COLOR = 7322096


# --------------------------------------------------------------------------- helpers


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram uses for limits and offsets."""
    return len(text.encode("utf-16-le")) // 2


class EntityParseError(ValueError):
    """Raised by :func:`parse_html` with Telegram's wording of the problem."""


_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_TAG_NAME_RE = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_ATTR_RE = re.compile(r"""([a-zA-Z_:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))""")
_HTML_ENTITY_RE = re.compile(r"&(#[0-9]+|#[xX][0-9a-fA-F]+|lt|gt|amp|quot);")
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


def _unescape(text: str) -> str:
    def repl(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in _NAMED_ENTITIES:
            return _NAMED_ENTITIES[name]
        code = int(name[2:], 16) if name[1] in "xX" else int(name[1:])
        return chr(code) if 0 < code <= 0x10FFFF else match.group(0)

    return _HTML_ENTITY_RE.sub(repl, text)


def _html_entity(name: str, attrs: dict[str, str], raw: str, offset: int, length: int) -> dict:
    kind = _HTML_TAGS[name]
    entity: dict[str, Any] = {"type": kind, "offset": offset, "length": length}
    if kind == "text_link":
        entity["url"] = attrs.get("href", "")
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    elif kind == "blockquote" and re.search(r"\bexpandable\b", raw):
        entity["type"] = "expandable_blockquote"
    return entity


def parse_html(source: str) -> tuple[str, list[dict]]:
    """Parse Telegram-flavoured HTML into (visible text, entities).

    Follows the Bot API rules: only the supported tags, properly nested, ``<`` must be
    escaped; ``&lt; &gt; &amp; &quot;`` and numeric entities are decoded. Offsets and
    lengths are in UTF-16 code units. Raises :class:`EntityParseError`.
    """
    parts: list[str] = []
    out_len = 0
    stack: list[tuple[str, int, dict[str, str], str]] = []
    entities: list[dict] = []
    pos = 0
    while pos < len(source):
        lt = source.find("<", pos)
        chunk = source[pos:] if lt == -1 else source[pos:lt]
        if chunk:
            text = _unescape(chunk)
            parts.append(text)
            out_len += utf16_len(text)
        if lt == -1:
            break
        byte_offset = len(source[:lt].encode())
        gt = source.find(">", lt)
        if gt == -1:
            raise EntityParseError(f"Can't find end of the tag at byte offset {byte_offset}")
        inner = source[lt + 1 : gt]
        pos = gt + 1
        if inner.startswith("/"):
            name = inner[1:].strip().lower()
            if not stack:
                raise EntityParseError(f"Unexpected end tag at byte offset {byte_offset}")
            open_name, start, attrs, raw = stack.pop()
            if name != open_name:
                raise EntityParseError(
                    f'Unmatched end tag at byte offset {byte_offset}, expected "</{open_name}>", '
                    f'found "</{name}>"'
                )
            if out_len > start:
                entities.append(_html_entity(open_name, attrs, raw, start, out_len - start))
            continue
        match = _TAG_NAME_RE.match(inner)
        name = match.group(0).lower() if match else ""
        rest = inner[len(name) :]
        attrs = {k.lower(): _unescape(a or b or c) for k, a, b, c in _ATTR_RE.findall(rest)}
        if name not in _HTML_TAGS or (name == "span" and attrs.get("class") != "tg-spoiler"):
            raise EntityParseError(f'Unsupported start tag "{name}" at byte offset {byte_offset}')
        stack.append((name, out_len, attrs, rest))
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(parts), entities


# Form fields that carry JSON objects/arrays as strings.
_JSON_FIELDS = frozenset(
    {
        "allowed_updates",
        "caption_entities",
        "commands",
        "entities",
        "explanation_entities",
        "input_message_content",
        "link_preview_options",
        "media",
        "menu_button",
        "message_ids",
        "options",
        "permissions",
        "reaction",
        "reply_markup",
        "reply_parameters",
        "results",
        "rights",
        "scope",
    }
)
# Fields that are always strings, even when they look like numbers or booleans.
_STRING_FIELDS = frozenset(
    {
        "action",
        "animation",
        "audio",
        "business_connection_id",
        "callback_data",
        "callback_query_id",
        "caption",
        "custom_emoji_id",
        "custom_title",
        "data",
        "description",
        "document",
        "emoji",
        "file_id",
        "file_path",
        "icon_custom_emoji_id",
        "inline_message_id",
        "ip_address",
        "language_code",
        "message_effect_id",
        "name",
        "parse_mode",
        "payload",
        "photo",
        "query",
        "secret_token",
        "short_description",
        "sticker",
        "text",
        "title",
        "url",
        "video",
        "voice",
    }
)
_INT_RE = re.compile(r"-?\d+")
_BUTTON_ACTIONS = frozenset(
    {
        "callback_data",
        "url",
        "login_url",
        "switch_inline_query",
        "switch_inline_query_current_chat",
        "switch_inline_query_chosen_chat",
        "web_app",
        "callback_game",
        "pay",
        "copy_text",
    }
)


def _coerce(key: str, value: Any) -> Any:
    """Turn one form value into the type Telegram would see."""
    if not isinstance(value, str):
        return value
    if key in _JSON_FIELDS:
        try:
            return json.loads(value)
        except ValueError:
            raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from None
    if key in _STRING_FIELDS:
        return value
    if value in ("true", "false"):
        return value == "true"
    if _INT_RE.fullmatch(value):
        return int(value)
    return value


def _normalize(raw: dict[str, Any]) -> dict[str, Any]:
    return {key: _coerce(key, value) for key, value in raw.items()}


def _update_type(update: dict) -> str:
    return next(key for key in update if key != "update_id")


# --------------------------------------------------------------------------- data


class ApiError(Exception):
    """A Bot API error answer: HTTP status = ``error_code``."""

    def __init__(self, status: int, description: str, **parameters: Any) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.parameters = {k: v for k, v in parameters.items() if v is not None}


@dataclass
class Call:
    """One Bot API call as the fake saw it (recorded when the answer is ready)."""

    method: str
    params: dict[str, Any]
    t: float  # time.monotonic() at arrival
    wall: float  # time.time() at arrival
    files: dict[str, bytes] = field(default_factory=dict)
    status: int = 200
    result: Any = None
    error: str | None = None
    via: str = "http"  # "http" or "webhook" (method returned in a webhook reply)

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class WebhookDelivery:
    """One attempt to POST an update to the webhook."""

    update: dict
    status: int | None
    error: str | None
    t: float


@dataclass
class FakeUser:
    """A Telegram user that tests act as."""

    id: int
    first_name: str
    last_name: str | None = None
    username: str | None = None
    language_code: str | None = "ru"
    is_bot: bool = False

    def as_dict(self) -> dict[str, Any]:
        data = {
            "id": self.id,
            "is_bot": self.is_bot,
            "first_name": self.first_name,
            "last_name": self.last_name,
            "username": self.username,
            "language_code": self.language_code,
        }
        return {k: v for k, v in data.items() if v is not None}


@dataclass
class FakeChat:
    """A chat known to the fake, with its members and every message in it."""

    id: int
    type: str  # private | group | supergroup
    title: str | None = None
    username: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    is_forum: bool = False
    members: dict[int, str] = field(default_factory=dict)  # user id -> status
    bot_status: str = "member"  # private chats: "member" or "kicked" (blocked)
    migrated_to: int | None = None
    topics: dict[int, str] = field(default_factory=dict)  # thread id -> name
    messages: dict[int, dict] = field(default_factory=dict)
    next_message_id: int = 1

    @property
    def is_group(self) -> bool:
        return self.type in ("group", "supergroup")

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "type": self.type}
        for key in ("title", "username", "first_name", "last_name"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.is_forum:
            data["is_forum"] = True
        return data


@dataclass
class _FailRule:
    method: str
    status: int
    description: str
    retry_after: int | None
    migrate_to_chat_id: int | None
    times: int
    chat_id: Any


@dataclass
class _Limits:
    global_per_sec: int
    per_chat_interval: float
    group_per_minute: int
    per_chat_burst: int


UserRef = FakeUser | int


# --------------------------------------------------------------------------- the fake


class FakeTelegram:
    """Fake Bot API server; see the module docstring."""

    def __init__(
        self,
        *,
        bot_token: str = DEFAULT_TOKEN,
        bot_username: str = DEFAULT_USERNAME,
        bot_first_name: str = "Pixl Test Bot",
        webhook_retry_delay: float = 0.1,
        webhook_max_attempts: int = 3,
        webhook_timeout: float = 10.0,
    ) -> None:
        self.bot_token = bot_token
        self.bot_username = bot_username
        self.bot_id = int(bot_token.split(":", 1)[0])
        self.bot_user: dict[str, Any] = {
            "id": self.bot_id,
            "is_bot": True,
            "first_name": bot_first_name,
            "username": bot_username,
        }
        self.webhook_retry_delay = webhook_retry_delay
        self.webhook_max_attempts = webhook_max_attempts
        self.webhook_timeout = webhook_timeout

        # Observable state.
        self.calls: list[Call] = []
        self.users: dict[int, FakeUser] = {}
        self.chats: dict[int, FakeChat] = {}
        self.deleted: set[tuple[int, int]] = set()
        self.answered_callbacks: dict[str, dict[str, Any]] = {}
        self.reply_keyboards: dict[int, dict] = {}  # last reply keyboard shown per chat
        self.files: dict[str, dict[str, Any]] = {}
        self.webhook_url: str | None = None
        self.webhook_secret: str | None = None
        self.webhook_deliveries: list[WebhookDelivery] = []
        self.allowed_updates: list[str] | None = None
        self.too_many_requests = 0

        # Fault switches.
        self.down_status: int | None = None
        self.refuse_deletes = False
        self.fail_urls: bool | Collection[str] = False

        self._commands: dict[tuple[str, str], list[dict]] = {}
        self._updates: list[dict] = []
        self._update_id = 0
        self._callbacks: dict[str, dict] = {}
        self._callback_seq = 0
        self._file_seq = 0
        self._group_seq = 0
        self._poll_gen = 0
        self._webhook_attempts: dict[int, int] = {}
        self._webhook_last_error: tuple[int, str] | None = None
        self._delivering = False
        self._fail_rules: list[_FailRule] = []
        self._delays: dict[str, float] = {}
        self._limits: _Limits | None = None
        self._global_sends: deque[float] = deque()
        self._chat_sends: dict[Any, deque[float]] = {}
        self._cursors: dict[int, int] = {}
        self._cond = asyncio.Condition()
        self._closing = False
        self._runner: web.AppRunner | None = None
        self._http: aiohttp.ClientSession | None = None
        self._worker: asyncio.Task[None] | None = None
        self.base_url = ""
        self._methods: dict[str, Callable[..., Any]] = {
            name[3:].lower(): getattr(self, name) for name in dir(self) if name.startswith("_m_")
        }

    # ------------------------------------------------------------------ lifecycle

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start listening; returns the base URL for ``TelegramAPIServer.from_base``."""
        self._cond = asyncio.Condition()
        self._closing = False
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle_api)
        app.router.add_get("/file/bot{token}/{path:.+}", self._handle_file)
        self._add_control_routes(app)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=2.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        real_port = self._runner.addresses[0][1]
        self.base_url = f"http://{host}:{real_port}"
        self._http = aiohttp.ClientSession()
        self._worker = asyncio.create_task(self._webhook_worker())
        return self.base_url

    async def stop(self) -> None:
        """Wake long polls, stop the webhook sender and the server."""
        self._closing = True
        await self._notify()
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        if self._http is not None:
            await self._http.close()
            self._http = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def api_server(self) -> TelegramAPIServer:
        """aiogram ``TelegramAPIServer`` pointing at this fake."""
        from aiogram.client.telegram import TelegramAPIServer

        return TelegramAPIServer.from_base(self.base_url)

    def make_bot(self, token: str | None = None, **bot_kwargs: Any) -> Bot:
        """A real aiogram ``Bot`` talking to this fake. Close ``bot.session`` when done."""
        from aiogram import Bot
        from aiogram.client.session.aiohttp import AiohttpSession

        session = AiohttpSession(api=self.api_server())
        return Bot(token or self.bot_token, session=session, **bot_kwargs)

    # ------------------------------------------------------------------ fault injection

    def fail_next(
        self,
        method: str,
        status: int,
        description: str | None = None,
        *,
        retry_after: int | None = None,
        migrate_to_chat_id: int | None = None,
        times: int = 1,
        chat_id: int | str | None = None,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` ("*" = any) with this error."""
        if description is None:
            if status == 429 and retry_after is not None:
                description = f"Too Many Requests: retry after {retry_after}"
            else:
                description = STATUS_TEXT.get(status, "Error")
        self._fail_rules.append(
            _FailRule(
                method.lower(),
                status,
                description,
                retry_after,
                migrate_to_chat_id,
                times,
                chat_id,
            )
        )

    def set_delay(self, method: str, seconds: float) -> None:
        """Delay every call of ``method`` ("*" = all) before answering; 0 clears."""
        if seconds:
            self._delays[method.lower()] = seconds
        else:
            self._delays.pop(method.lower(), None)

    def enforce_limits(
        self,
        global_per_sec: int = 30,
        per_chat_interval: float = 1.0,
        group_per_minute: int = 20,
        *,
        per_chat_burst: int = 1,
    ) -> None:
        """Answer send*/edit*/copy* calls that break Telegram's limits with 429.

        Sliding windows: at most ``global_per_sec`` calls in any second, at most
        ``per_chat_burst`` per chat in any ``per_chat_interval``, at most
        ``group_per_minute`` per group (chat id < 0) in any 60 s. Refused calls don't count.
        """
        self._limits = _Limits(global_per_sec, per_chat_interval, group_per_minute, per_chat_burst)
        self._global_sends.clear()
        self._chat_sends.clear()

    def disable_limits(self) -> None:
        self._limits = None

    # ------------------------------------------------------------------ recording

    def calls_of(self, method: str) -> list[Call]:
        method = method.lower()
        return [c for c in self.calls if c.method.lower() == method]

    def clear_calls(self) -> None:
        self.calls.clear()

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        *,
        timeout: float = 5,
        predicate: Callable[[Call], bool] | None = None,
    ) -> list[Call]:
        """Wait until at least ``count`` matching calls were answered; returns all of them."""

        def found() -> list[Call] | None:
            calls = [c for c in self.calls_of(method) if predicate is None or predicate(c)]
            return calls if len(calls) >= count else None

        return await self._wait_until(found, timeout, f"{count} x {method}")

    def sent_messages(self, chat_id: int, *, include_deleted: bool = False) -> list[dict]:
        """Current state of the bot's messages in a chat, oldest first (copies)."""
        chat = self.chats.get(chat_id)
        if chat is None:
            return []
        return [
            copy.deepcopy(m)
            for mid, m in sorted(chat.messages.items())
            if self._from_bot(m) and (include_deleted or (chat_id, mid) not in self.deleted)
        ]

    def message(self, chat_id: int, message_id: int) -> dict | None:
        """Current state of a message (copy), ``None`` if unknown or deleted."""
        chat = self.chats.get(chat_id)
        if chat is None or (chat_id, message_id) in self.deleted:
            return None
        msg = chat.messages.get(message_id)
        return copy.deepcopy(msg) if msg is not None else None

    def reply_keyboard(self, chat_id: int) -> dict | None:
        """The reply keyboard (not inline) the user currently sees in a chat."""
        return self.reply_keyboards.get(chat_id)

    def my_commands(self, scope: dict | None = None, language_code: str = "") -> list[dict]:
        """Commands stored by setMyCommands for a scope and language."""
        return list(self._commands.get(self._commands_key(scope, language_code), []))

    @staticmethod
    def inline_buttons(message: dict) -> list[dict]:
        """All inline buttons of a message, row by row, flattened."""
        markup = message.get("reply_markup") or {}
        return [button for row in markup.get("inline_keyboard", []) for button in row]

    async def next_bot_message(
        self, chat_id: int, *, timeout: float = 5, after: int | dict | None = None
    ) -> dict:
        """The next message the bot sent to a chat.

        Without ``after`` each call moves a per-chat cursor, so consecutive calls return
        consecutive bot messages. ``after`` is a message id (or message) to start after.
        Returns a snapshot of the message's current state (deleted ones included).
        """
        if after is None:
            start = self._cursors.get(chat_id, 0)
        else:
            start = after["message_id"] if isinstance(after, dict) else after

        def found() -> dict | None:
            chat = self.chats.get(chat_id)
            if chat is None:
                return None
            for mid in sorted(chat.messages):
                if mid > start and self._from_bot(chat.messages[mid]):
                    return chat.messages[mid]
            return None

        msg = await self._wait_until(found, timeout, f"a bot message in chat {chat_id}")
        self._cursors[chat_id] = msg["message_id"]
        return copy.deepcopy(msg)

    async def wait_message(
        self, chat_id: int, predicate: Callable[[dict], bool], *, timeout: float = 5
    ) -> dict:
        """Wait until one of the bot's live messages in a chat satisfies ``predicate``.

        Messages are checked newest first, current state (so edits count).
        """

        def found() -> dict | None:
            for msg in reversed(self.sent_messages(chat_id)):
                if predicate(msg):
                    return msg
            return None

        return await self._wait_until(found, timeout, f"a matching bot message in {chat_id}")

    async def webhook_idle(self, timeout: float = 5) -> None:
        """Wait until every pending update was delivered to the webhook."""
        await self._wait_until(
            lambda: self.webhook_url is None or (not self._deliverable() and not self._delivering),
            timeout,
            "webhook delivery",
        )

    @property
    def pending_updates(self) -> list[dict]:
        """Updates not yet confirmed (getUpdates) or delivered (webhook)."""
        return list(self._updates)

    def drop_pending_updates(self) -> int:
        """Forget updates nobody fetched yet (as if the bot had been offline for days)."""
        dropped = len(self._updates)
        self._updates.clear()
        return dropped

    # ------------------------------------------------------------------ users and chats

    def user(
        self,
        user_id: int,
        first_name: str | None = None,
        *,
        language_code: str | None = "ru",
        username: str | None = None,
        last_name: str | None = None,
    ) -> FakeUser:
        """Register (or fetch) a user; their private chat with the bot is created too."""
        if user_id in self.users:
            return self.users[user_id]
        return self._register(
            FakeUser(
                id=user_id,
                first_name=first_name or f"User {user_id}",
                last_name=last_name,
                username=username,
                language_code=language_code,
            )
        )

    def private_chat(self, user: UserRef) -> int:
        """Chat id of the user's private chat with the bot (= user id)."""
        return self._user(user).id

    def chat(self, chat_id: int) -> FakeChat:
        return self.chats[chat_id]

    def create_group(
        self,
        title: str,
        *,
        supergroup: bool = False,
        forum: bool = False,
        admins: Iterable[UserRef] = (),
        members: Iterable[UserRef] = (),
        creator: UserRef | None = None,
        username: str | None = None,
        bot_status: str = "left",
    ) -> int:
        """Create a group; returns its chat id.

        The bot is not in it unless ``bot_status`` is "member"/"administrator" (no update is
        produced then); use :meth:`add_bot_to_group` or :meth:`startgroup` to add it the way
        a user would.
        """
        self._group_seq += 1
        supergroup = supergroup or forum
        chat_id = (
            -(1_000_000_000_000 + self._group_seq) if supergroup else -(4_000 + self._group_seq)
        )
        chat = FakeChat(
            id=chat_id,
            type="supergroup" if supergroup else "group",
            title=title,
            username=username,
            is_forum=forum,
            bot_status=bot_status,
        )
        for ref in members:
            chat.members[self._user(ref).id] = "member"
        for ref in admins:
            chat.members[self._user(ref).id] = "administrator"
        if creator is not None:
            chat.members[self._user(creator).id] = "creator"
        self.chats[chat_id] = chat
        return chat_id

    def set_member_status(self, chat_id: int, user: UserRef, status: str) -> None:
        """Set a user's status in a group (creator/administrator/member/left/kicked)."""
        self.chats[chat_id].members[self._user(user).id] = status

    def create_topic(self, chat_id: int, name: str, *, user: UserRef | None = None) -> int:
        """Create a forum topic (no update is produced); returns its message_thread_id."""
        chat = self.chats[chat_id]
        if not chat.is_forum:
            raise ValueError(f"chat {chat_id} is not a forum")
        sender = self._user(user).as_dict() if user is not None else self._someone(chat)
        return self._new_topic(chat, name, sender)

    def block_chat(self, chat_id: int) -> None:
        """Silently make sends fail with 403 (blocked by the user / kicked from the group)."""
        self.chats[chat_id].bot_status = "kicked"

    def unblock_chat(self, chat_id: int) -> None:
        self.chats[chat_id].bot_status = "member"

    # ------------------------------------------------------------------ user actions

    async def send_text(
        self,
        user: UserRef,
        chat_id: int,
        text: str,
        *,
        thread_id: int | None = None,
        reply_to: int | dict | None = None,
    ) -> dict:
        """The user writes ``text`` in a chat; the bot gets a ``message`` update if it is there.

        A leading ``/cmd`` or ``/cmd@bot`` gets a bot_command entity. Writing to a bot that the
        user blocked unblocks it first (like the "Restart" button).
        """
        u = self._user(user)
        chat = self._known_chat(chat_id)
        if chat.type == "private":
            if chat.id != u.id:
                raise ValueError("a user can only write in their own private chat")
            if chat.bot_status == "kicked":
                await self.unblock_bot(u)
        elif u.id not in chat.members or chat.members[u.id] in ("left", "kicked"):
            chat.members[u.id] = "member"
        fields: dict[str, Any] = {"text": text}
        command = re.match(r"/[A-Za-z0-9_]{1,32}(@[A-Za-z0-9_]+)?", text)
        if command:
            length = utf16_len(command.group(0))
            fields["entities"] = [{"type": "bot_command", "offset": 0, "length": length}]
        if thread_id is not None:
            if thread_id not in chat.topics:
                raise ValueError(f"no topic {thread_id} in chat {chat_id}")
            fields["message_thread_id"] = thread_id
            fields["is_topic_message"] = True
            fields["reply_to_message"] = self._strip_reply(chat.messages[thread_id])
        if reply_to is not None:
            mid = reply_to["message_id"] if isinstance(reply_to, dict) else reply_to
            fields["reply_to_message"] = self._strip_reply(chat.messages[mid])
        msg = self._store(chat, u.as_dict(), fields)
        if self._bot_sees(chat):
            await self._emit("message", msg)
        return copy.deepcopy(msg)

    async def start_deep_link(self, user: UserRef, payload: str) -> dict:
        """The user opens t.me/<bot>?start=<payload>: "/start payload" in the private chat."""
        u = self._user(user)
        return await self.send_text(u, u.id, f"/start {payload}")

    async def startgroup(
        self, user: UserRef, chat_id: int, payload: str, *, admin: bool = False
    ) -> dict:
        """The user opens t.me/<bot>?startgroup=<payload> and picks a group.

        The bot is added (if not there yet) and the user "sends" ``/start@bot payload``.
        """
        chat = self._known_chat(chat_id)
        if chat.bot_status not in ("member", "administrator"):
            await self.add_bot_to_group(user, chat_id, admin=admin)
        return await self.send_text(user, chat_id, f"/start@{self.bot_username} {payload}")

    async def click(
        self,
        user: UserRef,
        message: Any,
        callback_data: str | None = None,
        *,
        text: str | None = None,
        strict: bool = True,
    ) -> str:
        """Press an inline button (by ``callback_data`` or button ``text``); returns the query id.

        ``message``: a message dict, an aiogram ``Message`` or ``(chat_id, message_id)``. The
        callback carries the message's current state. With ``strict`` it must have the button.
        """
        u = self._user(user)
        if isinstance(message, tuple):
            chat_id, mid = message
        elif isinstance(message, dict):
            chat_id, mid = message["chat"]["id"], message["message_id"]
        else:
            chat_id, mid = message.chat.id, message.message_id
        current = self.chats[chat_id].messages.get(mid)
        if current is None or (chat_id, mid) in self.deleted:
            raise ValueError(f"message {mid} in chat {chat_id} does not exist")
        buttons = self.inline_buttons(current)
        if text is not None:
            button = next((b for b in buttons if b.get("text") == text), None)
            if button is None or "callback_data" not in button:
                raise ValueError(f"no callback button {text!r} in message {mid}")
            callback_data = button["callback_data"]
        if strict and callback_data not in [b.get("callback_data") for b in buttons]:
            raise ValueError(f"no button with callback_data {callback_data!r} in message {mid}")
        self._callback_seq += 1
        query_id = f"{self.bot_id}{self._callback_seq:08d}"
        query = {
            "id": query_id,
            "from": u.as_dict(),
            "message": copy.deepcopy(current),
            "chat_instance": str(abs(chat_id)),
            "data": callback_data,
        }
        self._callbacks[query_id] = query
        await self._emit("callback_query", query)
        return query_id

    async def add_bot_to_group(self, user: UserRef, chat_id: int, *, admin: bool = False) -> None:
        """The user adds the bot to a group (or promotes it with ``admin=True``).

        Produces ``my_chat_member`` (old → member/administrator) and, when the bot was not in
        the group, a message with ``new_chat_members``.
        """
        u = self._user(user)
        chat = self._known_chat(chat_id)
        if not chat.is_group:
            raise ValueError("not a group")
        old, new = chat.bot_status, "administrator" if admin else "member"
        if old == new:
            raise ValueError(f"the bot is already {new} in {chat_id}")
        chat.members.setdefault(u.id, "member")
        chat.bot_status = new
        await self._emit("my_chat_member", self._member_update(chat, u, old, new))
        if old in ("left", "kicked"):
            msg = self._store(chat, u.as_dict(), {"new_chat_members": [dict(self.bot_user)]})
            await self._emit("message", msg)

    async def remove_bot_from_group(
        self, user: UserRef, chat_id: int, *, kicked: bool = True
    ) -> None:
        """The user removes the bot: ``my_chat_member`` → kicked (or left); sends then get 403."""
        u = self._user(user)
        chat = self._known_chat(chat_id)
        old, new = chat.bot_status, "kicked" if kicked else "left"
        chat.bot_status = new
        await self._emit("my_chat_member", self._member_update(chat, u, old, new))

    async def block_bot(self, user: UserRef) -> None:
        """The user blocks the bot: private ``my_chat_member`` member → kicked."""
        u = self._user(user)
        chat = self.chats[u.id]
        old, chat.bot_status = chat.bot_status, "kicked"
        await self._emit("my_chat_member", self._member_update(chat, u, old, "kicked"))

    async def unblock_bot(self, user: UserRef) -> None:
        """The user restarts the bot: private ``my_chat_member`` kicked → member."""
        u = self._user(user)
        chat = self.chats[u.id]
        old, chat.bot_status = chat.bot_status, "member"
        await self._emit("my_chat_member", self._member_update(chat, u, old, "member"))

    async def migrate_group(self, chat_id: int, *, user: UserRef | None = None) -> int:
        """Upgrade a basic group to a supergroup; returns the new chat id.

        Service messages: ``migrate_to_chat_id`` in the old chat, ``migrate_from_chat_id`` in
        the new one. The old id then answers 400 with ``migrate_to_chat_id``.
        """
        old = self._known_chat(chat_id)
        if old.type != "group":
            raise ValueError("only basic groups can be migrated")
        self._group_seq += 1
        new_id = -(1_000_000_000_000 + self._group_seq)
        new = FakeChat(
            id=new_id,
            type="supergroup",
            title=old.title,
            members=dict(old.members),
            bot_status=old.bot_status,
        )
        self.chats[new_id] = new
        sender = self._user(user).as_dict() if user is not None else self._someone(old)
        visible = self._bot_sees(old)
        first = self._store(old, sender, {"migrate_to_chat_id": new_id})
        old.migrated_to = new_id
        second = self._store(new, sender, {"migrate_from_chat_id": chat_id})
        if visible:
            await self._emit("message", first)
            await self._emit("message", second)
        return new_id

    # ------------------------------------------------------------------ HTTP plumbing

    async def _handle_api(self, request: web.Request) -> web.Response:
        raw, files = await self._read_request(request)
        authorized = request.match_info["token"] == self.bot_token
        status, body = await self._execute(
            request.match_info["method"], raw, files, via="http", authorized=authorized
        )
        return web.json_response(body, status=status)

    async def _handle_file(self, request: web.Request) -> web.StreamResponse:
        if request.match_info["token"] != self.bot_token:
            return web.json_response(
                {"ok": False, "error_code": 401, "description": "Unauthorized"}, status=401
            )
        path = request.match_info["path"]
        for info in self.files.values():
            if info["file_path"] == path:
                return web.Response(body=info["data"])
        return web.json_response(
            {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
        )

    @staticmethod
    async def _read_request(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
        raw: dict[str, Any] = dict(request.query)
        files: dict[str, bytes] = {}
        if request.content_type == "application/json":
            body = await request.read()
            if body:
                with contextlib.suppress(ValueError):
                    raw.update(json.loads(body))
        elif request.method == "POST":
            for key, value in (await request.post()).items():
                if isinstance(value, web.FileField):
                    files[key] = value.file.read()
                else:
                    raw[key] = value if isinstance(value, str) else value.decode()
        return raw, files

    async def _execute(
        self,
        method: str,
        raw: dict[str, Any],
        files: dict[str, bytes],
        *,
        via: str,
        authorized: bool = True,
    ) -> tuple[int, dict[str, Any]]:
        call = Call(method, dict(raw), time.monotonic(), time.time(), files, via=via)
        try:
            if not authorized:
                raise ApiError(401, "Unauthorized")
            call.params = params = _normalize(raw)
            if self.down_status:
                raise ApiError(self.down_status, STATUS_TEXT.get(self.down_status, "Error"))
            delay = self._delays.get(method.lower(), self._delays.get("*"))
            if delay:
                await asyncio.sleep(delay)
            self._apply_fail_rules(method, params)
            handler = self._methods.get(method.lower())
            if handler is None:
                raise ApiError(404, "Not Found: method not found")
            self._check_limits(method, params)
            result = handler(params, files)
            if inspect.isawaitable(result):
                result = await result
            call.result = copy.deepcopy(result)
            status, body = 200, {"ok": True, "result": result}
        except ApiError as exc:
            status = call.status = exc.status
            call.error = exc.description
            body = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
            if exc.status == 429:
                self.too_many_requests += 1
        self.calls.append(call)
        await self._notify()
        return status, body

    def _apply_fail_rules(self, method: str, params: dict[str, Any]) -> None:
        for rule in self._fail_rules:
            if rule.method not in ("*", method.lower()):
                continue
            if rule.chat_id is not None and str(rule.chat_id) != str(params.get("chat_id")):
                continue
            rule.times -= 1
            if rule.times <= 0:
                self._fail_rules.remove(rule)
            raise ApiError(
                rule.status,
                rule.description,
                retry_after=rule.retry_after,
                migrate_to_chat_id=rule.migrate_to_chat_id,
            )

    def _check_limits(self, method: str, params: dict[str, Any]) -> None:
        limits = self._limits
        name = method.lower()
        if limits is None or name == "sendchataction":
            return
        if not name.startswith(("send", "edit", "copy", "forward")):
            return
        now = time.monotonic()
        waits: list[float] = []
        sends = self._global_sends
        while sends and sends[0] <= now - 1.0:
            sends.popleft()
        if len(sends) >= limits.global_per_sec:
            waits.append(sends[-limits.global_per_sec] + 1.0 - now)
        chat_id = params.get("chat_id")
        history: deque[float] | None = None
        if chat_id is not None:
            history = self._chat_sends.setdefault(chat_id, deque())
            keep = max(60.0, limits.per_chat_interval)
            while history and history[0] <= now - keep:
                history.popleft()
            recent = [t for t in history if t > now - limits.per_chat_interval]
            if len(recent) >= limits.per_chat_burst:
                waits.append(recent[-limits.per_chat_burst] + limits.per_chat_interval - now)
            if isinstance(chat_id, int) and chat_id < 0:
                minute = [t for t in history if t > now - 60.0]
                if len(minute) >= limits.group_per_minute:
                    waits.append(minute[-limits.group_per_minute] + 60.0 - now)
        if waits:
            retry = max(1, math.ceil(max(waits)))
            raise ApiError(429, f"Too Many Requests: retry after {retry}", retry_after=retry)
        sends.append(now)
        if history is not None:
            history.append(now)

    async def _notify(self) -> None:
        async with self._cond:
            self._cond.notify_all()

    async def _wait_until(self, predicate: Callable[[], Any], timeout: float, what: str) -> Any:
        async with self._cond:
            try:
                return await asyncio.wait_for(self._cond.wait_for(predicate), timeout)
            except TimeoutError:
                recent = ", ".join(
                    f"{c.method}:{c.status}" + (f"({c.error})" if c.error else "")
                    for c in self.calls[-10:]
                )
                raise AssertionError(
                    f"timed out after {timeout}s waiting for {what}; last calls: [{recent}]"
                ) from None

    # ------------------------------------------------------------------ updates

    async def _emit(self, kind: str, payload: dict) -> None:
        self._update_id += 1
        self._updates.append({"update_id": self._update_id, kind: copy.deepcopy(payload)})
        await self._notify()

    def _deliverable(self) -> list[dict]:
        """Pending updates after dropping the types the bot did not ask for."""
        allowed = self.allowed_updates

        def wanted(update: dict) -> bool:
            kind = _update_type(update)
            return kind in allowed if allowed else kind not in DEFAULT_EXCLUDED_UPDATES

        self._updates = [u for u in self._updates if wanted(u)]
        return self._updates

    def _confirm(self, offset: int | None) -> None:
        if not offset:
            return
        if offset < 0:
            self._updates = self._updates[offset:]
        else:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]

    async def _webhook_worker(self) -> None:
        while not self._closing:
            async with self._cond:
                await self._cond.wait_for(
                    lambda: self._closing or (self.webhook_url is not None and self._deliverable())
                )
                if self._closing or self.webhook_url is None:
                    return
                update = self._deliverable()[0]
                url, secret = self.webhook_url, self.webhook_secret
                self._delivering = True
            try:
                await self._deliver(url, secret, update)
            finally:
                self._delivering = False
                await self._notify()

    async def _deliver(self, url: str, secret: str | None, update: dict) -> None:
        assert self._http is not None
        headers = {"Content-Type": "application/json"}
        if secret:
            headers["X-Telegram-Bot-Api-Secret-Token"] = secret
        status: int | None = None
        error: str | None = None
        reply: tuple[str, dict, dict] | None = None
        try:
            async with self._http.post(
                url,
                data=json.dumps(update),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self.webhook_timeout),
            ) as resp:
                status = resp.status
                if 200 <= status < 300:
                    reply = await self._read_webhook_reply(resp)
                else:
                    error = f"Wrong response from the webhook: {status} {resp.reason}"
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = f"Connection failed: {type(exc).__name__}: {exc}"
        self.webhook_deliveries.append(WebhookDelivery(update, status, error, time.monotonic()))
        update_id = update["update_id"]
        if error is not None:
            self._webhook_last_error = (int(time.time()), error)
            attempts = self._webhook_attempts.get(update_id, 0) + 1
            self._webhook_attempts[update_id] = attempts
            if attempts < self.webhook_max_attempts:
                await asyncio.sleep(self.webhook_retry_delay)
                return
        self._updates = [u for u in self._updates if u["update_id"] != update_id]
        if reply is not None:
            method, params, files = reply
            await self._execute(method, params, files, via="webhook")

    @staticmethod
    async def _read_webhook_reply(
        resp: aiohttp.ClientResponse,
    ) -> tuple[str, dict, dict] | None:
        """A method call returned in the webhook answer (JSON or multipart), if any."""
        params: dict[str, Any] = {}
        files: dict[str, bytes] = {}
        if resp.content_type.startswith("multipart/"):
            reader = aiohttp.MultipartReader(resp.headers, resp.content)
            while (part := await reader.next()) is not None:
                if not isinstance(part, aiohttp.BodyPartReader) or part.name is None:
                    continue
                if part.filename:
                    files[part.name] = bytes(await part.read())
                else:
                    params[part.name] = await part.text()
        else:
            body = await resp.read()
            try:
                data = json.loads(body) if body.strip() else {}
            except ValueError:
                return None
            if not isinstance(data, dict):
                return None
            params = data
        method = params.pop("method", None)
        return (str(method), params, files) if method else None

    # ------------------------------------------------------------------ state helpers

    def _register(self, user: FakeUser) -> FakeUser:
        self.users[user.id] = user
        self.chats[user.id] = FakeChat(
            id=user.id,
            type="private",
            first_name=user.first_name,
            last_name=user.last_name,
            username=user.username,
        )
        return user

    def _user(self, ref: UserRef) -> FakeUser:
        """A registered user from a FakeUser or an id (unknown ones are registered)."""
        if isinstance(ref, FakeUser):
            return self.users.get(ref.id) or self._register(ref)
        return self.users.get(ref) or self.user(ref)

    def _known_chat(self, chat_id: int) -> FakeChat:
        chat = self.chats.get(chat_id)
        if chat is None:
            raise ValueError(f"unknown chat {chat_id}")
        return chat

    def _someone(self, chat: FakeChat) -> dict | None:
        """A member to act as sender of service messages (creator first)."""
        ranked = sorted(chat.members.items(), key=lambda kv: kv[1] != "creator")
        for user_id, _status in ranked:
            return self.users[user_id].as_dict()
        return None

    def _from_bot(self, msg: dict) -> bool:
        return msg.get("from", {}).get("id") == self.bot_id

    @staticmethod
    def _bot_sees(chat: FakeChat) -> bool:
        if chat.migrated_to is not None:
            return False
        if chat.type == "private":
            return chat.bot_status != "kicked"
        return chat.bot_status in ("member", "administrator", "creator")

    @staticmethod
    def _strip_reply(msg: dict) -> dict:
        return {k: copy.deepcopy(v) for k, v in msg.items() if k != "reply_to_message"}

    def _store(self, chat: FakeChat, sender: dict | None, fields: dict[str, Any]) -> dict:
        msg: dict[str, Any] = {"message_id": chat.next_message_id, "date": int(time.time())}
        chat.next_message_id += 1
        if sender is not None:
            msg["from"] = dict(sender)
        msg["chat"] = chat.as_dict()
        msg.update({k: v for k, v in fields.items() if v is not None})
        chat.messages[msg["message_id"]] = msg
        return msg

    def _new_topic(self, chat: FakeChat, name: str, sender: dict | None) -> int:
        thread_id = chat.next_message_id
        self._store(
            chat,
            sender,
            {
                "message_thread_id": thread_id,
                "is_topic_message": True,
                "forum_topic_created": {"name": name, "icon_color": TOPIC_ICON_COLOR},
            },
        )
        chat.topics[thread_id] = name
        return thread_id

    def _member_update(self, chat: FakeChat, user: FakeUser, old: str, new: str) -> dict:
        return {
            "chat": chat.as_dict(),
            "from": user.as_dict(),
            "date": int(time.time()),
            "old_chat_member": self._member(self.bot_user, old),
            "new_chat_member": self._member(self.bot_user, new),
        }

    @staticmethod
    def _member(user: dict, status: str) -> dict[str, Any]:
        """A ChatMember object of the given status."""
        member: dict[str, Any] = {"status": status, "user": dict(user)}
        if status == "creator":
            member["is_anonymous"] = False
        elif status == "administrator":
            member.update(
                {
                    "can_be_edited": False,
                    "is_anonymous": False,
                    "can_manage_chat": True,
                    "can_delete_messages": True,
                    "can_manage_video_chats": True,
                    "can_restrict_members": True,
                    "can_promote_members": False,
                    "can_change_info": True,
                    "can_invite_users": True,
                    "can_post_stories": True,
                    "can_edit_stories": True,
                    "can_delete_stories": True,
                    "can_send_welcome_messages": True,
                    "can_pin_messages": True,
                }
            )
        elif status == "kicked":
            member["until_date"] = 0
        return member

    # ------------------------------------------------------------------ validation helpers

    def _resolve_chat(
        self, value: Any, *, check_access: bool = True, blocked_ok: bool = False
    ) -> FakeChat:
        """The chat a call targets, or the error Telegram gives for it.

        ``blocked_ok``: a private chat whose user blocked the bot is still readable.
        """
        if value is None or value == "":
            raise ApiError(400, "Bad Request: chat_id is empty")
        chat: FakeChat | None = None
        if isinstance(value, int):
            chat = self.chats.get(value)
        elif isinstance(value, str) and value.startswith("@"):
            name = value[1:].lower()
            chat = next(
                (c for c in self.chats.values() if (c.username or "").lower() == name), None
            )
        if chat is None:
            raise ApiError(400, "Bad Request: chat not found")
        if chat.migrated_to is not None:
            raise ApiError(
                400,
                "Bad Request: group chat was upgraded to a supergroup chat",
                migrate_to_chat_id=chat.migrated_to,
            )
        if check_access:
            if chat.type == "private" and chat.bot_status == "kicked" and not blocked_ok:
                raise ApiError(403, "Forbidden: bot was blocked by the user")
            if chat.is_group and chat.bot_status == "kicked":
                raise ApiError(403, f"Forbidden: bot was kicked from the {chat.type} chat")
            if chat.is_group and chat.bot_status == "left":
                raise ApiError(403, f"Forbidden: bot is not a member of the {chat.type} chat")
        return chat

    @staticmethod
    def _parse_text(
        value: Any, parse_mode: Any, entities: Any, *, caption: bool = False
    ) -> tuple[str, list[dict] | None]:
        """Visible text and entities; validates HTML and the length limits."""
        text = "" if value is None else str(value)
        parsed: list[dict] | None = entities or None
        if isinstance(parse_mode, str) and parse_mode.lower() == "html":
            try:
                text, parsed = parse_html(text)
            except EntityParseError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from None
        if caption:
            if utf16_len(text) > CAPTION_LIMIT:
                raise ApiError(400, "Bad Request: message caption is too long")
        else:
            if not text.strip():
                raise ApiError(400, "Bad Request: message text is empty")
            if utf16_len(text) > TEXT_LIMIT:
                raise ApiError(400, "Bad Request: message is too long")
        return text, parsed or None

    @staticmethod
    def _inline_markup(markup: Any) -> dict | None:
        if not markup:
            return None
        if not isinstance(markup, dict) or not isinstance(markup.get("inline_keyboard"), list):
            raise ApiError(400, "Bad Request: can't parse inline keyboard markup JSON object")
        for row in markup["inline_keyboard"]:
            for button in row:
                if not isinstance(button, dict) or not button.get("text"):
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text must be non-empty",
                    )
                if not _BUTTON_ACTIONS & button.keys():
                    raise ApiError(
                        400,
                        "Bad Request: can't parse inline keyboard button: Text buttons are "
                        "unallowed in the inline keyboard",
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(str(data).encode()) <= 64:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
        return markup

    def _split_markup(self, markup: Any) -> tuple[dict | None, dict | None]:
        """(inline markup kept in the message, reply keyboard / removal for the chat)."""
        if isinstance(markup, dict) and "inline_keyboard" not in markup:
            if not ({"keyboard", "remove_keyboard", "force_reply"} & markup.keys()):
                raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
            return None, markup
        return self._inline_markup(markup), None

    def _thread(self, chat: FakeChat, params: dict[str, Any]) -> int | None:
        thread_id = params.get("message_thread_id")
        if not thread_id or not chat.is_forum:
            return None
        if thread_id not in chat.topics:
            raise ApiError(400, "Bad Request: message thread not found")
        return int(thread_id)

    def _reply_to(self, chat: FakeChat, params: dict[str, Any]) -> dict | None:
        reply = params.get("reply_parameters")
        if not reply and params.get("reply_to_message_id"):
            reply = {"message_id": params["reply_to_message_id"]}
        if not isinstance(reply, dict):
            return None
        mid = reply.get("message_id")
        target = chat.messages.get(mid) if isinstance(mid, int) else None
        if target is None or (chat.id, mid) in self.deleted:
            if reply.get("allow_sending_without_reply") or params.get(
                "allow_sending_without_reply"
            ):
                return None
            raise ApiError(400, "Bad Request: message to be replied not found")
        return self._strip_reply(target)

    def _send(self, chat: FakeChat, params: dict[str, Any], content: dict[str, Any]) -> dict:
        """Store a bot message with the common send options applied."""
        thread_id = self._thread(chat, params)
        inline, keyboard = self._split_markup(params.get("reply_markup"))
        fields = {
            "message_thread_id": thread_id,
            "is_topic_message": True if thread_id else None,
            "reply_to_message": self._reply_to(chat, params),
            **content,
            "reply_markup": inline,
        }
        msg = self._store(chat, self.bot_user, fields)
        if keyboard is not None:
            if keyboard.get("remove_keyboard"):
                self.reply_keyboards.pop(chat.id, None)
            elif "keyboard" in keyboard:
                self.reply_keyboards[chat.id] = keyboard
        return msg

    def _input_file(self, value: Any, files: dict[str, bytes], field_name: str) -> dict:
        """Resolve an uploaded file, a URL or a file_id into a stored file record."""
        data: bytes | None = None
        url: str | None = None
        if field_name in files:
            data = files[field_name]
        elif isinstance(value, str) and value.startswith("attach://"):
            data = files.get(value[len("attach://") :])
            if data is None:
                raise ApiError(400, MSG_WRONG_FILE)
        elif isinstance(value, str) and value.startswith(("http://", "https://")):
            fails = self.fail_urls
            if fails is True or (not isinstance(fails, bool) and value in fails):
                raise ApiError(400, MSG_WRONG_FILE)
            url, data = value, b""
        elif isinstance(value, str) and value in self.files:
            return self.files[value]
        else:
            raise ApiError(
                400,
                f"Bad Request: there is no {field_name} in the request"
                if value is None
                else MSG_WRONG_FILE,
            )
        if data is not None and url is None and not data:
            raise ApiError(400, "Bad Request: file must be non-empty")
        self._file_seq += 1
        file_id = f"FAKE{field_name.upper()}{self._file_seq:06d}"
        info = {
            "file_id": file_id,
            "file_unique_id": f"U{self._file_seq:06d}",
            "file_size": len(data or b""),
            "file_path": f"{field_name}s/file_{self._file_seq}",
            "data": data or b"",
            "url": url,
        }
        self.files[file_id] = info
        return info

    def _target(self, params: dict[str, Any], action: str) -> tuple[FakeChat, dict]:
        if params.get("inline_message_id"):
            raise ApiError(400, "Bad Request: MESSAGE_ID_INVALID")
        chat = self._resolve_chat(params.get("chat_id"))
        mid = params.get("message_id")
        msg = chat.messages.get(mid) if isinstance(mid, int) else None
        if msg is None or (chat.id, mid) in self.deleted:
            raise ApiError(400, f"Bad Request: message to {action} not found")
        if action == "edit" and not self._from_bot(msg):
            raise ApiError(400, "Bad Request: message can't be edited")
        return chat, msg

    @staticmethod
    def _apply_edit(msg: dict, changes: dict[str, Any]) -> dict:
        if all(msg.get(k) == v for k, v in changes.items()):
            raise ApiError(400, MSG_NOT_MODIFIED)
        for key, value in changes.items():
            if value is None:
                msg.pop(key, None)
            else:
                msg[key] = value
        msg["edit_date"] = int(time.time())
        return msg

    @staticmethod
    def _commands_key(scope: Any, language_code: Any) -> tuple[str, str]:
        scope = scope or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(language_code or "")

    # ------------------------------------------------------------------ Bot API methods

    def _m_getMe(self, p: dict, f: dict) -> dict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    async def _m_getUpdates(self, p: dict, f: dict) -> list[dict]:
        if self.webhook_url:
            raise ApiError(409, MSG_WEBHOOK_CONFLICT)
        if "allowed_updates" in p:
            self.allowed_updates = list(p["allowed_updates"] or []) or None
        limit = min(max(int(p.get("limit") or 100), 1), 100)
        timeout = max(float(p.get("timeout") or 0), 0.0)
        self._poll_gen += 1
        generation = self._poll_gen
        async with self._cond:
            self._confirm(p.get("offset"))
            self._cond.notify_all()  # an older long poll gets "terminated by other" 409

            def ready() -> bool:
                return bool(
                    self._closing
                    or self._poll_gen != generation
                    or self.webhook_url
                    or self._deliverable()
                )

            if timeout and not ready():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._cond.wait_for(ready), timeout)
            if self._poll_gen != generation:
                raise ApiError(409, MSG_POLL_CONFLICT)
            if self.webhook_url:
                raise ApiError(409, MSG_WEBHOOK_CONFLICT)
            if self._closing:
                return []
            return copy.deepcopy(self._deliverable()[:limit])

    def _m_setWebhook(self, p: dict, f: dict) -> bool:
        url = p.get("url") or ""
        secret = p.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if url and not url.startswith(("http://", "https://")):
            raise ApiError(400, "Bad Request: bad webhook: An HTTPS URL must be provided")
        if p.get("drop_pending_updates"):
            self._updates.clear()
        if "allowed_updates" in p:
            self.allowed_updates = list(p["allowed_updates"] or []) or None
        self.webhook_url = url or None
        self.webhook_secret = secret if url else None
        self._webhook_last_error = None
        return True

    def _m_deleteWebhook(self, p: dict, f: dict) -> bool:
        if p.get("drop_pending_updates"):
            self._updates.clear()
        self.webhook_url = None
        self.webhook_secret = None
        return True

    def _m_getWebhookInfo(self, p: dict, f: dict) -> dict:
        info: dict[str, Any] = {
            "url": self.webhook_url or "",
            "has_custom_certificate": False,
            "pending_update_count": len(self._deliverable()),
        }
        if self.webhook_url:
            info["max_connections"] = 40
            if self.allowed_updates:
                info["allowed_updates"] = list(self.allowed_updates)
        if self._webhook_last_error:
            info["last_error_date"], info["last_error_message"] = self._webhook_last_error
        return info

    def _m_logOut(self, p: dict, f: dict) -> bool:
        return True

    def _m_close(self, p: dict, f: dict) -> bool:
        return True

    def _m_sendMessage(self, p: dict, f: dict) -> dict:
        chat = self._resolve_chat(p.get("chat_id"))
        text, entities = self._parse_text(p.get("text"), p.get("parse_mode"), p.get("entities"))
        content: dict[str, Any] = {"text": text, "entities": entities}
        if p.get("link_preview_options"):
            content["link_preview_options"] = p["link_preview_options"]
        return self._send(chat, p, content)

    def _media_caption(self, p: dict) -> dict[str, Any]:
        caption, entities = self._parse_text(
            p.get("caption"), p.get("parse_mode"), p.get("caption_entities"), caption=True
        )
        return {"caption": caption or None, "caption_entities": entities if caption else None}

    def _m_sendPhoto(self, p: dict, f: dict) -> dict:
        chat = self._resolve_chat(p.get("chat_id"))
        caption = self._media_caption(p)
        info = self._input_file(p.get("photo"), f, "photo")
        size = {
            "file_id": info["file_id"],
            "file_unique_id": info["file_unique_id"],
            "width": 800,
            "height": 600,
            "file_size": info["file_size"],
        }
        return self._send(chat, p, {"photo": [size], **caption})

    def _m_sendDocument(self, p: dict, f: dict) -> dict:
        chat = self._resolve_chat(p.get("chat_id"))
        caption = self._media_caption(p)
        info = self._input_file(p.get("document"), f, "document")
        document = {
            "file_id": info["file_id"],
            "file_unique_id": info["file_unique_id"],
            "file_size": info["file_size"],
        }
        return self._send(chat, p, {"document": document, **caption})

    def _m_copyMessage(self, p: dict, f: dict) -> dict:
        source = self._resolve_chat(p.get("from_chat_id"))
        mid = p.get("message_id")
        original = source.messages.get(mid) if isinstance(mid, int) else None
        if original is None or (source.id, mid) in self.deleted:
            raise ApiError(400, "Bad Request: message to copy not found")
        chat = self._resolve_chat(p.get("chat_id"))
        keys = ("text", "entities", "photo", "document", "caption", "caption_entities")
        content = {k: copy.deepcopy(original[k]) for k in keys if k in original}
        if "caption" in p:
            content.update(self._media_caption(p))
        return {"message_id": self._send(chat, p, content)["message_id"]}

    def _m_editMessageText(self, p: dict, f: dict) -> dict:
        _chat, msg = self._target(p, "edit")
        if "text" not in msg:
            raise ApiError(400, "Bad Request: there is no text in the message to edit")
        text, entities = self._parse_text(p.get("text"), p.get("parse_mode"), p.get("entities"))
        markup = self._inline_markup(p.get("reply_markup"))
        return self._apply_edit(msg, {"text": text, "entities": entities, "reply_markup": markup})

    def _m_editMessageCaption(self, p: dict, f: dict) -> dict:
        _chat, msg = self._target(p, "edit")
        if "text" in msg:
            raise ApiError(400, "Bad Request: there is no caption in the message to edit")
        changes = self._media_caption(p)
        changes["reply_markup"] = self._inline_markup(p.get("reply_markup"))
        return self._apply_edit(msg, changes)

    def _m_editMessageReplyMarkup(self, p: dict, f: dict) -> dict:
        _chat, msg = self._target(p, "edit")
        return self._apply_edit(msg, {"reply_markup": self._inline_markup(p.get("reply_markup"))})

    def _m_deleteMessage(self, p: dict, f: dict) -> bool:
        chat, _msg = self._target(p, "delete")
        if self.refuse_deletes:
            raise ApiError(400, "Bad Request: message can't be deleted")
        self.deleted.add((chat.id, p["message_id"]))
        return True

    def _m_deleteMessages(self, p: dict, f: dict) -> bool:
        chat = self._resolve_chat(p.get("chat_id"))
        for mid in p.get("message_ids") or []:
            if mid in chat.messages and not self.refuse_deletes:
                self.deleted.add((chat.id, mid))
        return True

    def _m_answerCallbackQuery(self, p: dict, f: dict) -> bool:
        query_id = str(p.get("callback_query_id") or "")
        if query_id not in self._callbacks or query_id in self.answered_callbacks:
            raise ApiError(400, MSG_QUERY_INVALID)
        if len(str(p.get("text") or "")) > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.answered_callbacks[query_id] = dict(p)
        return True

    def _m_getChat(self, p: dict, f: dict) -> dict:
        chat = self._resolve_chat(p.get("chat_id"), blocked_ok=True)
        return {
            **chat.as_dict(),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": True,
                "limited_gifts": True,
                "unique_gifts": True,
                "premium_subscription": True,
                "gifts_from_channels": True,
            },
        }

    def _member_status(self, chat: FakeChat, user_id: int) -> str:
        if user_id == self.bot_id:
            return chat.bot_status
        if chat.type == "private":
            return "member" if user_id == chat.id else "left"
        return chat.members.get(user_id, "left")

    def _user_dict(self, user_id: int) -> dict:
        if user_id == self.bot_id:
            return dict(self.bot_user)
        if user_id not in self.users:
            raise ApiError(400, "Bad Request: user not found")
        return self.users[user_id].as_dict()

    def _m_getChatMember(self, p: dict, f: dict) -> dict:
        chat = self._resolve_chat(p.get("chat_id"), blocked_ok=True)
        user_id = p.get("user_id")
        if not isinstance(user_id, int):
            raise ApiError(400, "Bad Request: invalid user_id specified")
        return self._member(self._user_dict(user_id), self._member_status(chat, user_id))

    def _m_getChatAdministrators(self, p: dict, f: dict) -> list[dict]:
        chat = self._resolve_chat(p.get("chat_id"))
        if not chat.is_group:
            raise ApiError(400, "Bad Request: there are no administrators in the private chat")
        admins = [
            self._member(self.users[uid].as_dict(), status)
            for uid, status in chat.members.items()
            if status in ("creator", "administrator")
        ]
        if chat.bot_status == "administrator":
            admins.append(self._member(self.bot_user, "administrator"))
        return admins

    def _m_getChatMemberCount(self, p: dict, f: dict) -> int:
        chat = self._resolve_chat(p.get("chat_id"))
        if not chat.is_group:
            return 2
        active = [s for s in chat.members.values() if s not in ("left", "kicked")]
        return len(active) + (1 if self._bot_sees(chat) else 0)

    def _m_leaveChat(self, p: dict, f: dict) -> bool:
        chat = self._resolve_chat(p.get("chat_id"))
        if chat.is_group:
            chat.bot_status = "left"
        return True

    def _m_setMyCommands(self, p: dict, f: dict) -> bool:
        commands = p.get("commands") or []
        for command in commands:
            name = str(command.get("command", "")) if isinstance(command, dict) else ""
            if not re.fullmatch(r"[a-z0-9_]{1,32}", name):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._commands_key(p.get("scope"), p.get("language_code"))] = list(commands)
        return True

    def _m_deleteMyCommands(self, p: dict, f: dict) -> bool:
        self._commands.pop(self._commands_key(p.get("scope"), p.get("language_code")), None)
        return True

    def _m_getMyCommands(self, p: dict, f: dict) -> list[dict]:
        return self.my_commands(p.get("scope"), p.get("language_code") or "")

    def _m_sendChatAction(self, p: dict, f: dict) -> bool:
        self._resolve_chat(p.get("chat_id"))
        return True

    def _m_createForumTopic(self, p: dict, f: dict) -> dict:
        chat = self._resolve_chat(p.get("chat_id"))
        if not chat.is_forum:
            raise ApiError(400, "Bad Request: the chat is not a forum")
        name = str(p.get("name") or "")
        if not 1 <= len(name) <= 128:
            raise ApiError(400, "Bad Request: TOPIC_TITLE_EMPTY")
        thread_id = self._new_topic(chat, name, self.bot_user)
        return {"message_thread_id": thread_id, "name": name, "icon_color": TOPIC_ICON_COLOR}

    def _m_getFile(self, p: dict, f: dict) -> dict:
        info = self.files.get(str(p.get("file_id")))
        if info is None:
            raise ApiError(400, "Bad Request: invalid file_id")
        keys = ("file_id", "file_unique_id", "file_size", "file_path")
        return {k: info[k] for k in keys}

    # ------------------------------------------------------------------ control API

    def _add_control_routes(self, app: web.Application) -> None:
        """A tiny JSON API under /_fake/ for driving a standalone fake by hand."""
        app.router.add_get("/_fake/calls", self._ctl_calls)
        app.router.add_get("/_fake/chats/{chat_id}/messages", self._ctl_messages)
        app.router.add_post("/_fake/text", self._ctl_text)
        app.router.add_post("/_fake/click", self._ctl_click)
        app.router.add_post("/_fake/down", self._ctl_down)

    async def _ctl_calls(self, request: web.Request) -> web.Response:
        calls = [
            {"method": c.method, "params": c.params, "status": c.status, "error": c.error}
            for c in self.calls
        ]
        return web.json_response(calls)

    async def _ctl_messages(self, request: web.Request) -> web.Response:
        chat_id = int(request.match_info["chat_id"])
        if chat_id not in self.chats:
            return web.json_response([])
        return web.json_response(self.sent_messages(chat_id, include_deleted=True))

    async def _ctl_text(self, request: web.Request) -> web.Response:
        """Body: {"user_id", "text", "chat_id"?, "first_name"?, "language_code"?}."""
        body = await request.json()
        user = self.user(
            int(body["user_id"]),
            body.get("first_name"),
            language_code=body.get("language_code", "ru"),
            username=body.get("username"),
        )
        chat_id = int(body.get("chat_id") or user.id)
        return web.json_response(await self.send_text(user, chat_id, body["text"]))

    async def _ctl_click(self, request: web.Request) -> web.Response:
        """Body: {"user_id", "chat_id", "message_id", "data"}."""
        body = await request.json()
        message = (int(body["chat_id"]), int(body["message_id"]))
        query_id = await self.click(int(body["user_id"]), message, body["data"])
        return web.json_response({"callback_query_id": query_id})

    async def _ctl_down(self, request: web.Request) -> web.Response:
        """Body: {"status": 502} to simulate an outage, {"status": null} to end it."""
        self.down_status = (await request.json()).get("status")
        return web.json_response({"down_status": self.down_status})


# --------------------------------------------------------------------------- standalone


async def _serve(host: str, port: int, token: str, username: str) -> None:
    fake = FakeTelegram(bot_token=token, bot_username=username)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    base = await fake.start(host, port)
    print(f"Fake Telegram Bot API on {base} (token {token}, @{username})", flush=True)
    print(f"  TELEGRAM_API_BASE={base}; control API: {base}/_fake/...", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.stop()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Run the fake Telegram Bot API server.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--token", default=DEFAULT_TOKEN)
    parser.add_argument("--username", default=DEFAULT_USERNAME)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.host, args.port, args.token, args.username))


if __name__ == "__main__":
    main()
