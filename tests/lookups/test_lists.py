"""/orders, /today, /status, /find, /customer, /discounts, /shipping and /help, end to end."""

from __future__ import annotations

import re

from storage import Role
from tests.harness import Harness
from tests.lookups.helpers import (
    ORDER,
    STRANGER,
    VIEWER,
    add_member,
    ask,
    assert_valid_html,
    body,
    button,
    buttons,
    linked_group,
    press,
    setup_shop,
)


async def test_orders_pages_and_filters(harness: Harness) -> None:
    owner, _shop, fake = await setup_shop(harness)
    new = [fake.add_order(Status="NotProcessed")["Id"] for _ in range(12)]
    ready = [fake.add_order(Status="Printed")["Id"] for _ in range(3)]
    page1 = await ask(harness, owner, owner.id, "/orders")
    text = page1["text"]
    assert "Orders · Demo Print" in text
    statuses = [o["Status"] for o in fake.orders.values()]
    new_count = sum(s in ("NotProcessed", "None", "Preparing") for s in statuses)
    assert f"New {new_count} · Awaiting payment 0 · In production 0 · Ready 3" in text
    assert "page 1 of 3" in text
    everything = [o["Id"] for o in fake.newest_first()]
    assert everything[:15] == [*reversed(ready), *reversed(new)]
    numbers = re.findall(r"№(\d+)", text)
    assert numbers == everything[:10]
    assert harness.pp.count("/orders/count") == 7  # one count call per group
    names = buttons(page1)
    assert "Next ▶" in names and "◀ Previous" not in names
    assert "Ready (3)" in names and "All" in " ".join(names)

    await press(harness, owner, page1, names["Next ▶"])
    page2 = harness.tg.message(owner.id, page1["message_id"])
    assert page2 is not None and "page 2 of 3" in page2["text"]
    assert re.findall(r"№(\d+)", page2["text"]) == everything[10:20]
    await press(harness, owner, page2, buttons(page2)["Next ▶"])
    page3 = harness.tg.message(owner.id, page1["message_id"])
    assert page3 is not None and "page 3 of 3" in page3["text"]
    assert "Next ▶" not in buttons(page3)
    await press(harness, owner, page3, buttons(page3)["◀ Previous"])
    back = harness.tg.message(owner.id, page1["message_id"])
    assert back is not None and "page 2 of 3" in back["text"]

    await press(harness, owner, back, button(back, "Ready (3)"))
    filtered = harness.tg.message(owner.id, page1["message_id"])
    assert filtered is not None and "Filter: Ready" in filtered["text"]
    assert re.findall(r"№(\d+)", filtered["text"]) == list(reversed(ready))
    assert len(harness.tg.sent_messages(owner.id)) == 1  # every click edited the same message


async def test_orders_in_a_group_in_russian_with_a_filter_word(harness: Harness) -> None:
    _owner, shop, fake = await setup_shop(harness)
    fake.add_order(Status="ShippedToStorage")
    fake.add_order(Status="Shipped")
    group = await linked_group(harness, shop, lang="ru")
    guest = harness.tg.user(STRANGER, "Гость", language_code="ru")
    msg = await ask(harness, guest, group, "/orders отправлены")
    assert "Фильтр: Отправлены" in msg["text"] and "страница 1 из 1" in msg["text"]
    assert len(re.findall(r"№\d+", msg["text"])) == 2
    assert "Доставлен на точку выдачи" in msg["text"]
    msg = await ask(harness, guest, group, "/orders whatever")
    assert msg["text"].startswith("Использование: /orders")


async def test_today_counts_totals_and_groups(harness: Harness) -> None:
    owner, _shop, fake = await setup_shop(harness)
    fake.add_order(Status="NotProcessed", TotalPrice=100.0)
    fake.add_order(Status="NotProcessed", TotalPrice=250.5)
    fake.add_order(Status="Printed", TotalPrice=1000.0)
    msg = await ask(harness, owner, owner.id, "/today")
    text = msg["text"]
    assert "Today, " in text and "Orders: 3 · total 1\u202f350.50" in text
    assert "New — 2 · 350.50" in text and "Done — 1 · 1\u202f000" in text
    assert "2336327" not in text  # the 2020 samples are not today


async def test_today_long_list_is_split_between_rows(harness: Harness) -> None:
    _owner, shop, fake = await setup_shop(harness)
    added = []
    for n in range(130):
        name = f"<Клиент & {n}> " + "очень-длинное-имя " * 4
        added.append(fake.add_order(DeliveryAddress={"FullName": name, "City": "Томск"})["Id"])
    group = await linked_group(harness, shop, lang="ru")
    guest = harness.tg.user(STRANGER, "Гость", language_code="ru")
    await harness.tg.send_text(guest, group, "/today")
    first = await harness.tg.next_bot_message(group)
    assert "Заказов: 130" in first["text"]
    oldest = f"№{added[0]}"
    await harness.tg.wait_message(group, lambda m: oldest in m.get("text", ""))
    messages = harness.tg.sent_messages(group)
    assert len(messages) >= 3
    rows = 0
    for message in messages:
        sent = next(
            c
            for c in harness.tg.calls_of("sendMessage")
            if c.result and c.result.get("message_id") == message["message_id"]
        )
        assert_valid_html(sent.params["text"])
        rows += len(re.findall(r"№\d+", message["text"]))
        for line in message["text"].splitlines():
            assert not line.startswith("очень")  # never cut inside a row
    assert rows == 130


