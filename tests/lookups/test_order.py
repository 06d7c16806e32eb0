"""/order: the card, its buttons and flows, masking, caption fallback, errors, cache, shops."""

from __future__ import annotations

import asyncio
import time

from storage import Role
from tests.harness import Harness
from tests.lookups.helpers import (
    MANAGER,
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

ORDER_PATH = f"/orders/{ORDER}"


async def test_order_card_in_private_english(harness: Harness) -> None:
    owner, _shop, _fake = await setup_shop(harness)
    msg = await ask(harness, owner, owner.id, f"/order {ORDER}")
    assert "photo" in msg  # the preview image, the card as caption
    text = body(msg)
    assert f"Order {ORDER} · Demo Print" in text
    assert "Status: New" in text and "Payment: Not paid" in text
    assert "to pay 700" in text and "Total: 700 (delivery 300)" in text
    assert "Иванов Иван, 79000000000" in text  # full contacts for a member in private
    assert "Фрунзе 56" in text
    assert "Курьер компании - Томск" in text
    assert "Created 24.07.2020 12:27" in text  # Moscow time by default
    assert "Items (1):" in text
    names = " ".join(buttons(msg))
    for label in ("Refresh", "Items", "Customer", "Change status", "Add comment"):
        assert label in names


async def test_order_card_russian_and_shop_timezone(harness: Harness) -> None:
    owner, shop, _fake = await setup_shop(harness, lang="ru")
    await harness.storage.shops.set_timezone(shop.id, "Asia/Tomsk")
    msg = await ask(harness, owner, owner.id, f"/order {ORDER}")
    text = body(msg)
    assert f"Заказ {ORDER}" in text
    assert "Статус: Новый" in text and "Не оплачен" in text
    assert "Создан 24.07.2020 16:27" in text  # Tomsk is UTC+7
    assert "Обновить" in " ".join(buttons(msg))


async def test_bare_number_and_hash_in_private(harness: Harness) -> None:
    owner, _shop, _fake = await setup_shop(harness)
    msg = await ask(harness, owner, owner.id, ORDER)
    assert f"Order {ORDER}" in body(msg)
    msg = await ask(harness, owner, owner.id, "#2336321")
    assert "Order 2336321" in body(msg)


async def test_group_card_masks_contacts_and_hides_manager_buttons(harness: Harness) -> None:
    _owner, shop, _fake = await setup_shop(harness)
    group = await linked_group(harness, shop, lang="en")
    stranger = harness.tg.user(STRANGER, "Guest", language_code="en")
    msg = await ask(harness, stranger, group, f"/order {ORDER}")
    text = body(msg)
    assert "+7 *** ***-00-00" in text
    assert "79000000000" not in text
    assert "Address: Томск" in text and "Фрунзе" not in text
    assert "Change status" not in " ".join(buttons(msg))
    # The manager's buttons are not there, and a forged status button is refused.
    forged = f"lx:{shop.id}:{ORDER}:-1:0:0"
    answer = await press(harness, stranger, msg, forged, strict=False)
    assert "manager" in answer["text"]


async def test_member_in_group_also_gets_masked_data(harness: Harness) -> None:
    _owner, shop, _fake = await setup_shop(harness)
    manager = await add_member(harness, shop, MANAGER, Role.MANAGER)
    group = await linked_group(harness, shop, lang="ru")
    msg = await ask(harness, manager, group, f"/order@{harness.tg.bot_username} {ORDER}")
    text = body(msg)
    assert "Заказ" in text and "+7 *** ***-00-00" in text and "Фрунзе" not in text
    assert "Изменить статус" in " ".join(buttons(msg))


async def test_caption_fallback_when_the_image_fails(harness: Harness) -> None:
    owner, _shop, _fake = await setup_shop(harness)
    harness.tg.fail_urls = True
    msg = await ask(harness, owner, owner.id, f"/order {ORDER}")
    assert "photo" not in msg
    assert f"Order {ORDER}" in msg["text"]
    assert "Refresh" in " ".join(buttons(msg))
    assert harness.tg.calls_of("sendPhoto")  # it was tried first


async def test_caption_fallback_when_the_card_is_too_long(harness: Harness) -> None:
    owner, _shop, fake = await setup_shop(harness)
    long_street = "ул. " + "Очень длинная улица <b>&amp; " * 40
    fake.update_order(ORDER, DeliveryAddress={"City": "Томск", "AddressLine1": long_street})
    msg = await ask(harness, owner, owner.id, f"/order {ORDER}")
    assert "photo" not in msg
    assert "Очень длинная улица <b>&amp;" in msg["text"]  # escaped, shown literally
    assert not harness.tg.calls_of("sendPhoto")


async def test_wrong_argument_and_unknown_order(harness: Harness) -> None:
    owner, _shop, _fake = await setup_shop(harness)
    msg = await ask(harness, owner, owner.id, "/order abc")
    assert msg["text"] == "Usage: /order NUMBER, for example /order 2336327"
    msg = await ask(harness, owner, owner.id, "/order 999")
    assert msg["text"] == "Order 999 not found in Demo Print."
    ru = harness.tg.user(2001, "Иван", language_code="ru")
    await harness.storage.members.set_role(_shop.id, ru.id, Role.VIEWER)
    await harness.storage.chats.upsert(ru.id, "private", None)
    await harness.storage.links.link(ru.id, _shop.id, created_by=1001)
    msg = await ask(harness, ru, ru.id, "/order")
    assert msg["text"].startswith("Использование: /order НОМЕР")
    msg = await ask(harness, ru, ru.id, "/order 999")
    assert msg["text"] == "Заказ 999 не найден в Demo Print."


async def test_pixlpark_5xx_gets_one_line(harness: Harness) -> None:
    owner, _shop, _fake = await setup_shop(harness)
    harness.pp.fail_next("/orders", 503, times=20)
    started = time.monotonic()
    msg = await ask(harness, owner, owner.id, f"/order {ORDER}", timeout=12)
    assert msg["text"] == "Pixlpark is not answering, try again in a moment."
    assert time.monotonic() - started < 10


async def test_pixlpark_hanging_gets_one_line_within_the_timeout(harness: Harness) -> None:
    owner, _shop, _fake = await setup_shop(harness)
    harness.pp.hang = True
    try:
        started = time.monotonic()
        msg = await ask(harness, owner, owner.id, f"/status {ORDER}", timeout=12)
        elapsed = time.monotonic() - started
    finally:
        harness.pp.hang = False
    assert msg["text"] == "Pixlpark is not answering, try again in a moment."
    assert 1.5 <= elapsed < 5  # the harness client timeout is 2 s


async def test_repeated_lookups_share_one_api_answer_until_an_alert(harness: Harness) -> None:
    owner, shop, _fake = await setup_shop(harness)
    group = await linked_group(harness, shop, lang="en")
    await ask(harness, owner, owner.id, f"/order {ORDER}")
    guest = harness.tg.user(STRANGER, "Guest", language_code="en")
    await ask(harness, guest, group, f"/status {ORDER}")
    await ask(harness, guest, group, f"/order {ORDER}")
    assert harness.pp.count(ORDER_PATH) == 1
    harness.app.cache.invalidate(shop.id, ORDER)  # what the alert pipeline does
    await ask(harness, owner, owner.id, f"/status {ORDER}")
    assert harness.pp.count(ORDER_PATH) == 2


async def test_card_buttons_refresh_items_customer(harness: Harness) -> None:
    owner, _shop, fake = await setup_shop(harness)
    card = await ask(harness, owner, owner.id, f"/order {ORDER}")
    fake.update_order(ORDER, Status="Printed", PaymentStatus="Paid", PaidPrice=700.0)
    answer = await press(harness, owner, card, button(card, "Refresh"))
    assert answer.get("text") == "Updated."
    fresh = harness.tg.message(owner.id, card["message_id"])
    assert fresh is not None and "Status: Done" in body(fresh) and "Paid" in body(fresh)

    await press(harness, owner, card, button(card, "Items"))
    items = await harness.tg.next_bot_message(owner.id)
    assert f"Items of order {ORDER}" in items["text"] and "Тип бумаги: Матовая" in items["text"]

    await press(harness, owner, card, button(card, "Customer"))
    customer = await harness.tg.next_bot_message(owner.id)
    assert "Customer #78238538" in customer["text"]
    assert "user78238538@example.com" in customer["text"]  # full e-mail in private
    assert f"№{ORDER}" in customer["text"]


async def test_status_change_with_confirmation(harness: Harness) -> None:
    _owner, shop, fake = await setup_shop(harness)
    manager = await add_member(harness, shop, MANAGER, Role.MANAGER)
    card = await ask(harness, manager, manager.id, f"/order {ORDER}")
    await press(harness, manager, card, button(card, "Change status"))
    menu = harness.tg.message(manager.id, card["message_id"])
    assert menu is not None
    labels = list(buttons(menu))
    assert "Deleted" not in labels and "New" not in labels  # never Deleted, not the current
    assert "Done" in labels and "Cancelled" in labels
    await press(harness, manager, menu, buttons(menu)["Done"])
    confirm = harness.tg.message(manager.id, card["message_id"])
    assert confirm is not None
    await press(harness, manager, confirm, button(confirm, "Notify customer: off"))
    confirm = harness.tg.message(manager.id, card["message_id"])
    assert confirm is not None and "Notify customer: on" in " ".join(buttons(confirm))
    assert not fake.status_changes  # nothing happens before the confirmation
    answer = await press(harness, manager, confirm, button(confirm, "Set «Done»"))
    assert answer["text"] == f"Order {ORDER}: status changed to «Done»."
    change = fake.status_changes[-1]
    assert (change.order_id, change.old, change.new) == (ORDER, "NotProcessed", "Printed")
    assert change.send_notifications is True
    updated = harness.tg.message(manager.id, card["message_id"])
    assert updated is not None and "Status: Done" in body(updated)
    assert "Refresh" in " ".join(buttons(updated))
    entries = await harness.storage.audit.list(shop_id=shop.id)
    entry = next(e for e in entries if e.action == "order_status")
    assert entry.user_id == MANAGER and entry.chat_id == manager.id
    assert entry.details is not None and "Printed" in entry.details


async def test_viewer_cannot_change_status(harness: Harness) -> None:
    _owner, shop, fake = await setup_shop(harness)
    viewer = await add_member(harness, shop, VIEWER, Role.VIEWER)
    card = await ask(harness, viewer, viewer.id, f"/order {ORDER}")
    assert "Change status" not in " ".join(buttons(card))
    forged = f"lx:{shop.id}:{ORDER}:13:0:1"
    answer = await press(harness, viewer, card, forged, strict=False)
    assert "manager" in answer["text"]
    assert not fake.status_changes


async def test_comment_flow_asks_the_email_once(harness: Harness) -> None:
    owner, shop, fake = await setup_shop(harness)
    group = await linked_group(harness, shop, lang="en")
    card = await ask(harness, owner, group, f"/order {ORDER}")
    await press(harness, owner, card, button(card, "Add comment"))
    prompt = await harness.tg.next_bot_message(group)
    assert "staff e-mail" in prompt["text"]
    await harness.tg.send_text(owner, group, "not an email")
    again = await harness.tg.next_bot_message(group)
    assert "does not look like an e-mail" in again["text"]
    await harness.tg.send_text(owner, group, "olga@demo.example")
    ask_text = await harness.tg.next_bot_message(group)
    assert f"comment for order {ORDER}" in ask_text["text"]
    await harness.tg.send_text(owner, group, "Позвонить клиенту <завтра>")
    done = await harness.tg.next_bot_message(group)
    assert done["text"] == f"Comment added to order {ORDER}."
    comment = fake.comments[ORDER][-1]
    assert comment["BodySource"] == "Позвонить клиенту <завтра>"
    form = harness.pp.requests_to(f"/orders/{ORDER}/comments")[-1].form
    assert form["email"] == "olga@demo.example"
    entries = await harness.storage.audit.list(shop_id=shop.id)
    assert any(e.action == "order_comment" and e.user_id == owner.id for e in entries)
    # The second time it goes straight to the text.
    await press(harness, owner, card, button(card, "Add comment"))
    prompt = await harness.tg.next_bot_message(group)
    assert f"comment for order {ORDER}" in prompt["text"]
    await harness.tg.send_text(owner, group, "/cancel")
    cancelled = await harness.tg.next_bot_message(group)
    assert cancelled["text"] == "Cancelled."


async def test_two_shops_in_one_chat(harness: Harness) -> None:
    owner, shop1, _fake1 = await setup_shop(harness)
    _fake2 = harness.pixlpark_shop("pub-2", "priv-2", photolab_id=2000)
    _fake2.update_order(ORDER, Status="Printed")
    shop2 = await harness.seed_shop(owner.id, "pub-2", "priv-2", title="Second Lab")
    group = await linked_group(harness, shop1, shop2, lang="en")
    question = await ask(harness, owner, group, f"/order {ORDER}")
    assert question["text"] == "Several shops are linked here. Which one?"
    assert set(buttons(question)) == {"Demo Print", "Second Lab"}
    await press(harness, owner, question, buttons(question)["Second Lab"])
    card = await harness.tg.next_bot_message(group)
    assert "Second Lab" in body(card) and "Status: Done" in body(card)
    # The token is used once.
    answer = await press(harness, owner, question, buttons(question)["Demo Print"], strict=False)
    assert answer["text"] == "This button has expired."
    # A shop word picks the shop directly (id or the start of the title).
    card = await ask(harness, owner, group, f"/order demo {ORDER}")
    assert "Demo Print" in body(card) and "Status: New" in body(card)
    card2 = await ask(harness, owner, group, f"/status {shop2.id} {ORDER}")
    assert "Done" in card2["text"]
    # A forged shop id in a card button: a shop not linked here.
    third = await harness.seed_shop(4242, "pub-3", "priv-3", title="Elsewhere")
    forged = f"lo:r:{third.id}:{ORDER}"
    answer = await press(harness, owner, card, forged, strict=False)
    assert answer["text"] == "This button has expired."


async def test_hammering_is_answered_once(harness: Harness) -> None:
    owner, _shop, _fake = await setup_shop(harness)
    for _ in range(4):
        await harness.tg.send_text(owner, owner.id, f"/status {ORDER}")
    await harness.tg.wait_for("sendMessage", 2)
    await asyncio.sleep(0.5)
    texts = [m["text"] for m in harness.tg.sent_messages(owner.id)]
    assert len(texts) == 2
    assert sum("try again in a few seconds" in t.lower() for t in texts) == 1
    for text in texts:
        assert_valid_html(text)
