"""Status enumeration, labels and the bot's status groups."""

from __future__ import annotations

import pytest

from pixlpark import (
    GROUP_LABELS,
    SETTABLE_STATUSES,
    STATUS_GROUPS,
    OrderStatus,
    group_label,
    payment_status_label,
    render_status_label,
    status_group,
    status_label,
)
from pixlpark.statuses import STATUS_LABELS


def test_every_status_has_both_labels() -> None:
    assert len(OrderStatus) == 23
    for status in OrderStatus:
        assert STATUS_LABELS[status]["ru"] and STATUS_LABELS[status]["en"]


@pytest.mark.parametrize(
    ("value", "lang", "label"),
    [
        ("NotProcessed", "ru", "Новый"),
        ("NotProcessed", "en", "New"),
        ("Delivered", "ru-RU", "Выдан"),
        ("Printed", "de", "Done"),
        ("SomethingNew", "ru", "SomethingNew"),
        (None, "ru", ""),
    ],
)
def test_status_label(value: str | None, lang: str, label: str) -> None:
    assert status_label(value, lang) == label


def test_payment_and_render_labels() -> None:
    assert payment_status_label("Paid", "ru") == "Оплачен"
    assert payment_status_label("NotPaid", "en") == "Not paid"
    assert payment_status_label("Weird", "en") == "Weird"
    assert render_status_label("ArchiveSuccess", "en") == "Print archive ready"
    assert render_status_label("Rendering", "ru") == "Rendering"


def test_groups_partition_all_statuses_but_deleted() -> None:
    grouped = [status for statuses in STATUS_GROUPS.values() for status in statuses]
    assert len(grouped) == len(set(grouped))
    assert set(grouped) == set(OrderStatus) - {OrderStatus.DELETED}
    assert list(STATUS_GROUPS) == list(GROUP_LABELS)
    assert STATUS_GROUPS["new"] == ("NotProcessed", "None", "Preparing")
    assert STATUS_GROUPS["cancelled"] == ("Cancelled", "CancelledWithDefect", "Refused", "Returned")
    assert status_group("PostPress") == "in_work"
    assert status_group("Deleted") is None
    assert status_group("Unknown") is None
    assert group_label("in_work", "ru") == "В работе"
    assert group_label("in_work", "en") == "In production"


def test_settable_statuses() -> None:
    assert "Deleted" not in SETTABLE_STATUSES
    assert "None" not in SETTABLE_STATUSES
    assert "Preparing" not in SETTABLE_STATUSES
    assert len(SETTABLE_STATUSES) == 20
    assert "Printed" in SETTABLE_STATUSES
    assert all(isinstance(status, str) for status in SETTABLE_STATUSES)
