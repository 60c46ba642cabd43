"""Tests of bot.adapters.bluesky.limits: write budget windows, gate, request log."""

from __future__ import annotations

from bot.adapters.bluesky.limits import Gate, RequestLog, WriteBudget


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_hour_budget_frees_as_the_oldest_minute_leaves_the_window() -> None:
    clock = Clock()
    budget = WriteBudget(per_hour=9, per_day=100, clock=clock)
    budget.spend(3)
    clock.now += 600
    budget.spend(6)
    assert budget.wait_for(3) > 0
    wait = budget.wait_for(3)
    clock.now += wait
    assert budget.wait_for(3) == 0
    assert budget.wait_for(10) == float("inf")


def test_day_budget_and_persistence_across_restarts() -> None:
    clock = Clock()
    budget = WriteBudget(per_hour=5000, per_day=6, clock=clock)
    budget.spend(6)
    clock.now += 7200
    restored = WriteBudget(per_hour=5000, per_day=6, clock=clock)
    restored.loads(budget.dumps())
    assert restored.used_day == 6 and restored.used_hour == 0
    assert 0 < restored.wait_for(3) <= 86400 - 7200 + 60
    restored.loads("not json")
    assert restored.used_day == 0


def test_refund_returns_reserved_points() -> None:
    budget = WriteBudget(per_hour=9, per_day=100, clock=Clock())
    budget.spend(9)
    budget.refund(6)
    assert budget.used_hour == 3


def test_gate_429_reset_headers_and_backoff() -> None:
    clock = Clock()
    gate = Gate(clock=clock, backoff_start=1.0, rng=lambda: 0.5)
    delay = gate.rate_limited(reset_epoch=clock.now + 30, retry_after=None)
    assert 30 <= delay <= 33.1 and abs(gate.remaining() - delay) < 1e-3
    clock.now += 40
    assert gate.remaining() == 0
    assert [gate.failed() for _ in range(4)] == [1.0, 2.0, 4.0, 8.0]
    gate.succeeded()
    assert gate.failed() == 1.0
    clock.now += 10
    gate.observe_headers({"ratelimit-remaining": "0", "ratelimit-reset": str(clock.now + 5)})
    assert 5 <= gate.remaining() <= 5.1
    assert gate.last_limit["ratelimit-remaining"] == "0"


def test_request_log_counts_a_sliding_five_minutes() -> None:
    clock = Clock()
    requests = RequestLog(clock=clock)
    for _ in range(5):
        requests.add()
    clock.now += 301
    requests.add()
    assert requests.last_window() == 1 and requests.peak == 5 and requests.total == 6


def test_request_log_persists_its_window_across_restarts() -> None:
    clock = Clock()
    log = RequestLog(clock=clock)
    for _ in range(5):
        log.add()
    clock.now += 200
    for _ in range(3):
        log.add()
    saved = log.dumps()
    restarted = RequestLog(clock=clock)
    restarted.loads(saved)
    assert restarted.last_window() == 8
    assert restarted.wait_for_slot(8) > 0  # the cap holds after a restart
    clock.now += 101  # the first five leave the window (counted at the end of their second)
    assert restarted.last_window() == 3
    restarted.loads("not json")
    restarted.loads(None)
    assert restarted.last_window() == 3
