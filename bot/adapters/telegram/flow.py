"""Flow control: what Telegram's limits and PTB's update loop need from the adapter.

* :class:`FloodControl`: PTB's rate limiter (overall pace, group pace, 429
  retries after ``retry_after``) plus the per-chat pace it lacks for private
  chats, an optional pace shared across replicas, and retries (tenacity) of a
  request that failed on the way;
* :class:`PerChatUpdateProcessor`: updates of different chats concurrently,
  those of one chat in order, behind a gate (the per-person rate limit);
* :class:`PollRequest`: the ``getUpdates`` connection, reporting each answer
  so ``/healthz`` shows the channel running again after an outage.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Update
from telegram.error import BadRequest, NetworkError, RetryAfter
from telegram.ext import AIORateLimiter, BaseUpdateProcessor
from telegram.request import HTTPXRequest
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from bot.metrics import Metrics

log = logging.getLogger(__name__)
CHANNEL = "telegram"


def _failed_on_the_way(error: BaseException) -> bool:
    """A 5xx, a dropped connection, a timeout: worth sending again; a 400 is not."""
    return isinstance(error, NetworkError) and not isinstance(error, BadRequest)


class FloodControl(AIORateLimiter):
    """PTB's rate limiter plus a per-chat pace for every chat.

    :class:`AIORateLimiter` paces all requests overall and group chats at 20 a
    minute, and retries 429s, but it lets any number of messages reach one private
    chat at once, which Telegram answers with 429 beyond about one a second. Here
    messages to one chat are sent one after the other, each ``chat_interval``
    after the previous one was *answered* (so a request delayed on the way, or
    paused by a 429, can never arrive too close to the next). The overall pace is
    spread evenly (one request every ``1/overall_rate`` s) rather than in bursts of
    30, and kept below 30/s to absorb delays between pacing and arrival.

    A request that fails on the way (a 5xx answer, a dropped connection, a
    timeout: PTB's ``NetworkError`` except ``BadRequest``) is sent again after
    ``0.5, 1, 2, 4...`` s (tenacity), at most ``network_retries`` times, paced
    like any other.

    With several replicas (PostgreSQL, webhook), ``shared`` is the store: each
    message then also reserves its chat's next slot and a slot of the overall
    pace in the database (:meth:`bot.store.postgres.PostgresStore.reserve_send`),
    so three replicas send to one chat, and overall, at the rate one would. If
    the database fails, the local pace alone applies (never a lost message).

    Args:
        metrics: Where retries and 429s are counted.
        overall_rate: Requests per second for the whole bot.
        chat_interval: Seconds between two messages to the same chat.
        max_retries: Retries of a request answered with 429.
        network_retries: Retries of a request that failed on the way.
        shared: A store with ``reserve_send``/``sent``, or None (one process).
    """

    MESSAGE_ENDPOINTS = frozenset({"sendMessage"})
    RETRY_START = 0.5
    RETRY_MAX = 8.0

    def __init__(
        self,
        metrics: Metrics,
        *,
        overall_rate: float = 25.0,
        chat_interval: float = 1.05,
        max_retries: int = 5,
        network_retries: int = 5,
        shared: Any = None,
    ) -> None:
        super().__init__(
            overall_max_rate=1,
            overall_time_period=1 / overall_rate,
            max_retries=max_retries,
        )
        self._shared: Any = shared if getattr(shared, "reserve_send", None) else None
        self._overall_interval = 1 / overall_rate
        self._shared_warned = 0.0
        self._network_retries = network_retries
        self._chat_interval = chat_interval
        self._chat_locks: dict[str, asyncio.Lock] = {}
        self._chat_done: dict[str, float] = {}
        self._metrics = metrics

    def _forget_idle_chats(self, now: float) -> None:
        if len(self._chat_done) <= 1024:
            return
        for key, done in list(self._chat_done.items()):
            lock = self._chat_locks.get(key)
            if now - done > self._chat_interval and (lock is None or not lock.locked()):
                self._chat_done.pop(key, None)
                self._chat_locks.pop(key, None)

    async def _shared_wait(self, scope: str, ident: str, interval: float) -> None:
        """Wait for the slot reserved across replicas; the local pace alone if the store fails."""
        try:
            wait = await self._shared.reserve_send(scope, ident, interval)
        except Exception as exc:
            now = asyncio.get_running_loop().time()
            if now - self._shared_warned > 60:
                self._shared_warned = now
                log.warning("telegram: shared send pace unavailable (%s)", type(exc).__name__)
            return
        if wait > 0:
            await asyncio.sleep(wait)

    async def _with_retries(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        def note(state: RetryCallState) -> None:
            error = state.outcome.exception() if state.outcome else None
            delay = state.next_action.sleep if state.next_action else 0.0
            self._metrics.record_error(CHANNEL, "network")
            log.warning(
                "telegram: %s failed on the way (%s); retry %d in %.1f s",
                endpoint,
                type(error).__name__,
                state.attempt_number,
                delay,
            )

        retrying = AsyncRetrying(
            retry=retry_if_exception(_failed_on_the_way),
            stop=stop_after_attempt(self._network_retries + 1),
            wait=wait_exponential(multiplier=self.RETRY_START, max=self.RETRY_MAX),
            before_sleep=note,
            reraise=True,
        )
        async for attempt in retrying:
            with attempt:
                if self._shared is not None and endpoint in self.MESSAGE_ENDPOINTS:
                    await self._shared_wait("tg-all", "", self._overall_interval)
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
        raise AssertionError("unreachable")  # pragma: no cover - reraise=True

    async def process_request(
        self,
        callback: Any,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        callback = _counting_retry_after(callback, self._metrics)
        chat_id = data.get("chat_id")
        if chat_id is None or endpoint not in self.MESSAGE_ENDPOINTS:
            return await self._with_retries(callback, args, kwargs, endpoint, data, rate_limit_args)
        key = str(chat_id)
        loop = asyncio.get_running_loop()
        lock = self._chat_locks.setdefault(key, asyncio.Lock())
        async with lock:
            wait = self._chat_done.get(key, 0.0) + self._chat_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if self._shared is not None:
                await self._shared_wait("tg-chat", key, self._chat_interval)
            try:
                return await self._with_retries(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            finally:
                self._chat_done[key] = loop.time()
                self._forget_idle_chats(loop.time())
                if self._shared is not None:
                    # Replicas space from the answer too, as the local pace does.
                    with contextlib.suppress(Exception):
                        await self._shared.sent("tg-chat", key, self._chat_interval)


def _counting_retry_after(callback: Any, metrics: Metrics) -> Any:
    """Wrap a Bot API call so each 429 shows in /metrics before the limiter retries it."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        try:
            return await callback(*args, **kwargs)
        except RetryAfter as exc:
            retry = exc.retry_after
            seconds = retry.total_seconds() if hasattr(retry, "total_seconds") else float(retry)
            metrics.record_rate_limited(CHANNEL, seconds)
            raise

    return call


class PollRequest(HTTPXRequest):
    """The ``getUpdates`` connection (PTB's default: one connection), reporting each
    answer from Telegram, so ``/healthz`` shows the channel running again after an outage.
    """

    def __init__(self, on_answer: Callable[[], None]) -> None:
        super().__init__(connection_pool_size=1)
        self._on_answer = on_answer

    async def do_request(self, *args: Any, **kwargs: Any) -> tuple[int, bytes]:
        result = await super().do_request(*args, **kwargs)
        self._on_answer()  # any HTTP answer: the server is reachable
        return result


class PerChatUpdateProcessor(BaseUpdateProcessor):
    """Processes updates concurrently across chats but in order within one chat.

    So ``/lang fr`` followed by a question is answered in French even though a
    thousand other people are being answered at the same time.

    Args:
        max_concurrent_updates: Updates processed (or waiting for their chat) at once.
        gate: Called with each update *before* it waits for its chat; False
            drops the update. The per-person rate limit lives there, so a flood
            from one chat cannot fill the slots everyone shares.
    """

    def __init__(
        self,
        max_concurrent_updates: int = 256,
        *,
        gate: Callable[[object], Awaitable[bool]] | None = None,
    ) -> None:
        super().__init__(max_concurrent_updates)
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        self._gate = gate

    @staticmethod
    def _key(update: object) -> int | None:
        if not isinstance(update, Update):
            return None
        if update.effective_chat is not None:
            return update.effective_chat.id
        return update.effective_user.id if update.effective_user else None

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        if self._gate is not None and not await self._gate(update):
            close = getattr(coroutine, "close", None)
            if close is not None:
                close()
            return
        key = self._key(update)
        if key is None:
            await coroutine
            return
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                await coroutine
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None
