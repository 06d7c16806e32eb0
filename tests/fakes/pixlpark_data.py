"""Data for the fake Pixlpark server: samples, generated objects, wire formats, webhook DTOs.

Everything here is plain dicts in the shapes Pixlpark sends (PascalCase keys). API v1
objects use string order ids and `/Date(ms)/` dates; webhook bodies (`OrderMessageDTO`) use
int ids and ISO dates, exactly like `tests/fixtures/pixlpark/webhook_order_message.json`.
"""

from __future__ import annotations

import copy
import json
import re
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pixlpark"
_NET_DATE_RE = re.compile(r"^/Date\((-?\d+)([+-]\d{4})?\)/$")


def load_fixture(name: str) -> Any:
    """A sample from tests/fixtures/pixlpark (e.g. "orders_list.json"), freshly parsed."""
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


NOT_FOUND_BODY: dict[str, Any] = load_fixture("error_not_found.json")
STATUS_WARNING_BODY: dict[str, Any] = load_fixture("order_set_status_warning.json")
STATUS_WARNING_TEXT: str = STATUS_WARNING_BODY["Result"][0][0]["Description"]


def now_ms() -> int:
    """Current wall time in milliseconds since the epoch."""
    return int(time.time() * 1000)


def net_date(value: datetime | int) -> str:
    """A datetime or epoch-ms as the API v1 date string `/Date(ms)/`."""
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        value = int(aware.timestamp() * 1000)
    return f"/Date({value})/"


def net_date_ms(value: str | None) -> int | None:
    """`/Date(ms)/` back to epoch milliseconds (None for None)."""
    if value is None:
        return None
    match = _NET_DATE_RE.match(value)
    if not match:
        raise ValueError(f"not a /Date()/ value: {value!r}")
    return int(match.group(1))


def iso_date(value: str | None, *, zulu: bool = True) -> str | None:
    """`/Date(ms)/` as the webhook's ISO form: `2025-12-24T06:41:00Z` (or without the Z)."""
    ms = net_date_ms(value)
    if ms is None:
        return None
    text = datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    return text + "Z" if zulu else text


def to_wire(payload: Any) -> str:
    """JSON as Pixlpark writes it: slashes escaped, so dates read `"\\/Date(..)\\/"`."""
    return json.dumps(payload, ensure_ascii=False).replace("/", "\\/")


def envelope(result: list[Any], response_code: int = 200) -> dict[str, Any]:
    """The API v1 envelope around a result list."""
    return {"ApiVersion": "1.0", "Result": result, "ResponseCode": response_code}


_PRODUCTS = (
    ("Фотографии (10x15 см) [без полей]", 12.0, 40),
    ("Фотокнига 20x20 (твёрдая обложка)", 1890.0, 1),
    ("Карманные календари (100x70 мм)", 40.0, 10),
    ("Кружка с фото (белая)", 450.0, 2),
    ("Холст на подрамнике 30x40", 1500.0, 1),
)


