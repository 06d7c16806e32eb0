"""`python -m bench`: the bot as a process against the fakes, on loopback.

1. Webhook ingest: 5,000 POSTs at concurrency 50 to the bot's Pixlpark webhook, and the
   same load against a bare aiohttp handler (``bench.bare``, also a subprocess): rate,
   p50/p99 latency and the ratio.
2. Webhook → sendMessage latency at low load: 50 new orders, one webhook every 0.25 s
   spread over 5 shops (each owner's chat gets one alert every 1.25 s, so no pacing).
3. Delivery: 30 chats (20 private, 10 groups), 10 messages each, with the fake Telegram
   enforcing 30/s overall, 1/s per chat and 20/min per group: achieved rate over the
   rate those limits allow for this load, and the 429s received (target: 0); once at the
   default TELEGRAM_RATE=25 and once at 30, Telegram's whole documented limit.
   Each group gets 10 messages, under the 20/min group limit: that limit only bites after
   20 messages to one group, and then for a whole minute, which would make every run
   last over a minute. ``python -m bench --groups`` adds that case (4): 2 groups x 25
   messages, where messages 21-25 of each group must wait for the 60 s window.

Each part gets a fresh bot process and database. Prints a table at the end.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bot.pipeline.limits import RateLimiter
from tests.fakes.pixlpark_data import webhook_body
from tests.process_harness import ROOT, BotProcess, free_port

INGEST_EVENTS = 5_000
INGEST_CONCURRENCY = 50
LATENCY_EVENTS = 50
LATENCY_SHOPS = 5
LATENCY_SPACING = 0.25
DELIVERY_PRIVATE = 20
DELIVERY_GROUPS = 10
DELIVERY_PER_CHAT = 10
GROUPS_ONLY = 2
GROUPS_PER_CHAT = 25
TG_LIMITS = (30, 1.0, 20)


@dataclass
class LoadResult:
    requests: int
    seconds: float
    latencies: list[float]
    errors: int

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))
    return ordered[index]


async def load(url: str, bodies: list[bytes], concurrency: int) -> LoadResult:
    """POST every body to ``url`` with ``concurrency`` workers; latency per request."""
    latencies: list[float] = []
    errors = 0
    counter = itertools.count()
    connector = aiohttp.TCPConnector(limit=concurrency)
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal errors
            while (i := next(counter)) < len(bodies):
                began = time.perf_counter()
                try:
                    async with session.post(url, data=bodies[i], headers=headers) as response:
                        await response.read()
                        if response.status != 200:
                            errors += 1
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.perf_counter() - began)

        # warm-up: open the connections
        for body in bodies[:concurrency]:
            async with session.post(url, data=body, headers=headers) as response:
                await response.read()
        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    return LoadResult(len(bodies), seconds, latencies, errors)


@contextlib.asynccontextmanager
async def bare_server() -> Any:
    port = free_port()
    proc = subprocess.Popen(  # noqa: ASYNC220 - returns at once
        [sys.executable, "-m", "bench.bare", str(port)],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientError, OSError):
                    async with session.get(f"http://127.0.0.1:{port}/healthz") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.05)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


# --------------------------------------------------------------------------- 1. ingest


async def bench_ingest(tmp: Path) -> tuple[LoadResult, LoadResult]:
    async with BotProcess.launch(tmp, poll_interval=0) as bot:
        fake = bot.pixlpark_shop()
        shop = await bot.seed_shop(1001)
        await bot.start()
        orders = list(fake.orders.values())
        bodies = []
        for i in range(INGEST_EVENTS + INGEST_CONCURRENCY):
            order = orders[i % len(orders)]
            body = webhook_body(order, user=fake.users.get(str(order.get("UserId"))))
            body["BenchSeq"] = i  # every event distinct: none is a repeat
            bodies.append(json.dumps(body).encode())
        url = bot.webhook_url(shop, "order-changed")
        result = await load(url, bodies, INGEST_CONCURRENCY)
    async with bare_server() as base:
        bare = await load(f"{base}/pixlpark/token/order-changed", bodies, INGEST_CONCURRENCY)
    return result, bare


# --------------------------------------------------------------------------- 2. latency


async def bench_latency(tmp: Path) -> tuple[list[float], int]:
    async with BotProcess.launch(tmp, poll_interval=0) as bot:
        shops = []
        for n in range(LATENCY_SHOPS):
            fake = bot.pixlpark_shop(f"pub-{n}", f"priv-{n}", samples=False)
            shop = await bot.seed_shop(2001 + n, f"pub-{n}", f"priv-{n}", title=f"Shop {n}")
            shops.append((2001 + n, shop, fake))
        await bot.start()
        await asyncio.sleep(1.0)  # let start-up calls settle
        posted: list[tuple[int, str, float]] = []
        for i in range(LATENCY_EVENTS):
            owner, shop, fake = shops[i % LATENCY_SHOPS]
            order = fake.add_order()
            began = time.monotonic()
            status = await bot.send_webhook(shop, fake, order["Id"], "order-created")
            if status == 200:
                posted.append((owner, str(order["Id"]), began))
            await asyncio.sleep(max(0.0, began + LATENCY_SPACING - time.monotonic()))
        deadline = time.monotonic() + 30
        latencies: list[float] = []
        while time.monotonic() < deadline:
            latencies = []
            for owner, order_id, began in posted:
                calls = [
                    c
                    for c in bot.tg.calls_of("sendMessage")
                    if c.ok and c.params.get("chat_id") == owner and order_id in str(c.params)
                ]
                if calls:
                    latencies.append(calls[0].t - began)
            if len(latencies) == len(posted):
                break
            await asyncio.sleep(0.2)
        return latencies, len(posted)


# --------------------------------------------------------------------------- 3. delivery


def ideal_seconds(chats: list[int], per_chat: int) -> float:
    """First-to-last span of the fastest schedule the fake's limits allow for this load."""
    limiter = RateLimiter(*TG_LIMITS, margin=0.0)
    slots = [limiter.reserve(chat, 0.0) for _ in range(per_chat) for chat in chats]
    return max(slots) - min(slots)


