"""A circuit breaker per key (a shop): stop asking an API that does not answer.

Closed, every call may go. A failure (the API did not answer) opens the breaker for a
cool-down; while open no call goes, and the caller falls back (the processor uses the
webhook body, and postpones re-checks). When the cool-down is over one call, the probe,
may go (half-open): its success closes the breaker, its failure opens it again for twice
as long, up to ``max_cooldown``. A probe that never reports back (its task was cancelled)
is given up after ``probe_timeout``, and another may go.

Pure and synchronous; time comes from ``clock`` (seconds, monotonic), so tests drive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)


@dataclass
class _Open:
    cooldown: float
    """The length of the current cool-down (it doubles after each failed probe)."""
    until: float
    """When the cool-down ends and a probe may go."""
    probe_deadline: float | None = None
    """While a probe is out: when it is given up if it has not reported back."""


class Breaker(Generic[K]):
    """Circuit breakers, one per key; keys with a closed breaker take no memory."""

    def __init__(
        self,
        *,
        cooldown: float = 15.0,
        max_cooldown: float = 120.0,
        probe_timeout: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.cooldown = max(0.0, cooldown)
        self.max_cooldown = max(self.cooldown, max_cooldown)
        self.probe_timeout = max(0.0, probe_timeout)
        self._clock = clock
        self._open: dict[K, _Open] = {}

    def is_closed(self, key: K) -> bool:
        """Whether calls for ``key`` go as usual (no recent failure)."""
        return key not in self._open

    def allow(self, key: K) -> bool:
        """Whether a call for ``key`` may go now; when it is the probe, it is counted out.

        The caller must report the call's outcome with :meth:`success`, :meth:`failure`
        or :meth:`abandon`.
        """
        state = self._open.get(key)
        if state is None:
            return True
        now = self._clock()
        if now < state.until:
            return False
        if state.probe_deadline is not None and now < state.probe_deadline:
            return False  # a probe is out
        state.probe_deadline = now + self.probe_timeout
        return True

    def wait(self, key: K) -> float:
        """Seconds until a call for ``key`` may go (0: now, or the breaker is closed).

        While a probe is out, until it is given up: its outcome comes earlier.
        """
        state = self._open.get(key)
        if state is None:
            return 0.0
        now = self._clock()
        if state.probe_deadline is not None and now < state.probe_deadline:
            return state.probe_deadline - now
        return max(0.0, state.until - now)

    def success(self, key: K) -> bool:
        """The API answered a call for ``key``; returns whether that closed an open breaker."""
        return self._open.pop(key, None) is not None

    def failure(self, key: K) -> None:
        """The API did not answer a call for ``key``.

        Closed: it opens for ``cooldown``. With a probe out: it opens again for twice the
        last cool-down (at most ``max_cooldown``). Already open with no probe out (a call
        that started before it opened): nothing changes.
        """
        now = self._clock()
        state = self._open.get(key)
        if state is None:
            self._open[key] = _Open(self.cooldown, now + self.cooldown)
        elif state.probe_deadline is not None:
            state.cooldown = min(self.max_cooldown, max(state.cooldown * 2, self.cooldown))
            state.until = now + state.cooldown
            state.probe_deadline = None

    def abandon(self, key: K) -> None:
        """The probe for ``key`` ended without an outcome (cancelled): another may go now."""
        state = self._open.get(key)
        if state is not None and state.probe_deadline is not None:
            state.probe_deadline = None
            state.until = min(state.until, self._clock())

    def open_keys(self) -> list[K]:
        """Keys whose breaker is open or half-open."""
        return list(self._open)