def make_order(
    order_id: str, photolab_id: int, created_ms: int, seq: int, **overrides: Any
) -> dict[str, Any]:
    """A plausible API-shape order; `overrides` use API keys (`Status="Printed"`).

    datetime values given for `Date*` keys are converted to `/Date(ms)/`.
    """
    title, unit_price, quantity = _PRODUCTS[seq % len(_PRODUCTS)]
    price = round(unit_price * quantity, 2)
    delivery = 0.0 if seq % 3 == 0 else 300.0
    courier = seq % 2 == 1
    order: dict[str, Any] = {
        "Id": order_id,
        "PhotolabId": photolab_id,
        "CustomId": order_id,
        "SourceOrderId": None,
        "ManagerId": None,
        "AssignedToId": None,
        "Title": f"{title} x{quantity}",
        "TrackingUrl": "",
        "TrackingNumber": None,
        "Status": "NotProcessed",
        "RenderStatus": "ArchiveSuccess",
        "PaymentStatus": "NotPaid",
        "DeliveryAddress": {
            "ZipCode": "634029",
            "AddressLine1": f"ул. Белинского, {10 + seq % 50}",
            "AddressLine2": "",
            "Description": "",
            "City": "Томск",
            "Country": "Россия",
            "State": "Томская область",
            "FullName": f"Клиент {seq}",
            "Phone": f"7900000{seq % 10000:04d}",
        },
        "Shipping": {
            "Id": 40845 if courier else 8106,
            "Title": "Курьер компании - Томск" if courier else "Офис компании на Белинского",
            "Phone": "+7(495)545-46-91",
            "Email": None,
            "Type": "Courier" if courier else "Point",
        },
        "CommentsCount": 0,
        "DownloadLink": f"https://cdn.pixlpark.com/data2/orders/{photolab_id}/{order_id}/a.zip",
        "PreviewImageUrl": f"https://cdn.pixlpark.com/data2/orders/{photolab_id}/{order_id}/preview.jpg",
        "Price": price,
        "DiscountPrice": 0.0,
        "DeliveryPrice": delivery,
        "TotalPrice": round(price + delivery, 2),
        "PaidPrice": 0.0,
        "UserId": 70_000_000 + seq % 7,
        "UserCompanyAccountId": None,
        "DiscountTitle": None,
        "DateCreated": net_date(created_ms),
        "DateModified": net_date(created_ms),
        "DatePaid": None,
        "LastDownloadedPaymentDocument": None,
        "PaymentSystemUniqueId": None,
        "GoogleClientId": "000000000.0000000000",
    }
    for key, value in overrides.items():
        order[key] = net_date(value) if isinstance(value, datetime) else value
    return order


def make_items(order: dict[str, Any], seq: int = 0) -> list[dict[str, Any]]:
    """Order lines (`GET /orders/{id}/items`) consistent with the order's price."""
    title = str(order.get("Title") or "Товар")
    price = float(order.get("Price") or 0.0)
    return [
        {
            "Id": 9_000_000 + seq,
            "OrderId": int(order["Id"]),
            "MaterialId": 1000 + seq % 5,
            "Name": title.split(" x")[0],
            "Description": "",
            "Quantity": 1,
            "ItemPrice": price,
            "AdditionalPrice": 0.0,
            "CustomWorkPrice": 0.0,
            "TotalPrice": price,
            "DiscountPrice": 0.0,
            "PageCount": 1,
            "SkuItems": [{"Name": "Size", "Value": "10x15"}],
            "PreviewImages": [str(order.get("PreviewImageUrl") or "")],
            "Options": [
                {
                    "Title": "Тип бумаги",
                    "Description": "Матовая",
                    "Price": 0.0,
                    "PriceFormatType": "Fixed",
                    "SkuItems": [{"Name": "Paper", "Value": "matte"}],
                }
            ],
            "AdditionalFields": {"Note": ""},
            "DirectoryName": f"{seq:03d}_item",
            "Comment": "",
            "EditorOutput": {"Height": 150.0, "Width": 100.0, "Thickness": 0.0},
            "TotalWeight": 0.05,
        }
    ]


def make_user(user_id: int, **overrides: Any) -> dict[str, Any]:
    """A user object (the real field set is unknown; these are GUESSES)."""
    user: dict[str, Any] = {
        "Id": user_id,
        "Email": f"user{user_id}@example.com",
        "FirstName": "Иван",
        "LastName": f"Клиент{user_id % 1000}",
        "MiddleName": None,
        "Phone": f"7900{user_id % 10_000_000:07d}",
        "DateCreated": net_date(1_577_836_800_000),
    }
    user.update(overrides)
    return user


