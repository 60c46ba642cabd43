"""The local HTTP endpoint an operator (or Docker, or Prometheus) asks how the bot is.

Listens on ``PRIVACYBOT_HEALTH_HOST:PRIVACYBOT_HEALTH_PORT`` (127.0.0.1:8089 by
default; ``PRIVACYBOT_HEALTH_PORT=off`` disables it):

* ``GET /healthz``: JSON with ``status`` (``ok``, ``degraded`` when some channel
  is restarting or reconnecting to its server, ``starting``, ``down``), each
  channel's state, restarts and last error, and the knowledge base version. 200
  unless no channel is up (``down``: 503), so a container health check fails
  only when the bot is useless. A channel in ``standby`` (another replica
  leads it, see :mod:`bot.leader`) counts as up.
* ``GET /metrics``: Prometheus text (see :mod:`bot.metrics`).
* ``POST /admin/reload``: reload the knowledge base, as SIGHUP does; used by
  ``privacybot kb reload``. Accepted only from a loopback address, whatever the
  listening host, and it only re-reads files the bot already trusts. Answers 200
  with the new version, or 422 with the problems (the old version stays).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from aiohttp import web

from bot.metrics import METRICS, Metrics

log = logging.getLogger(__name__)


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


def _is_loopback(remote: str | None) -> bool:
    if not remote:
        return False
    try:
        return ipaddress.ip_address(remote.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def build_app(metrics: Metrics = METRICS, *, reload: Reloader | None = None) -> web.Application:
    """The aiohttp application behind the health server.

    Args:
        metrics: Where states and counters are read.
        reload: Called by ``POST /admin/reload``; the route answers 404 when None.

    Returns:
        The application.
    """

    async def healthz(request: web.Request) -> web.Response:
        doc = metrics.health()
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
            log.warning("refused a reload request from a non-loopback address")
            raise web.HTTPForbidden(text="reload is only accepted from loopback\n")
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
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        metrics: Metrics = METRICS,
        reload: Reloader | None = None,
    ) -> None:
        self.host = host
        self.port = port
        self._app = build_app(metrics, reload=reload)
        self._runner: web.AppRunner | None = None

    async def start(self) -> int:
        """Start listening.

        Returns:
            The bound port.

        Raises:
            OSError: If the address is in use or not available.
        """
        runner = web.AppRunner(
            self._app, access_log=None, handle_signals=False, shutdown_timeout=1.0
        )
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
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
