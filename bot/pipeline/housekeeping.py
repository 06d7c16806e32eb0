"""Housekeeping: old processed events, delivered or dead messages and expired codes go.

Without it the inbox and the outbox would grow forever. Outbox keys are derived from inbox
event ids, which are never reused, so forgetting old keys cannot let an alert through twice;
a webhook repeated after the retention period is stored again but finds its order's
snapshot unchanged and alerts nothing.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

from storage import Storage, StorageError

log = logging.getLogger(__name__)


class Housekeeper:
    """Deletes what is older than the retention period, once at start and then periodically."""

    def __init__(self, storage: Storage, *, retention: timedelta, interval: float = 3600.0) -> None:
        self.storage = storage
        self.retention = retention
        self.interval = interval

    async def run_once(self) -> dict[str, int]:
        """One pass; returns how many rows of each kind were deleted."""
        removed = {
            "inbox": await self.storage.inbox.purge_processed(self.retention),
            "outbox": await self.storage.outbox.purge(self.retention),
            "codes": await self.storage.codes.purge_expired(),
        }
        if any(removed.values()):
            log.info("housekeeping", extra=removed)
        return removed

    async def run(self) -> None:
        """Run forever (a task cancelled at shutdown); a failed pass is logged and retried."""
        while True:
            try:
                await self.run_once()
            except StorageError as exc:
                log.warning("housekeeping failed", extra={"error": type(exc).__name__})
            await asyncio.sleep(self.interval)