def default_catalogue() -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Categories (`GET /products`) and products per category (`GET /products/{id}`)."""
    categories = [
        {"Id": 11, "Title": "Фотопечать", "Description": "Печать фотографий"},
        {"Id": 12, "Title": "Сувениры", "Description": "Кружки, календари"},
    ]
    products = {
        "11": [{"Id": 1000, "Title": _PRODUCTS[0][0], "CategoryId": 11, "Price": 12.0}],
        "12": [
            {"Id": 1002, "Title": _PRODUCTS[2][0], "CategoryId": 12, "Price": 40.0},
            {"Id": 1003, "Title": _PRODUCTS[3][0], "CategoryId": 12, "Price": 450.0},
        ],
    }
    return categories, products


def default_shippings() -> list[dict[str, Any]]:
    """Delivery methods (`GET /shippings`, GUESS)."""
    return [
        {
            "Id": 8106,
            "Title": "Офис компании на Белинского",
            "Phone": "+7 (495) 545-46-91",
            "Email": None,
            "Type": "Point",
        },
        {
            "Id": 40845,
            "Title": "Курьер компании - Томск",
            "Phone": "+7(495)545-46-91",
            "Email": None,
            "Type": "Courier",
            "Price": 300.0,
        },
    ]


def default_discounts() -> list[dict[str, Any]]:
    """Discounts (`GET /discounts`, GUESS)."""
    return [{"Id": 1, "Title": "Скидка 10% на фотокниги", "Percent": 10.0, "IsActive": True}]


def webhook_body(
    order: dict[str, Any],
    *,
    user: dict[str, Any] | None = None,
    items: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Convert an API-shape order into the webhook `OrderMessageDTO` body.

    Int `Id`, ISO dates (`DatePaid` without `Z`, as in the official sample), and the
    webhook-only fields `StatusDate`, `UserAdditionalInfo`, `UserCompanyAccountINN`,
    `DateReady`, `ContractorOrders`, `OrderDetails`; key order follows the sample.
    """
    src = copy.deepcopy(order)
    address = src.get("DeliveryAddress") or {}
    info = {
        "Name": (user or {}).get("FirstName") or address.get("FullName"),
        "Email": (user or {}).get("Email"),
        "Phone": (user or {}).get("Phone") or address.get("Phone"),
    }
    details = [
        {
            "Title": item.get("Name") or src.get("Title"),
            "Quantity": item.get("Quantity", 1),
            "ItemPartsQuantity": 1,
            "BookTitle": "",
        }
        for item in (items or [])
    ] or [{"Title": src.get("Title"), "Quantity": 1, "ItemPartsQuantity": 1, "BookTitle": ""}]
    date_ready = src.get("DateReady")
    return {
        "Id": int(src["Id"]),
        "PhotolabId": src.get("PhotolabId"),
        "CustomId": src.get("CustomId"),
        "SourceOrderId": src.get("SourceOrderId"),
        "ManagerId": src.get("ManagerId") or "",
        "AssignedToId": src.get("AssignedToId"),
        "Title": src.get("Title"),
        "TrackingUrl": src.get("TrackingUrl") or "",
        "TrackingNumber": src.get("TrackingNumber") or "",
        "Status": src.get("Status"),
        "PaymentStatus": src.get("PaymentStatus"),
        "StatusDate": iso_date(src.get("DateModified")),
        "RenderStatus": src.get("RenderStatus"),
        "DeliveryAddress": src.get("DeliveryAddress"),
        "Shipping": src.get("Shipping"),
        "CommentsCount": src.get("CommentsCount", 0),
        "DownloadLink": src.get("DownloadLink"),
        "PreviewImageUrl": src.get("PreviewImageUrl"),
        "Price": src.get("Price"),
        "DiscountPrice": src.get("DiscountPrice"),
        "DeliveryPrice": src.get("DeliveryPrice"),
        "TotalPrice": src.get("TotalPrice"),
        "PaidPrice": src.get("PaidPrice"),
        "UserId": src.get("UserId"),
        "UserAdditionalInfo": info,
        "UserCompanyAccountId": src.get("UserCompanyAccountId"),
        "UserCompanyAccountINN": src.get("UserCompanyAccountINN"),
        "DiscountTitle": src.get("DiscountTitle"),
        "DateCreated": iso_date(src.get("DateCreated")),
        "DateModified": iso_date(src.get("DateModified")),
        "DatePaid": iso_date(src.get("DatePaid"), zulu=False),
        "DateReady": date_ready if date_ready is None else iso_date(date_ready),
        "LastDownloadedPaymentDocument": src.get("LastDownloadedPaymentDocument"),
        "PaymentSystemUniqueId": src.get("PaymentSystemUniqueId"),
        "GoogleClientId": src.get("GoogleClientId") or "",
        "ContractorOrders": src.get("ContractorOrders") or [],
        "OrderDetails": details,
    }
