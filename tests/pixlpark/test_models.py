"""Models: both wire shapes, dates, money, ids, and no sample key silently dropped."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel

from pixlpark import (
    Order,
    OrderItem,
    StatusChangeResult,
    UnexpectedResponse,
    parse_datetime,
    parse_order,
)
from pixlpark.models import Comment
from tests.fakes.pixlpark_data import make_items, webhook_body

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pixlpark"


def fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def unmapped_keys(model: type[BaseModel], data: dict[str, Any], where: str = "") -> list[str]:
    """Keys of `data` (recursively) that no field of `model` reads."""
    by_alias = {field.alias or name: field for name, field in model.model_fields.items()}
    missing = []
    for key, value in data.items():
        field = by_alias.get(key)
        if field is None:
            missing.append(f"{where}{key}")
            continue
        nested = _model_of(field.annotation)
        if nested is not None and isinstance(value, dict):
            missing += unmapped_keys(nested, value, f"{where}{key}.")
        elif nested is not None and isinstance(value, list):
            for index, item in enumerate(value):
                if isinstance(item, dict):
                    missing += unmapped_keys(nested, item, f"{where}{key}[{index}].")
    return missing


def _model_of(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()):
        found = _model_of(arg)
        if found is not None:
            return found
    return None


def test_api_sample_orders_parse_without_loss() -> None:
    orders = fixture("orders_list.json")["Result"]
    assert len(orders) == 10
    for raw in orders:
        assert unmapped_keys(Order, raw) == []
        order = Order.model_validate(raw)
        dumped = order.model_dump(by_alias=True)
        assert set(raw) <= set(dumped)
        for key in ("Id", "Title", "Status", "PaymentStatus", "RenderStatus", "UserId"):
            assert dumped[key] == raw[key]
        for key in ("Price", "DiscountPrice", "DeliveryPrice", "TotalPrice", "PaidPrice"):
            assert dumped[key] == Decimal(str(raw[key]))


def test_webhook_sample_parses_without_loss() -> None:
    raw = fixture("webhook_order_message.json")
    assert unmapped_keys(Order, raw) == []
    order = parse_order(raw)
    assert order.id == "5811695"
    assert order.status_date == datetime(2026, 1, 8, 4, 12, tzinfo=UTC)
    assert order.date_paid == datetime(2025, 12, 24, 6, 41, 38, tzinfo=UTC)  # naive → UTC
    assert order.user_additional_info is not None
    assert order.user_additional_info.email == "andrew@pixlpark.com"
    assert order.order_details and order.order_details[0].quantity == 50
    assert order.contractor_orders == []
    assert order.manager_id == ""
    assert order.amount_due == Decimal(0)


def test_status_and_error_samples() -> None:
    result = fixture("order_set_status_warning.json")["Result"][0][0]
    assert unmapped_keys(StatusChangeResult, result) == []
    parsed = StatusChangeResult.model_validate(result)
    assert parsed.ok
    assert parsed.date_created == datetime(2019, 7, 31, 15, 4, tzinfo=UTC)
    assert fixture("error_not_found.json")["ResponseCode"] == 404


def test_generated_items_parse_without_loss() -> None:
    order = fixture("orders_list.json")["Result"][0]
    for item in make_items(order):
        assert unmapped_keys(OrderItem, item) == []
        assert OrderItem.model_validate(item).order_id == order["Id"]


# Fields the webhook DTO fills differently: webhook-only extras and null → "" strings.
WEBHOOK_ONLY_OR_NORMALISED = {
    "status_date",
    "user_additional_info",
    "contractor_orders",
    "order_details",
    "manager_id",
    "tracking_number",
    "tracking_url",
    "google_client_id",
}


def test_webhook_shape_equals_api_shape() -> None:
    for raw in fixture("orders_list.json")["Result"]:
        body = webhook_body(raw)
        assert isinstance(body["Id"], int)
        assert body["DateCreated"].endswith("Z")
        api = Order.model_validate(raw).model_dump(exclude=WEBHOOK_ONLY_OR_NORMALISED)
        hook = parse_order(body).model_dump(exclude=WEBHOOK_ONLY_OR_NORMALISED)
        assert hook == api


def test_webhook_body_keys_match_the_sample() -> None:
    sample = fixture("webhook_order_message.json")
    body = webhook_body(fixture("orders_list.json")["Result"][0])
    assert list(body) == list(sample)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("/Date(1595582820000)/", datetime(2020, 7, 24, 9, 27, tzinfo=UTC)),
        ("\\/Date(1595582820000)\\/", datetime(2020, 7, 24, 9, 27, tzinfo=UTC)),
        ("/Date(1595582820000+0300)/", datetime(2020, 7, 24, 9, 27, tzinfo=UTC)),
        ("/Date(1595582820000-0130)/", datetime(2020, 7, 24, 9, 27, tzinfo=UTC)),
        ("/Date(-86400000)/", datetime(1969, 12, 31, tzinfo=UTC)),
        ("2025-12-24T06:41:00Z", datetime(2025, 12, 24, 6, 41, tzinfo=UTC)),
        ("2025-12-24T06:41:38", datetime(2025, 12, 24, 6, 41, 38, tzinfo=UTC)),
        ("2025-12-24T09:41:00+03:00", datetime(2025, 12, 24, 6, 41, tzinfo=UTC)),
        ("2025-12-24T06:41:00.123Z", datetime(2025, 12, 24, 6, 41, 0, 123000, tzinfo=UTC)),
        ("31.07.2019 15:04", datetime(2019, 7, 31, 15, 4, tzinfo=UTC)),
        ("", None),
        (None, None),
    ],
)
def test_dates(text: str | None, expected: datetime | None) -> None:
    parsed = parse_datetime(text)
    assert parsed == expected
    assert parsed is None or parsed.tzinfo is not None


def test_offset_is_kept_as_zone() -> None:
    parsed = parse_datetime("/Date(1595582820000+0300)/")
    assert parsed is not None and parsed.utcoffset() == timedelta(hours=3)
    assert parsed.hour == 12


@given(st.integers(min_value=-(10**12), max_value=4 * 10**12))
def test_net_dates_round_trip(ms: int) -> None:
    parsed = parse_datetime(f"/Date({ms})/")
    assert parsed is not None
    assert parsed == datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)


@given(st.floats(min_value=0, max_value=10**7, allow_nan=False).map(lambda x: round(x, 2)))
def test_money_has_no_binary_noise(value: float) -> None:
    order = Order.model_validate({"Id": "1", "TotalPrice": value})
    assert order.total_price == Decimal(str(value))


def test_money_and_amount_due() -> None:
    order = Order.model_validate({"Id": 1, "TotalPrice": 15658.5, "PaidPrice": 0.1})
    assert order.total_price == Decimal("15658.5")
    assert order.amount_due == Decimal("15658.4")
    overpaid = Order.model_validate({"Id": 1, "TotalPrice": 100, "PaidPrice": 150})
    assert overpaid.amount_due == Decimal(0)
    assert Order.model_validate({"Id": 1}).amount_due == Decimal(0)


def test_ids_normalised_and_unknowns_kept() -> None:
    order = Order.model_validate(
        {"Id": 5811695, "Status": "BrandNewStatus", "PaymentStatus": "Deferred", "Novel": 1}
    )
    assert order.id == "5811695"
    assert order.status == "BrandNewStatus"
    assert not hasattr(order, "novel")
    assert Order.model_validate({"Id": 5811695.0}).id == "5811695"


def test_snake_case_names_and_aliases() -> None:
    order = Order(id="7", total_price=Decimal("1.5"), user_company_account_inn="7017000000")
    dumped = order.model_dump(by_alias=True, exclude_none=True)
    assert dumped == {
        "Id": "7",
        "TotalPrice": Decimal("1.5"),
        "UserCompanyAccountINN": "7017000000",
    }
    assert Order.model_validate({"id": "8", "total_price": 2}).total_price == Decimal(2)


@pytest.mark.parametrize("value", [[], [{"Id": 1}], "ERP-42", None])
def test_contractor_orders_list_or_string(value: object) -> None:
    assert Order.model_validate({"Id": 1, "ContractorOrders": value}).contractor_orders == value


def test_comment_ids_as_strings() -> None:
    comment = Comment.model_validate(
        {"Id": 1, "OrderId": 2336327, "DateCreated": "/Date(1595582820000)/", "UserCreatedId": 9}
    )
    assert (comment.id, comment.order_id, comment.user_created_id) == ("1", "2336327", "9")


def test_parse_order_rejects_garbage_without_echo() -> None:
    with pytest.raises(UnexpectedResponse) as info:
        parse_order({"Id": "1", "DateCreated": "secret-ish text"})
    assert "secret-ish" not in str(info.value)
    with pytest.raises(UnexpectedResponse):
        parse_order({"Title": "no id"})


def test_timezone_of_naive_is_utc() -> None:
    parsed = parse_datetime("2025-12-24T06:41:38")
    assert parsed is not None and parsed.tzinfo == UTC
    assert parse_datetime(datetime(2020, 1, 1, tzinfo=timezone(timedelta(hours=7)))) == datetime(
        2019, 12, 31, 17, tzinfo=UTC
    )
