"""Settings the handlers need, handed to them as workflow data (`config`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class HandlerConfig:
    """The part of the bot's settings that handlers read."""

    public_url: str
    default_language: str = "ru"
    default_timezone: str = "Europe/Moscow"

    def webhook_urls(self, webhook_token: str) -> dict[str, str]:
        """The Pixlpark webhook URL of each order event for a shop's token."""
        base = f"{self.public_url}/pixlpark/{webhook_token}"
        return {event: f"{base}/{event}" for event in WEBHOOK_EVENTS}


# Pixlpark's four order events; its bodies carry no event type, so the URL does.
WEBHOOK_EVENTS: tuple[str, ...] = (
    "order-created",
    "order-changed",
    "order-comment",
    "render-status",
)
