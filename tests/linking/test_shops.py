"""/shops with two shops in one chat, /disconnect, /lang, command menus, forged buttons."""

from __future__ import annotations

from storage import Role
from tests.harness import Harness
from tests.linking.helpers import answer_of, button_texts, buttons


async def test_two_shops_in_one_group(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(4001, "Olga", language_code="en")
    first = await harness.seed_shop(owner.id, "pub-a", "priv-a", title="Alpha Print")
    second = await harness.seed_shop(owner.id, "pub-b", "priv-b", title="Beta Photo")
    group = tg.create_group("Team", admins=[owner], bot_status="member")
    await db.chats.upsert(group, "group", "Team")
    await db.chats.set_language(group, "en")
    for shop in (first, second):
        await db.links.link(group, shop.id, created_by=owner.id)

    member = tg.user(4002, "Pavel", language_code="en")
    tg.set_member_status(group, member, "member")
    await tg.send_text(member, group, "/shops")
    listing = await tg.next_bot_message(group)
    assert "Alpha Print" in listing["text"] and "Beta Photo" in listing["text"]
    # A plain group member sees neither webhook URLs nor a role.
    assert not any("Webhook" in t for t in button_texts(listing))
    assert "your role" not in listing["text"]
    # ...and may not unlink: the button says why.
    unlink = next(b for b in buttons(listing) if "Unlink" in b["text"])
    query = await tg.click(member, listing, unlink["callback_data"])
    assert "Only admins" in (await answer_of(tg, query))["text"]
    assert len(await db.links.for_chat(group)) == 2

    # Several shops: /unlink asks which one, with buttons.
    await tg.send_text(owner, group, "/unlink")
    ask = await tg.next_bot_message(group)
    assert "several shops" in ask["text"]
    assert button_texts(ask) == ["Alpha Print", "Beta Photo"]
    await tg.click(owner, ask, text="Beta Photo")
    await tg.wait_message(
        group,
        lambda m: (
            "no longer linked to <b>Beta" in m["text"] or "no longer linked to Beta" in m["text"]
        ),
    )
    assert [link.shop_id for link in await db.links.for_chat(group)] == [first.id]

    # A shop prefix works too.
    await db.links.link(group, second.id, created_by=owner.id)
    await tg.send_text(owner, group, "/unlink alpha")
    await tg.wait_message(group, lambda m: "no longer linked to Alpha" in m["text"])
    assert [link.shop_id for link in await db.links.for_chat(group)] == [second.id]


async def test_shop_data_not_shown_in_unlinked_chat(harness: Harness) -> None:
    tg = harness.tg
    owner = tg.user(4003, "Olga", language_code="en")
    await harness.seed_shop(owner.id)
    group = tg.create_group("Elsewhere", admins=[owner], bot_status="member")
    await tg.send_text(owner, group, "/shops")
    msg = await tg.next_bot_message(group)
    assert "Demo Print" not in msg["text"]
    assert "не связан с магазином" in msg["text"]


async def test_disconnect_with_confirmation(harness: Harness) -> None:
    tg, db, cfg = harness.tg, harness.storage, harness.app.dp["config"]
    owner = tg.user(4004, "Olga", language_code="en")
    shop = await harness.seed_shop(owner.id)
    group = tg.create_group("Team", admins=[owner], bot_status="member")
    await db.links.link(group, shop.id, created_by=owner.id)

    await tg.send_text(owner, owner.id, "/shops")
    listing = await tg.next_bot_message(owner.id)
    assert "your role: owner" in listing["text"]
    await tg.click(owner, listing, text="🔗 Webhook URLs")
    hooks = await tg.wait_message(owner.id, lambda m: "Webhook URLs of" in m["text"])
    for url in cfg.webhook_urls(shop.webhook_token).values():
        assert url in hooks["text"]

    await tg.send_text(owner, owner.id, "/disconnect")
    confirm = await tg.wait_message(
        owner.id, lambda m: "Disconnect <b>" in m["text"] or m["text"].startswith("Disconnect Demo")
    )
    await tg.click(owner, confirm, text="No")
    await tg.wait_message(owner.id, lambda m: m["text"] == "Nothing changed.")
    assert await db.shops.get(shop.id) is not None

    await tg.send_text(owner, owner.id, "/disconnect")
    confirm = await tg.wait_message(owner.id, lambda m: "Yes, disconnect" in button_texts(m))
    await tg.click(owner, confirm, text="Yes, disconnect")
    await tg.wait_message(owner.id, lambda m: "is disconnected" in m["text"])
    assert await db.shops.list_all() == []
    assert await db.links.for_chat(group) == []
    assert await db.links.for_chat(owner.id) == []
    # The old confirmation button is now stale.
    query = await tg.click(
        owner, confirm, strict=False, callback_data=buttons(confirm)[0]["callback_data"]
    )
    assert "expired" in (await answer_of(tg, query))["text"]


async def test_forged_callbacks_get_expired_answer(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(4005, "Olga", language_code="en")
    shop = await harness.seed_shop(owner.id)
    other_owner = tg.user(4006, "Oleg", language_code="en")
    other = await harness.seed_shop(other_owner.id, "pub-x", "priv-x", title="Other Shop")
    await tg.send_text(owner, owner.id, "/shops")
    listing = await tg.next_bot_message(owner.id)

    forged = [
        "garbage",
        "sh:hooks:not-a-number",
        "st:rm",
        "xx:1:2:3",
        f"sh:hooks:{other.id}",  # a shop not linked to this chat
        f"st:rm:{other.id}:{other_owner.id}",  # staff of a shop the user does not own
        f"dc:yes:{other.id}",
        "lg:de",
        "cn:recheck",  # nothing pending
        f"pk:invite:{shop.id + 100}",
    ]
    for data in forged:
        query = await tg.click(owner, listing, data, strict=False)
        answer = await answer_of(tg, query)
        assert "expired" in answer.get("text", ""), (data, answer)
    assert await db.shops.get(other.id) is not None
    assert await db.members.get_role(other.id, other_owner.id) is Role.OWNER
    assert not [c for c in tg.calls if c.status >= 500]


async def test_lang_and_command_menus(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    user = tg.user(4007, "Olga", language_code="en")
    await tg.send_text(user, user.id, "/lang")
    ask = await tg.next_bot_message(user.id)
    assert button_texts(ask) == ["Русский", "English"]
    await tg.click(user, ask, text="Русский")
    done = await tg.wait_message(user.id, lambda m: m["text"].startswith("Язык: русский"))
    assert done
    assert await db.users.get_language(user.id) == "ru"
    await tg.send_text(user, user.id, "/start")
    assert "Здравствуйте, Olga!" in (await tg.next_bot_message(user.id))["text"]

    # In a group only admins may change the language.
    member = tg.user(4008, "Pavel", language_code="en")
    group = tg.create_group("Team", admins=[user], members=[member], bot_status="member")
    await tg.send_text(member, group, "/lang en")
    assert "администраторы" in (await tg.next_bot_message(group))["text"]
    await tg.send_text(user, group, "/lang en")
    assert "in this group" in (await tg.next_bot_message(group))["text"]
    chat = await db.chats.get(group)
    assert chat is not None and chat.language == "en"

    private_ru = tg.my_commands({"type": "all_private_chats"}, "ru")
    private_en = tg.my_commands({"type": "all_private_chats"}, "en")
    assert {"start", "connect", "invite", "staff", "disconnect", "lang"} <= {
        c["command"] for c in private_en
    }
    assert next(c for c in private_en if c["command"] == "connect")["description"] == (
        "Connect a shop with its API keys"
    )
    assert next(c for c in private_ru if c["command"] == "connect")["description"] == (
        "Подключить магазин по API-ключам"
    )
    group_cmds = {c["command"] for c in tg.my_commands({"type": "all_group_chats"}, "en")}
    admin_cmds = {c["command"] for c in tg.my_commands({"type": "all_chat_administrators"}, "en")}
    assert "connect" not in group_cmds and "unlink" not in group_cmds
    assert "unlink" in admin_cmds and "lang" in admin_cmds
