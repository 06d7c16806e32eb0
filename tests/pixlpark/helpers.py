"""Constants and small helpers shared by the Pixlpark tests."""

from __future__ import annotations

from pixlpark import RetryPolicy

PUBLIC_KEY = "pk-7f3a9c2e41b8c6d5"
PRIVATE_KEY = "sk-d94e1a6b0c53f2a8"
FAST_RETRY = RetryPolicy(attempts=3, initial_wait=0.01, max_wait=0.02, jitter=0.005)
TIMEOUT = 0.3  # client timeout in tests; the fake's "slow" fault sleeps 0.5 s


class ManualClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds
