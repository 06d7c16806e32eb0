"""Telegram's sending limits, applied before Telegram enforces them.

A pure bookkeeping object: it never sleeps and never reads a clock by itself;
every method takes ``now`` (seconds on any monotonic scale), so tests drive it
with a fake clock. The sender asks :meth:`RateLimiter.reserve` for the moment a
message to a chat may go out, sleeps until then and sends.

Limits (Bot FAQ, "My bot is hitting limits"):

- overall: ``rate`` messages per second, spaced evenly (``1 / rate`` apart);
- per chat: at least ``chat_interval`` seconds between two messages;
- per group (chat id < 0): at most ``group_per_minute`` messages in any 60 s;
- per chat pauses after a 429 (``retry_after``), and whole-sender pauses
  (global flood control or an outage).

Each limit gets a small ``margin`` so that network jitter between us and
Telegram does not turn "exactly at the limit" into "just over it".
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

GROUP_WINDOW = 60.0


@dataclass
class _ChatState:
    last: float | None = None
    window: deque[float] = field(default_factory=deque)
    paused_until: float = 0.0


class RateLimiter:
    """Global, per-chat and per-group pacing, plus pauses; see the module docstring."""

    def __init__(
        self,
        rate: float = 25.0,
        chat_interval: float = 1.0,
        group_per_minute: int = 20,
        *,
        margin: float = 0.05,
        min_rate_factor: float = 0.2,
    ) -> None:
        if rate <= 0 or group_per_minute <= 0 or chat_interval < 0:
            raise ValueError("limits must be positive")
        self.rate = rate
        self.chat_interval = chat_interval
        self.group_per_minute = group_per_minute
        self.margin = margin
        self.min_rate_factor = min_rate_factor
        self.rate_factor = 1.0
        """Multiplier on ``rate``, lowered after global flood control, restored slowly."""
        self._next_global = float("-inf")
        self._paused_all_until = 0.0
        self._chats: dict[int, _ChatState] = {}

    # ------------------------------------------------------------------ queries

    @property
    def spacing(self) -> float:
        """Seconds between two messages overall at the current rate."""
        return 1.0 / (self.rate * self.rate_factor)

    def global_next(self, now: float) -> float:
        """The earliest moment any message may go out."""
        return max(now, self._next_global, self._paused_all_until)

    def chat_next(self, chat_id: int, now: float) -> float:
        """The earliest moment a message to this chat may go out, ignoring the global pace."""
        state = self._chats.get(chat_id)
        at = max(now, self._paused_all_until)
        if state is None:
            return at
        at = max(at, state.paused_until)
        if state.last is not None and self.chat_interval > 0:
            at = max(at, state.last + self.chat_interval + self.margin)
        if chat_id < 0:
            self._trim(state, now)
            if len(state.window) >= self.group_per_minute:
                oldest = state.window[-self.group_per_minute]
                at = max(at, oldest + GROUP_WINDOW + self.margin)
        return at

    def next_allowed(self, chat_id: int, now: float) -> float:
        """The earliest moment a message to this chat may go out, all limits considered."""
        return max(self.chat_next(chat_id, now), self.global_next(now))

    def blocked_chats(self, now: float, horizon: float = 0.0) -> set[int]:
        """Chats that may not get a message before ``now + horizon`` (paused or paced)."""
        limit = now + horizon
        blocked = {chat for chat in self._chats if self.chat_next(chat, now) > limit}
        self._forget_idle(now)
        return blocked

    def paused_chats(self, now: float) -> set[int]:
        """Chats paused by flood control (429) right now."""
        return {chat for chat, state in self._chats.items() if state.paused_until > now}

    def paused_all_until(self) -> float:
        """When a whole-sender pause ends (0 if none was ever set)."""
        return self._paused_all_until

    def earliest_change(self, now: float) -> float | None:
        """The next moment a currently blocked chat becomes free, if any is blocked."""
        times = [self.chat_next(chat, now) for chat in self._chats]
        later = [t for t in times if t > now]
        return min(later) if later else None

    # ------------------------------------------------------------------ updates

    def record(self, chat_id: int, now: float) -> None:
        """A message to this chat went out (or is booked to go out) at ``now``."""
        state = self._chats.setdefault(chat_id, _ChatState())
        state.last = now if state.last is None else max(state.last, now)
        if chat_id < 0:
            state.window.append(now)
            self._trim(state, now)
        self._next_global = max(self._next_global, now + self.spacing)

    def reserve(self, chat_id: int, now: float) -> float:
        """Book the earliest allowed moment for a message to this chat and return it."""
        at = self.next_allowed(chat_id, now)
        self.record(chat_id, at)
        return at

    def pause(self, chat_id: int, until: float) -> None:
        """Send nothing to this chat before ``until`` (Telegram's retry_after)."""
        state = self._chats.setdefault(chat_id, _ChatState())
        state.paused_until = max(state.paused_until, until)

    def pause_all(self, until: float) -> None:
        """Send nothing at all before ``until`` (global flood control, an outage)."""
        self._paused_all_until = max(self._paused_all_until, until)

    def slow_down(self, factor: float = 0.7) -> None:
        """Lower the global rate after flood control hit several chats at once."""
        self.rate_factor = max(self.min_rate_factor, self.rate_factor * factor)

    def recover(self, step: float = 0.05) -> None:
        """Raise the global rate back towards the configured one (call on clean sends)."""
        self.rate_factor = min(1.0, self.rate_factor + step)

    # ------------------------------------------------------------------ internals

    @staticmethod
    def _trim(state: _ChatState, now: float) -> None:
        while state.window and state.window[0] <= now - GROUP_WINDOW:
            state.window.popleft()

    def _forget_idle(self, now: float) -> None:
        """Drop chats whose every limit has expired, to keep the table small."""
        horizon = max(self.chat_interval, GROUP_WINDOW) + self.margin
        idle = [
            chat
            for chat, state in self._chats.items()
            if state.paused_until <= now and (state.last is None or state.last <= now - horizon)
        ]
        for chat in idle:
            del self._chats[chat]
