"""The owner's flow: /connect (wizard and one line), key checks, key message deletion."""

from __future__ import annotations

from tests.harness import Harness
from tests.linking.helpers import answer_of, button_texts, buttons

PUB, PRIV = "pub-key-0001", "priv-key-0001"


async def test_wizard_connects_and_deletes_key_message(harness: Harness) -> None:
    tg, pp, db = harness.tg, harness.pp, harness.storage
    pp.add_shop(PUB, PRIV, photolab_id=1164).load_sample_orders()
    owner = tg.user(1001, "Olga", language_code="en")

    await tg.send_text(owner, owner.id, "/connect")
    ask = await tg.next_bot_message(owner.id)
    assert "Public Key" in ask["text"]
    assert [b["text"] for b in buttons(ask)] == ["Cancel"]

    await tg.send_text(owner, owner.id, PUB)
    ask = await tg.next_bot_message(owner.id)
    assert "Private Key" in ask["text"]

    key_msg = await tg.send_text(owner, owner.id, PRIV)
    done = await tg.next_bot_message(owner.id)
    assert (owner.id, key_msg["message_id"]) in tg.deleted
    assert "Pixlpark site 1164" in done["text"]
    assert "is connected" in done["text"]
    shop = await db.shops.get_by_public_key(PUB)
    assert shop is not None and shop.title == "Pixlpark site 1164" and shop.site_id == 1164
    for url in harness.app.dp["config"].webhook_urls(shop.webhook_token).values():
        assert url in done["text"]
    assert PRIV not in done["text"]
    add = buttons(done)[0]
    assert add["url"].startswith("https://t.me/pixl_test_bot?startgroup=")
    assert "https://t.me/pixl_test_bot?start=" in done["text"]
    assert pp.count("/oauth/accesstoken") >= 1
    assert str(await db.members.get_role(shop.id, owner.id)) == "owner"
    assert [link.shop_id for link in await db.links.for_chat(owner.id)] == [shop.id]
    assert [e.action for e in await db.audit.list(shop_id=shop.id)].count("keys_linked") == 1


async def test_one_line_in_russian(harness: Harness) -> None:
    tg, pp, db = harness.tg, harness.pp, harness.storage
    pp.add_shop(PUB, PRIV, photolab_id=77)
    owner = tg.user(1002, "Ольга")  # language_code "ru"

    msg = await tg.send_text(owner, owner.id, f"/connect {PUB} {PRIV}")
    done = await tg.next_bot_message(owner.id)
    assert (owner.id, msg["message_id"]) in tg.deleted
    assert "подключён" in done["text"]
    assert "Маркетинг / Уведомления → Настройка вебхуков" in done["text"]
    shop = await db.shops.get_by_public_key(PUB)
    assert shop is not None and shop.private_key == PRIV


async def test_wrong_keys_store_nothing(harness: Harness) -> None:
    tg, pp, db = harness.tg, harness.pp, harness.storage
    pp.add_shop(PUB, PRIV)
    owner = tg.user(1003, "Olga", language_code="en")

    msg = await tg.send_text(owner, owner.id, f"/connect {PUB} wrong-private")
    answer = await tg.next_bot_message(owner.id)
    assert (owner.id, msg["message_id"]) in tg.deleted
    assert "did not accept these keys" in answer["text"]
    assert pp.count("/oauth/accesstoken") == 1
    assert await db.shops.list_all() == []
    assert await db.links.for_chat(owner.id) == []


async def test_not_activated_then_recheck(harness: Harness) -> None:
    tg, pp, db = harness.tg, harness.pp, harness.storage
    site = pp.add_shop(PUB, PRIV, activated=False)
    owner = tg.user(1004, "Olga", language_code="en")

    await tg.send_text(owner, owner.id, f"/connect {PUB} {PRIV}")
    answer = await tg.next_bot_message(owner.id)
    assert "30 minutes" in answer["text"]
    assert await db.shops.list_all() == []

    site.activated = True
    await tg.click(owner, answer, text="🔄 Check again")
    done = await tg.next_bot_message(owner.id)
    assert "is connected" in done["text"]
    assert await db.shops.get_by_public_key(PUB) is not None

    # The pending keys were used up: pressing again is "expired".
    query = await tg.click(owner, answer, "cn:recheck", strict=False)
    assert "expired" in (await answer_of(tg, query))["text"]


