"""Runs every chat channel (Telegram, Bluesky) in one asyncio loop, for months.

Each channel adapter module exposes ``is_configured(env) -> bool`` and
``create_channel(core, env) -> Channel``. :func:`run_channels` builds the store
and the core once, hands the core to each channel and supervises each one on its
own: a channel that fails is restarted with jittered exponential backoff while
the others keep serving; one whose configuration is wrong (``ConfigError``) is
marked ``failed`` and left alone.

Signals:
    SIGINT/SIGTERM: set the stop event; channels drain their in-flight replies
        and return. Whatever has not returned after :data:`DRAIN_TIMEOUT`
        seconds is cancelled, so the process always ends within a few seconds.
    SIGHUP: reload the knowledge base (as ``privacybot kb reload`` does through
        the health server's ``POST /admin/reload``). An invalid new version is
        refused and the old one kept.

Retention runs in the same loop: user state, answered-post addresses and
unanswered questions past their retention are purged at start and every
:data:`PURGE_INTERVAL` seconds.

``PRIVACYBOT_CHANNEL_MODULES=name=module[,name=module]`` adds channel adapters;
the tests use it to run ``python -m bot run`` with fake channels.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
import os
import random
import signal
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from bot import metrics as metrics_module
from bot.channel import Channel
from bot.core import Core
from bot.errors import ConfigError
from bot.health import HealthServer, ReloadResult, admin_token
from bot.kb.loader import KnowledgeBase, KnowledgeError, default_dir, load_knowledge
from bot.leader import lead_when_shared
from bot.logging_setup import RedactingFilter
from bot.metrics import Metrics
from bot.nlu.matcher import Matcher
from bot.ratelimit import user_limiter
from bot.settings import Settings, secret_values
from bot.store import open_store
from bot.store.base import Store

log = logging.getLogger(__name__)
T = TypeVar("T")

CHANNEL_MODULES: dict[str, str] = {
    "telegram": "bot.adapters.telegram",
    "bluesky": "bot.adapters.bluesky",
}
EXTRA_CHANNELS_VAR = "PRIVACYBOT_CHANNEL_MODULES"
BACKOFF_START = 1.0
BACKOFF_MAX = 60.0
HEALTHY_RUN = 60.0
"""A channel that ran this long before failing restarts from the shortest delay."""
DRAIN_TIMEOUT = 5.0
PURGE_INTERVAL = 6 * 3600.0

NO_CHANNEL_HELP = (
    "no channel is configured. Set, in the environment or a .env file:\n"
    "  Telegram: TELEGRAM_BOT_TOKEN (from @BotFather)\n"
    "  Bluesky:  BLUESKY_HANDLE and BLUESKY_APP_PASSWORD (an app password, not the "
    "account password)\n"
    "then run `privacybot run` again (`privacybot config` shows what is set)"
)


def channel_modules(env: Mapping[str, str]) -> dict[str, str]:
    """The known channel modules by name, plus ``PRIVACYBOT_CHANNEL_MODULES``.

    Raises:
        ConfigError: If ``PRIVACYBOT_CHANNEL_MODULES`` is not ``name=module,...``.
    """
    modules = dict(CHANNEL_MODULES)
    for item in filter(None, (p.strip() for p in env.get(EXTRA_CHANNELS_VAR, "").split(","))):
        name, sep, module = item.partition("=")
        if not sep or not name.strip() or not module.strip():
            raise ConfigError(f"{EXTRA_CHANNELS_VAR}: expected name=module, got {item!r}")
        modules[name.strip()] = module.strip()
    return modules


def _import(module: str) -> object | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name and module.startswith(exc.name):
            log.debug("channel module %s is not installed", module)
            return None
        raise


def configured_channels(env: Mapping[str, str]) -> list[str]:
    """Names of the channels whose credentials are present in ``env``."""
    names = []
    for name, module_name in channel_modules(env).items():
        module = _import(module_name)
        if module is not None and module.is_configured(env):  # type: ignore[attr-defined]
            names.append(name)
    return names


def _describe(exc: BaseException, redact: Callable[[str], str]) -> str:
    text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
    return redact(text)[:300]


async def supervise(
    channel: Channel,
    stop: asyncio.Event,
    *,
    metrics: Metrics,
    redact: Callable[[str], str] = lambda text: text,
) -> None:
    """Run a channel until ``stop``, restarting it with jittered backoff on failure.

    Args:
        channel: The channel to run.
        stop: Set when the process should stop.
        metrics: Where the channel's state is recorded for ``/healthz``.
        redact: Removes secrets from error messages before they are shown.
    """
    name = channel.name
    delay = BACKOFF_START
    # A channel that reports its server's answers stays "starting" until the first
    # one (an unreachable Telegram was shown "ok" for 25 s); others run at once.
    reports = bool(getattr(channel, "reports_reachability", False))
    while not stop.is_set():
        metrics.set_channel_state(name, "starting" if reports else "running")
        started = time.monotonic()
        try:
            await channel.run(stop)
            if stop.is_set():
                break
            error = "run() returned before stop"
            log.warning(
                "channel returned without being asked to stop; restarting",
                extra={"channel": name},
            )
        except asyncio.CancelledError:
            metrics.set_channel_state(name, "stopped")
            raise
        except ConfigError as exc:
            error = _describe(exc, redact)
            log.error(
                "channel stopped: its configuration is wrong",
                extra={"channel": name, "error": error},
            )
            metrics.set_channel_state(name, "failed", error=error)
            return
        except Exception as exc:  # keep the other channels alive
            error = _describe(exc, redact)
            log.error(
                "channel failed; restarting",
                exc_info=True,
                extra={"channel": name, "error": error, "retry_in": round(delay, 1)},
            )
        if time.monotonic() - started >= HEALTHY_RUN:
            delay = BACKOFF_START
        metrics.set_channel_state(name, "restarting", error=error)
        if stop.is_set():
            break
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=delay * (0.5 + random.random()))
        delay = min(delay * 2, BACKOFF_MAX)
    metrics.set_channel_state(name, "stopped")


def _in_daemon_thread(fn: Callable[[], T]) -> asyncio.Future[T]:
    """Run ``fn`` on a new daemon thread; a future on the running loop gets its result.

    Not ``asyncio.to_thread``: the default executor's threads are joined when
    the loop and the interpreter end, so a long reload would keep a stopping
    bot alive (SIGTERM was ignored for 40 s). A daemon thread is simply dropped.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: T | None, error: BaseException | None) -> None:
        if future.done():
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]

    def work() -> None:
        result: T | None = None
        error: BaseException | None = None
        try:
            result = fn()
        except BaseException as exc:  # handed to the awaiting coroutine
            error = exc
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
            loop.call_soon_threadsafe(settle, result, error)

    threading.Thread(target=work, name="kb-reload", daemon=True).start()
    return future


