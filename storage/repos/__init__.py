"""Repositories: one per kind of stored thing, all SQL of the bot lives here."""

from storage.repos.audit import AuditRepository
from storage.repos.cards import CardRepository
from storage.repos.chats import ChatRepository
from storage.repos.codes import CodeRepository
from storage.repos.inbox import InboxRepository
from storage.repos.links import LinkRepository
from storage.repos.members import MemberRepository
from storage.repos.outbox import OutboxRepository
from storage.repos.shops import ShopRepository
from storage.repos.snapshots import SnapshotRepository
from storage.repos.users import UserRepository

__all__ = [
    "AuditRepository",
    "CardRepository",
    "ChatRepository",
    "CodeRepository",
    "InboxRepository",
    "LinkRepository",
    "MemberRepository",
    "OutboxRepository",
    "ShopRepository",
    "SnapshotRepository",
    "UserRepository",
]