async def test_pixlpark_down(harness: Harness) -> None:
    tg, pp, db = harness.tg, harness.pp, harness.storage
    pp.add_shop(PUB, PRIV)
    pp.down = True
    owner = tg.user(1005, "Olga", language_code="en")

    await tg.send_text(owner, owner.id, f"/connect {PUB} {PRIV}")
    answer = await tg.next_bot_message(owner.id, timeout=15)
    assert "not answering" in answer["text"]
    assert button_texts(answer) == ["🔄 Check again", "Cancel"]
    assert await db.shops.list_all() == []


async def test_key_message_not_deletable_is_reported(harness: Harness) -> None:
    tg, pp = harness.tg, harness.pp
    pp.add_shop(PUB, PRIV)
    owner = tg.user(1006, "Olga", language_code="en")
    tg.refuse_deletes = True

    await tg.send_text(owner, owner.id, f"/connect {PUB} {PRIV}")
    warning = await tg.next_bot_message(owner.id)
    assert "could not delete your message" in warning["text"]
    done = await tg.next_bot_message(owner.id)
    assert "is connected" in done["text"]
    assert tg.calls_of("deleteMessage")


async def test_reconnect_keeps_links_and_cancel(harness: Harness) -> None:
    tg, pp, db = harness.tg, harness.pp, harness.storage
    pp.add_shop(PUB, "new-private-0001")
    owner = tg.user(1007, "Olga", language_code="en")
    shop = await harness.seed_shop(owner.id, PUB, PRIV, title="Demo Print")
    group = tg.create_group("Team", admins=[owner], bot_status="member")
    await db.links.link(group, shop.id, created_by=owner.id)

    await tg.send_text(owner, owner.id, "/connect")
    await tg.next_bot_message(owner.id)
    await tg.send_text(owner, owner.id, "/cancel")
    assert "Cancelled" in (await tg.next_bot_message(owner.id))["text"]
    await tg.send_text(owner, owner.id, PUB)  # not in the wizard any more: ignored
    await tg.send_text(owner, owner.id, f"/connect {PUB} new-private-0001")
    done = await tg.next_bot_message(owner.id)
    assert "Demo Print" in done["text"] and "updated" in done["text"]
    renewed = await db.shops.get(shop.id)
    assert renewed is not None and renewed.private_key == "new-private-0001"
    assert renewed.title == "Demo Print"
    assert [link.shop_id for link in await db.links.for_chat(group)] == [shop.id]
    assert len(await db.shops.list_all()) == 1


async def test_keys_in_a_group_are_refused(harness: Harness) -> None:
    tg, pp, db = harness.tg, harness.pp, harness.storage
    pp.add_shop(PUB, PRIV)
    owner = tg.user(1008, "Olga", language_code="en")
    group = tg.create_group("Team", admins=[owner], bot_status="administrator")

    first = await tg.send_text(owner, group, f"/connect {PUB} {PRIV}")
    warning = await tg.next_bot_message(group)
    assert "нельзя публиковать в группе" in warning["text"]  # groups default to ru
    assert (group, first["message_id"]) in tg.deleted
    second = await tg.send_text(owner, group, f"/connect {PUB} {PRIV}")
    await tg.wait_for("deleteMessage", 2)
    assert (group, second["message_id"]) in tg.deleted
    assert len(tg.sent_messages(group)) == 1  # warned once
    assert await db.shops.list_all() == []
    assert pp.count("/oauth/accesstoken") == 0
