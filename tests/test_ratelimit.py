"""The per-person rate limit (``bot.ratelimit``) and how the core and settings expose it."""

from __future__ import annotations

import pytest

from bot.core import Core
from bot.errors import ConfigError
from bot.kb.loader import KnowledgeBase
from bot.ratelimit import DEFAULT_USER_RATE, Rate, UserRateLimiter, Verdict
from bot.settings import Settings


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def test_parse_reads_messages_per_seconds() -> None:
    assert Rate.parse("10/60") == Rate(10, 60.0)
    assert Rate.parse(" 3/1.5 ") == Rate(3, 1.5)
    assert Rate.parse("off") is None
    assert Rate.parse("0") is None


@pytest.mark.parametrize("raw", ["10", "ten/60", "0/60", "5/0", "5/-1", "/60", "5/"])
def test_parse_names_the_variable_on_bad_values(raw: str) -> None:
    with pytest.raises(ConfigError, match="PRIVACYBOT_USER_RATE"):
        Rate.parse(raw)


def test_up_to_the_limit_is_allowed_then_one_warning_then_silence(clock: Clock) -> None:
    limiter = UserRateLimiter(Rate(3, 60), clock=clock)
    verdicts = [limiter.check("telegram", "1") for _ in range(10)]
    assert verdicts[:3] == [Verdict.ALLOW] * 3
    assert verdicts[3] == Verdict.WARN
    assert verdicts[4:] == [Verdict.DROP] * 6
    assert (limiter.warned, limiter.dropped) == (1, 6)


def test_others_are_not_affected_by_a_flooder(clock: Clock) -> None:
    limiter = UserRateLimiter(Rate(2, 60), clock=clock)
    for _ in range(50):
        limiter.check("telegram", "flooder")
    assert limiter.check("telegram", "someone") == Verdict.ALLOW
    assert limiter.check("bluesky", "flooder") == Verdict.ALLOW  # channels are separate


def test_the_window_slides_and_refused_messages_do_not_count(clock: Clock) -> None:
    limiter = UserRateLimiter(Rate(2, 60), clock=clock)
    limiter.check("telegram", "1")  # t=0
    clock.now += 30
    limiter.check("telegram", "1")  # t=30
    for _ in range(20):  # refused: do not push the window
        limiter.check("telegram", "1")
    clock.now += 30.1  # the first one left the window
    assert limiter.check("telegram", "1") == Verdict.ALLOW
    assert limiter.check("telegram", "1") == Verdict.WARN  # a new window, a new warning
    assert limiter.check("telegram", "1") == Verdict.DROP


def test_one_warning_per_window_not_per_message(clock: Clock) -> None:
    limiter = UserRateLimiter(Rate(1, 10), clock=clock)
    seen = []
    for _ in range(100):  # ten seconds of one message every 0.1 s
        seen.append(limiter.check("telegram", "1"))
        clock.now += 0.1
    assert seen.count(Verdict.ALLOW) == 1
    assert seen.count(Verdict.WARN) == 1


def test_idle_people_are_forgotten(clock: Clock) -> None:
    limiter = UserRateLimiter(Rate(5, 60), clock=clock)
    for n in range(2000):
        limiter.check("telegram", str(n))
    assert len(limiter) == 2000
    clock.now += 61
    assert limiter.prune() == 2000
    assert len(limiter) == 0


def test_memory_stays_bounded_under_many_one_off_senders(clock: Clock) -> None:
    limiter = UserRateLimiter(Rate(5, 1), clock=clock)
    for n in range(20_000):
        limiter.check("telegram", str(n))
        clock.now += 0.01  # 100 new people a second, each seen once
    assert len(limiter) < 1200  # about one window's worth, plus one pruning period


def test_core_admit_without_a_limiter_allows_everything(knowledge: KnowledgeBase) -> None:
    core = Core(knowledge)
    assert all(core.admit("telegram", "1") is Verdict.ALLOW for _ in range(100))


def test_core_admit_uses_the_limiter_and_lets_anonymous_messages_through(
    clock: Clock, knowledge: KnowledgeBase
) -> None:
    core = Core(knowledge, limiter=UserRateLimiter(Rate(1, 60), clock=clock))
    assert core.admit("telegram", "1") is Verdict.ALLOW
    assert core.admit("telegram", "1") is Verdict.WARN
    assert core.admit("telegram", "1") is Verdict.DROP
    assert core.admit("telegram", None) is Verdict.ALLOW


def test_settings_read_the_rate() -> None:
    assert Settings.from_env({}).user_rate == DEFAULT_USER_RATE == Rate(10, 60.0)
    assert Settings.from_env({"PRIVACYBOT_USER_RATE": "3/10"}).user_rate == Rate(3, 10.0)
    assert Settings.from_env({"PRIVACYBOT_USER_RATE": "off"}).user_rate is None
    shown = dict(Settings.from_env({"PRIVACYBOT_USER_RATE": "3/10"}).describe())
    assert shown["PRIVACYBOT_USER_RATE"] == "3/10"
    with pytest.raises(ConfigError, match="PRIVACYBOT_USER_RATE"):
        Settings.from_env({"PRIVACYBOT_USER_RATE": "lots"})
