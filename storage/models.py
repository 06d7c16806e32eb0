"""Typed, immutable objects the repositories return."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum


class Role(StrEnum):
    """What a Telegram user may do for a shop; compare with :attr:`rank`."""

    OWNER = "owner"
    MANAGER = "manager"
    VIEWER = "viewer"

    @property
    def rank(self) -> int:
        """A number that grows with the role's power: owner > manager > viewer."""
        return _ROLE_RANKS[self]

    def at_least(self, other: Role) -> bool:
        """Whether this role grants everything ``other`` grants."""
        return self.rank >= other.rank


_ROLE_RANKS = {Role.VIEWER: 1, Role.MANAGER: 2, Role.OWNER: 3}


class ShopState(StrEnum):
    """Whether the bot works for a shop."""

    ACTIVE = "active"
    KEYS_REJECTED = "keys_rejected"
    PAUSED = "paused"


class ChatType(StrEnum):
    """Telegram's chat types."""

    PRIVATE = "private"
    GROUP = "group"
    SUPERGROUP = "supergroup"
    CHANNEL = "channel"


class CodeKind(StrEnum):
    """What a one-time code is for."""

    INVITE = "invite"
    GROUP = "group"


class OutboxKind(StrEnum):
    """What an outbox row sends."""

    MESSAGE = "message"
    CARD = "card"
    REPLY = "reply"


class OutboxState(StrEnum):
    """Life of an outbox row: pending → sending → sent, or dead after giving up."""

    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    DEAD = "dead"


DEFAULT_EVENTS: frozenset[str] = frozenset({"new_order", "paid", "cancelled", "comment"})
"""Events a new chat–shop link alerts about."""

DEFAULT_TIMEZONE = "Europe/Moscow"


@dataclass(frozen=True, slots=True)
class Shop:
    """A Pixlpark shop the bot works for; ``private_key`` is decrypted."""

    id: int
    public_key: str
    private_key: str = field(repr=False)
    title: str | None
    site_id: int | None
    webhook_token: str = field(repr=False)
    state: ShopState
    linked_by: int | None
    created_at: datetime
    timezone: str
    last_event_at: datetime | None
    last_poll_at: datetime | None
    baseline_done: bool
    last_webhook_hint_at: datetime | None

    @property
    def display_name(self) -> str:
        """The shop's title, or ``#id`` until it has one (unescaped)."""
        return self.title or f"#{self.id}"


@dataclass(frozen=True, slots=True)
class Chat:
    """A Telegram chat the bot has seen."""

    id: int
    type: ChatType
    title: str | None
    language: str | None
    is_active: bool
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class Link:
    """A chat receiving a shop's alerts, with its alert preferences."""

    chat_id: int
    shop_id: int
    topic_id: int | None
    events: frozenset[str]
    statuses: frozenset[str]
    """Order statuses to alert about; empty means all."""
    min_total: Decimal | None
    quiet_hours: tuple[int, int] | None
    """(start hour, end hour) in the shop's timezone when alerts go out silently."""
    loud_statuses: frozenset[str]
    created_by: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Member:
    """A Telegram user's role for a shop."""

    shop_id: int
    user_id: int
    role: Role
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Code:
    """A one-time invite or group-link code."""

    code: str = field(repr=False)
    kind: CodeKind
    shop_id: int
    role: Role | None
    created_by: int
    expires_at: datetime
    used_by: int | None
    used_at: datetime | None


@dataclass(frozen=True, slots=True)
class InboxEvent:
    """An event received from Pixlpark, waiting for or done with processing."""

    id: int
    shop_id: int
    kind: str
    order_id: str | None
    body: str
    dedupe_key: str
    received_at: datetime
    processed_at: datetime | None
    attempts: int
    last_error: str | None
    not_before: datetime


@dataclass(frozen=True, slots=True)
class OrderSnapshot:
    """The last known state of an order."""

    shop_id: int
    order_id: str
    status: str | None
    payment_status: str | None
    render_status: str | None
    date_modified: datetime | None
    comments_count: int | None
    total: Decimal | None
    data: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A Telegram message to send (or edit), with its delivery state."""

    id: int
    chat_id: int
    topic_id: int | None
    kind: OutboxKind
    text: str
    reply_markup: str | None
    disable_notification: bool
    shop_id: int | None
    order_id: str | None
    edit_message_id: int | None
    reply_to_message_id: int | None
    dedupe_key: str
    state: OutboxState
    attempts: int
    not_before: datetime
    last_error: str | None
    tg_message_id: int | None
    created_at: datetime
    sent_at: datetime | None


@dataclass(frozen=True, slots=True)
class OrderCard:
    """The Telegram message that shows an order in a chat."""

    chat_id: int
    shop_id: int
    order_id: str
    message_id: int
    topic_id: int | None
    history: str
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One security-relevant action."""

    id: int
    at: datetime
    user_id: int | None
    shop_id: int | None
    chat_id: int | None
    action: str
    details: str | None
