"""No secret leaks: a full flow against the bot process at LOG_LEVEL=DEBUG, first with
key=value logs, then (restarted on the same database) with JSON logs; then every log line,
/metrics, /healthz and the database files (main, -wal, -shm) are searched for the keys and
tokens used.

The flow: the owner connects the shop through Telegram (wizard: public key, then private
key), links a group, Pixlpark posts webhooks (also to a wrong token), staff look orders up,
Pixlpark fails a request, access tokens expire (refresh) and refresh tokens expire (new
login), alerts and corrections go out.

Searched everywhere: the private key, the bot token, SECRET_KEY and every request, access
and refresh token the fake Pixlpark issued. In logs, /metrics and /healthz also: the public
key and the shop's webhook token. The database keeps those two in clear by design (the
public key identifies the shop; the webhook token is looked up on every webhook and shown
again in /shops), and the private key only encrypted.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import shutil
from pathlib import Path

from tests.process_harness import BOT_TOKEN, FAST_SENDER, PUBLIC_URL, SECRET_KEY, BotProcess, until

OWNER = 1001
STAFF = 1002


def copy_db(bot: BotProcess, into: Path) -> list[Path]:
    """Copies of the database file and its -wal/-shm companions as they are now."""
    into.mkdir(parents=True, exist_ok=True)
    db = bot.tmp / "bot.sqlite3"
    copies = []
    for suffix in ("", "-wal", "-shm", "-journal"):
        path = Path(f"{db}{suffix}")
        if path.exists():
            target = into / path.name
            shutil.copyfile(path, target)
            copies.append(target)
    return copies


async def test_no_secret_in_logs_metrics_health_or_database(tmp_path: Path) -> None:
    public_key = "pub" + secrets.token_hex(14)
    private_key = "prv" + secrets.token_hex(20)
    async with BotProcess.launch(
        tmp_path,
        poll_interval=1,
        recheck_delay=0.5,
        alert_fetch_timeout=1,
        log_level="DEBUG",
        log_format="kv",
        **FAST_SENDER,
    ) as bot:
        tg, pp = bot.tg, bot.pp
        fake = pp.add_shop(public_key, private_key, photolab_id=4242)
        fake.load_sample_orders()
        owner = tg.user(OWNER, "Olga", language_code="en")
        staff = tg.user(STAFF, "Stas", language_code="en")
        await bot.start()

        # connect: the wizard, the private key in a message of its own
        await tg.send_text(owner, OWNER, "/connect")
        await tg.next_bot_message(OWNER)
        await tg.send_text(owner, OWNER, public_key)
        await tg.next_bot_message(OWNER)
        await tg.send_text(owner, OWNER, private_key)
        done = await tg.wait_message(
            OWNER, lambda m: "is connected" in m.get("text", ""), timeout=10
        )
        match = re.search(re.escape(PUBLIC_URL) + r"/pixlpark/([\w-]+)/order-created", done["text"])
        assert match, done["text"]
        webhook_token = match.group(1)
        startgroup = tg.inline_buttons(done)[0]["url"]
        code = startgroup.rsplit("=", 1)[1]

        # a staff group, linked through the startgroup button
        group = tg.create_group("Print team", admins=[owner], members=[staff])
        await tg.startgroup(owner, group, code)
        await tg.next_bot_message(group, timeout=10)

        def hook(event: str, token: str = webhook_token) -> str:
            return f"{bot.url}/pixlpark/{token}/{event}"

        order_ids = sorted(fake.orders)

        async def flow(others: list[str]) -> None:
            order_id = fake.add_order()["Id"]  # new: known orders are baselined by the poller
            # webhooks, one to a wrong token
            assert (await pp.send_webhook(hook("order-created"), fake, order_id))[0] == 200
            wrong = hook("order-created", secrets.token_urlsafe(32))
            assert (await pp.send_webhook(wrong, fake, order_id))[0] == 404
            await tg.wait_message(OWNER, lambda m: order_id in m.get("text", ""), timeout=10)
            # lookups in private and in the group
            for text, chat, user in (
                (f"/order {order_id}", OWNER, owner),
                (f"/status {order_id}", group, staff),
                ("/today", OWNER, owner),
                ("/shops", OWNER, owner),
                ("/health", OWNER, owner),
            ):
                asked = await tg.send_text(user, chat, text)
                await tg.wait_message(
                    chat, lambda m, a=asked: m["message_id"] > a["message_id"], timeout=10
                )
            # Pixlpark fails once, then access tokens expire, then refresh tokens too
            # (a lookup repeated within 3 s is throttled: each asks about another order)
            pp.fail_next("/orders/", 500, times=3)
            asked = await tg.send_text(owner, OWNER, f"/status {others[0]}")
            await tg.wait_message(
                OWNER, lambda m: m["message_id"] > asked["message_id"], timeout=10
            )
            for refresh, other in ((False, others[1]), (True, others[2])):
                pp.expire_tokens(refresh=refresh)
                asked = await tg.send_text(owner, OWNER, f"/order {other}")
                await tg.wait_message(
                    OWNER, lambda m, a=asked: m["message_id"] > a["message_id"], timeout=10
                )
            # a change while Pixlpark is down: alerted from the body, corrected later
            pp.down = True
            fake.update_order(order_id, PaymentStatus="Paid")
            assert (await pp.send_webhook(hook("order-changed"), fake, order_id))[0] == 200
            await asyncio.sleep(1.5)
            pp.down = False
            await tg.wait_message(
                OWNER,
                lambda m: "💰" in m.get("text", "") and order_id in m.get("text", ""),
                timeout=15,
            )

        await flow(order_ids[0:3])
        healthz_kv = (await bot.health())[1]
        metrics_kv = await bot.metrics()
        db_live = copy_db(bot, tmp_path / "db-live")

        # again with JSON logs, on the same database
        assert await bot.terminate() == 0
        bot.env_overrides["LOG_FORMAT"] = "json"
        await bot.start()
        await flow(order_ids[3:6])
        fake.update_order(order_ids[6], RenderStatus="ArchiveSuccess")
        assert (await pp.send_webhook(hook("render-status"), fake, order_ids[6]))[0] == 200
        await until("the poller to run", lambda: pp.count("/orders", method="GET") > 0)
        await asyncio.sleep(1.5)
        healthz_json = (await bot.health())[1]
        metrics_json = await bot.metrics()
        db_live += copy_db(bot, tmp_path / "db-live-2")
        assert await bot.terminate() == 0
        db_after = copy_db(bot, tmp_path / "db-after")

        logs = bot.log_text()
        assert "level=DEBUG" in logs and '"level": "DEBUG"' in logs  # both formats ran
        issued = pp.issued_tokens()
        assert len(issued) >= 6  # request, access and refresh tokens, renewed
        everywhere = {
            "private key": private_key,
            "bot token": BOT_TOKEN,
            "bot token secret part": BOT_TOKEN.split(":", 1)[1],
            "SECRET_KEY": SECRET_KEY,
            **{f"pixlpark token #{i}": token for i, token in enumerate(issued)},
        }
        outside_db = {
            **everywhere,
            "public key": public_key,
            "webhook token": webhook_token,
        }
        texts = {
            "logs": logs,
            "/metrics (kv run)": metrics_kv,
            "/metrics (json run)": metrics_json,
            "/healthz (kv run)": str(healthz_kv),
            "/healthz (json run)": str(healthz_json),
        }
        leaks = [
            f"{name} in {where}"
            for where, text in texts.items()
            for name, value in outside_db.items()
            if value in text
        ]
        for path in db_live + db_after:
            data = path.read_bytes()
            leaks += [
                f"{name} in {path.parent.name}/{path.name}"
                for name, value in everywhere.items()
                if value.encode() in data
            ]
        db_data = b"".join(p.read_bytes() for p in db_live + db_after)
        print(
            f"\n{len(logs.splitlines())} log lines (DEBUG, kv then json), /metrics, /healthz and "
            f"{len(db_live) + len(db_after)} database files searched for "
            f"{len(outside_db)} secrets ({len(issued)} Pixlpark tokens): "
            f"{len(leaks)} found; in the database by design: public key "
            f"{public_key.encode() in db_data}, webhook token {webhook_token.encode() in db_data}"
        )
        assert not leaks, leaks
