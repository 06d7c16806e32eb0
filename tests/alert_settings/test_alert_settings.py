"""/alerts and /timezone end to end: toggles edited in place, filters, minimum total, quiet
hours, who may edit where, forged buttons, the /shops button, and prefs taking effect."""

from __future__ import annotations

from decimal import Decimal

from storage import Link, Role
from tests.alert_settings.helpers import button, edited, mark_of
from tests.harness import Harness
from tests.linking.helpers import answer_of, button_texts, eventually

NNBSP = "\u202f"


async def test_toggle_kinds_and_status_filter_in_place(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(7001, "Olga", language_code="en")
    shop = await harness.seed_shop(owner.id)

    await tg.send_text(owner, owner.id, "/alerts")
    screen = await tg.next_bot_message(owner.id)
    assert "Alerts of Demo Print in this chat" in screen["text"]
    assert "Statuses: all" in screen["text"] and "Quiet hours: off" in screen["text"]
    # Defaults: new orders, paid, cancelled, comments on; status changes off.
    assert mark_of(screen, "New orders") == "✅"
    assert mark_of(screen, "Comments") == "✅"
    assert mark_of(screen, "Status changes") == "▫️"
    assert mark_of(screen, "Print archive failed") == "▫️"

    await tg.click(owner, screen, text="▫️ Status changes")
    screen = await edited(tg, screen, lambda m: mark_of(m, "Status changes") == "✅")
    await tg.click(owner, screen, text="✅ Comments")
    screen = await edited(tg, screen, lambda m: mark_of(m, "Comments") == "▫️")
    link = await db.links.get(owner.id, shop.id)
    assert link is not None
    assert link.events == {"new_order", "paid", "cancelled", "status_changed"}
    # Every change edited the one message: the bot sent nothing else.
    assert len(tg.sent_messages(owner.id)) == 1

    # Status filter: choose "Done" (Printed), back to the summary, then clear.
    await tg.click(owner, screen, callback_data=button(screen, "🔎")["callback_data"])
    screen = await edited(tg, screen, lambda m: "None chosen: every status" in m["text"])
    await tg.click(owner, screen, text="▫️ Done")
    screen = await edited(tg, screen, lambda m: mark_of(m, "Done") == "✅")
    link = await db.links.get(owner.id, shop.id)
    assert link is not None and link.statuses == {"Printed"}
    await tg.click(owner, screen, text="⬅️ Back")
    screen = await edited(tg, screen, lambda m: "Statuses: Done" in m["text"])

    # Loud statuses: "Ready for production" rings.
    await tg.click(owner, screen, callback_data=button(screen, "🔔")["callback_data"])
    screen = await edited(tg, screen, lambda m: "always alerts this chat" in m["text"])
    await tg.click(owner, screen, text="▫️ Ready for production")
    screen = await edited(tg, screen, lambda m: mark_of(m, "Ready for production") == "✅")
    link = await db.links.get(owner.id, shop.id)
    assert link is not None and link.loud_statuses == {"ReadyToProcessing"}
    await tg.click(owner, screen, text="✖️ Clear")
    screen = await edited(tg, screen, lambda m: mark_of(m, "Ready for production") == "▫️")
    link = await db.links.get(owner.id, shop.id)
    assert link is not None and link.loud_statuses == frozenset()
    assert link.statuses == {"Printed"}  # the filter is untouched
    assert len(tg.sent_messages(owner.id)) == 1


async def test_min_total_and_quiet_hours_in_russian(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(7002, "Ольга", language_code="ru")
    shop = await harness.seed_shop(owner.id)

    async def link_now() -> Link:
        link = await db.links.get(owner.id, shop.id)
        assert link is not None
        return link

    await tg.send_text(owner, owner.id, "/alerts min 1000")
    reply = await tg.next_bot_message(owner.id)
    assert f"Минимальная сумма: 1{NNBSP}000." in reply["text"]
    assert "Уведомления Demo Print в этом чате" in reply["text"]
    assert (await link_now()).min_total == Decimal(1000)
    await tg.send_text(owner, owner.id, "/alerts min 0")
    reply = await tg.next_bot_message(owner.id)
    assert "Минимальная сумма снята" in reply["text"]
    assert (await link_now()).min_total is None

    await tg.send_text(owner, owner.id, "/alerts quiet 22-8")
    reply = await tg.next_bot_message(owner.id)
    assert "Тихие часы: 22:00–08:00." in reply["text"]
    assert (await link_now()).quiet_hours == (22, 8)
    await tg.send_text(owner, owner.id, "/alerts quiet off")
    assert "Тихие часы выключены" in (await tg.next_bot_message(owner.id))["text"]
    assert (await link_now()).quiet_hours is None

    for bad in ("/alerts quiet 25-3", "/alerts quiet 8-8", "/alerts min lots", "/alerts loud"):
        await tg.send_text(owner, owner.id, bad)
        usage = await tg.next_bot_message(owner.id)
        assert usage["text"].startswith("Как пользоваться: /alerts"), bad
        assert "/alerts min 1000" in usage["text"]
    assert (await link_now()).quiet_hours is None and (await link_now()).min_total is None

    # The buttons: the minimum total asks for a number, the answer edits the settings.
    await tg.send_text(owner, owner.id, "/alerts")
    screen = await tg.next_bot_message(owner.id)
    await tg.click(owner, screen, text="💰 Мин. сумма: —")
    prompt = await tg.next_bot_message(owner.id)
    assert "минимальную сумму" in prompt["text"]
    await tg.send_text(owner, owner.id, "много", reply_to=prompt)
    assert "Пришлите число" in (await tg.next_bot_message(owner.id))["text"]
    await tg.send_text(owner, owner.id, "1 500", reply_to=prompt)
    await edited(tg, screen, lambda m: f"💰 Мин. сумма: 1{NNBSP}500" in button_texts(m))
    assert (await link_now()).min_total == Decimal(1500)
    # ...and a short confirmation answers the number.
    assert "Минимальная сумма: 1" in (await tg.next_bot_message(owner.id))["text"]

    await tg.click(owner, screen, callback_data=button(screen, "🌙")["callback_data"])
    screen = await edited(tg, screen, lambda m: "Тихие часы Demo Print" in m["text"])
    assert "Europe/Moscow" in screen["text"]
    await tg.click(owner, screen, text="▫️ 23:00–07:00")
    screen = await edited(tg, screen, lambda m: mark_of(m, "23:00–07:00") == "✅")
    assert (await link_now()).quiet_hours == (23, 7)
    await tg.click(owner, screen, text="⬅️ Назад")
    await edited(tg, screen, lambda m: "Тихие часы: 23:00–07:00" in m["text"])


async def test_who_may_edit(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(7010, "Olga", language_code="en")
    shop = await harness.seed_shop(owner.id)
    second = await harness.seed_shop(owner.id, "pub-b", "priv-b", title="Beta Photo")
    admin = tg.user(7011, "Anna", language_code="en")  # group admin, not a shop member
    member = tg.user(7012, "Pavel", language_code="en")  # plain group member
    group = tg.create_group("Team", admins=[admin], members=[member], bot_status="member")
    await db.chats.upsert(group, "group", "Team")
    await db.chats.set_language(group, "en")
    await db.links.link(group, shop.id, created_by=owner.id)
    await db.links.link(group, second.id, created_by=owner.id)

    # A group admin may edit; with two shops the bot asks which, keeping the edit.
    await tg.send_text(admin, group, "/alerts min 500")
    ask = await tg.next_bot_message(group)
    assert "several shops" in ask["text"]
    assert button_texts(ask) == ["Demo Print", "Beta Photo"]
    await tg.click(admin, ask, text="Beta Photo")
    screen = await edited(tg, ask, lambda m: "Alerts of Beta Photo" in m["text"])
    assert "Minimum total: 500." in screen["text"]
    beta = await db.links.get(group, second.id)
    assert beta is not None and beta.min_total == Decimal(500)
    demo = await db.links.get(group, shop.id)
    assert demo is not None and demo.min_total is None
    await tg.click(admin, screen, text="▫️ Print archive failed")
    await edited(tg, screen, lambda m: mark_of(m, "Print archive failed") == "✅")
    # The minimum total button asks the admin (by mention) and their reply edits the screen.
    await tg.click(admin, screen, callback_data=button(screen, "💰")["callback_data"])
    prompt = await tg.next_bot_message(group)
    assert prompt["text"].startswith("Anna, Send the minimum order total")
    await tg.send_text(admin, group, "750", reply_to=prompt)
    await edited(tg, screen, lambda m: "💰 Min. total: 750" in button_texts(m))
    assert (await tg.next_bot_message(group))["text"] == "✅ Minimum total: 750."

    # The shop word picks the shop directly.
    await tg.send_text(admin, group, "/alerts demo quiet 23-7")
    demo_screen = await tg.next_bot_message(group)
    assert "Alerts of Demo Print" in demo_screen["text"]
    demo = await db.links.get(group, shop.id)
    assert demo is not None and demo.quiet_hours == (23, 7)

    # A plain member may neither open the settings nor press their buttons.
    await tg.send_text(member, group, "/alerts demo")
    assert "manager role" in (await tg.next_bot_message(group))["text"]
    query = await tg.click(member, screen, text="✅ Comments")
    assert "manager role" in (await answer_of(tg, query))["text"]
    beta = await db.links.get(group, second.id)
    assert beta is not None and "comment" in beta.events
    assert beta.events == {"new_order", "paid", "cancelled", "comment", "archive_failed"}
    assert beta.min_total == Decimal(750)

    # An admin who lost the rights is refused too (the check runs on every press).
    tg.set_member_status(group, admin, "member")
    query = await tg.click(admin, screen, text="✅ Comments")
    assert "manager role" in (await answer_of(tg, query))["text"]

    # A viewer, in a private chat linked to the shop, may not.
    viewer = tg.user(7013, "Vera", language_code="en")
    await db.members.set_role(shop.id, viewer.id, Role.VIEWER)
    await db.links.link(viewer.id, shop.id, created_by=owner.id)
    await tg.send_text(viewer, viewer.id, "/alerts")
    assert "manager role" in (await tg.next_bot_message(viewer.id))["text"]
    # A manager may.
    manager = tg.user(7014, "Mila", language_code="en")
    await db.members.set_role(shop.id, manager.id, Role.MANAGER)
    await db.links.link(manager.id, shop.id, created_by=owner.id)
    await tg.send_text(manager, manager.id, "/alerts")
    assert "Alerts of Demo Print" in (await tg.next_bot_message(manager.id))["text"]
    # ...but the time zone is the owner's.
    await tg.send_text(manager, manager.id, "/timezone Asia/Omsk")
    assert "owner role" in (await tg.next_bot_message(manager.id))["text"]
    stored = await db.shops.get(shop.id)
    assert stored is not None and stored.timezone == "Europe/Moscow"


async def test_forged_buttons_and_the_shops_button(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(7020, "Olga", language_code="en")
    shop = await harness.seed_shop(owner.id)
    other_owner = tg.user(7021, "Oleg", language_code="en")
    other = await harness.seed_shop(other_owner.id, "pub-x", "priv-x", title="Other Shop")

    await tg.send_text(owner, owner.id, "/shops")
    listing = await tg.next_bot_message(owner.id)
    await tg.click(owner, listing, text="🔔 Alerts")
    screen = await tg.next_bot_message(owner.id)
    assert "Alerts of Demo Print in this chat" in screen["text"]
    assert mark_of(screen, "Paid") == "✅"

    forged = [
        f"al:k:{other.id}:status_changed",  # a shop not linked to this chat
        f"al:o:{other.id}:m5",
        f"tz:{other.id}:Asia/Tokyo",
        f"al:k:{shop.id}:everything",
        f"al:ts:{shop.id}:999",
        f"al:tl:{shop.id}:x",
        f"al:qs:{shop.id}:25-1",
        f"al:o:{shop.id}:mlots",
        f"al:zz:{shop.id}",
        "al:k:not-a-number:paid",
        f"tz:{shop.id}:Mars/Olympus",
    ]
    for data in forged:
        query = await tg.click(owner, screen, data, strict=False)
        answer = await answer_of(tg, query)
        assert "expired" in answer.get("text", ""), (data, answer)
    other_link = await db.links.get(other_owner.id, other.id)
    assert other_link is not None and "status_changed" not in other_link.events
    stored = await db.shops.get(other.id)
    assert stored is not None and stored.timezone == "Europe/Moscow"
    link = await db.links.get(owner.id, shop.id)
    assert link is not None and link.min_total is None and link.statuses == frozenset()
    assert not [c for c in tg.calls if c.status >= 500]


async def test_timezone(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(7030, "Olga", language_code="en")
    shop = await harness.seed_shop(owner.id)

    await tg.send_text(owner, owner.id, "/timezone")
    shown = await tg.next_bot_message(owner.id)
    assert "Time zone of Demo Print: Europe/Moscow" in shown["text"]
    await tg.send_text(owner, owner.id, "/timezone Asia/Novosibirsk")
    done = await tg.next_bot_message(owner.id)
    assert "Time zone of Demo Print is now Asia/Novosibirsk" in done["text"]
    stored = await db.shops.get(shop.id)
    assert stored is not None and stored.timezone == "Asia/Novosibirsk"
    entry = (await db.audit.list(shop_id=shop.id))[0]
    assert entry.action == "shop_timezone" and entry.user_id == owner.id
    assert "Europe/Moscow" in (entry.details or "") and "Asia/Novosibirsk" in (entry.details or "")

    await tg.send_text(owner, owner.id, "/timezone Mars/Olympus")
    bad = await tg.next_bot_message(owner.id)
    assert "Unknown time zone “Mars/Olympus”" in bad["text"]
    assert "/timezone Europe/Moscow" in bad["text"] and "Asia/Novosibirsk" in bad["text"]
    stored = await db.shops.get(shop.id)
    assert stored is not None and stored.timezone == "Asia/Novosibirsk"

    # Any case works, and the quiet hours screen shows the shop's zone.
    await db.users.set_language(owner.id, "ru")
    await tg.send_text(owner, owner.id, "/timezone europe/kaliningrad")
    done = await tg.next_bot_message(owner.id)
    assert "Часовой пояс Demo Print теперь Europe/Kaliningrad" in done["text"]
    await tg.send_text(owner, owner.id, "/alerts")
    assert "Часовой пояс: Europe/Kaliningrad" in (await tg.next_bot_message(owner.id))["text"]


async def test_status_changes_alert_once_switched_on(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(7040, "Olga", language_code="en")
    fake = harness.pixlpark_shop()
    shop = await harness.seed_shop(owner.id)
    order = fake.add_order(Status="Printing")
    oid = order["Id"]
    url = f"{harness.http_url}/pixlpark/{shop.webhook_token}/order-changed"

    # Status changes are off by default: the change is processed, nothing is sent.
    status, _ = await harness.pp.send_webhook(url, fake, oid)
    assert status == 200

    async def seen(status: str) -> bool:
        snapshot = await db.snapshots.get(shop.id, oid)
        return snapshot is not None and snapshot.status == status

    await eventually(lambda: seen("Printing"))
    assert not any(oid in m["text"] for m in tg.sent_messages(owner.id))

    await tg.send_text(owner, owner.id, "/alerts")
    screen = await tg.next_bot_message(owner.id)
    await tg.click(owner, screen, text="▫️ Status changes")
    await edited(tg, screen, lambda m: mark_of(m, "Status changes") == "✅")

    fake.update_order(oid, Status="Printed")
    status, _ = await harness.pp.send_webhook(url, fake, oid)
    assert status == 200
    card = await tg.wait_message(owner.id, lambda m: oid in m["text"], timeout=10)
    # The first card came after the switch: the first change had sent nothing.
    assert card["message_id"] > screen["message_id"]
    assert len([m for m in tg.sent_messages(owner.id) if oid in m["text"]]) == 1
    await eventually(lambda: seen("Printed"))
