"""Property: whatever the order data, the rendered card and lists split into messages that
Telegram accepts (length in UTF-16 units, balanced and supported HTML, everything escaped)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from aiogram.utils.i18n import I18n
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.access import Access, ShopAccess
from handlers.i18n import make_i18n
from handlers.lookups.find import render_found
from handlers.lookups.order import card_text
from handlers.lookups.render import customer_text, items_text
from handlers.lookups.today import render_today
from handlers.order_view import render_status_line
from handlers.text import CAPTION_LIMIT, MESSAGE_LIMIT, split_message, visible_len
from pixlpark import Order, OrderItem, User
from storage import Shop, ShopState
from tests.fakes.telegram import parse_html, utf16_len

# Text with HTML specials, astral characters (2 UTF-16 units), combining marks, newlines.
_CHARS = [*"<>&\"'/;#abcxyzАЯёЁ \n\t-_.", "😀", "𝔸", "\u0301"]
texts = st.lists(st.sampled_from([*_CHARS, "&amp;", "<b>", "</i>"]), max_size=300).map("".join)
opt_text = st.none() | texts
money = st.none() | st.decimals(
    min_value=Decimal("-1e9"), max_value=Decimal("1e9"), places=2, allow_nan=False
)
dates = st.none() | st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2090, 1, 1), timezones=st.just(UTC)
)
statuses = st.none() | st.sampled_from(["NotProcessed", "Printed", "Deleted", "Weird<b>", ""])


@st.composite
def orders(draw: Any) -> Order:
    return Order.model_validate(
        {
            "Id": str(draw(st.integers(1, 10**12))),
            "CustomId": draw(opt_text),
            "Title": draw(opt_text),
            "Status": draw(statuses),
            "PaymentStatus": draw(st.none() | st.sampled_from(["Paid", "NotPaid", "X&Y"])),
            "TrackingNumber": draw(opt_text),
            "TrackingUrl": draw(st.none() | st.just('https://t.example/?a=1&b="<x>"')),
            "TotalPrice": draw(money),
            "PaidPrice": draw(money),
            "DeliveryPrice": draw(money),
            "DiscountPrice": draw(money),
            "DiscountTitle": draw(opt_text),
            "DateCreated": draw(dates),
            "DatePaid": draw(dates),
            "DateReady": draw(dates),
            "DeliveryAddress": {
                "City": draw(opt_text),
                "AddressLine1": draw(opt_text),
                "FullName": draw(opt_text),
                "Phone": draw(opt_text),
            },
            "Shipping": {"Title": draw(opt_text)},
            "UserAdditionalInfo": {"Name": draw(opt_text), "Email": draw(opt_text)},
        }
    )


items = st.lists(
    st.builds(
        lambda name, qty, price, comment: OrderItem(
            name=name, quantity=qty, total_price=price, comment=comment
        ),
        opt_text,
        st.none() | st.integers(0, 10**6),
        money,
        opt_text,
    ),
    max_size=25,
)


def shop_access(title: str, full: bool) -> ShopAccess:
    shop = Shop(
        id=7,
        public_key="pub",
        private_key="priv",
        title=title,
        site_id=None,
        webhook_token="token",
        state=ShopState.ACTIVE,
        linked_by=None,
        created_at=datetime(2026, 1, 1, tzinfo=UTC),
        timezone="Asia/Tomsk",
        last_event_at=None,
        last_poll_at=None,
        baseline_done=True,
        last_webhook_hint_at=None,
    )
    return ShopAccess(shop, None, None, Access.OWNER, full)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def i18n() -> Iterator[I18n]:
    translator = make_i18n("ru")
    with translator.context(), translator.use_locale("ru"):
        yield translator


def check(html: str, limit: int = MESSAGE_LIMIT) -> None:
    parts = split_message(html, limit)
    assert parts
    for part in parts:
        visible, _ = parse_html(part)  # raises on unbalanced, unsupported or unescaped HTML
        assert utf16_len(visible) <= limit
        assert utf16_len(part) <= limit


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(order=orders(), lines=st.none() | items, title=texts, full=st.booleans())
def test_card_and_item_list_are_always_valid(
    i18n: I18n, order: Order, lines: list[OrderItem] | None, title: str, full: bool
) -> None:
    sa = shop_access(title or "x", full)
    card = card_text(sa, order, lines)
    check(card)
    # The caption decision measures what Telegram counts: the visible text.
    visible, _ = parse_html(card)
    assert visible_len(card) == utf16_len(visible)
    if visible_len(card) <= CAPTION_LIMIT:
        check(card, CAPTION_LIMIT)
    check(items_text(order, lines))
    check(render_status_line(order, timezone="Europe/Moscow"))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    many=st.lists(orders(), min_size=0, max_size=60),
    query=texts,
    name=opt_text,
    full=st.booleans(),
)
def test_lists_are_always_valid(
    i18n: I18n, many: list[Order], query: str, name: str | None, full: bool
) -> None:
    sa = shop_access("Shop <&>", full)
    check(render_today(sa, many, datetime(2026, 1, 2, tzinfo=UTC)))
    check(render_found(sa, query, many, 500))
    user = User(id="1", first_name=name, email=name, phone=name)
    check(customer_text(user, many, full_contacts=full, timezone=None))
