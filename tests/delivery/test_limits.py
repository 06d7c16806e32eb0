"""The rate limiter on a fake clock: global pace, per-chat interval, group window, pauses."""

from __future__ import annotations

import itertools

import pytest

from bot.pipeline.limits import RateLimiter

PRIVATE, OTHER, GROUP = 101, 102, -4001


def test_global_pace_spreads_messages_to_different_chats() -> None:
    limiter = RateLimiter(rate=25, chat_interval=1.0, group_per_minute=20, margin=0)
    slots = [limiter.reserve(1000 + i, now=0.0) for i in range(50)]
    gaps = [b - a for a, b in itertools.pairwise(slots)]
    assert slots[0] == 0.0
    assert all(gap == pytest.approx(0.04) for gap in gaps)
    assert slots[-1] == pytest.approx(49 * 0.04)  # 50 messages take ~2 s at 25/s


def test_per_chat_interval_and_margin() -> None:
    limiter = RateLimiter(rate=100, chat_interval=1.0, group_per_minute=20, margin=0.05)
    first = limiter.reserve(PRIVATE, now=10.0)
    assert first == 10.0
    assert limiter.next_allowed(PRIVATE, 10.2) == pytest.approx(11.05)
    assert limiter.next_allowed(OTHER, 10.2) == pytest.approx(10.2)  # others unaffected
    second = limiter.reserve(PRIVATE, now=10.2)
    assert second == pytest.approx(11.05)
    assert limiter.blocked_chats(10.2) == {PRIVATE}
    assert limiter.blocked_chats(12.2) == set()


def test_group_window_allows_twenty_per_minute() -> None:
    limiter = RateLimiter(rate=100, chat_interval=0.0, group_per_minute=20, margin=0)
    times = [limiter.reserve(GROUP, now=0.0) for _ in range(21)]
    assert times[19] == pytest.approx(19 * 0.01)  # only the global pace applies to 20
    assert times[20] == pytest.approx(60.0)  # the 21st waits for the first to leave the window
    # A private chat has no per-minute window.
    fresh = RateLimiter(rate=100, chat_interval=0.0, group_per_minute=20, margin=0)
    private = [fresh.reserve(PRIVATE, now=0.0) for _ in range(30)]
    assert private[-1] == pytest.approx(29 * 0.01)


def test_group_window_with_interval_like_telegram() -> None:
    limiter = RateLimiter(rate=25, chat_interval=1.0, group_per_minute=20, margin=0.05)
    now = 0.0
    sent = []
    for _ in range(25):
        at = limiter.reserve(GROUP, now)
        sent.append(at)
        now = at
    in_first_minute = [t for t in sent if t < 60.0]
    assert len(in_first_minute) == 20
    for i in range(len(sent)):
        window = [t for t in sent if sent[i] - 60.0 < t <= sent[i]]
        assert len(window) <= 20


def test_pause_blocks_one_chat_only() -> None:
    limiter = RateLimiter(rate=25, chat_interval=1.0, group_per_minute=20)
    limiter.pause(PRIVATE, until=5.0)
    assert limiter.paused_chats(1.0) == {PRIVATE}
    assert limiter.next_allowed(PRIVATE, 1.0) == 5.0
    assert limiter.next_allowed(OTHER, 1.0) == 1.0
    assert PRIVATE in limiter.blocked_chats(1.0)
    assert limiter.earliest_change(1.0) == 5.0
    assert limiter.paused_chats(5.0) == set()


def test_pause_all_and_slow_down_then_recover() -> None:
    limiter = RateLimiter(rate=20, chat_interval=1.0, group_per_minute=20)
    limiter.pause_all(until=3.0)
    assert limiter.next_allowed(OTHER, 0.0) == 3.0
    assert limiter.global_next(0.0) == 3.0
    assert limiter.spacing == pytest.approx(0.05)
    limiter.slow_down(0.5)
    assert limiter.spacing == pytest.approx(0.1)
    for _ in range(5):
        limiter.slow_down(0.5)
    assert limiter.rate_factor == pytest.approx(0.2)  # floor
    for _ in range(100):
        limiter.recover()
    assert limiter.rate_factor == 1.0


def test_idle_chats_are_forgotten() -> None:
    limiter = RateLimiter(rate=25, chat_interval=1.0, group_per_minute=20)
    for chat in range(1, 200):
        limiter.reserve(chat, now=0.0)
    assert len(limiter._chats) == 199
    limiter.blocked_chats(now=1000.0)
    assert limiter._chats == {}


def test_invalid_limits_are_refused() -> None:
    with pytest.raises(ValueError):
        RateLimiter(rate=0)
