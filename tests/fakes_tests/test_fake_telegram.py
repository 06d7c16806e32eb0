"""The fake Telegram Bot API works with the real aiogram client, polling and webhook."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest
from aiogram import Bot, Dispatcher, F, Router
from aiogram.exceptions import (
    TelegramBadRequest,
    TelegramConflictError,
    TelegramForbiddenError,
    TelegramMigrateToChat,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.filters import Command, CommandObject, CommandStart
from aiogram.types import (
    BotCommand,
    BotCommandScopeChat,
    BufferedInputFile,
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)
from aiogram.webhook.aiohttp_server import SimpleRequestHandler
from aiohttp import web

from tests.fakes.telegram import EntityParseError, FakeTelegram, parse_html, utf16_len


@contextlib.asynccontextmanager
async def polling(fake: FakeTelegram, bot: Bot, router: Router) -> AsyncIterator[Dispatcher]:
    """Run a real Dispatcher in polling mode against the fake for the block's duration."""
    dp = Dispatcher()
    dp.include_router(router)
    task = asyncio.create_task(
        dp.start_polling(bot, polling_timeout=1, handle_signals=False, close_bot_session=False)
    )
    await fake.wait_for("getMe")  # calls are recorded when answered; getMe comes first
    try:
        yield dp
    finally:
        await dp.stop_polling()
        await task


# --------------------------------------------------------------------------- polling e2e


