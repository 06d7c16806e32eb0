"""The kinds of order alerts, by name: what a chat–shop link selects in its ``events``.

Defined here, below both users: the alert pipeline (``bot.pipeline``) detects and routes
them, and the /alerts settings (``handlers.alert_settings``) toggle them, while handlers
never import ``bot``.
"""

from __future__ import annotations

from enum import StrEnum


class AlertKind(StrEnum):
    """An alert about an order; the values are the names links select in ``events``."""

    NEW_ORDER = "new_order"
    PAID = "paid"
    STATUS_CHANGED = "status_changed"
    CANCELLED = "cancelled"
    COMMENT = "comment"
    ARCHIVE_READY = "archive_ready"
    ARCHIVE_FAILED = "archive_failed"


ALL_KINDS: tuple[AlertKind, ...] = tuple(AlertKind)
"""Every kind, in the order they are shown and detected."""