async def test_status_line_in_a_group(harness: Harness) -> None:
    _owner, shop, _fake = await setup_shop(harness)
    group = await linked_group(harness, shop, lang="ru")
    guest = harness.tg.user(STRANGER, "Гость", language_code="ru")
    msg = await ask(harness, guest, group, f"/status {ORDER}")
    assert msg["text"] == f"№{ORDER} · Новый · Не оплачен · к оплате 700 · Курьер компании - Томск"
    msg = await ask(harness, guest, group, "/status 12a")
    assert msg["text"] == "Использование: /status НОМЕР, например /status 2336327"


async def test_find_by_email_phone_name_and_number(harness: Harness) -> None:
    owner, shop, fake = await setup_shop(harness)
    fake.add_order(DeliveryAddress={"FullName": "Пётр Семёнов", "Phone": "+7 (913) 555-12-34"})
    msg = await ask(harness, owner, owner.id, "/find user78238538@example.com")
    assert "Customer #78238538" in msg["text"] and "user78238538@example.com" in msg["text"]
    assert "№2336327" in msg["text"] and "№2336321" in msg["text"]
    msg = await ask(harness, owner, owner.id, "/find петр семенов")
    assert "Searched the last 11 orders." in msg["text"] and "Found: 1" in msg["text"]
    msg = await ask(harness, owner, owner.id, "/find 8 913 555 12 34")
    assert "Found: 1" in msg["text"] and "Пётр Семёнов" in msg["text"]
    msg = await ask(harness, owner, owner.id, f"/find #{ORDER}")
    assert f"Order {ORDER}" in body(msg)
    msg = await ask(harness, owner, owner.id, "/find nobody")
    assert "Nothing found." in msg["text"]
    msg = await ask(harness, owner, owner.id, "/find")
    assert msg["text"].startswith("Usage: /find")
    # In a group the customer's e-mail and phone are masked.
    group = await linked_group(harness, shop, lang="en")
    guest = harness.tg.user(STRANGER, "Guest", language_code="en")
    msg = await ask(harness, guest, group, "/find user78238538@example.com")
    assert "u***@example.com" in msg["text"] and "user78238538@" not in msg["text"]


async def test_customer_card_private_and_group(harness: Harness) -> None:
    owner, shop, _fake = await setup_shop(harness, lang="ru")
    msg = await ask(harness, owner, owner.id, "/customer 78238538")
    assert "Клиент #78238538" in msg["text"] and "79008238538" in msg["text"]
    assert "Последние заказы" in msg["text"] and "№2336327" in msg["text"]
    group = await linked_group(harness, shop, lang="en")
    guest = harness.tg.user(STRANGER, "Guest", language_code="en")
    msg = await ask(harness, guest, group, "/customer 78238538")
    assert "+7 *** ***-85-38" in msg["text"] and "79008238538" not in msg["text"]
    msg = await ask(harness, guest, group, "/customer 5")
    assert msg["text"] == "Customer 5 not found in Demo Print."
    msg = await ask(harness, guest, group, "/customer bob")
    assert msg["text"] == "Usage: /customer ID, for example /customer 78238538"


async def test_discounts_and_shipping_and_unsupported(harness: Harness) -> None:
    owner, _shop, _fake = await setup_shop(harness)
    msg = await ask(harness, owner, owner.id, "/discounts")
    assert "Discounts · Demo Print" in msg["text"] and "Скидка 10% на фотокниги" in msg["text"]
    msg = await ask(harness, owner, owner.id, "/shipping")
    assert "Курьер компании - Томск" in msg["text"] and "300" in msg["text"]
    harness.pp.disable("discounts")
    harness.pp.disable("shippings")
    msg = await ask(harness, owner, owner.id, "/discounts demo")
    assert msg["text"] == "Demo Print: this Pixlpark account does not offer the discount list."
    msg = await ask(harness, owner, owner.id, "/shipping demo")
    assert "does not offer the shipping methods list" in msg["text"]


async def test_discounts_unsupported_in_russian(harness: Harness) -> None:
    owner, _shop, _fake = await setup_shop(harness, lang="ru")
    harness.pp.disable("discounts")
    msg = await ask(harness, owner, owner.id, "/discounts")
    assert msg["text"] == "Demo Print: этот аккаунт Pixlpark не отдаёт список скидок."


async def test_help_in_both_languages_by_role_and_chat(harness: Harness) -> None:
    owner, shop, _fake = await setup_shop(harness)
    msg = await ask(harness, owner, owner.id, "/help")
    assert "What you can do here" in msg["text"] and "/order 2336327" in msg["text"]
    assert "As a manager" in msg["text"] and "just send an order number" in msg["text"]
    assert "masked" not in msg["text"]
    viewer = await add_member(harness, shop, VIEWER, Role.VIEWER, lang="ru")
    msg = await ask(harness, viewer, viewer.id, "/help")
    assert "Что можно сделать здесь" in msg["text"] and "нужна роль менеджера" in msg["text"]
    second = await harness.seed_shop(owner.id, "pub-2", "priv-2", title="Second Lab")
    group = await linked_group(harness, shop, second, lang="ru")
    msg = await ask(harness, viewer, group, "/help")
    assert "скрыты" in msg["text"] and "несколько магазинов" in msg["text"]
    assert "Second Lab" in msg["text"]
