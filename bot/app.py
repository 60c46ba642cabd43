"""The application: builds store, core and channels, and runs them for months.

:class:`Application` builds the store and the core once, gives every channel
the same :class:`~bot.channel.ChannelContext` and supervises each channel on
its own in one :class:`asyncio.TaskGroup` (see :mod:`bot.supervise`): a channel
that fails is restarted with backoff while the others keep serving; one whose
configuration is wrong is marked ``failed`` and left alone; when every channel
has ended that way, the run ends with ``ConfigError``. Beside the channels run
the retention purge (:mod:`bot.retention`) and, when a port is set, the health
server with ``POST /admin/reload``.

Signals (see :mod:`bot.signals`):
    SIGINT/SIGTERM: set the stop event; channels drain their in-flight replies
        and return. Whatever has not returned after :data:`DRAIN_TIMEOUT`
        seconds is cancelled, so the process always ends within a few seconds.
    SIGHUP: reload the knowledge base (:class:`bot.reloader.KnowledgeReloader`),
        as ``privacybot kb reload`` does through the health server.

With a shared store (PostgreSQL), the Bluesky channel runs on the leader
replica only (:func:`bot.leader.lead_when_shared`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
from collections.abc import AsyncIterator, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any

from bot.channel import Channel, ChannelContext, ChannelFactory
from bot.channel_choice import builtin_factories, choose
from bot.core import Core
from bot.errors import ConfigError
from bot.health import HealthServer, admin_token
from bot.kb.loader import KnowledgeBase, default_dir, load_knowledge
from bot.leader import lead_when_shared
from bot.logging_setup import RedactingFilter, configure_logging
from bot.metrics import Metrics
from bot.ratelimit import user_limiter
from bot.reloader import KnowledgeReloader
from bot.retention import purge_periodically
from bot.settings import Settings, load_environment, secret_values
from bot.signals import handle_signals
from bot.store import open_store
from bot.store.base import Store
from bot.supervise import supervise

log = logging.getLogger(__name__)

DRAIN_TIMEOUT = 5.0
CANCEL_GRACE = 1.0
"""Seconds a cancelled channel gets to unwind before shutdown goes on."""


class Application:
    """The running bot: one store, one core, the chosen channels.

    Args:
        kb: The validated knowledge base.
        settings: The common settings.
        env: The merged environment; each channel reads its own section.
        metrics: Where states and counters go (``/healthz``, ``/metrics``).
        factories: The channels that exist; the built-in Telegram and Bluesky
            ones when None (imported only then).
        store: The store to use; built from the settings when None. It is
            opened at start and closed at the end either way.
        kb_dir: The knowledge folder reloads re-read; the settings' or the
            bundled one when None.
        drain_timeout: Seconds channels get to finish after stop.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        *,
        settings: Settings,
        env: Mapping[str, str],
        metrics: Metrics,
        factories: Sequence[ChannelFactory] | None = None,
        store: Store | None = None,
        kb_dir: Path | None = None,
        drain_timeout: float = DRAIN_TIMEOUT,
    ) -> None:
        self.kb = kb
        self.settings = settings
        self.env = env
        self.metrics = metrics
        self.factories = factories
        self._store = store
        self.kb_dir = kb_dir or settings.knowledge_dir or default_dir()
        self.drain_timeout = drain_timeout
        secrets = [*secret_values(env), *settings.secret_values()]
        self._redact = RedactingFilter(secrets).redact

    @property
    def store(self) -> Store:
        """The store given, or the settings' one once :meth:`run` has built it."""
        if self._store is None:
            raise RuntimeError("the store is built when the application runs")
        return self._store

    async def run(self, names: Sequence[str] = (), *, stop: asyncio.Event | None = None) -> int:
        """Run the named channels (every configured one when empty) until stopped.

        Args:
            names: Channels to run.
            stop: Set it to stop (SIGINT and SIGTERM set it too).

        Returns:
            0 after a requested stop.

        Raises:
            ConfigError: If no channel is configured, a named one is unknown or
                lacks settings, the health port cannot be bound, or every
                channel failed on its configuration.
        """
        factories = builtin_factories() if self.factories is None else self.factories
        chosen = choose(names, factories, self.env)
        stop = stop or asyncio.Event()
        # Built only now: a refused start (no channel configured) leaves no salt or database.
        if self._store is None:
            self._store = open_store(self.settings)
        await self.store.open()
        try:
            core = self._core()
            channels = self._channels(chosen, core)
            reloader = KnowledgeReloader(core, self.kb_dir, metrics=self.metrics)
            async with self._health_server(reloader):
                requested = await self._supervise(channels, reloader, stop)
        finally:
            await self.store.close()
        if not requested:
            raise ConfigError("every channel stopped: " + "; ".join(self._failures(channels)))
        log.info("privacybot stopped")
        return 0

    def _core(self) -> Core:
        return Core(
            self.kb,
            self.store,
            log_unanswered=self.settings.log_unanswered,
            limiter=user_limiter(self.settings.user_rate, self.store),  # shared by replicas
            site_url=self.settings.site_url,
            metrics=self.metrics,
        )

    def _channels(self, chosen: Sequence[ChannelFactory], core: Core) -> list[Channel]:
        """Build every chosen channel (``ConfigError`` if one lacks settings)."""
        context = ChannelContext(core, self.store, self.metrics, self.env)
        channels = [
            lead_when_shared(f.name, self.store, functools.partial(f.create, context),
                             metrics=self.metrics)
            for f in chosen
        ]  # fmt: skip
        self.metrics.set_knowledge(self.kb.version, len(self.kb.topics))
        for channel in channels:
            self.metrics.set_channel_state(channel.name, "starting")
        return channels

    @contextlib.asynccontextmanager
    async def _health_server(self, reloader: KnowledgeReloader) -> AsyncIterator[None]:
        """Serve ``/healthz``, ``/metrics`` and ``/admin/reload`` meanwhile, if a port is set."""
        settings = self.settings
        if settings.health_port is None:
            yield
            return
        health = HealthServer(
            settings.health_host,
            settings.health_port,
            metrics=self.metrics,
            reload=reloader,
            store_health=getattr(self.store, "health", None),
            token=admin_token(settings, create=True),
        )
        try:
            await health.start()
        except OSError as exc:
            raise ConfigError(
                f"PRIVACYBOT_HEALTH_PORT: cannot listen on "
                f"{settings.health_host}:{settings.health_port}: {exc.strerror or exc}"
            ) from exc
        try:
            yield
        finally:
            await health.stop()

    async def _supervise(
        self, channels: list[Channel], reloader: KnowledgeReloader, stop: asyncio.Event
    ) -> bool:
        """Run the channels, the purge and SIGHUP reloads until stop or every channel ended.

        Returns:
            True when stop was asked for, False when every channel ended by itself.
        """
        background: set[asyncio.Task[Any]] = set()
        async with asyncio.TaskGroup() as group:

            def start(coro: Coroutine[Any, Any, Any]) -> None:
                task = group.create_task(coro)
                background.add(task)
                task.add_done_callback(background.discard)

            start(purge_periodically(self.store, self.settings, stop))
            supervisors = [
                group.create_task(supervise(c, stop, metrics=self.metrics, redact=self._redact))
                for c in channels
            ]
            with handle_signals(functools.partial(_on_stop, stop), lambda: start(reloader())):
                log.info(
                    "privacybot started",
                    extra={
                        "channels": [c.name for c in channels],
                        "store": type(self.store).__name__,
                        "knowledge_version": self.kb.version,
                    },
                )
                requested = await _until_stop_or_all_ended(supervisors, stop)
                await _drain(supervisors, self.drain_timeout)
            for task in background:
                task.cancel()
        return requested

    def _failures(self, channels: list[Channel]) -> list[str]:
        states = self.metrics.health()["channels"]
        failed = [
            f"{c.name}: {states[c.name].get('last_error')}"
            for c in channels
            if states.get(c.name, {}).get("state") == "failed"
        ]
        return failed or ["no reason"]


