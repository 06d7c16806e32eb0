"""Pydantic models of Pixlpark objects (`pixlpark-api.md` §3).

Every field is optional except `Order.id`, unknown keys are ignored, enum-like values stay
plain strings, money is `Decimal`, dates are timezone-aware. Python names are snake_case;
JSON keys are PascalCase aliases, and both work as input. The models accept the API v1
shape (string ids, `/Date(ms)/`) and the webhook shape (int ids, ISO dates).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_pascal

from pixlpark.errors import UnexpectedResponse
from pixlpark.parsing import parse_datetime, to_decimal, to_loose_str, to_str_id


def _empty_to_none(value: object) -> object:
    return None if value == "" else value


DateTimeField = Annotated[datetime | None, BeforeValidator(parse_datetime)]
Money = Annotated[Decimal | None, BeforeValidator(to_decimal)]
StrId = Annotated[str | None, BeforeValidator(to_str_id)]
Text = Annotated[str | None, BeforeValidator(to_loose_str)]
IntField = Annotated[int | None, BeforeValidator(_empty_to_none)]
FloatField = Annotated[float | None, BeforeValidator(_empty_to_none)]


class PixlparkModel(BaseModel):
    """Base: PascalCase aliases, population by field name, unknown keys ignored."""

    model_config = ConfigDict(alias_generator=to_pascal, populate_by_name=True, extra="ignore")


class DeliveryAddress(PixlparkModel):
    """Recipient address of an order; `full_name`/`phone` belong to the recipient."""

    zip_code: Text = None
    address_line1: Text = None
    address_line2: Text = None
    description: Text = None
    city: Text = None
    country: Text = None
    state: Text = None
    full_name: Text = None
    phone: Text = None


class Shipping(PixlparkModel):
    """Delivery method as embedded in an order. `type`: Point, Courier, Postal, ..."""

    id: IntField = None
    title: Text = None
    phone: Text = None
    email: Text = None
    type: Text = None


class UserAdditionalInfo(PixlparkModel):
    """Customer contact data sent in webhooks."""

    name: Text = None
    email: Text = None
    phone: Text = None


class OrderDetail(PixlparkModel):
    """Light item line sent in webhooks (`OrderDetails`)."""

    title: Text = None
    quantity: IntField = None
    item_parts_quantity: IntField = None
    book_title: Text = None


class Order(PixlparkModel):
    """An order: element of `GET /orders`, `GET /orders/{id}` and webhook bodies (§3.5)."""

    id: Annotated[str, BeforeValidator(to_str_id)]
    photolab_id: IntField = None
    custom_id: Text = None
    source_order_id: Text = None
    manager_id: Text = None
    assigned_to_id: IntField = None
    title: Text = None
    tracking_url: Text = None
    tracking_number: Text = None
    status: Text = None
    render_status: Text = None
    payment_status: Text = None
    status_date: DateTimeField = None
    delivery_address: DeliveryAddress | None = None
    shipping: Shipping | None = None
    comments_count: IntField = None
    download_link: Text = None
    preview_image_url: Text = None
    price: Money = None
    discount_price: Money = None
    delivery_price: Money = None
    total_price: Money = None
    paid_price: Money = None
    user_id: IntField = None
    user_additional_info: UserAdditionalInfo | None = None
    user_company_account_id: IntField = None
    user_company_account_inn: Text = Field(default=None, alias="UserCompanyAccountINN")
    discount_title: Text = None
    date_created: DateTimeField = None
    date_modified: DateTimeField = None
    date_paid: DateTimeField = None
    date_ready: DateTimeField = None
    last_downloaded_payment_document: Any = None
    payment_system_unique_id: Text = None
    google_client_id: Text = None
    contractor_order_number: Text = None
    contractor_order_total_price: Money = None
    contractor_orders: list[Any] | str | None = None
    order_details: list[OrderDetail] | None = None

    @property
    def amount_due(self) -> Decimal:
        """What the customer still owes: `TotalPrice - PaidPrice`, never below zero."""
        due = (self.total_price or Decimal(0)) - (self.paid_price or Decimal(0))
        return max(due, Decimal(0))


class SkuItem(PixlparkModel):
    """A SKU key/value pair of an item or option."""

    name: Text = None
    value: Text = None


class ItemOption(PixlparkModel):
    """A product option chosen for an item."""

    title: Text = None
    description: Text = None
    price: Money = None
    price_format_type: Text = None
    sku_items: list[SkuItem] | None = None


class EditorOutput(PixlparkModel):
    """Sizes produced by the editor."""

    height: FloatField = None
    width: FloatField = None
    thickness: FloatField = None


class OrderItem(PixlparkModel):
    """A line of `GET /orders/{id}/items` (§3.6, LIKELY; no raw sample exists)."""

    id: IntField = None
    order_id: StrId = None
    material_id: IntField = None
    name: Text = None
    description: Text = None
    quantity: IntField = None
    item_price: Money = None
    additional_price: Money = None
    custom_work_price: Money = None
    total_price: Money = None
    discount_price: Money = None
    page_count: IntField = None
    sku_items: list[SkuItem] | None = None
    preview_images: list[str] | None = None
    options: list[ItemOption] | None = None
    additional_fields: dict[str, Any] | None = None
    directory_name: Text = None
    comment: Text = None
    editor_output: EditorOutput | None = None
    total_weight: FloatField = None


class StatusChangeResult(PixlparkModel):
    """One entry of the `POST /orders/{id}/status` answer.

    `date_created` is sent as local wall time (`dd.MM.yyyy HH:mm`) in the site's zone, which
    the API does not name; it is returned tagged as UTC.
    """

    type: Text = None
    description: Text = None
    date_created: DateTimeField = None

    @property
    def ok(self) -> bool:
        """Success and Warning (already in that status) both mean the status is set."""
        return (self.type or "").lower() in ("success", "warning")


class Comment(PixlparkModel):
    """Answer of `POST /orders/{id}/comments`."""

    id: StrId = None
    order_id: StrId = None
    status: Text = None
    date_created: DateTimeField = None
    body_source: Text = None
    user_created_id: StrId = None


class User(PixlparkModel):
    """A Pixlpark user (customer or staff). Field names were never captured: GUESS."""

    id: StrId = None
    email: Text = None
    first_name: Text = None
    last_name: Text = None
    middle_name: Text = None
    phone: Text = None
    date_created: DateTimeField = None

    @property
    def full_name(self) -> str:
        """First, middle and last name joined with spaces (may be empty)."""
        parts = (self.first_name, self.middle_name, self.last_name)
        return " ".join(part for part in parts if part)


class Category(PixlparkModel):
    """A product category (`GET /products`). Fields are GUESSES."""

    id: StrId = None
    title: Text = None
    name: Text = None
    description: Text = None
    parent_id: StrId = None


class Product(PixlparkModel):
    """A product (`GET /products/{categoryId}`). Fields are GUESSES."""

    id: StrId = None
    title: Text = None
    name: Text = None
    description: Text = None
    category_id: StrId = None
    price: Money = None


class ShippingMethod(Shipping):
    """A delivery method of the site (`GET /shippings`, GUESS). Extra fields are GUESSES."""

    description: Text = None
    price: Money = None
    is_active: bool | None = None


class Discount(PixlparkModel):
    """A discount (`GET /discounts`, GUESS). Fields are GUESSES."""

    id: StrId = None
    title: Text = None
    description: Text = None
    code: Text = None
    percent: Money = None
    amount: Money = None
    is_active: bool | None = None
    date_start: DateTimeField = None
    date_end: DateTimeField = None


ModelT = TypeVar("ModelT", bound=BaseModel)


def parse_model(model: type[ModelT], data: object, *, what: str | None = None) -> ModelT:
    """Validate `data` as `model`, raising `UnexpectedResponse` without echoing the input."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<root>'}: {err['msg']}"
            for err in exc.errors(include_input=False, include_url=False)[:3]
        )
        raise UnexpectedResponse(
            f"{what or model.__name__} has a wrong shape: {problems}"
        ) from None


def parse_order(data: Mapping[str, Any]) -> Order:
    """Parse an order from a webhook body (or any API-shape dict)."""
    return parse_model(Order, data, what="order")
