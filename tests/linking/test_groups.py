"""Groups and topics: linking by startgroup and /link, removal, re-adding, migration."""

from __future__ import annotations

from storage import Role
from tests.harness import Harness
from tests.linking.helpers import buttons, code_of, eventually


async def group_code(harness: Harness, user_id: int) -> str:
    """Ask for a startgroup link in private, as an owner or a manager does."""
    tg = harness.tg
    await tg.send_text(user_id, user_id, "/link")
    msg = await tg.next_bot_message(user_id)
    url = buttons(msg)[0]["url"]
    assert url.startswith("https://t.me/pixl_test_bot?startgroup=")
    return code_of(url)


async def test_startgroup_links_the_group(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(2001, "Olga", language_code="en")
    shop = await harness.seed_shop(owner.id)
    group = tg.create_group("Print team", admins=[owner])
    code = await group_code(harness, owner.id)

    await tg.startgroup(owner, group, code)
    linked = await tg.wait_message(group, lambda m: "Demo Print" in m.get("text", ""))
    # The group takes the language of whoever linked it.
    assert "This group is now linked to Demo Print" in linked["text"]
    assert [(link.shop_id, link.topic_id) for link in await db.links.for_chat(group)] == [
        (shop.id, None)
    ]
    chat = await db.chats.get(group)
    assert chat is not None and chat.is_active and chat.language == "en"

    # The code is one-time.
    other = tg.create_group("Other", admins=[owner])
    await tg.startgroup(owner, other, code)
    refused = await tg.wait_message(
        other, lambda m: "invalid" in m.get("text", "").lower() or "недейств" in m.get("text", "")
    )
    assert refused
    assert await db.links.for_chat(other) == []


async def test_link_command_in_a_forum_topic(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(2002, "Olga", language_code="en")
    manager = tg.user(2003, "Max")  # ru
    shop = await harness.seed_shop(owner.id)
    await db.members.set_role(shop.id, manager.id, Role.MANAGER)
    await db.links.link(manager.id, shop.id)
    forum = tg.create_group(
        "Shop forum", forum=True, admins=[owner], members=[manager], bot_status="member"
    )
    topic = tg.create_topic(forum, "Orders")
    code = await group_code(harness, manager.id)

    await tg.send_text(manager, forum, f"/link {code}", thread_id=topic)
    msg = await tg.next_bot_message(forum)
    assert "Эта тема теперь связана с <b>Demo Print</b>" in msg["text"] or (
        "Эта тема теперь связана с Demo Print" in msg["text"]
    )
    assert msg.get("message_thread_id") == topic
    links = await db.links.for_chat(forum)
    assert [(link.shop_id, link.topic_id) for link in links] == [(shop.id, topic)]


async def test_viewer_cannot_link_a_group(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(2004, "Olga", language_code="en")
    viewer = tg.user(2005, "Vera", language_code="en")
    shop = await harness.seed_shop(owner.id)
    await db.members.set_role(shop.id, viewer.id, Role.VIEWER)
    await db.links.link(viewer.id, shop.id)
    code = await group_code(harness, owner.id)
    group = tg.create_group("Team", members=[viewer], bot_status="member")

    await tg.send_text(viewer, group, f"/link {code}")
    msg = await tg.next_bot_message(group)
    assert "роль «менеджер»" in msg["text"]
    assert await db.links.for_chat(group) == []
    # A viewer may not ask for a group link in private either.
    await tg.send_text(viewer, viewer.id, "/link")
    msg = await tg.next_bot_message(viewer.id)
    assert "This needs the manager role" in msg["text"]


async def test_added_without_code_gets_how_to(harness: Harness) -> None:
    tg = harness.tg
    someone = tg.user(2006, "Ivan", language_code="en")
    group = tg.create_group("Random", admins=[someone])
    await tg.add_bot_to_group(someone, group)
    msg = await tg.next_bot_message(group)
    assert "/link" in msg["text"]


async def test_removed_and_readded(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(2007, "Ольга")  # Telegram language ru
    shop = await harness.seed_shop(owner.id)
    group = tg.create_group("Team", admins=[owner])
    await tg.startgroup(owner, group, await group_code(harness, owner.id))
    await tg.wait_message(group, lambda m: "Demo Print" in m.get("text", ""))

    await tg.remove_bot_from_group(owner, group)
    told = await tg.wait_message(owner.id, lambda m: "Меня удалили из группы" in m["text"])
    assert "«Team»" in told["text"] and "Demo Print" in told["text"]
    chat = await db.chats.get(group)
    assert chat is not None and not chat.is_active
    # Alerts skip the inactive group, but the link itself is kept for when the bot comes back.
    assert [link.chat_id for link in await db.links.for_shop(shop.id)] == [owner.id]
    assert await db.links.get(group, shop.id) is not None

    await tg.add_bot_to_group(owner, group)
    back = await tg.wait_message(group, lambda m: "вернули меня" in m.get("text", ""))
    assert "Demo Print" in back["text"]
    chat = await db.chats.get(group)
    assert chat is not None and chat.is_active
    await tg.wait_message(owner.id, lambda m: "снова в группе" in m["text"])


async def test_supergroup_migration_keeps_everything(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(2008, "Olga", language_code="en")
    shop = await harness.seed_shop(owner.id)
    group = tg.create_group("Team", admins=[owner])
    await tg.startgroup(owner, group, await group_code(harness, owner.id))
    await tg.wait_message(group, lambda m: "Demo Print" in m.get("text", ""))
    await db.links.update_prefs(group, shop.id, events={"paid"})

    new_id = await tg.migrate_group(group, user=owner)

    async def moved() -> bool:
        return await db.chats.get(group) is None and bool(await db.links.for_chat(new_id))

    await eventually(moved)
    links = await db.links.for_chat(new_id)
    assert [(link.shop_id, set(link.events)) for link in links] == [(shop.id, {"paid"})]
    assert await db.links.for_chat(group) == []
    assert await db.chats.get(group) is None
    chat = await db.chats.get(new_id)
    assert chat is not None and chat.language == "en" and chat.is_active

    await tg.send_text(owner, new_id, "/shops")
    msg = await tg.next_bot_message(new_id)
    assert "Demo Print" in msg["text"]


async def test_unlink_needs_group_admin_or_owner(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(2009, "Olga", language_code="en")
    member = tg.user(2010, "Pavel", language_code="en")
    shop = await harness.seed_shop(owner.id)
    group = tg.create_group("Team", members=[owner, member])
    await tg.startgroup(owner, group, await group_code(harness, owner.id))
    await tg.wait_message(group, lambda m: "Demo Print" in m.get("text", ""))

    await tg.send_text(member, group, "/unlink")
    refused = await tg.wait_message(group, lambda m: "Only admins" in m.get("text", ""))
    assert refused
    assert await db.links.get(group, shop.id) is not None

    await tg.send_text(owner, group, "/unlink")  # the shop owner, not a group admin
    await tg.wait_message(group, lambda m: "no longer linked" in m.get("text", ""))
    assert await db.links.get(group, shop.id) is None