async def test_polling_echo_and_deep_link(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    router = Router()

    @router.message(CommandStart())
    async def start(message: Message, command: CommandObject) -> None:
        await message.answer(f"hello {command.args}")

    @router.message(F.text)
    async def echo(message: Message) -> None:
        await message.answer(message.text or "")

    alice = fake_telegram.user(1001, "Alice")
    async with polling(fake_telegram, tg_bot, router):
        await fake_telegram.start_deep_link(alice, "shop-42")
        assert (await fake_telegram.next_bot_message(alice.id))["text"] == "hello shop-42"
        await fake_telegram.send_text(alice, alice.id, "ping")
        reply = await fake_telegram.next_bot_message(alice.id)

    assert reply["text"] == "ping"
    assert reply["from"]["username"] == "pixl_test_bot"
    assert fake_telegram.calls_of("getMe")
    assert [m["text"] for m in fake_telegram.sent_messages(alice.id)] == ["hello shop-42", "ping"]


async def test_callback_answer_and_edit(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    router = Router()

    @router.message(Command("menu"))
    async def menu(message: Message) -> None:
        button = InlineKeyboardButton(text="Shop A", callback_data="pick:a")
        await message.answer("Pick", reply_markup=InlineKeyboardMarkup(inline_keyboard=[[button]]))

    @router.callback_query(F.data.startswith("pick:"))
    async def pick(query: CallbackQuery) -> None:
        await query.answer("ok")
        assert isinstance(query.message, Message)
        await query.message.edit_text(f"Picked {query.data}")

    alice = fake_telegram.user(1001, "Alice", language_code="en")
    async with polling(fake_telegram, tg_bot, router):
        await fake_telegram.send_text(alice, alice.id, "/menu")
        menu_msg = await fake_telegram.next_bot_message(alice.id)
        assert fake_telegram.inline_buttons(menu_msg) == [
            {"text": "Shop A", "callback_data": "pick:a"}
        ]
        query_id = await fake_telegram.click(alice, menu_msg, text="Shop A")
        edited = await fake_telegram.wait_message(alice.id, lambda m: "Picked" in m["text"])

    assert edited["message_id"] == menu_msg["message_id"]
    assert edited["text"] == "Picked pick:a"
    assert "reply_markup" not in edited  # editMessageText without markup drops the keyboard
    assert "edit_date" in edited
    assert fake_telegram.answered_callbacks[query_id]["text"] == "ok"
    with pytest.raises(ValueError, match="no button"):
        await fake_telegram.click(alice, edited, "pick:a")


# --------------------------------------------------------------------------- getUpdates


async def test_get_updates_offset_and_long_poll(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    alice = fake_telegram.user(1001)
    await fake_telegram.send_text(alice, alice.id, "one")
    await fake_telegram.send_text(alice, alice.id, "/two")

    first = await tg_bot.get_updates(timeout=0)
    again = await tg_bot.get_updates(timeout=0)  # not confirmed yet: delivered again
    assert [u.update_id for u in first] == [u.update_id for u in again]
    assert [u.message.text for u in first if u.message] == ["one", "/two"]
    assert first[1].message and first[1].message.entities
    assert first[1].message.entities[0].type == "bot_command"

    offset = first[-1].update_id + 1
    assert await tg_bot.get_updates(offset=offset, timeout=0) == []
    assert await tg_bot.get_updates(timeout=0) == []  # confirmed updates are gone for good

    started = time.monotonic()
    poll = asyncio.create_task(tg_bot.get_updates(offset=offset, timeout=5))
    await asyncio.sleep(0.1)
    await fake_telegram.send_text(alice, alice.id, "three")
    updates = await poll
    assert [u.message.text for u in updates if u.message] == ["three"]
    assert time.monotonic() - started < 1.5

    started = time.monotonic()
    assert await tg_bot.get_updates(offset=updates[0].update_id + 1, timeout=1) == []
    assert time.monotonic() - started >= 0.9  # the empty long poll really waited


# --------------------------------------------------------------------------- errors


async def test_error_mapping(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    alice = fake_telegram.user(1001)

    fake_telegram.fail_next("sendMessage", 429, retry_after=3)
    with pytest.raises(TelegramRetryAfter) as retry:
        await tg_bot.send_message(alice.id, "hi")
    assert retry.value.retry_after == 3
    assert fake_telegram.too_many_requests == 1
    assert (await tg_bot.send_message(alice.id, "hi")).text == "hi"  # only the next call failed

    with pytest.raises(TelegramBadRequest, match="chat not found"):
        await tg_bot.send_message(999, "hi")

    fake_telegram.block_chat(alice.id)
    with pytest.raises(TelegramForbiddenError, match="bot was blocked by the user"):
        await tg_bot.send_message(alice.id, "hi")

    group = fake_telegram.create_group("Shop", admins=[alice], bot_status="member")
    new_id = await fake_telegram.migrate_group(group)
    with pytest.raises(TelegramMigrateToChat) as migrated:
        await tg_bot.send_message(group, "hi")
    assert migrated.value.migrate_to_chat_id == new_id
    assert (await tg_bot.send_message(new_id, "hi")).chat.type == "supergroup"

    fake_telegram.down_status = 502
    with pytest.raises(TelegramServerError, match="Bad Gateway"):
        await tg_bot.get_me()
    fake_telegram.down_status = None

    wrong = fake_telegram.make_bot(token="654321:wrong-token")
    try:
        with pytest.raises(TelegramUnauthorizedError):
            await wrong.get_me()
    finally:
        await wrong.session.close()

    assert [c.status for c in fake_telegram.calls_of("sendMessage")] == [
        429,
        200,
        400,
        403,
        400,
        200,
    ]


async def test_fault_switches_and_poll_conflict(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    alice, bob = fake_telegram.user(1001), fake_telegram.user(1002)
    fake_telegram.fail_next("sendMessage", 400, "Bad Request: boom", chat_id=bob.id, times=2)
    assert await tg_bot.send_message(alice.id, "fine")  # the rule only matches bob's chat
    for _ in range(2):
        with pytest.raises(TelegramBadRequest, match="boom"):
            await tg_bot.send_message(bob.id, "x")
    assert await tg_bot.send_message(bob.id, "fine again")

    fake_telegram.set_delay("getMe", 0.2)
    started = time.monotonic()
    await tg_bot.get_me()
    assert time.monotonic() - started >= 0.2
    fake_telegram.set_delay("getMe", 0)

    # A second getUpdates terminates the first one's long poll with 409.
    first = asyncio.create_task(tg_bot.get_updates(timeout=5))
    await asyncio.sleep(0.05)
    assert await tg_bot.get_updates(timeout=0) == []
    with pytest.raises(TelegramConflictError, match="terminated by other getUpdates"):
        await first


async def test_unknown_method_and_raw_form(fake_telegram: FakeTelegram) -> None:
    alice = fake_telegram.user(1001)
    url = f"{fake_telegram.base_url}/bot{fake_telegram.bot_token}"
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/fooBar") as resp:
            assert resp.status == 404
            assert (await resp.json())["description"] == "Not Found: method not found"
        form = {
            "chat_id": str(alice.id),
            "text": "123",
            "reply_markup": '{"inline_keyboard": [[{"text": "x", "callback_data": "1"}]]}',
            "disable_notification": "true",
        }
        async with http.post(f"{url}/sendMessage", data=form) as resp:
            body = await resp.json()
    assert body["ok"] is True
    assert body["result"]["text"] == "123"  # text stays a string
    params = fake_telegram.calls_of("sendMessage")[0].params
    assert params["chat_id"] == alice.id
    assert params["disable_notification"] is True
    assert params["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "1"


# --------------------------------------------------------------------------- text rules


def test_parse_html_entities_and_errors() -> None:
    text, entities = parse_html('<b>Order</b> &lt;42&gt; <a href="https://x.io/?a=1&amp;b=2">x</a>')
    assert text == "Order <42> x"
    assert entities == [
        {"type": "bold", "offset": 0, "length": 5},
        {"type": "text_link", "offset": 11, "length": 1, "url": "https://x.io/?a=1&b=2"},
    ]
    emoji_text, emoji_entities = parse_html("😀<i>a</i>")
    assert utf16_len(emoji_text) == 3
    assert emoji_entities == [{"type": "italic", "offset": 2, "length": 1}]
    assert parse_html('<span class="tg-spoiler">s</span>')[1][0]["type"] == "spoiler"
    for bad in ("<b>x", "x</b>", "<b><i>x</b></i>", "a<br>b", "1 < 2", "<span>x</span>"):
        with pytest.raises(EntityParseError):
            parse_html(bad)


async def test_send_message_html_validation(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    alice = fake_telegram.user(1001)
    with pytest.raises(TelegramBadRequest, match="can't parse entities"):
        await tg_bot.send_message(alice.id, "<b>unclosed", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match='Unsupported start tag "br"'):
        await tg_bot.send_message(alice.id, "a<br>b", parse_mode="HTML")
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await tg_bot.send_message(alice.id, "a" * 4097)
    with pytest.raises(TelegramBadRequest, match="message is too long"):
        await tg_bot.send_message(alice.id, "😀" * 2049)  # 4098 UTF-16 units
    with pytest.raises(TelegramBadRequest, match="message text is empty"):
        await tg_bot.send_message(alice.id, "<b> </b>", parse_mode="HTML")

    # Tags don't count: 4096 visible characters inside <b> are fine.
    msg = await tg_bot.send_message(alice.id, "<b>" + "a" * 4096 + "</b>", parse_mode="HTML")
    assert msg.text == "a" * 4096
    assert msg.entities and msg.entities[0].type == "bold"
    assert fake_telegram.sent_messages(alice.id)[-1]["text"] == "a" * 4096


async def test_edit_and_delete_errors(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    alice = fake_telegram.user(1001)
    msg = await tg_bot.send_message(alice.id, "v1")
    with pytest.raises(TelegramBadRequest, match="message is not modified"):
        await tg_bot.edit_message_text("v1", chat_id=alice.id, message_id=msg.message_id)
    with pytest.raises(TelegramBadRequest, match="message to edit not found"):
        await tg_bot.edit_message_text("v2", chat_id=alice.id, message_id=777)
    edited = await tg_bot.edit_message_text("v2", chat_id=alice.id, message_id=msg.message_id)
    assert isinstance(edited, Message) and edited.text == "v2"
    assert fake_telegram.message(alice.id, msg.message_id)["text"] == "v2"  # type: ignore[index]

    fake_telegram.refuse_deletes = True
    with pytest.raises(TelegramBadRequest, match="message can't be deleted"):
        await tg_bot.delete_message(alice.id, msg.message_id)
    fake_telegram.refuse_deletes = False
    assert await tg_bot.delete_message(alice.id, msg.message_id) is True
    assert (alice.id, msg.message_id) in fake_telegram.deleted
    assert fake_telegram.message(alice.id, msg.message_id) is None
    with pytest.raises(TelegramBadRequest, match="message to delete not found"):
        await tg_bot.delete_message(alice.id, msg.message_id)


async def test_photo_upload_url_and_download(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    alice = fake_telegram.user(1001)
    photo = BufferedInputFile(b"\x89PNG-fake", filename="order.png")
    msg = await tg_bot.send_photo(alice.id, photo, caption="<b>Order 7</b>", parse_mode="HTML")
    assert msg.caption == "Order 7"
    assert msg.photo
    call = fake_telegram.calls_of("sendPhoto")[0]
    assert list(call.files.values()) == [b"\x89PNG-fake"]
    downloaded = await tg_bot.download(msg.photo[-1].file_id)
    assert downloaded is not None and downloaded.read() == b"\x89PNG-fake"

    with pytest.raises(TelegramBadRequest, match="message caption is too long"):
        await tg_bot.send_photo(alice.id, "https://img.example/a.jpg", caption="x" * 1025)
    assert (await tg_bot.send_photo(alice.id, "https://img.example/a.jpg")).photo
    fake_telegram.fail_urls = True
    with pytest.raises(TelegramBadRequest, match="wrong file identifier/HTTP URL specified"):
        await tg_bot.send_photo(alice.id, "https://img.example/a.jpg")


# --------------------------------------------------------------------------- rate limits


async def test_enforce_limits(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    users = [fake_telegram.user(1000 + i) for i in range(4)]
    fake_telegram.enforce_limits(global_per_sec=30, per_chat_interval=0.2, group_per_minute=2)

    # Paced at the per-chat interval: no 429.
    for _ in range(4):
        await tg_bot.send_message(users[0].id, "paced")
        await asyncio.sleep(0.22)
    assert fake_telegram.too_many_requests == 0

    # Two messages to one chat at once: the second breaks the per-chat limit.
    await tg_bot.send_message(users[1].id, "a")
    with pytest.raises(TelegramRetryAfter) as per_chat:
        await tg_bot.send_message(users[1].id, "b")
    assert per_chat.value.retry_after >= 1

    # Global: the 4th message to different chats within one second.
    fake_telegram.enforce_limits(global_per_sec=3, per_chat_interval=0.2, group_per_minute=2)
    for user in users[:3]:
        await tg_bot.send_message(user.id, "bulk")
    with pytest.raises(TelegramRetryAfter):
        await tg_bot.send_message(users[3].id, "bulk")

    # Group: 20/min scaled down to 2/min.
    group = fake_telegram.create_group("Shop", bot_status="member")
    fake_telegram.enforce_limits(global_per_sec=30, per_chat_interval=0.01, group_per_minute=2)
    await tg_bot.send_message(group, "1")
    await asyncio.sleep(0.02)
    await tg_bot.send_message(group, "2")
    await asyncio.sleep(0.02)
    with pytest.raises(TelegramRetryAfter) as per_group:
        await tg_bot.send_message(group, "3")
    assert 55 <= per_group.value.retry_after <= 60
    assert fake_telegram.too_many_requests == 3
    fake_telegram.disable_limits()
    await tg_bot.send_message(group, "3")


# --------------------------------------------------------------------------- webhook


async def test_webhook_delivery_secret_and_reply(fake_telegram: FakeTelegram) -> None:
    router = Router()

    @router.message(F.text == "reply")
    async def as_reply(message: Message) -> object:
        return message.answer("from webhook reply")  # returned, not awaited

    @router.message(F.text)
    async def awaited(message: Message) -> None:
        await message.answer(f"awaited {message.text}")

    dp = Dispatcher()
    dp.include_router(router)
    bot = fake_telegram.make_bot()
    app = web.Application()
    SimpleRequestHandler(dp, bot, handle_in_background=False, secret_token="s3cret").register(
        app, path="/tg"
    )
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/tg"
    alice = fake_telegram.user(1001)
    try:
        assert await bot.set_webhook(url, secret_token="s3cret")
        with pytest.raises(TelegramConflictError):
            await bot.get_updates(timeout=0)

        await fake_telegram.send_text(alice, alice.id, "hi")
        assert (await fake_telegram.next_bot_message(alice.id))["text"] == "awaited hi"
        await fake_telegram.send_text(alice, alice.id, "reply")
        assert (await fake_telegram.next_bot_message(alice.id))["text"] == "from webhook reply"
        [reply_call] = await fake_telegram.wait_for(
            "sendMessage", predicate=lambda c: c.via != "http"
        )
        assert reply_call.via == "webhook" and reply_call.params["chat_id"] == alice.id
        assert [d.status for d in fake_telegram.webhook_deliveries] == [200, 200]

        # A wrong secret: aiogram answers 401 and the fake records the failure.
        fake_telegram.webhook_max_attempts = 1
        await bot.set_webhook(url, secret_token="wrong")
        await fake_telegram.send_text(alice, alice.id, "lost")
        await fake_telegram.webhook_idle()
        assert fake_telegram.webhook_deliveries[-1].status == 401
        info = await bot.get_webhook_info()
        assert info.last_error_message and "401" in info.last_error_message
        assert await bot.delete_webhook()
        assert fake_telegram.webhook_url is None
    finally:
        await runner.cleanup()
        await bot.session.close()


# --------------------------------------------------------------------------- chats


async def test_groups_topics_and_members(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    owner = fake_telegram.user(1001, "Owner")
    staff = fake_telegram.user(1002, "Staff")
    group = fake_telegram.create_group("Print shop", forum=True, creator=owner, members=[staff])

    await fake_telegram.startgroup(owner, group, "link-9")
    updates = await tg_bot.get_updates(timeout=0)
    kinds = [u.event_type for u in updates]
    assert kinds == ["my_chat_member", "message", "message"]
    assert updates[0].my_chat_member and updates[0].my_chat_member.new_chat_member.status == (
        "member"
    )
    start = updates[2].message
    assert start and start.text == "/start@pixl_test_bot link-9"
    await tg_bot.get_updates(offset=updates[-1].update_id + 1, timeout=0)

    assert (await tg_bot.get_chat_member(group, owner.id)).status == "creator"
    assert (await tg_bot.get_chat_member(group, staff.id)).status == "member"
    assert (await tg_bot.get_chat_member(group, fake_telegram.bot_id)).status == "member"
    admins = await tg_bot.get_chat_administrators(group)
    assert [a.user.id for a in admins] == [owner.id]
    chat = await tg_bot.get_chat(group)
    assert chat.is_forum and chat.type == "supergroup"

    thread = fake_telegram.create_topic(group, "Orders")
    sent = await tg_bot.send_message(group, "new order", message_thread_id=thread)
    assert sent.message_thread_id == thread and sent.is_topic_message
    user_msg = await fake_telegram.send_text(staff, group, "/status", thread_id=thread)
    [update] = await tg_bot.get_updates(timeout=0)
    assert update.message and update.message.message_thread_id == thread
    assert update.message.message_id == user_msg["message_id"]
    with pytest.raises(TelegramBadRequest, match="message thread not found"):
        await tg_bot.send_message(group, "x", message_thread_id=9999)

    await fake_telegram.remove_bot_from_group(owner, group)
    with pytest.raises(TelegramForbiddenError, match="bot was kicked from the supergroup chat"):
        await tg_bot.send_message(group, "still here?")


async def test_block_unblock_and_commands(fake_telegram: FakeTelegram, tg_bot: Bot) -> None:
    alice = fake_telegram.user(1001)
    await fake_telegram.block_bot(alice)
    with pytest.raises(TelegramForbiddenError, match="blocked by the user"):
        await tg_bot.send_message(alice.id, "hi")
    await fake_telegram.send_text(alice, alice.id, "/start")  # "Restart" unblocks
    updates = await tg_bot.get_updates(timeout=0)
    statuses = [u.my_chat_member.new_chat_member.status for u in updates if u.my_chat_member]
    assert statuses == ["kicked", "member"]
    assert await tg_bot.send_message(alice.id, "welcome back")

    default = [BotCommand(command="start", description="Start")]
    personal = [BotCommand(command="orders", description="Orders")]
    assert await tg_bot.set_my_commands(default)
    assert await tg_bot.set_my_commands(
        personal, scope=BotCommandScopeChat(chat_id=alice.id), language_code="en"
    )
    assert [c.command for c in await tg_bot.get_my_commands()] == ["start"]
    mine = await tg_bot.get_my_commands(
        scope=BotCommandScopeChat(chat_id=alice.id), language_code="en"
    )
    assert [c.command for c in mine] == ["orders"]
    assert fake_telegram.my_commands({"type": "chat", "chat_id": alice.id}, "en")[0]["command"] == (
        "orders"
    )
    with pytest.raises(TelegramBadRequest, match="BOT_COMMAND_INVALID"):
        await tg_bot.set_my_commands([BotCommand(command="Bad Command", description="x")])
