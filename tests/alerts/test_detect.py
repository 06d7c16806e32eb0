"""Unit tests of change detection and routing decisions (pure logic)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from bot.pipeline.detect import AlertKind, detect_changes
from bot.pipeline.processor import order_state, order_to_body
from bot.pipeline.routing import in_quiet_hours, selected_kinds
from bot.webhooks import Refusal, dedupe_key, order_id_of, parse_body
from pixlpark import Order, parse_order
from storage import DEFAULT_EVENTS, Link, OrderSnapshot

T0 = datetime(2025, 12, 24, 6, 41, tzinfo=UTC)
K = AlertKind


def order(**fields: Any) -> Order:
    data: dict[str, Any] = {
        "Id": "100",
        "Status": "NotProcessed",
        "PaymentStatus": "NotPaid",
        "RenderStatus": "DoNothing",
        "CommentsCount": 0,
        "TotalPrice": 700.0,
        "DateModified": T0.isoformat(),
    }
    data.update(fields)
    return parse_order(data)


def snap(o: Order) -> OrderSnapshot:
    state = order_state(o)
    return OrderSnapshot(shop_id=1, order_id=o.id, data="{}", updated_at=T0, **state)


def later(minutes: int = 1) -> str:
    return (T0 + timedelta(minutes=minutes)).isoformat()


def test_new_order_without_snapshot() -> None:
    assert detect_changes(None, order(), "order-created") == [K.NEW_ORDER]
    assert detect_changes(None, order(), "order-changed") == [K.NEW_ORDER]
    assert detect_changes(None, order(), "poll-new") == [K.NEW_ORDER]
    paid = order(PaymentStatus="Paid", Status="ReadyToProcessing")
    assert detect_changes(None, paid, "order-created") == [K.NEW_ORDER, K.PAID]


def test_unseen_order_in_progress_does_not_flood() -> None:
    old = order(Status="Printed")
    assert detect_changes(None, old, "poll") == []
    assert detect_changes(None, old, "order-changed") == [K.STATUS_CHANGED]
    assert detect_changes(None, order(Status="Cancelled"), "order-changed") == [
        K.STATUS_CHANGED,
        K.CANCELLED,
    ]
    assert detect_changes(None, old, "order-comment") == [K.COMMENT]
    done = order(Status="Printed", RenderStatus="ArchiveSuccess")
    assert detect_changes(None, done, "render-status") == [K.ARCHIVE_READY]


def test_identical_state_yields_nothing() -> None:
    o = order()
    for event in ("order-created", "order-changed", "order-comment", "render-status", "poll"):
        assert detect_changes(snap(o), o, event) == []


def test_paid_and_status_changes() -> None:
    before = order()
    after = order(PaymentStatus="Paid", Status="ReadyToProcessing", DateModified=later())
    assert detect_changes(snap(before), after, "order-changed") == [K.STATUS_CHANGED, K.PAID]
    only_paid = order(PaymentStatus="Paid", DateModified=later())
    assert detect_changes(snap(before), only_paid, "poll") == [K.PAID]


@pytest.mark.parametrize("status", ["Cancelled", "CancelledWithDefect", "Refused", "Returned"])
def test_cancelled(status: str) -> None:
    before = order(Status="Printing")
    after = order(Status=status, DateModified=later())
    assert detect_changes(snap(before), after, "order-changed") == [K.STATUS_CHANGED, K.CANCELLED]


def test_returned_then_cancelled_is_not_cancelled_twice() -> None:
    before = order(Status="Returned")
    after = order(Status="Cancelled", DateModified=later())
    assert detect_changes(snap(before), after, "poll") == [K.STATUS_CHANGED]


def test_comments() -> None:
    before = order()
    assert detect_changes(snap(before), order(CommentsCount=1, DateModified=later()), "poll") == [
        K.COMMENT
    ]
    # the comment event without a count change, but the order moved on
    moved = order(DateModified=later())
    assert detect_changes(snap(before), moved, "order-comment") == [K.COMMENT]
    assert detect_changes(snap(before), moved, "order-changed") == []


def test_archive() -> None:
    before = order()
    ready = order(RenderStatus="ArchiveSuccess", DateModified=later())
    assert detect_changes(snap(before), ready, "render-status") == [K.ARCHIVE_READY]
    failed = order(RenderStatus="ArchiveError", DateModified=later())
    assert detect_changes(snap(before), failed, "render-status") == [K.ARCHIVE_FAILED]
    assert detect_changes(snap(before), order(RenderStatus="RenderFailed"), "poll") == [
        K.ARCHIVE_FAILED
    ]
    assert detect_changes(snap(ready), ready, "render-status") == []


def test_order_body_round_trip() -> None:
    o = order(PaymentStatus="Paid", DatePaid="2025-12-24T06:41:38")
    import json

    again = parse_order(json.loads(order_to_body(o)))
    assert order_state(again) == order_state(o)
    assert again.total_price == Decimal("700")


def link(**fields: Any) -> Link:
    values: dict[str, Any] = {
        "chat_id": 1,
        "shop_id": 1,
        "topic_id": None,
        "events": DEFAULT_EVENTS,
        "statuses": frozenset(),
        "min_total": None,
        "quiet_hours": None,
        "loud_statuses": frozenset(),
        "created_by": None,
        "created_at": T0,
    }
    values.update(fields)
    return Link(**values)


def test_selected_kinds() -> None:
    o = order(Status="Printed")
    all_kinds = [K.STATUS_CHANGED, K.PAID, K.COMMENT, K.ARCHIVE_READY]
    assert selected_kinds(link(), all_kinds, o) == [K.PAID, K.COMMENT]
    assert selected_kinds(link(events=frozenset({"status_changed"})), all_kinds, o) == [
        K.STATUS_CHANGED
    ]
    assert selected_kinds(link(loud_statuses=frozenset({"Printed"})), all_kinds, o) == [
        K.STATUS_CHANGED,
        K.PAID,
        K.COMMENT,
    ]
    assert selected_kinds(link(statuses=frozenset({"Shipped"})), all_kinds, o) == []
    assert selected_kinds(link(min_total=Decimal(1000)), all_kinds, o) == []
    assert selected_kinds(link(min_total=Decimal(700)), all_kinds, o) == [K.PAID, K.COMMENT]


def test_quiet_hours_in_shop_zone() -> None:
    # 06:41 UTC is 09:41 in Moscow
    assert in_quiet_hours((9, 10), T0, "Europe/Moscow")
    assert not in_quiet_hours((9, 10), T0, "UTC")
    assert in_quiet_hours((22, 10), T0, "Europe/Moscow")
    assert not in_quiet_hours((22, 7), T0, "Europe/Moscow")
    assert not in_quiet_hours(None, T0, "Europe/Moscow")


def test_webhook_body_checks() -> None:
    assert order_id_of({"Id": 5811695}, "order-changed") == "5811695"
    assert order_id_of({"Id": "2336327"}, "order-created") == "2336327"
    assert order_id_of({"Id": 7, "OrderId": 42}, "order-comment") == "42"
    for bad in ({}, {"Id": None}, {"Id": True}, {"Id": "abc"}, {"Id": -3}, {"Id": 1.5}):
        assert order_id_of(bad, "order-changed") is None
    for raw in (b"not json", b"[1,2]", b"\xff\xfe\xfa", b'"text"'):
        with pytest.raises(Refusal) as info:
            parse_body(raw)
        assert info.value.status == 400
    a = dedupe_key(1, "order-changed", {"Id": 1, "Status": "x"})
    assert a == dedupe_key(1, "order-changed", {"Status": "x", "Id": 1})
    assert a != dedupe_key(1, "order-created", {"Id": 1, "Status": "x"})
    assert a != dedupe_key(2, "order-changed", {"Id": 1, "Status": "x"})
