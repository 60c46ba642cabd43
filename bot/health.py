"""The local HTTP endpoint an operator (or Docker, or Prometheus) asks how the bot is.

Listens on ``PRIVACYBOT_HEALTH_HOST:PRIVACYBOT_HEALTH_PORT`` (127.0.0.1:8089 by
default; ``PRIVACYBOT_HEALTH_PORT=off`` disables it):

* ``GET /healthz``: JSON with ``status`` (``ok``, ``degraded`` when some channel
  is restarting or reconnecting to its server, or the store's writes fail,
  ``starting``, ``down``), each channel's state, restarts and last error, the
  store's state (``store``) and the knowledge base version. 200
  unless no channel is up (``down``: 503), so a container health check fails
  only when the bot is useless. A channel in ``standby`` (another replica
  leads it, see :mod:`bot.leader`) counts as up.
* ``GET /metrics``: Prometheus text (see :mod:`bot.metrics`).
* ``POST /admin/reload``: reload the knowledge base, as SIGHUP does; used by
  ``privacybot kb reload``. Loopback alone is not authentication (any web page
  in the operator's browser can post to 127.0.0.1), so a request must come from
  a loopback address, name a loopback ``Host`` (no DNS rebinding), carry no
  ``Origin`` (browsers add one, the CLI does not), have a JSON content type and
  ``Authorization: Bearer <token>``, the token from ``PRIVACYBOT_ADMIN_TOKEN``
  or the file beside the database (:func:`admin_token`). Anything else is
  refused with 403; more than one reload per :data:`RELOAD_INTERVAL` seconds
  gets 429. Answers 200 with the new version, or 422 with the problems (the old
  version stays).

Malformed HTTP requests are logged as one WARNING line naming the error type,
without traceback or the bytes received.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import secrets
import stat
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from bot.errors import ConfigError
from bot.http_site import start_site
from bot.metrics import Metrics
from bot.settings import Settings

log = logging.getLogger(__name__)

RELOAD_INTERVAL = 2.0
"""Seconds between two reloads accepted over HTTP."""
TOKEN_BYTES = 32
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})


def admin_token_path(settings: Settings) -> Path:
    """Where a generated admin token lives: ``<database file>.admin-token``, mode 0600."""
    return settings.db_path.with_name(settings.db_path.name + ".admin-token")


def admin_token(settings: Settings, *, create: bool = False) -> str | None:
    """The token ``POST /admin/reload`` requires.

    ``PRIVACYBOT_ADMIN_TOKEN`` when set; otherwise the token file beside the
    database, generated (32 random bytes, mode 0600, ``O_EXCL``) by the bot at
    start when ``create`` and read by ``privacybot kb reload``.

    Args:
        settings: The effective settings.
        create: Generate the file if it does not exist (the running bot).

    Returns:
        The token, or None if there is none yet (and ``create`` is False).

    Raises:
        ConfigError: If the file cannot be read or written.
    """
    if settings.admin_token is not None:
        return settings.admin_token.get_secret_value()
    if settings.backend == "memory":  # no file to keep it in: valid for this process only
        return secrets.token_urlsafe(TOKEN_BYTES) if create else None
    path = admin_token_path(settings)
    try:
        if path.exists():
            if stat.S_IMODE(path.stat().st_mode) & 0o077:
                path.chmod(0o600)
            return path.read_text(encoding="ascii").strip() or None
        if not create:
            return None
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        token = secrets.token_urlsafe(TOKEN_BYTES)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process wrote it first
            return path.read_text(encoding="ascii").strip() or None
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(token + "\n")
        return token
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"PRIVACYBOT_ADMIN_TOKEN is unset and the token file {path} cannot be used "
            f"({exc}); set PRIVACYBOT_ADMIN_TOKEN or fix the file"
        ) from exc


class _ProtocolLogger(logging.LoggerAdapter[logging.Logger]):
    """aiohttp's server logger, minus the tracebacks and bytes of malformed requests.

    aiohttp logs a request it cannot parse as an ERROR with a traceback whose
    text repeats what the client sent; here it is one WARNING line with the
    error's type and status only. Other errors keep their traceback.
    """

    def exception(self, msg: object, *args: object, exc_info: object = True, **kw: Any) -> None:
        error = exc_info if isinstance(exc_info, BaseException) else None
        if isinstance(error, HttpProcessingError):
            self.logger.warning(
                "refused a malformed HTTP request",
                extra={"error": type(error).__name__, "status": error.code},
            )
            return
        self.logger.error(msg, *args, exc_info=exc_info, **kw)  # type: ignore[arg-type]

    def debug(self, msg: object, *args: object, **kw: Any) -> None:
        # aiohttp logs non-HTTP traffic at DEBUG with the same traceback.
        self.logger.debug("refused a malformed HTTP request")


@dataclass(frozen=True, slots=True)
class ReloadResult:
    """What a knowledge base reload did.

    Attributes:
        ok: True if the new version is in use.
        version: The version in use afterwards.
        problems: Why the new version was refused (``file: topic: field: ...``).
    """

    ok: bool
    version: str
    problems: list[str] = field(default_factory=list)


Reloader = Callable[[], Awaitable[ReloadResult]]
StoreHealth = Callable[[], dict[str, Any]]


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _host_name(host: str | None) -> str:
    if not host:
        return ""
    if host.startswith("["):
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host


def build_app(
    metrics: Metrics,
    *,
    reload: Reloader | None = None,
    store_health: StoreHealth | None = None,
    token: str | None = None,
    reload_interval: float = RELOAD_INTERVAL,
) -> web.Application:
    """The aiohttp application behind the health server.

    Args:
        metrics: Where states and counters are read.
        reload: Called by ``POST /admin/reload``; the route answers 404 when None.
        store_health: Returns the store's state (``bot.store.guard``); a
            failing store makes an ``ok`` bot ``degraded``.
        token: The admin token ``POST /admin/reload`` requires; without one
            every reload request is refused.
        reload_interval: Minimum seconds between two accepted reloads.

    Returns:
        The application.
    """
    last_reload = [-float("inf")]

    def refuse(reason: str) -> web.HTTPForbidden:
        log.warning("refused a reload request", extra={"reason": reason})
        return web.HTTPForbidden(text=f"reload refused: {reason}\n")

    async def healthz(request: web.Request) -> web.Response:
        doc = metrics.health()
        if store_health is not None:
            doc["store"] = store_health()
            if doc["store"].get("state") != "ok" and doc["status"] == "ok":
                doc["status"] = "degraded"
        return web.json_response(doc, status=503 if doc["status"] == "down" else 200)

    async def prometheus(request: web.Request) -> web.Response:
        return web.Response(
            text=metrics.render(),
            content_type="text/plain",
            charset="utf-8",
            headers={"X-Content-Type-Options": "nosniff"},
        )

    async def admin_reload(request: web.Request) -> web.Response:
        if reload is None:
            raise web.HTTPNotFound()
        if not _is_loopback(request.remote):
            raise refuse("not from a loopback address")
        if _host_name(request.headers.get("Host")).lower() not in LOOPBACK_NAMES:
            raise refuse("the Host header is not a loopback name")
        if "Origin" in request.headers or "Sec-Fetch-Site" in request.headers:
            raise refuse("sent by a web page")
        if request.content_type != "application/json":
            raise refuse("the content type is not application/json")
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if (
            token is None
            or scheme.lower() != "bearer"
            or not hmac.compare_digest(given.strip().encode(), token.encode())
        ):
            raise refuse("missing or wrong admin token")
        now = time.monotonic()
        wait = last_reload[0] + reload_interval - now
        if wait > 0:
            log.warning("refused a reload request: too soon after the last one")
            raise web.HTTPTooManyRequests(
                text="one reload at a time; try again shortly\n",
                headers={"Retry-After": str(max(1, round(wait)))},
            )
        last_reload[0] = now
        result = await reload()
        body = {"ok": result.ok, "version": result.version, "problems": result.problems}
        return web.json_response(body, status=200 if result.ok else 422)

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
    app.router.add_post("/admin/reload", admin_reload)
    return app


class HealthServer:
    """Runs :func:`build_app` on a host and port inside the bot's event loop.

    Args:
        host: Address to listen on (127.0.0.1 by default in the settings).
        port: Port; 0 picks a free one (see :attr:`port` after :meth:`start`).
        metrics: Where states and counters are read.
        reload: The knowledge base reloader for ``POST /admin/reload``.
        store_health: The store's state for ``/healthz``.
        token: The admin token for ``POST /admin/reload`` (see :func:`admin_token`).
        reload_interval: Minimum seconds between two reloads over HTTP.
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        metrics: Metrics,
        reload: Reloader | None = None,
        store_health: StoreHealth | None = None,
        token: str | None = None,
        reload_interval: float = RELOAD_INTERVAL,
    ) -> None:
        self.host = host
        self.port = port
        self._app = build_app(
            metrics,
            reload=reload,
            store_health=store_health,
            token=token,
            reload_interval=reload_interval,
        )
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        """Start listening.

        Returns:
            The bound port.

        Raises:
            OSError: If the address is in use or not available.
        """
        runner = await start_site(
            self._app,
            self.host,
            self.port,
            shutdown_timeout=1.0,
            logger=_ProtocolLogger(logging.getLogger("bot.health.http"), {}),
        )
        self._runner = runner
        for address in runner.addresses:
            if isinstance(address, tuple):
                self.port = int(address[1])
                break
        log.info("health server listening", extra={"host": self.host, "port": self.port})
        return self.port

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
