"""The bot as a real process: graceful shutdown on SIGTERM/SIGINT within the bound,
one-line start-up failures, `python -m bot check`, webhook mode end to end with JSON logs."""

from __future__ import annotations

import asyncio
import json
import re
import signal
import socket
import sys
import time
from pathlib import Path

import aiohttp
import pytest

from bot.config import load_settings
from bot.telegram_webhook import webhook_address
from tests.process_harness import (
    BOT_TOKEN,
    FAST_SENDER,
    SECRET_KEY,
    BotProcess,
    proc_status,
    until,
)
from tests.production.conftest import metric

OWNER = 1001
SHUTDOWN_TIMEOUT = 4.0
SLACK = 2.0
"""Start-up of the interpreter aside, a stop may take this much longer than the budget."""


async def _stop(bot: BotProcess, sig: signal.Signals) -> tuple[int, float]:
    """Send ``sig`` and wait for the exit: (exit code, seconds)."""
    assert bot.proc is not None
    started = time.monotonic()
    bot.proc.send_signal(sig)
    while bot.proc.poll() is None:
        assert time.monotonic() - started < 30, "the bot did not stop"
        await asyncio.sleep(0.02)
    return bot.proc.returncode, time.monotonic() - started


def _no_traceback(bot: BotProcess) -> None:
    log = bot.log_text()
    assert "Traceback" not in log, bot.log_tail()
    assert "Unclosed" not in log and "was never awaited" not in log, bot.log_tail()


async def _burst(bot: BotProcess, events: int) -> str:
    """Seed a shop and fire ``events`` order-created webhooks at the running bot."""
    fake = bot.pixlpark_shop(samples=False)
    shop = await bot.seed_shop(OWNER, language="en")
    await bot.start()
    url = bot.webhook_url(shop, "order-created")
    async with aiohttp.ClientSession() as session:
        for _ in range(events):
            order = fake.add_order()
            body = fake.webhook_body(order["Id"])
            async with session.post(url, json=body) as response:
                assert response.status == 200
    return url


async def test_sigterm_during_burst_finishes_the_send_in_flight(tmp_path: Path) -> None:
    async with BotProcess.launch(
        tmp_path, poll_interval=0, shutdown_timeout=SHUTDOWN_TIMEOUT, **FAST_SENDER
    ) as bot:
        bot.tg.set_delay("sendMessage", 0.4)  # every send is in flight for a while
        await _burst(bot, 30)
        await bot.tg.wait_for("sendMessage", 3, timeout=20)
        code, seconds = await _stop(bot, signal.SIGTERM)
        assert code == 0, bot.log_tail()
        assert seconds < SHUTDOWN_TIMEOUT + SLACK, seconds
        _no_traceback(bot)
        log = bot.log_text()
        assert "shutting down" in log and "msg=stopped" in log
        # every message Telegram answered is recorded as sent: the send in flight at
        # SIGTERM was finished and marked, not cut off; the rest waits for the next start
        sent_to_owner = [
            c for c in bot.tg.calls_of("sendMessage") if int(c.params["chat_id"]) == OWNER
        ]
        async with bot.storage() as storage:
            stats = await storage.outbox.stats()
        assert stats["sending"] == 0
        assert stats["sent"] == len(sent_to_owner) >= 3
        assert stats["pending"] and int(stats["pending"]) > 0


async def test_sigint_with_telegram_hanging_stops_within_the_bound(tmp_path: Path) -> None:
    async with BotProcess.launch(
        tmp_path, poll_interval=0, shutdown_timeout=SHUTDOWN_TIMEOUT, **FAST_SENDER
    ) as bot:
        bot.tg.set_delay("sendMessage", 60)  # Telegram never answers the send in flight
        await _burst(bot, 5)
        await asyncio.sleep(0.5)  # the sender is waiting on Telegram
        code, seconds = await _stop(bot, signal.SIGINT)
        assert code == 0, bot.log_tail()
        assert seconds < SHUTDOWN_TIMEOUT + SLACK, seconds
        _no_traceback(bot)
        async with bot.storage() as storage:
            stats = await storage.outbox.stats()
        assert stats["sending"] == 0 and stats["sent"] == 0  # released for the next start


