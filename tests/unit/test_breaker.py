"""The per-shop circuit breaker of the processor (bot/pipeline/breaker.py), on a fake clock."""

from __future__ import annotations

from bot.pipeline.breaker import Breaker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make(clock: Clock) -> Breaker[int]:
    return Breaker(cooldown=15, max_cooldown=120, probe_timeout=6, clock=clock)


def test_closed_until_a_failure_then_open_for_the_cooldown() -> None:
    clock = Clock()
    breaker = make(clock)
    assert breaker.is_closed(1) and breaker.allow(1) and breaker.wait(1) == 0
    breaker.success(1)  # an answer while closed changes nothing
    assert breaker.is_closed(1)

    breaker.failure(1)
    assert not breaker.is_closed(1) and breaker.open_keys() == [1]
    assert breaker.is_closed(2) and breaker.allow(2)  # other shops are not affected
    assert not breaker.allow(1) and breaker.wait(1) == 15
    clock.now += 5
    breaker.failure(1)  # a fetch that started before it opened: no change
    assert breaker.wait(1) == 10
    clock.now += 9.9
    assert not breaker.allow(1)


def test_one_probe_after_the_cooldown_success_closes() -> None:
    clock = Clock()
    breaker = make(clock)
    breaker.failure(1)
    clock.now += 15
    assert breaker.wait(1) == 0
    assert breaker.allow(1)  # the probe
    assert not breaker.allow(1) and not breaker.allow(1)  # only one at a time
    assert breaker.wait(1) == 6  # until the probe is given up; its outcome comes sooner
    assert not breaker.is_closed(1)
    assert breaker.success(1) is True  # it closed
    assert breaker.is_closed(1) and breaker.allow(1) and breaker.open_keys() == []
    assert breaker.success(1) is False


def test_failed_probes_double_the_cooldown_up_to_the_maximum() -> None:
    clock = Clock()
    breaker = make(clock)
    breaker.failure(1)
    waits = []
    for _ in range(6):
        clock.now += breaker.wait(1)
        assert breaker.allow(1)
        clock.now += 1  # the probe times out
        breaker.failure(1)
        waits.append(breaker.wait(1))
    assert waits == [30, 60, 120, 120, 120, 120]
    clock.now += 120
    assert breaker.allow(1)
    breaker.success(1)
    breaker.failure(1)  # a new outage starts from the first cool-down again
    assert breaker.wait(1) == 15


def test_a_probe_that_never_reports_is_given_up() -> None:
    clock = Clock()
    breaker = make(clock)
    breaker.failure(1)
    clock.now += 15
    assert breaker.allow(1)
    clock.now += 5.9
    assert not breaker.allow(1)
    clock.now += 0.1
    assert breaker.allow(1)  # the first probe's deadline passed: another may go
    breaker.abandon(1)  # cancelled: the next may go at once, with no longer cool-down
    assert breaker.wait(1) == 0 and breaker.allow(1)
    breaker.failure(1)
    assert breaker.wait(1) == 30
    breaker.abandon(1)  # no probe out: nothing changes
    assert breaker.wait(1) == 30
