"""Helpers of the hardening tests: the bot as a subprocess (tests/process_harness.py) under
abuse and outages. Durations are scaled down so the directory runs in about a minute and a
half on two cores; each test's docstring says what it stands for."""

from __future__ import annotations

import re

from tests.fakes.telegram import FakeTelegram
from tests.process_harness import proc_status


def rss_mb(pid: int) -> float:
    """Resident memory of a process, MB (VmRSS of /proc/<pid>/status)."""
    rss = proc_status(pid, "VmRSS")
    assert rss is not None and rss.endswith(" kB"), rss
    return int(rss.split()[0]) / 1024


CARD = re.compile(r"🧾 (?:<b>)?\D*?(\d+)")
PAID = re.compile(r"💰.*?(\d{3,})")


def sent_texts(tg: FakeTelegram, chat_id: int) -> list[str]:
    """Texts of every sendMessage Telegram accepted for this chat, in order."""
    return [
        str(call.params.get("text", ""))
        for call in tg.calls_of("sendMessage")
        if call.ok and int(call.params.get("chat_id", 0)) == chat_id
    ]


def matches(texts: list[str], pattern: re.Pattern[str]) -> list[str]:
    """The first group of ``pattern`` in each text that has it (order ids)."""
    return [m.group(1) for m in map(pattern.search, texts) if m]
