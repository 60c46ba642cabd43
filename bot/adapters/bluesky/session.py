"""The API session: one logged-in client, and every call through the rate-limit gate.

* It logs in once and persists the exported session (``createSession`` is
  limited to 30 per 5 minutes and 300 per day); it logs in with the password
  again only when the stored session can no longer be refreshed.
* Every call waits for the :class:`~bot.adapters.bluesky.limits.Gate` and the
  5-minute request cap, and its failure is classified: 429 (hold until
  ``ratelimit-reset``), 5xx and network errors (backoff with jitter) raise
  :class:`RetryLater`, so the caller keeps its work for later; reachability is
  reported to ``/healthz`` through the injected metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import httpx
from atproto import AsyncClient, SessionEvent
from atproto_client.exceptions import (
    BadRequestError,
    InvokeTimeoutError,
    NetworkError,
    RateLimitExceededError,
    RequestException,
    UnauthorizedError,
)
from atproto_client.request import AsyncRequest
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt

from bot.adapters.bluesky.limits import Gate, RequestLog
from bot.adapters.bluesky.settings import BlueskySettings
from bot.errors import ConfigError
from bot.metrics import Metrics
from bot.store.base import Store

log = logging.getLogger("bot.adapters.bluesky")

SESSION_KEY = "bluesky.session"
PASSWORD_LOGINS_PER_5_MIN = 3
_EXPIRED = {"ExpiredToken", "InvalidToken", "AuthenticationRequired", "AuthMissing"}

T = TypeVar("T")


class RetryLater(Exception):
    """A transient failure (429, 5xx, network): the work stays queued.

    Attributes:
        maybe_done: The request may have been carried out although no answer came
            back (timeout, network error, 5xx), as opposed to refused (429) or
            never sent (held by the gate).
    """

    def __init__(self, message: str, *, maybe_done: bool = False) -> None:
        super().__init__(message)
        self.maybe_done = maybe_done


def error_name(exc: Exception) -> str:
    """The XRPC error name of a failed call (``NotFound``, ``ExpiredToken``...), or ``""``."""
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    return str(getattr(content, "error", "") or "")


class Session:
    """The bot account's client, its login, and gated calls.

    Args:
        settings: The Bluesky settings (handle, app password, service, timeout).
        store: Where the exported session is kept between runs.
        metrics: Where rate limits, errors and reachability are reported.
        clock: Epoch seconds (tests may inject one).
    """

    def __init__(
        self,
        settings: BlueskySettings,
        store: Store,
        metrics: Metrics,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings = settings
        self.store = store
        self.metrics = metrics
        self._clock = clock
        self.gate = Gate(clock=clock)
        self.requests = RequestLog(clock=clock)
        self.client: AsyncClient | None = None
        self.did = ""
        self._password_logins: list[float] = []
        self._cap_warned = 0.0

    def _new_client(self) -> AsyncClient:
        async def on_request(request: httpx.Request) -> None:
            self.requests.add()

        async def on_response(response: httpx.Response) -> None:
            self.gate.observe_headers({k.lower(): v for k, v in response.headers.items()})

        request = AsyncRequest(
            timeout=httpx.Timeout(self.settings.timeout),
            event_hooks={"request": [on_request], "response": [on_response]},
        )
        client = AsyncClient(base_url=self.settings.service_url, request=request)

        async def on_session_change(event: SessionEvent, session: Any) -> None:
            if event in (SessionEvent.CREATE, SessionEvent.REFRESH):
                await self._save_session(client)

        client.on_session_change(on_session_change)
        return client

    async def _save_session(self, client: AsyncClient) -> None:
        payload = {
            "handle": self.settings.handle,
            "service": self.settings.service_url,
            "session": client.export_session_string(),
        }
        await self.store.set_value(SESSION_KEY, json.dumps(payload))

    async def close(self) -> None:
        """Close the HTTP client (the stored session stays valid for the next run)."""
        if self.client is not None:
            try:
                await self.client.request.close()
            except Exception:  # closing must never mask the real error
                log.debug("closing the Bluesky HTTP client failed", exc_info=True)
            self.client = None

    async def login(self) -> AsyncClient:
        """Restore the stored session, or log in with the password once.

        Returns:
            A logged-in client; :attr:`did` is the bot's DID.

        Raises:
            ConfigError: The server rejected the handle or app password.
            RetryLater: The server did not answer (network, 5xx, 429, our own hold).
        """
        raw = await self.store.get_value(SESSION_KEY)
        saved: dict[str, str] = {}
        if raw:
            try:
                saved = json.loads(raw)
            except ValueError:
                saved = {}
        if (
            saved.get("session")
            and saved.get("handle") == self.settings.handle
            and saved.get("service") == self.settings.service_url
        ):
            client = self._new_client()
            try:
                await self.gated(lambda: client.login(session_string=saved["session"]))
                return await self._logged_in(client, "restored the stored session")
            except (UnauthorizedError, BadRequestError) as exc:
                if error_name(exc) not in _EXPIRED:
                    await client.request.close()
                    raise
                log.info("stored Bluesky session is no longer valid (%s)", error_name(exc))
                await self.store.set_value(SESSION_KEY, None)
                await client.request.close()
        return await self._password_login()

    async def login_until(self, stop: asyncio.Event) -> bool:
        """Log in, retrying while the server does not answer, until ``stop`` is set.

        Returns:
            True once logged in; False when stopped first.
        """

        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(RetryLater),
            wait=lambda state: max(self.gate.remaining(), 0.5),
            sleep=lambda seconds: sleep_unless_stopped(stop, seconds),
            stop=lambda state: stop.is_set(),
            retry_error_callback=lambda state: None,
        ):
            with attempt:
                if not stop.is_set():
                    await self.login()
        return self.client is not None

    async def retrying(self, make: Callable[[], Awaitable[T]], attempts: int = 4) -> T:
        """Run ``make()`` again after 429/5xx/network holds, a few times (one-off commands).

        Raises:
            RetryLater: Still held after ``attempts`` tries.
        """

        async for attempt in AsyncRetrying(
            retry=retry_if_exception_type(RetryLater),
            wait=lambda state: min(max(self.gate.remaining(), 0.5), 60.0),
            stop=stop_after_attempt(attempts),
            reraise=True,
        ):
            with attempt:
                return await make()
        raise AssertionError("unreachable")  # pragma: no cover

    async def _password_login(self) -> AsyncClient:
        now = self._clock()
        self._password_logins = [t for t in self._password_logins if t > now - 300]
        if len(self._password_logins) >= PASSWORD_LOGINS_PER_5_MIN:
            raise RuntimeError("too many Bluesky password logins in 5 minutes; backing off")
        # A fresh client: reusing one with a dead session makes login() try a refresh first.
        client = self._new_client()
        password = self.settings.app_password.get_secret_value()
        try:
            await self.gated(lambda: client.login(self.settings.handle, password))
        except RetryLater:
            # Not answered (network, 5xx, 429, our own hold): not a login the server
            # counted, so it must not lock us out once the server is back.
            await client.request.close()
            raise
        except UnauthorizedError as exc:
            self._password_logins.append(now)
            await client.request.close()
            raise ConfigError(
                f"Bluesky rejected BLUESKY_HANDLE {self.settings.handle!r} / BLUESKY_APP_PASSWORD "
                f"on {self.settings.service_url} ({error_name(exc)})"
            ) from None
        except BaseException:
            self._password_logins.append(now)
            await client.request.close()
            raise
        self._password_logins.append(now)
        return await self._logged_in(client, "logged in with the app password")

    async def _logged_in(self, client: AsyncClient, how: str) -> AsyncClient:
        if client.me is None:
            raise RuntimeError("logged in but the profile of the bot account is unavailable")
        self.client = client
        self.did = client.me.did
        log.info("bluesky: %s as %s (%s)", how, client.me.handle, self.did)
        return client

    async def _relogin(self) -> None:
        await self.store.set_value(SESSION_KEY, None)
        await self.close()
        await self._password_login()

    async def gated(self, call: Callable[[], Awaitable[T]]) -> T:
        """Wait for the gate, make one call and classify its failure.

        Raises:
            RetryLater: Held by the gate, 429, 5xx or a network error.
        """
        slot = self.requests.wait_for_slot(self.settings.requests_per_5min)
        if slot > 0:
            if self.gate.remaining() <= 0 and self._clock() - self._cap_warned > 60:
                self._cap_warned = self._clock()
                log.warning(
                    "bluesky: %d requests in 5 minutes; holding %.1fs",
                    self.settings.requests_per_5min,
                    slot,
                )
            self.gate.block_until(self._clock() + slot)
        wait = self.gate.remaining()
        if wait > 0:
            raise RetryLater(f"rate-limit hold for {wait:.1f}s")
        try:
            result = await call()
        except RateLimitExceededError as exc:
            reset = exc.reset_at.timestamp() if exc.reset_at else None
            delay = self.gate.rate_limited(reset_epoch=reset, retry_after=exc.retry_after)
            log.warning("bluesky: 429 rate limited (%s); holding %.1fs", exc.policy, delay)
            self.metrics.record_rate_limited("bluesky", delay)
            raise RetryLater("429") from exc
        except (InvokeTimeoutError, NetworkError) as exc:
            delay = self.gate.failed()
            log.warning("bluesky: network error %s; retrying in %.1fs", type(exc).__name__, delay)
            self.metrics.record_error("bluesky", "network")
            self.metrics.set_channel_reachable(
                "bluesky", False, error=f"network: {type(exc).__name__}"
            )
            raise RetryLater("network", maybe_done=True) from exc
        except (UnauthorizedError, BadRequestError):
            raise
        except RequestException as exc:
            status = exc.response.status_code if exc.response is not None else 0
            if status >= 500 or status == 0:
                delay = self.gate.failed()
                log.warning("bluesky: server error %s; retrying in %.1fs", status, delay)
                self.metrics.record_error("bluesky", "server")
                self.metrics.set_channel_reachable("bluesky", False, error=f"server error {status}")
                raise RetryLater(str(status), maybe_done=True) from exc
            raise
        self.gate.succeeded()
        self.metrics.set_channel_reachable("bluesky", True)
        return result

    async def call(self, call: Callable[[AsyncClient], Awaitable[T]]) -> T:
        """Make an authenticated call; on a dead session log in again once and retry."""
        assert self.client is not None
        client = self.client
        try:
            return await self.gated(lambda: call(client))
        except (UnauthorizedError, BadRequestError) as exc:
            if error_name(exc) not in _EXPIRED:
                raise
            log.info("bluesky: session expired (%s); logging in again", error_name(exc))
        await self._relogin()
        assert self.client is not None
        fresh = self.client
        return await self.gated(lambda: call(fresh))


async def sleep_unless_stopped(stop: asyncio.Event, seconds: float) -> None:
    """Sleep ``seconds``, or less when ``stop`` is set meanwhile."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
