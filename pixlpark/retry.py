"""Retry policy for idempotent reads: exponential backoff with jitter (tenacity)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_exponential,
    wait_random,
)

from pixlpark.errors import ServiceUnavailable

logger = logging.getLogger("pixlpark.retry")


@dataclass(frozen=True)
class RetryPolicy:
    """How reads are retried on 5xx, timeouts and connection errors. Writes are never retried.

    `attempts` counts the first try; waits grow `initial_wait * 2**n` up to `max_wait`,
    plus a random `0..jitter` seconds.
    """

    attempts: int = 3
    initial_wait: float = 0.5
    max_wait: float = 8.0
    jitter: float = 0.5

    def retrying(self, *, idempotent: bool, label: str) -> AsyncRetrying:
        """A tenacity controller for one call (a single attempt when not idempotent)."""

        def log_retry(state: RetryCallState) -> None:
            outcome = state.outcome
            error = outcome.exception() if outcome else None
            wait = state.next_action.sleep if state.next_action else 0.0
            logger.warning(
                "%s failed (%s), retrying in %.2f s (attempt %d of %d)",
                label,
                error,
                wait,
                state.attempt_number,
                self.attempts,
            )

        return AsyncRetrying(
            stop=stop_after_attempt(max(1, self.attempts) if idempotent else 1),
            wait=wait_exponential(multiplier=self.initial_wait, max=self.max_wait)
            + wait_random(0, self.jitter),
            retry=retry_if_exception_type(ServiceUnavailable),
            before_sleep=log_retry,
            reraise=True,
        )
