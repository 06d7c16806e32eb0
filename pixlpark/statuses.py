"""Order, payment and render statuses with Russian and English labels, and the bot's groups.

Wire values are the English enum names of API v1 (`pixlpark-api.md` §3.1-3.3). Values not
listed here are kept as plain strings everywhere; label functions return them unchanged.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

Lang = Literal["ru", "en"]


class OrderStatus(StrEnum):
    """Known values of `Order.Status` (§3.1); the order follows the production flow."""

    NONE = "None"
    PREPARING = "Preparing"
    NOT_PROCESSED = "NotProcessed"
    AWAITING_PAYMENT = "AwaitingPayment"
    READY_TO_PROCESSING = "ReadyToProcessing"
    DESIGN_COORDINATION = "DesignCoordination"
    DESIGN_COORDINATION_COMPLETE = "DesignCoordinationComplete"
    DESIGN_COORDINATION_AWAITING_REPLY = "DesignCoordinationAwaitingReply"
    PREPRESS_COORDINATION = "PrepressCoordination"
    PREPRESS_COORDINATION_COMPLETE = "PrepressCoordinationComplete"
    PREPRESS_COORDINATION_AWAITING_REPLY = "PrepressCoordinationAwaitingReply"
    PRINTING = "Printing"
    PRINTED_WITH_DEFECT = "PrintedWithDefect"
    POST_PRESS = "PostPress"
    PRINTED = "Printed"
    SHIPPED = "Shipped"
    SHIPPED_TO_STORAGE = "ShippedToStorage"
    RETURNED = "Returned"
    CANCELLED = "Cancelled"
    CANCELLED_WITH_DEFECT = "CancelledWithDefect"
    REFUSED = "Refused"
    DELIVERED = "Delivered"
    DELETED = "Deleted"


S = OrderStatus

STATUS_LABELS: dict[str, dict[Lang, str]] = {
    S.NONE: {"ru": "Оформлен", "en": "Placed"},
    S.PREPARING: {"ru": "Оформлен (подготовка)", "en": "Placed (preparing)"},
    S.NOT_PROCESSED: {"ru": "Новый", "en": "New"},
    S.AWAITING_PAYMENT: {"ru": "Ожидает оплаты", "en": "Awaiting payment"},
    S.READY_TO_PROCESSING: {"ru": "Готов к работе", "en": "Ready for production"},
    S.DESIGN_COORDINATION: {"ru": "Разработка дизайна", "en": "Design in progress"},
    S.DESIGN_COORDINATION_COMPLETE: {"ru": "Готов дизайн", "en": "Design ready"},
    S.DESIGN_COORDINATION_AWAITING_REPLY: {
        "ru": "Ждать ответа клиента (дизайн)",
        "en": "Awaiting customer reply (design)",
    },
    S.PREPRESS_COORDINATION: {"ru": "Проверка макета", "en": "Prepress check"},
    S.PREPRESS_COORDINATION_COMPLETE: {"ru": "Макет проверен", "en": "Prepress approved"},
    S.PREPRESS_COORDINATION_AWAITING_REPLY: {
        "ru": "Ждать ответа клиента (препресс)",
        "en": "Awaiting customer reply (prepress)",
    },
    S.PRINTING: {"ru": "В печать", "en": "Printing"},
    S.PRINTED_WITH_DEFECT: {"ru": "Напечатан с браком", "en": "Printed with defect"},
    S.POST_PRESS: {"ru": "Послепечатная обработка", "en": "Post-press"},
    S.PRINTED: {"ru": "Выполнен", "en": "Done"},
    S.SHIPPED: {"ru": "Отправлен", "en": "Shipped"},
    S.SHIPPED_TO_STORAGE: {"ru": "Доставлен на точку выдачи", "en": "At pickup point"},
    S.RETURNED: {"ru": "Возвращён", "en": "Returned"},
    S.CANCELLED: {"ru": "Отменён", "en": "Cancelled"},
    S.CANCELLED_WITH_DEFECT: {"ru": "Отменён по браку", "en": "Cancelled (defect)"},
    S.REFUSED: {"ru": "Не забран", "en": "Not collected"},
    S.DELIVERED: {"ru": "Выдан", "en": "Delivered"},
    S.DELETED: {"ru": "Удалён", "en": "Deleted"},
}

SETTABLE_STATUSES: tuple[str, ...] = tuple(
    status for status in OrderStatus if status not in (S.DELETED, S.NONE, S.PREPARING)
)
"""Statuses staff may set from the bot (`Deleted` deletes the order, so it is excluded)."""

STATUS_GROUPS: dict[str, tuple[str, ...]] = {
    "new": (S.NOT_PROCESSED, S.NONE, S.PREPARING),
    "awaiting_payment": (S.AWAITING_PAYMENT,),
    "in_work": (
        S.READY_TO_PROCESSING,
        S.DESIGN_COORDINATION,
        S.DESIGN_COORDINATION_COMPLETE,
        S.DESIGN_COORDINATION_AWAITING_REPLY,
        S.PREPRESS_COORDINATION,
        S.PREPRESS_COORDINATION_COMPLETE,
        S.PREPRESS_COORDINATION_AWAITING_REPLY,
        S.PRINTING,
        S.POST_PRESS,
        S.PRINTED_WITH_DEFECT,
    ),
    "ready": (S.PRINTED,),
    "shipped": (S.SHIPPED, S.SHIPPED_TO_STORAGE),
    "done": (S.DELIVERED,),
    "cancelled": (S.CANCELLED, S.CANCELLED_WITH_DEFECT, S.REFUSED, S.RETURNED),
}
"""Status groups the bot shows as filters and counters, in display order."""

GROUP_LABELS: dict[str, dict[Lang, str]] = {
    "new": {"ru": "Новые", "en": "New"},
    "awaiting_payment": {"ru": "Ожидают оплаты", "en": "Awaiting payment"},
    "in_work": {"ru": "В работе", "en": "In production"},
    "ready": {"ru": "Готовы", "en": "Ready"},
    "shipped": {"ru": "Отправлены", "en": "Shipped"},
    "done": {"ru": "Выданы", "en": "Delivered"},
    "cancelled": {"ru": "Отменены", "en": "Cancelled"},
}

# CONFIRMED: NotPaid, Paid. The other three are GUESSES for the admin panel's
# "Оплачен частично", "Отложен", "Возврат"; unknown values are shown raw.
PAYMENT_STATUS_LABELS: dict[str, dict[Lang, str]] = {
    "NotPaid": {"ru": "Не оплачен", "en": "Not paid"},
    "Paid": {"ru": "Оплачен", "en": "Paid"},
    "PartiallyPaid": {"ru": "Оплачен частично", "en": "Partially paid"},
    "Deferred": {"ru": "Отложен", "en": "Deferred"},
    "Refunded": {"ru": "Возврат", "en": "Refunded"},
}

# CONFIRMED: ArchiveSuccess, DoNothing. Other render states exist but were never seen.
RENDER_STATUS_LABELS: dict[str, dict[Lang, str]] = {
    "ArchiveSuccess": {"ru": "Архив для печати готов", "en": "Print archive ready"},
    "DoNothing": {"ru": "Без архива", "en": "No print archive"},
}

_STATUS_TO_GROUP: dict[str, str] = {
    status: group for group, statuses in STATUS_GROUPS.items() for status in statuses
}


def normalize_lang(lang: str | None) -> Lang:
    """`ru`, `ru-RU`, `RU` → `ru`; anything else → `en`."""
    return "ru" if lang and lang.lower().startswith("ru") else "en"


def _label(table: dict[str, dict[Lang, str]], value: str | None, lang: str | None) -> str:
    if value is None:
        return ""
    labels = table.get(value)
    return labels[normalize_lang(lang)] if labels else value


def status_label(value: str | None, lang: str | None = "ru") -> str:
    """Human label of an order status; unknown values come back unchanged."""
    return _label(STATUS_LABELS, value, lang)


def payment_status_label(value: str | None, lang: str | None = "ru") -> str:
    """Human label of a payment status; unknown values come back unchanged."""
    return _label(PAYMENT_STATUS_LABELS, value, lang)


def render_status_label(value: str | None, lang: str | None = "ru") -> str:
    """Human label of a render (print archive) status; unknown values come back unchanged."""
    return _label(RENDER_STATUS_LABELS, value, lang)


def group_label(group: str, lang: str | None = "ru") -> str:
    """Human label of a status group key such as `in_work`."""
    return _label(GROUP_LABELS, group, lang)


def status_group(status: str | None) -> str | None:
    """The group key of a status, or None for `Deleted` and unknown values."""
    return _STATUS_TO_GROUP.get(status) if status is not None else None