async def _run_bot(bot: BotProcess, *args: str, **env: str) -> tuple[int, list[str], str, float]:
    """Run ``python -m bot *args`` to its end: (code, stdout lines, stderr, seconds)."""
    environment = bot.env()
    environment.update(env)
    started = time.monotonic()
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=bot.tmp,
        env=environment,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    lines = out.decode().splitlines()
    return proc.returncode, lines, err.decode(), time.monotonic() - started


def _catches(pid: int, sig: signal.Signals) -> bool:
    """Whether process ``pid`` has a handler for ``sig`` (Linux: SigCgt in /proc)."""
    caught = proc_status(pid, "SigCgt")
    return caught is not None and bool(int(caught, 16) >> (sig - 1) & 1)


async def _signal_during_start_up(
    bot: BotProcess, sig: signal.Signals, *, when_logged: str | None = None
) -> tuple[int, str, float, Path]:
    """Start `python -m bot`, send ``sig`` as soon as it catches it (or once stderr shows
    ``when_logged``), wait for the exit: (code, stderr, seconds after the signal, database)."""
    database = bot.tmp / f"early-{sig.name}-{bool(when_logged)}.sqlite3"
    environment = bot.env()
    environment["DATABASE_URL"] = f"sqlite:///{database}"
    stderr = bot.tmp / f"{database.stem}.err"
    with stderr.open("wb") as err:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", cwd=bot.tmp, env=environment, stdout=err, stderr=err
        )

    def far_enough() -> bool:
        return proc.returncode is not None or (
            _catches(proc.pid, signal.SIGTERM)
            and (when_logged is None or when_logged in stderr.read_text())
        )

    await until("the bot to get that far", far_enough, timeout=60)
    assert proc.returncode is None, stderr.read_text()
    proc.send_signal(sig)
    signalled = time.monotonic()
    code = await asyncio.wait_for(proc.wait(), 30)
    return code, stderr.read_text(), time.monotonic() - signalled, database


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
async def test_a_signal_during_start_up_ends_it_at_once(tmp_path: Path) -> None:
    async with BotProcess.launch(tmp_path, poll_interval=0) as bot:
        bot.tg.set_delay("getMe", 30)  # start-up hangs on Telegram until the signal
        importing, starting, interrupted = await asyncio.gather(
            _signal_during_start_up(bot, signal.SIGTERM),
            _signal_during_start_up(bot, signal.SIGTERM, when_logged="schema migrated"),
            _signal_during_start_up(bot, signal.SIGINT, when_logged="schema migrated"),
        )
    for code, err, seconds, _database in (importing, starting, interrupted):
        assert code == 0, err  # not killed by the signal, no "exit by SIGINT" either
        assert "Traceback" not in err and "Unclosed" not in err and "Error" not in err, err
        assert seconds < 10, seconds
    assert not importing[3].exists()  # stopped before it opened anything
    assert starting[3].exists() and interrupted[3].exists()  # stopped while waiting on getMe


async def test_start_up_failures_are_one_line(tmp_path: Path) -> None:
    async with BotProcess.launch(tmp_path, poll_interval=0) as bot:
        (tmp_path / "a-file").write_text("not a directory")
        with socket.socket() as busy:
            busy.bind(("127.0.0.1", 0))
            busy.listen()
            busy_port = busy.getsockname()[1]
            results = await asyncio.gather(
                _run_bot(bot, BOT_TOKEN="123456:WRONG-token"),
                _run_bot(bot, DATABASE_URL=f"sqlite:///{tmp_path / 'a-file' / 'bot.sqlite3'}"),
                _run_bot(bot, DATABASE_URL=f"sqlite:///{tmp_path}"),  # a directory
                _run_bot(
                    bot,
                    HTTP_PORT=str(busy_port),
                    DATABASE_URL=f"sqlite:///{tmp_path / 'port.sqlite3'}",
                ),
            )
    expected = [
        r"error: Telegram rejected BOT_TOKEN \(401 Unauthorized\)",
        r"error: cannot open the database .*a file is in the way",
        r"error: cannot open the database .*unable to open database file",
        rf"error: HTTP_PORT {busy_port} is already in use .*",
    ]
    for (code, lines, err, seconds), pattern in zip(results, expected, strict=True):
        assert code == 1, (pattern, lines, err)
        assert len(lines) == 1 and re.fullmatch(pattern, lines[0]), (pattern, lines, err)
        assert "Traceback" not in err and "Unclosed" not in err, err
        assert "WRONG-token" not in lines[0] + err
        assert seconds < 30, seconds


