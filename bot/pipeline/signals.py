"""Wake-up signals between the pipeline stages, so work starts the moment it exists."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field


@dataclass
class Signals:
    """Set `inbox` after committing an inbox event, `outbox` after enqueueing a message."""

    inbox: asyncio.Event = field(default_factory=asyncio.Event)
    outbox: asyncio.Event = field(default_factory=asyncio.Event)