class KnowledgeReloader:
    """Reloads the knowledge base into a running core, refusing invalid versions.

    The files are read and validated and the matcher is built on a separate
    thread, so every channel keeps answering meanwhile; only the swap happens
    on the event loop. One reload runs at a time: a request that arrives during
    one waits for it and then reloads once, shared with any others that came in
    the meantime (36 SIGHUPs make two reloads, not 36).

    Args:
        core: The core to update.
        directory: The knowledge folder to re-read.
        metrics: Where the version and reload counts are recorded.
    """

    def __init__(self, core: Core, directory: Path, *, metrics: Metrics) -> None:
        self.core = core
        self.directory = directory
        self.metrics = metrics
        self._lock = asyncio.Lock()
        self._next: asyncio.Future[ReloadResult] | None = None

    async def __call__(self) -> ReloadResult:
        """Load, validate and swap in the knowledge base.

        Returns:
            Whether the new version is in use, and why not.
        """
        if self._next is None:
            self._next = asyncio.ensure_future(self._reload())
        return await asyncio.shield(self._next)

    def _build(self) -> tuple[KnowledgeBase, Matcher]:
        kb = load_knowledge(self.directory)
        return kb, Matcher(kb)

    async def _reload(self) -> ReloadResult:
        async with self._lock:
            self._next = None  # requests from now on need a reload after this one
            previous = self.core.kb.version
            try:
                kb, matcher = await _in_daemon_thread(self._build)
                self.core.reload(kb, matcher)
            except KnowledgeError as exc:
                problems = [str(p) for p in exc.problems]
            except Exception as exc:  # e.g. unreadable folder: keep serving
                problems = [f"{self.directory}: {type(exc).__name__}: {exc}"]
            else:
                self.metrics.set_knowledge(kb.version, len(kb.topics))
                self.metrics.record_reload(True)
                log.info(
                    "knowledge base reloaded",
                    extra={"version": kb.version, "previous": previous, "topics": len(kb.topics)},
                )
                return ReloadResult(ok=True, version=kb.version)
            self.metrics.record_reload(False)
            log.error(
                "knowledge base reload refused; keeping the current version",
                extra={"version": previous, "problems": problems[:20]},
            )
            return ReloadResult(ok=False, version=previous, problems=problems)


async def _retention(store: Store, settings: Settings, stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            counts = await store.purge(
                user_days=settings.user_retention_days,
                unanswered_days=settings.unanswered_retention_days,
            )
            log.info("retention purge", extra={"event": "purge", **counts})
        except Exception:
            log.exception("retention purge failed")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=PURGE_INTERVAL)


