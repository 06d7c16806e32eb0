"""Separate processes: SIGKILL in the middle of writes, and concurrent claimers."""

from __future__ import annotations

import asyncio
import os
import random
import select
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from storage import Storage, open_storage

from .conftest import SECRET

ROOT = Path(__file__).resolve().parents[2]
CHILD = [sys.executable, "-m", "tests.storage.crash_child"]
ENV = {**os.environ, "STORAGE_TEST_SECRET": SECRET}


def _read_lines(
    proc: subprocess.Popen[bytes], count: int, deadline: float
) -> tuple[list[str], bytes]:
    """Read ``count`` whole lines of the child's stdout (fewer if it ends or time is up).

    Returns the lines and the bytes of a line not finished yet.
    """
    assert proc.stdout is not None
    fd = proc.stdout.fileno()
    buffer = b""
    lines: list[str] = []
    while len(lines) < count:
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            break
        chunk = os.read(fd, 65536)
        if not chunk:
            break
        buffer += chunk
        *complete, buffer = buffer.split(b"\n")
        lines.extend(line.decode() for line in complete)
    return lines, buffer


def _rest_after_death(proc: subprocess.Popen[bytes], buffer: bytes) -> list[str]:
    """Whole lines the dead child left in the pipe (a torn last line is dropped)."""
    assert proc.stdout is not None
    *complete, _torn = (buffer + proc.stdout.read()).split(b"\n")
    return [line.decode() for line in complete]


def _check_database(path: Path, committed: set[str]) -> None:
    with closing(sqlite3.connect(path)) as raw:
        assert raw.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
        tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
        if not committed and "inbox" not in tables:
            return  # killed before the first migration committed: nothing to find
        inbox = {row[0] for row in raw.execute("SELECT dedupe_key FROM inbox")}
        outbox = {row[0] for row in raw.execute("SELECT dedupe_key FROM outbox")}
    for line in committed:
        table, key = line.split()
        if table == "inbox":
            assert f"in-{key}" in inbox, line
        else:
            assert f"out-{key}" in outbox, line


def _write_then_kill(url: str, label: str, lines_wanted: int | None, delay: float) -> list[str]:
    """Run a writer child, SIGKILL it after ``lines_wanted`` reported writes (or after
    ``delay`` seconds when None) and return every write it reported as committed."""
    with subprocess.Popen(
        [*CHILD, "write", url, label], cwd=ROOT, env=ENV, stdout=subprocess.PIPE
    ) as proc:
        lines: list[str] = []
        buffer = b""
        try:
            if lines_wanted is None:
                time.sleep(delay)
            else:
                lines, buffer = _read_lines(proc, lines_wanted, time.monotonic() + 8)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        assert proc.returncode == -signal.SIGKILL
        return [line for line in lines + _rest_after_death(proc, buffer) if line]


async def _reopen(url: str) -> None:
    async with await open_storage(url, SECRET) as storage:
        assert await storage.ping()
        await storage.outbox.recover_inflight()


def test_sigkill_mid_work_loses_no_committed_write(tmp_path: Path) -> None:
    db = tmp_path / "crash.sqlite3"
    url = f"sqlite:///{db}"
    rng = random.Random(1234)
    committed: set[str] = set()
    for iteration in range(5):
        if iteration == 0:  # likely killed during start-up and migrations
            lines = _write_then_kill(url, "run0", None, rng.uniform(0.05, 0.3))
        else:
            lines = _write_then_kill(url, f"run{iteration}", rng.randint(20, 150), 0)
            assert lines, "the child reported no write"
        committed.update(lines)
        if db.exists():  # it may not, when killed at once
            _check_database(db, committed)
        asyncio.run(_reopen(url))  # the bot starts normally after the crash
    assert len(committed) > 40
    _check_database(db, committed)


async def test_two_processes_claim_disjoint_rows(db_url: str, storage: Storage) -> None:
    ids = set()
    for chat in range(150):
        message_id = await storage.outbox.enqueue(chat_id=chat, text="t", dedupe_key=f"k{chat}")
        assert message_id is not None
        ids.add(message_id)
    children = [
        await asyncio.create_subprocess_exec(
            *CHILD,
            "claim",
            db_url,
            name,
            cwd=ROOT,
            env=ENV,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
        )
        for name in ("p1", "p2")
    ]
    for child in children:  # both are open before either claims
        assert child.stdout is not None
        assert await asyncio.wait_for(child.stdout.readline(), 10) == b"ready\n"
    outputs = await asyncio.gather(*(child.communicate(b"go\n") for child in children))
    assert all(child.returncode == 0 for child in children)
    claims = [line.split() for out, _ in outputs for line in out.decode().splitlines()]
    claimed = [int(message_id) for _, message_id in claims]
    assert sorted(claimed) == sorted(ids)  # every row once, none twice
    assert {name for name, _ in claims} == {"p1", "p2"}
