"""Colleagues: invite links with a role, /staff role changes and removal, refusals."""

from __future__ import annotations

from storage import Role
from tests.harness import Harness
from tests.linking.helpers import answer_of, button_texts, buttons, code_of


async def test_invite_join_and_role_change(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(3001, "Olga", language_code="en")
    colleague = tg.user(3002, "Kolya", language_code="en")
    shop = await harness.seed_shop(owner.id)

    await tg.send_text(owner, owner.id, "/invite")
    ask = await tg.next_bot_message(owner.id)
    assert button_texts(ask) == ["Manager", "Viewer"]
    await tg.click(owner, ask, text="Manager")
    invite = await tg.wait_message(owner.id, lambda m: "Invite link" in m["text"])
    url = next(w for w in invite["text"].split() if w.startswith("https://t.me/"))
    assert url.startswith("https://t.me/pixl_test_bot?start=")

    await tg.start_deep_link(colleague, code_of(url))
    welcome = await tg.next_bot_message(colleague.id)
    assert "You are now a manager of <b>Demo Print</b>" in welcome["text"] or (
        "You are now a manager of Demo Print" in welcome["text"]
    )
    assert await db.members.get_role(shop.id, colleague.id) is Role.MANAGER
    assert [link.shop_id for link in await db.links.for_chat(colleague.id)] == [shop.id]
    # The owner never chose a language and was seeded, so the default (ru) is used.
    await tg.wait_message(owner.id, lambda m: "Kolya присоединился" in m["text"])

    # The link works once.
    stranger = tg.user(3003, "Eve", language_code="en")
    await tg.start_deep_link(stranger, code_of(url))
    assert "invalid, already used or expired" in (await tg.next_bot_message(stranger.id))["text"]
    assert await db.members.get_role(shop.id, stranger.id) is None

    # The owner demotes the colleague to viewer, then removes them.
    await tg.send_text(owner, owner.id, "/staff")
    staff = await tg.wait_message(owner.id, lambda m: "Members of" in m["text"])
    assert "Kolya" in staff["text"]
    assert "→ viewer" in button_texts(staff)
    query = await tg.click(owner, staff, text="→ viewer")
    assert (await answer_of(tg, query))["text"] == "Role changed."
    assert await db.members.get_role(shop.id, colleague.id) is Role.VIEWER
    staff = await tg.wait_message(owner.id, lambda m: "→ manager" in button_texts(m))
    await tg.click(owner, staff, text="Remove")
    await tg.wait_message(owner.id, lambda m: "No colleagues yet" in m["text"])
    assert await db.members.get_role(shop.id, colleague.id) is None
    assert await db.links.for_chat(colleague.id) == []


async def test_viewer_is_refused_owner_actions(harness: Harness) -> None:
    tg, db = harness.tg, harness.storage
    owner = tg.user(3004, "Olga", language_code="en")
    viewer = tg.user(3005, "Vera")  # ru
    shop = await harness.seed_shop(owner.id)
    await db.members.set_role(shop.id, viewer.id, Role.VIEWER)
    await db.links.link(viewer.id, shop.id)

    await tg.send_text(viewer, viewer.id, "/invite manager")
    refused = await tg.next_bot_message(viewer.id)
    assert "нужна роль «владелец»" in refused["text"]
    await tg.send_text(viewer, viewer.id, "/disconnect")
    assert "владелец" in (await tg.next_bot_message(viewer.id))["text"]

    # The owner's /staff button pressed by the viewer (same data, the viewer's own chat).
    await tg.send_text(owner, owner.id, "/staff")
    staff = await tg.wait_message(owner.id, lambda m: "Members of" in m["text"])
    data = next(b["callback_data"] for b in buttons(staff) if b["text"] == "Remove")
    await tg.send_text(viewer, viewer.id, "/shops")
    own = await tg.next_bot_message(viewer.id)
    query = await tg.click(viewer, own, data, strict=False)
    assert "владелец" in (await answer_of(tg, query))["text"]
    assert await db.members.get_role(shop.id, viewer.id) is Role.VIEWER
    assert len(await db.shops.list_all()) == 1


async def test_invite_in_group_is_private_only(harness: Harness) -> None:
    tg = harness.tg
    owner = tg.user(3006, "Olga", language_code="en")
    await harness.seed_shop(owner.id)
    group = tg.create_group("Team", admins=[owner], bot_status="member")
    await tg.send_text(owner, group, "/invite")
    msg = await tg.next_bot_message(group)
    assert "только в личном чате" in msg["text"]
