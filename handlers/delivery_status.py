"""What the outbox sender has done since start: counters and recent errors.

Filled by the sender (`bot/pipeline/sender.py`), read by `/health`; it lives here so that
handlers never import the `bot` package.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime

from storage.timeutil import utcnow


@dataclass(frozen=True)
class DeliveryError:
    """A failed delivery attempt, kept in memory for /health."""

    at: datetime
    chat_id: int
    row_id: int
    kind: str
    error: str
    outcome: str
    """``retry``, ``wait`` (flood control) or ``dead``."""


@dataclass
class DeliveryStatus:
    """What the sender has done since start, for /health and the logs."""

    started_at: datetime = field(default_factory=utcnow)
    sent: int = 0
    retried: int = 0
    throttled: int = 0
    dead: int = 0
    superseded: int = 0
    """Claimed card rows skipped because a newer update of the same card was queued."""
    last_sent_at: datetime | None = None
    errors: deque[DeliveryError] = field(default_factory=lambda: deque(maxlen=200))

    def errors_for(self, chat_ids: set[int], limit: int = 5) -> list[DeliveryError]:
        """The most recent errors in these chats, newest first."""
        found = [e for e in reversed(self.errors) if e.chat_id in chat_ids]
        return found[:limit]