async def bench_delivery(
    tmp: Path,
    private: int = DELIVERY_PRIVATE,
    groups: int = DELIVERY_GROUPS,
    per_chat: int = DELIVERY_PER_CHAT,
    telegram_rate: float = 25.0,
) -> dict[str, float]:
    async with BotProcess.launch(tmp, poll_interval=0, telegram_rate=telegram_rate) as bot:
        chats = []
        for n in range(private):
            chats.append(bot.tg.user(3001 + n).id)
        for n in range(groups):
            chats.append(bot.tg.create_group(f"Group {n}", bot_status="member"))
        filler = "Заказ №{n}: новый, оплачен. Фотопечать 10×15, 36 шт., доставка курьером. "
        async with bot.storage() as storage:
            for chat in chats:
                kind = "private" if chat > 0 else "group"
                await storage.chats.upsert(chat, kind, None if chat > 0 else f"G{chat}")
            for i in range(per_chat):
                for chat in chats:
                    text = f"<b>Alert {i}</b>\n" + filler.format(n=i) * 4
                    await storage.outbox.enqueue(
                        chat_id=chat, text=text, dedupe_key=f"bench:{chat}:{i}"
                    )
        bot.tg.enforce_limits(*TG_LIMITS)
        total = len(chats) * per_chat
        await bot.start()
        await bot.tg.wait_for("sendMessage", total, timeout=180, predicate=lambda c: c.ok)
        sent = [c for c in bot.tg.calls_of("sendMessage") if c.ok]
        span = sent[-1].t - sent[0].t
        ideal = ideal_seconds(chats, per_chat)
        order_ok = all(
            [c.params["text"].split("</b>")[0] for c in sent if c.params["chat_id"] == chat]
            == [f"<b>Alert {i}" for i in range(per_chat)]
            for chat in chats
        )
        return {
            "messages": total,
            "seconds": span,
            "rate": (total - 1) / span,
            "allowed": (total - 1) / ideal,
            "ideal_seconds": ideal,
            "too_many_requests": bot.tg.too_many_requests,
            "order_ok": float(order_ok),
        }


