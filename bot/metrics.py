"""Counters of the alert pipeline, on a registry owned by one running app (no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, generate_latest


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
