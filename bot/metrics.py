"""Metrics of one running app, on a registry it owns (no global state).

Counters of the Pixlpark webhooks and the alert pipeline, Telegram webhook requests,
Telegram and Pixlpark call latencies and errors, the outbox backlog (set when scraped)
and the sender's deliveries by result (read from the sender when scraped). Labels are
bounded: event and alert kinds, API method names, path templates, status codes; never
tokens, keys, chat ids or URLs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Protocol

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, Metric
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)


class DeliveryCounts(Protocol):
    """What the sender counts (``DeliveryStatus``)."""

    sent: int
    retried: int
    throttled: int
    dead: int


DELIVERY_RESULTS = {
    "sent": "sent",
    "retried": "retried",
    "throttled": "rate_limited",
    "dead": "dead",
}
"""``DeliveryStatus`` attribute -> ``result`` label."""


class _DeliveryCollector(Collector):
    """``telegram_deliveries_total{result}``, read from the sender at scrape time."""

    def __init__(self, source: Callable[[], DeliveryCounts | None]) -> None:
        self.source = source

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(
            "telegram_deliveries",
            "Outbox delivery attempts by result (sent, retried, rate_limited, dead)",
            labels=["result"],
        )
        counts = self.source()
        for attr, result in DELIVERY_RESULTS.items():
            family.add_metric([result], float(getattr(counts, attr, 0) if counts else 0))
        yield family


class Metrics:
    """Every counter the bot keeps; one instance (and registry) per app."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.webhook_accepted = Counter(
            "pixlpark_webhooks_accepted",
            "Pixlpark webhooks stored in the inbox, by event",
            ["event"],
            registry=self.registry,
        )
        self.webhook_duplicates = Counter(
            "pixlpark_webhooks_duplicate",
            "Pixlpark webhooks that repeated an event already received",
            registry=self.registry,
        )
        self.webhook_refused = Counter(
            "pixlpark_webhooks_refused",
            "Pixlpark webhook requests refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.events_processed = Counter(
            "alert_events_processed",
            "Inbox events processed, by event kind and outcome",
            ["kind", "outcome"],
            registry=self.registry,
        )
        self.alerts = Counter(
            "alerts_detected",
            "Order changes detected, by alert kind",
            ["kind"],
            registry=self.registry,
        )
        self.outbox_enqueued = Counter(
            "alert_outbox_enqueued",
            "Outbox rows enqueued by the alert pipeline, by row kind",
            ["kind"],
            registry=self.registry,
        )
        self.polls = Counter(
            "poller_runs",
            "Reconciliation polls of a shop, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.poll_changes = Counter(
            "poller_changes",
            "Order changes the reconciliation poller found that no webhook had reported",
            registry=self.registry,
        )

        self.telegram_updates = Counter(
            "telegram_webhook_updates",
            "Telegram updates received on the webhook, by update type",
            ["type"],
            registry=self.registry,
        )
        self.telegram_refused = Counter(
            "telegram_webhook_refused",
            "Telegram webhook requests refused, by reason",
            ["reason"],
            registry=self.registry,
        )
        self.outbox_backlog = Gauge(
            "outbox_backlog",
            "Outbox messages not delivered yet (pending or being sent), when scraped",
            registry=self.registry,
        )
        self.inbox_pending = Gauge(
            "inbox_pending",
            "Webhook events not processed yet, when scraped",
            registry=self.registry,
        )
        self.telegram_latency = Histogram(
            "telegram_api_request_duration_seconds",
            "Duration of Telegram Bot API calls, by method",
            ["method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.telegram_errors = Counter(
            "telegram_api_errors",
            "Failed Telegram Bot API calls, by method and error",
            ["method", "error"],
            registry=self.registry,
        )
        self.pixlpark_latency = Histogram(
            "pixlpark_api_request_duration_seconds",
            "Duration of Pixlpark API calls, by HTTP method and path template",
            ["method", "path"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.pixlpark_responses = Counter(
            "pixlpark_api_responses",
            "Pixlpark API responses, by HTTP method, path template and status code",
            ["method", "path", "status"],
            registry=self.registry,
        )
        self.pixlpark_errors = Counter(
            "pixlpark_api_errors",
            "Failed Pixlpark API calls (no answer, or HTTP 4xx/5xx), by path template and error",
            ["method", "path", "error"],
            registry=self.registry,
        )
        self._deliveries: Callable[[], DeliveryCounts | None] = lambda: None
        self.registry.register(_DeliveryCollector(lambda: self._deliveries()))

    def watch_deliveries(self, source: Callable[[], DeliveryCounts | None]) -> None:
        """Report the sender's counts (read at every scrape) as ``telegram_deliveries``."""
        self._deliveries = source

    def refusal(self, reason: str) -> None:
        """Count one refused webhook request."""
        self.webhook_refused.labels(reason=reason).inc()

    def value(self, name: str, **labels: str) -> float:
        """The current value of a sample (tests and /healthz); 0 when absent."""
        found = self.registry.get_sample_value(name, labels)
        return 0.0 if found is None else found

    def render(self) -> bytes:
        """The registry in the Prometheus text format."""
        return generate_latest(self.registry)