async def run_channels(
    names: Sequence[str],
    kb: KnowledgeBase,
    *,
    env: Mapping[str, str] | None = None,
    store: Store | None = None,
    stop: asyncio.Event | None = None,
    settings: Settings | None = None,
    kb_dir: Path | None = None,
    metrics: Metrics | None = None,
    drain_timeout: float = DRAIN_TIMEOUT,
) -> int:
    """Build the core and run the named channels until SIGINT/SIGTERM or ``stop``.

    Args:
        names: Channels to run; every configured one when empty.
        kb: The validated knowledge base.
        env: The merged environment (adapters read their sections from it);
            ``os.environ`` when None.
        store: The store to use; built from the settings when None.
        stop: Set it to stop (the signal handlers set it too).
        settings: The common settings; read from ``env`` when None.
        kb_dir: The knowledge folder reloads re-read; the settings' or the
            bundled one when None.
        metrics: Where states and counters go; a new :class:`Metrics` when None.
        drain_timeout: Seconds channels get to finish after ``stop``.

    Returns:
        0 after a requested stop.

    Raises:
        ConfigError: If no channel is configured, a named one is unknown or
            lacks settings, the health port cannot be bound, or every channel
            failed on its configuration.
    """
    env = os.environ if env is None else env
    settings = settings or Settings.from_env(env)
    metrics = metrics if metrics is not None else Metrics()
    modules = channel_modules(env)
    names = list(names) or configured_channels(env)
    if not names:
        raise ConfigError(NO_CHANNEL_HELP)
    unknown = [n for n in names if n not in modules]
    if unknown:
        raise ConfigError(
            f"unknown channel(s): {', '.join(unknown)} (known: {', '.join(sorted(modules))})"
        )
    redactor = RedactingFilter([*secret_values(env), *settings.secret_values()])
    store = store or open_store(settings)
    await store.open()
    health: HealthServer | None = None
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    routed = metrics_module.use(metrics)  # adapters' reports go where /healthz reads
    try:
        limiter = user_limiter(settings.user_rate, store)  # shared by replicas on PostgreSQL
        core = Core(
            kb,
            store,
            log_unanswered=settings.log_unanswered,
            limiter=limiter,
            site_url=settings.site_url,
            metrics=metrics,
        )
        channels: list[Channel] = []
        for name in names:
            module = _import(modules[name])
            if module is None:
                raise ConfigError(f"channel {name}: module {modules[name]} is not installed")
            # With a shared store, the Bluesky channel runs on the leader replica only.
            build = lambda m=module: m.create_channel(core, env)  # noqa: E731
            channels.append(lead_when_shared(name, store, build, metrics=metrics))
        metrics.set_knowledge(kb.version, len(kb.topics))
        for channel in channels:
            metrics.set_channel_state(channel.name, "starting")
        reloader = KnowledgeReloader(
            core, kb_dir or settings.knowledge_dir or default_dir(), metrics=metrics
        )
        if settings.health_port is not None:
            health = HealthServer(
                settings.health_host,
                settings.health_port,
                metrics=metrics,
                reload=reloader,
                store_health=getattr(store, "health", None),
                token=admin_token(settings, create=True),
            )
            try:
                await health.start()
            except OSError as exc:
                health = None
                raise ConfigError(
                    f"PRIVACYBOT_HEALTH_PORT: cannot listen on "
                    f"{settings.health_host}:{settings.health_port}: {exc.strerror or exc}"
                ) from exc

        stop = stop or asyncio.Event()
        pending_reloads: set[asyncio.Task[ReloadResult]] = set()

        def on_stop(sig: signal.Signals) -> None:
            if not stop.is_set():
                log.info("stopping: draining channels", extra={"signal": sig.name})
            stop.set()

        def on_reload() -> None:
            task = asyncio.ensure_future(reloader())
            pending_reloads.add(task)
            task.add_done_callback(pending_reloads.discard)

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, on_stop, sig)
                installed.append(sig)
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError, AttributeError):
            loop.add_signal_handler(signal.SIGHUP, on_reload)
            installed.append(signal.SIGHUP)

        log.info(
            "privacybot started",
            extra={
                "channels": [c.name for c in channels],
                "store": type(store).__name__,
                "knowledge_version": kb.version,
            },
        )
        tasks = [
            asyncio.create_task(supervise(ch, stop, metrics=metrics, redact=redactor.redact))
            for ch in channels
        ]
        purger = asyncio.create_task(_retention(store, settings, stop))
        stopping = asyncio.create_task(stop.wait())
        everything = asyncio.gather(*tasks, return_exceptions=True)
        first: set[asyncio.Future[Any]] = {everything, stopping}
        await asyncio.wait(first, return_when=asyncio.FIRST_COMPLETED)
        if not stop.is_set():  # every channel ended on its own (configuration)
            stop.set()
            await asyncio.gather(purger, stopping, return_exceptions=True)
            failed = [
                f"{name}: {status.last_error}"
                for name, status in metrics.channels.items()
                if status.state == "failed" and name in {c.name for c in channels}
            ]
            raise ConfigError("every channel stopped: " + "; ".join(failed or ["no reason"]))
        _, late = await asyncio.wait(tasks, timeout=drain_timeout)
        for task in late:
            task.cancel()
        if late:
            log.warning(
                "channels did not drain in time; cancelled",
                extra={"timeout_s": drain_timeout, "count": len(late)},
            )
            await asyncio.wait(late, timeout=1.0)
        purger.cancel()
        for reloading in pending_reloads:
            reloading.cancel()
        await asyncio.gather(everything, purger, *pending_reloads, return_exceptions=True)
        log.info("privacybot stopped")
        return 0
    finally:
        for sig in installed:
            loop.remove_signal_handler(sig)
        if health is not None:
            await health.stop()
        await store.close()
        metrics_module.reset(routed)