async def test_check_reports_line_by_line(tmp_path: Path) -> None:
    async with BotProcess.launch(tmp_path, poll_interval=0) as bot:
        async with bot.storage():
            pass  # the database exists and is migrated
        good, bad = await asyncio.gather(
            _run_bot(bot, "check", PUBLIC_URL="https://bot.example.test"),
            _run_bot(
                bot,
                "check",
                BOT_TOKEN="123456:WRONG-token",
                BOT_MODE="webhook",
                PUBLIC_URL="http://bot.example.test",
                DATABASE_URL=f"sqlite:///{tmp_path / 'other' / 'fresh.sqlite3'}",
            ),
        )
    code, lines, err, _ = good
    assert code == 0, (lines, err)
    assert lines[0] == "configuration: ok"
    assert lines[1] == "telegram: ok (@pixl_test_bot)"
    assert re.fullmatch(r"database: ok \(schema version \d+\)", lines[2])
    assert lines[3] == "public url: ok (https://bot.example.test)"
    assert len(lines) == 4
    code, lines, err, _ = bad
    assert code == 1, (lines, err)
    assert lines[0] == "configuration: ok"
    assert lines[1] == "telegram: FAILED: Telegram rejected BOT_TOKEN (401 Unauthorized)"
    assert lines[2].startswith("database: FAILED:") and "migrate" in lines[2]  # a fresh one
    assert lines[3] == "public url: FAILED: webhook mode needs an https PUBLIC_URL"
    assert lines[4].startswith("telegram webhook: http://bot.example.test/telegram/")
    assert "WRONG-token" not in "\n".join(lines) + err


async def test_webhook_mode_process_with_json_logs(tmp_path: Path) -> None:
    async with BotProcess.launch(
        tmp_path, poll_interval=0, bot_mode="webhook", log_format="json", **FAST_SENDER
    ) as bot:
        bot.env_overrides["PUBLIC_URL"] = bot.url
        fake = bot.pixlpark_shop()
        shop = await bot.seed_shop(OWNER, language="en")
        await bot.start()
        owner = bot.tg.user(OWNER, "Olga", language_code="en")
        (call,) = await bot.tg.wait_for("setWebhook", timeout=10)
        settings = load_settings(
            bot_token=BOT_TOKEN, secret_key=SECRET_KEY, public_url=bot.url, _env_file=None
        )
        address = webhook_address(settings)
        assert call.params["url"] == address.url
        assert call.params["secret_token"] == address.secret_token

        await bot.tg.send_text(owner, OWNER, "/order 2336327")
        card = await bot.tg.next_bot_message(OWNER, timeout=10)
        assert "Order 2336327" in str(card.get("text") or card.get("caption"))
        order = fake.add_order()
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                bot.webhook_url(shop, "order-created"),
                json=fake.webhook_body(order["Id"]),
                headers={"X-Request-Id": "req-from-pixlpark"},
            ) as response,
        ):
            assert response.status == 200
        await bot.tg.wait_message(OWNER, lambda m: order["Id"] in str(m.get("text")), timeout=10)
        scrape = await bot.metrics()
        code, seconds = await _stop(bot, signal.SIGTERM)
        assert code == 0 and seconds < 10 + SLACK
        _no_traceback(bot)

    assert metric(scrape, "telegram_webhook_updates_total", type="message") == 1
    assert metric(scrape, "telegram_deliveries_total", result="sent") >= 1
    lines = [line for line in bot.log_text().splitlines() if line and not line.startswith("=====")]
    records = [json.loads(line) for line in lines]  # every line is one JSON object
    by_msg = {r["msg"]: r for r in records}
    assert by_msg["telegram webhook set"]["url"].endswith("…")
    received = by_msg["telegram update received"]
    assert re.fullmatch(r"[0-9a-f]{16}", received["request_id"])
    assert by_msg["webhook accepted"]["request_id"] == "req-from-pixlpark"
    text = "\n".join(lines) + scrape
    customer = fake.users.get(str(order.get("UserId"))) or {}
    for secret in (
        BOT_TOKEN,
        SECRET_KEY,
        "priv-1",
        address.secret_token,
        address.path,
        shop.webhook_token,
        *bot.pp.issued_tokens(),
        *(str(v) for k, v in customer.items() if k in ("Email", "Phone") and v),
    ):
        assert secret not in text, secret