# --------------------------------------------------------------------------- report


async def main(argv: list[str]) -> int:
    with_groups = "--groups" in argv
    groups: dict[str, float] | None = None
    with tempfile.TemporaryDirectory(prefix="bench-") as root:
        base = Path(root)
        for name in ("ingest", "latency", "delivery", "delivery30", "groups"):
            (base / name).mkdir()
        print("bench: webhook ingest (5,000 POSTs, concurrency 50) ...", flush=True)
        ingest, bare = await bench_ingest(base / "ingest")
        print("bench: webhook -> sendMessage latency (50 orders, low load) ...", flush=True)
        latencies, posted = await bench_latency(base / "latency")
        print("bench: delivery to 30 chats under enforced limits ...", flush=True)
        delivery = await bench_delivery(base / "delivery")
        print("bench: the same with TELEGRAM_RATE=30 (Telegram's whole limit) ...", flush=True)
        delivery30 = await bench_delivery(base / "delivery30", telegram_rate=30.0)
        if with_groups:
            print("bench: 2 groups x 25 messages (20/min group limit, over a minute) ...")
            groups = await bench_delivery(base / "groups", 0, GROUPS_ONLY, GROUPS_PER_CHAT)

    ms = 1000.0
    ratio = delivery["rate"] / delivery["allowed"]
    rows = [
        (
            "Webhook ingest, bot",
            f"{ingest.rate:8.0f} req/s",
            f"p50 {ingest.pct(50) * ms:6.1f} ms  p99 {ingest.pct(99) * ms:6.1f} ms",
            f"errors {ingest.errors}",
        ),
        (
            "Webhook ingest, bare aiohttp",
            f"{bare.rate:8.0f} req/s",
            f"p50 {bare.pct(50) * ms:6.1f} ms  p99 {bare.pct(99) * ms:6.1f} ms",
            f"errors {bare.errors}",
        ),
        ("  bot / bare", f"{ingest.rate / bare.rate:8.2f} ×", "", ""),
        (
            "Webhook -> sendMessage",
            f"{len(latencies):5d}/{posted} ok",
            f"p50 {percentile(latencies, 50) * ms:6.1f} ms  "
            f"p99 {percentile(latencies, 99) * ms:6.1f} ms",
            "",
        ),
        (
            "Delivery, 30 chats x 10",
            f"{delivery['rate']:8.1f} msg/s",
            f"allowed {delivery['allowed']:.1f} msg/s -> ratio {ratio:.2f}",
            f"429s {int(delivery['too_many_requests'])}",
        ),
        (
            "",
            f"{delivery['seconds']:8.1f} s",
            f"ideal {delivery['ideal_seconds']:.1f} s (30/s, 1/s/chat, 20/min/group)",
            f"per-chat order {'kept' if delivery['order_ok'] else 'BROKEN'}",
        ),
        (
            "  same, TELEGRAM_RATE=30",
            f"{delivery30['rate']:8.1f} msg/s",
            f"allowed {delivery30['allowed']:.1f} msg/s -> ratio "
            f"{delivery30['rate'] / delivery30['allowed']:.2f}",
            f"429s {int(delivery30['too_many_requests'])}",
        ),
    ]
    if groups is not None:
        rows.append(
            (
                "Delivery, 2 groups x 25",
                f"{groups['rate']:8.2f} msg/s",
                f"allowed {groups['allowed']:.2f} msg/s -> ratio "
                f"{groups['rate'] / groups['allowed']:.2f}",
                f"429s {int(groups['too_many_requests'])}",
            )
        )
        rows.append(
            (
                "",
                f"{groups['seconds']:8.1f} s",
                f"ideal {groups['ideal_seconds']:.1f} s (20/min/group)",
                f"per-chat order {'kept' if groups['order_ok'] else 'BROKEN'}",
            )
        )
    print()
    print(f"{'measure':30} {'value':>16}  {'detail':50} note")
    print("-" * 110)
    for name, value, detail, note in rows:
        print(f"{name:30} {value:>16}  {detail:50} {note}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1:])))
