"""What changed in an order: pure comparison of the stored snapshot with the order now.

``detect_changes(previous, order, event_kind)`` returns the alert kinds, in a fixed order.
The same state twice yields nothing, so a repeated webhook or poll is silent.
"""

from __future__ import annotations

from datetime import timedelta

from handlers.alert_kinds import ALL_KINDS as ALL_KINDS  # re-exported
from handlers.alert_kinds import AlertKind
from pixlpark.models import Order
from storage import OrderSnapshot

CANCELLED_STATUSES = frozenset({"Cancelled", "CancelledWithDefect", "Refused", "Returned"})
"""Statuses that end an order without it being delivered."""

FRESH_STATUSES = frozenset({"None", "Preparing", "NotProcessed", "AwaitingPayment"})
"""Statuses of an order nobody has worked on yet."""

PAID = "Paid"
ARCHIVE_SUCCESS = "ArchiveSuccess"

# Webhook events (URL names) and the pseudo-events of the pipeline itself.
ORDER_CREATED = "order-created"
ORDER_CHANGED = "order-changed"
ORDER_COMMENT = "order-comment"
RENDER_STATUS = "render-status"
POLL = "poll"
POLL_NEW = "poll-new"
RECHECK = "recheck"

_PAID_WITH_CHANGE = timedelta(hours=1)


def is_archive_failure(render_status: str | None) -> bool:
    """Whether a render status reports a failed print archive."""
    text = (render_status or "").lower()
    return "error" in text or "fail" in text


def _render_kinds(before: str | None, after: str | None) -> list[AlertKind]:
    if after == before or not after:
        return []
    if after == ARCHIVE_SUCCESS:
        return [AlertKind.ARCHIVE_READY]
    if is_archive_failure(after):
        return [AlertKind.ARCHIVE_FAILED]
    return []


def _unseen(order: Order, event_kind: str) -> list[AlertKind]:
    """Kinds for an order without a snapshot: announce new orders, never flood old ones."""
    kinds: list[AlertKind] = []
    if event_kind in (ORDER_CREATED, POLL_NEW) or (order.status or "None") in FRESH_STATUSES:
        kinds.append(AlertKind.NEW_ORDER)
        if order.payment_status == PAID:
            kinds.append(AlertKind.PAID)
        return kinds
    # An order we never saw, in progress already: only what the event itself reports.
    if event_kind == ORDER_CHANGED:
        kinds.append(AlertKind.STATUS_CHANGED)
        paid_now = (
            order.payment_status == PAID
            and order.date_paid is not None
            and order.date_modified is not None
            and abs(order.date_modified - order.date_paid) <= _PAID_WITH_CHANGE
        )
        if paid_now:
            kinds.append(AlertKind.PAID)
        if order.status in CANCELLED_STATUSES:
            kinds.append(AlertKind.CANCELLED)
    elif event_kind == ORDER_COMMENT:
        kinds.append(AlertKind.COMMENT)
    elif event_kind == RENDER_STATUS:
        kinds.extend(_render_kinds(None, order.render_status))
    return kinds


def detect_changes(
    previous: OrderSnapshot | None, order: Order, event_kind: str
) -> list[AlertKind]:
    """The alert kinds that going from ``previous`` to ``order`` means (``[]``: no change)."""
    if previous is None:
        return _unseen(order, event_kind)
    kinds: list[AlertKind] = []
    if order.status and order.status != previous.status:
        kinds.append(AlertKind.STATUS_CHANGED)
    if order.payment_status == PAID and previous.payment_status != PAID:
        kinds.append(AlertKind.PAID)
    if (
        order.status in CANCELLED_STATUSES
        and previous.status not in CANCELLED_STATUSES
        and order.status != previous.status
    ):
        kinds.append(AlertKind.CANCELLED)
    before_count = previous.comments_count
    after_count = order.comments_count
    if after_count is not None and before_count is not None and after_count > before_count:
        kinds.append(AlertKind.COMMENT)
    elif (
        event_kind == ORDER_COMMENT
        and (after_count is None or before_count is None or after_count == before_count)
        and order.date_modified is not None
        and order.date_modified != previous.date_modified
    ):
        # The comment event fired and the order moved on, but the count did not tell.
        kinds.append(AlertKind.COMMENT)
    kinds.extend(_render_kinds(previous.render_status, order.render_status))
    return kinds