def _on_stop(stop: asyncio.Event, sig: signal.Signals) -> None:
    if not stop.is_set():
        log.info("stopping: draining channels", extra={"signal": sig.name})
    stop.set()


async def _until_stop_or_all_ended(tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> bool:
    """Wait for ``stop`` or for every task to end; then set ``stop``.

    Returns:
        Whether ``stop`` had been asked for.
    """
    waiters = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(asyncio.wait(tasks))}
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for waiter in waiters:
            waiter.cancel()  # not the tasks themselves: asyncio.wait leaves them be
    requested = stop.is_set()
    stop.set()
    return requested


async def _drain(tasks: list[asyncio.Task[None]], timeout: float) -> None:
    """Give ``tasks`` ``timeout`` seconds to return, then cancel the late ones."""
    _, late = await asyncio.wait(tasks, timeout=timeout)
    if not late:
        return
    for task in late:
        task.cancel()
    log.warning(
        "channels did not drain in time; cancelled",
        extra={"timeout_s": timeout, "count": len(late)},
    )
    await asyncio.wait(late, timeout=CANCEL_GRACE)


def serve(
    names: Sequence[str],
    *,
    kb_dir: Path | None = None,
    factories: Sequence[ChannelFactory] | None = None,
) -> int:
    """What ``privacybot run`` does: read the configuration, log, load, run.

    Args:
        names: Channels to run; every configured one when empty.
        kb_dir: The knowledge folder; the settings' or the bundled one when None.
        factories: The channels that exist; the built-in ones when None.

    Returns:
        0 after SIGINT/SIGTERM.

    Raises:
        ConfigError: See :meth:`Application.run`.
        KnowledgeError: If the knowledge base is invalid.
    """
    env = load_environment()
    settings = Settings.from_env(env)
    configure_logging(settings, secrets=secret_values(env))
    kb_dir = kb_dir or settings.knowledge_dir or default_dir()
    app = Application(
        load_knowledge(kb_dir),
        settings=settings,
        env=env,
        metrics=Metrics(),
        factories=factories,
        kb_dir=kb_dir,
    )
    return asyncio.run(app.run(names))
