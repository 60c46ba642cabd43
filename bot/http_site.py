"""Starting a small aiohttp server on one address, for the health server and the webhook.

Both listen with aiohttp's low-level runner (no signal handling of its own, no access
log: addresses and paths are not logged), and both must release the aiohttp runner when the
port cannot be bound, so that a retry or a clean exit does not leak it.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web


async def start_site(app: web.Application, host: str, port: int, **runner: Any) -> web.AppRunner:
    """Serve ``app`` on ``host:port`` and return the running runner.

    Args:
        app: The aiohttp application.
        host: The address to bind.
        port: The port (0: any free one; see ``runner.addresses``).
        **runner: More :class:`aiohttp.web.AppRunner` options (``shutdown_timeout``, ``logger``).

    Returns:
        The runner; ``await runner.cleanup()`` stops the server.

    Raises:
        OSError: If the address cannot be bound (the runner is cleaned up first).
    """
    started = web.AppRunner(app, access_log=None, handle_signals=False, **runner)
    await started.setup()
    try:
        await web.TCPSite(started, host, port).start()
    except OSError:
        await started.cleanup()
        raise
    return started
