"""Child process for the crash and multi-process tests.

    python -m tests.storage.crash_child write DATABASE_URL PREFIX
    python -m tests.storage.crash_child claim DATABASE_URL NAME

``write`` adds inbox events and outbox messages forever, printing ``inbox KEY`` /
``outbox KEY`` (flushed) only after each write has returned, i.e. was committed; it
also claims and completes some work so that updates are in flight when it is killed.
``claim`` prints ``ready``, waits for a line on stdin, then claims outbox rows until
none are left, printing ``NAME ID`` for each.
The secret comes from the environment (STORAGE_TEST_SECRET).
"""

from __future__ import annotations

import asyncio
import os
import sys

from storage import open_storage


async def write(url: str, prefix: str) -> None:
    async with await open_storage(url, os.environ["STORAGE_TEST_SECRET"]) as storage:
        shop = await storage.shops.create("crash-public", "crash-private-key")
        i = 0
        while True:
            key = f"{prefix}-{i}"
            await storage.inbox.add(shop.id, "order", str(i), f'{{"n": {i}}}', f"in-{key}")
            print(f"inbox {key}", flush=True)
            await storage.outbox.enqueue(
                chat_id=-(i % 7) - 1, text="x" * 300, dedupe_key=f"out-{key}", shop_id=shop.id
            )
            print(f"outbox {key}", flush=True)
            for message in await storage.outbox.claim(3):
                await storage.outbox.mark_sent(message.id, i)
            for event in await storage.inbox.claim(3):
                await storage.inbox.mark_processed(event.id)
            i += 1


async def claim(url: str, name: str) -> None:
    async with await open_storage(url, os.environ["STORAGE_TEST_SECRET"]) as storage:
        print("ready", flush=True)
        await asyncio.to_thread(sys.stdin.readline)  # start together with the other claimer
        empty = 0
        while empty < 3:
            batch = await storage.outbox.claim(3)
            empty = 0 if batch else empty + 1
            for message in batch:
                print(f"{name} {message.id}", flush=True)
                await storage.outbox.mark_sent(message.id, message.id)
            await asyncio.sleep(0.005)  # "sending" happens outside any transaction


def main(argv: list[str]) -> None:
    mode, url, label = argv
    asyncio.run(write(url, label) if mode == "write" else claim(url, label))


if __name__ == "__main__":
    main(sys.argv[1:])
