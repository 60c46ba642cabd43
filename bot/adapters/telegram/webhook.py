"""A webhook that answers Telegram only once an update is handled, for replicas.

PTB's own webhook server answers 200 as soon as an update is queued, and
Telegram never sends it again. With one process that is fine, but with several
replicas behind a reverse proxy, a replica killed with updates still queued
would lose them. Here the handler answers only after the update went through
the application's update processor (the per-person rate limit, the per-chat
order, the handlers): a replica that dies first leaves the request unanswered,
Telegram sends the update again, and the proxy hands it to a live replica.

The cost is that a request stays open while its reply is paced (about a second
per message to one chat), so ``setWebhook`` asks for Telegram's most parallel
connections (100).
"""

from __future__ import annotations

import hmac
import json
import logging
from typing import Any
from urllib.parse import urlparse

from aiohttp import web
from telegram import Update
from telegram.ext import Application

from bot.http_site import start_site

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_CONNECTIONS = 100


class ProcessingWebhook:
    """Receives updates on ``listen:port/<path of webhook_url>`` and handles each in place.

    Args:
        app: The started PTB application.
        webhook_url: The public URL Telegram posts to.
        secret: The secret Telegram sends back in :data:`SECRET_HEADER`.
        listen: The address to bind.
        port: The port to bind.
        allowed_updates: Passed to ``setWebhook``.
    """

    def __init__(
        self,
        app: Application,
        *,
        webhook_url: str,
        secret: str,
        listen: str,
        port: int,
        allowed_updates: list[str],
    ) -> None:
        self._app = app
        self._url = webhook_url
        self._secret = secret.encode()
        self._listen = listen
        self._port = port
        self._allowed = allowed_updates
        self._runner: web.AppRunner | None = None

    async def _receive(self, request: web.Request) -> web.Response:
        given = request.headers.get(SECRET_HEADER, "").encode()
        if not hmac.compare_digest(given, self._secret):
            return web.Response(status=403)
        try:
            data: Any = json.loads(await request.read())
            update = Update.de_json(data, self._app.bot)
        except (ValueError, TypeError, KeyError):
            log.info("telegram: webhook request that is not an update; refused")
            return web.Response(status=400)
        if update is None:
            return web.Response()
        # Handled before answering: a replica dying now leaves Telegram to send it again.
        processor = self._app.update_processor
        await processor.process_update(update, self._app.process_update(update))
        return web.Response()

    async def start(self) -> None:
        """Listen, then tell Telegram the URL."""
        server = web.Application(client_max_size=1024 * 1024)
        server.router.add_post("/" + urlparse(self._url).path.lstrip("/"), self._receive)
        self._runner = await start_site(server, self._listen, self._port, shutdown_timeout=3)
        await self._app.bot.set_webhook(
            url=self._url,
            secret_token=self._secret.decode(),
            allowed_updates=self._allowed,
            max_connections=MAX_CONNECTIONS,
        )

    async def stop(self) -> None:
        """Stop listening, letting updates in progress finish (a few seconds at most).

        The webhook stays set: the other replicas still receive through it.
        """
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
