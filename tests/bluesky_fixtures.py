# ruff: noqa: E501  (the YAML knowledge base below keeps its long lines)
"""Shared helpers for the Bluesky tests: a small knowledge base, the real local
stack on its own ports, and running the real ``python -m bot run bluesky``.

The stack (PLC + PDS + AppView from ``@atproto/dev-env``, see
``tests/bluesky_stack``) is started on ports 2682-2689 and PostgreSQL 55632 with
its own state directory, so it never collides with another stack on the
default ports. Set ``PB_BSKY_KEEP=1`` to leave it running between runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

T = TypeVar("T")

STACK_ENV = {
    "BSKY_STACK_DIR": os.environ.get("PB_BSKY_STACK_DIR", "/tmp/pb-bsky-e2e"),
    "BSKY_PG_PORT": "55632",
    "BSKY_PLC_PORT": "2682",
    "BSKY_PDS_PORT": "2683",
    "BSKY_APPVIEW_PORT": "2684",
    "BSKY_OZONE_PORT": "2687",
    "BSKY_CTRL_PORT": "2689",
}

LONG_STEPS = [
    f"Step {i}: open the menu called “Privacy and safety”, then the section about data "
    f"sharing and personalisation, and untick every box that mentions training ({i})."
    for i in range(1, 9)
]

TEST_KB = textwrap.dedent(
    """\
    platform: x
    name: X
    topics:
      - id: x.grok_training
        need: ai_training
        url: https://x.com/settings/grok_settings
        last_verified: 2026-11-01
        sources:
          - {url: "https://help.x.com/en/using-x/about-grok", title: "About Grok", publisher: "X", date: 2026-10-01, kind: official}
        en:
          title: Stop Grok training on your posts
          summary: Untick the Grok data sharing box in your privacy settings.
          short: "Untick “Allow your public data … to be used for training” in Settings › Privacy and safety › Grok."
          examples: [how do I stop grok training, stop grok from training on my posts, grok opt out of training]
          steps:
            web: {steps: ["Open Settings and privacy.", "Privacy and safety › Grok & third-party collaborators.", "Untick the box."]}
            android: {steps: ["Tap your avatar › Settings and privacy.", "Privacy and safety › Grok.", "Untick the box."]}
        fr:
          title: Empêcher Grok de s'entraîner sur vos posts
          summary: Décochez la case de partage de données Grok.
          short: "Décochez « Autoriser l'utilisation de vos données publiques … pour l'entraînement » dans Paramètres › Confidentialité et sécurité › Grok."
          examples: [comment empêcher grok de s'entraîner, empêcher grok d'utiliser mes posts, désactiver l'entraînement de grok]
          steps:
            web: {steps: ["Ouvrez Paramètres et confidentialité.", "Confidentialité et sécurité › Grok.", "Décochez la case."]}
            android: {steps: ["Touchez votre avatar › Paramètres.", "Confidentialité › Grok.", "Décochez la case."]}
      - id: x.long_answer
        need: ai_training
        url: https://x.com/settings/account/personalization_and_data_sharing_with_a_very_long_path
        last_verified: 2026-11-01
        sources:
          - {url: "https://help.x.com/en/rules-and-policies/data-sharing-and-personalisation-very-long", title: "Data", publisher: "X", date: 2026-10-01, kind: official}
          - {url: "https://x.com/en/privacy", title: "Privacy", publisher: "X", date: null, kind: official}
        en:
          title: Turn off personalisation and data sharing
          summary: Several boxes to untick; the steps are long.
          short: "Untick every personalisation and data sharing box 🙅🏽‍♀️ in Settings › Privacy › Data sharing — résumé: all of them."
          examples: [turn off personalisation and data sharing, stop x sharing my data with partners, disable personalization and data sharing]
          steps:
            web: {steps: LONG_STEPS}
        fr:
          title: Désactiver la personnalisation et le partage de données
          summary: Plusieurs cases à décocher.
          examples: [désactiver la personnalisation et le partage de données, empêcher x de partager mes données, arrêter le partage de données avec les partenaires]
          steps:
            web: {steps: ["Ouvrez les paramètres.", "Décochez tout."]}
    """
).replace("LONG_STEPS", "[" + ", ".join(f'"{s}"' for s in LONG_STEPS) + "]")


def write_test_kb(directory: Path) -> Path:
    """Write the test knowledge base into ``directory`` and return it."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "x.yaml").write_text(TEST_KB, encoding="utf-8")
    return directory


def wait_until(fn: Callable[[], T | None], *, timeout: float, what: str, step: float = 0.1) -> T:
    """Poll ``fn`` until it returns something truthy; TimeoutError after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last: BaseException | None = None
    while True:
        try:
            value = fn()
            if value:
                return value
        except Exception as exc:  # the AppView may not have caught up yet
            last = exc
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"timed out after {timeout}s waiting for {what} (last error {last!r})"
            )
        time.sleep(step)


@contextlib.contextmanager
def stack_env(variables: dict[str, str] | None = None) -> Iterator[None]:
    """Point ``tests/bluesky_stack`` at a stack's ports and state dir (this suite's by default)."""
    variables = STACK_ENV if variables is None else variables
    saved = {k: os.environ.get(k) for k in variables}
    os.environ.update(variables)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


class BotProcess:
    """The real ``python -m bot run bluesky`` as a subprocess, logs to a file."""

    def __init__(self, env: dict[str, str], log_path: Path, kb_dir: Path) -> None:
        self.env = env
        self.log_path = log_path
        self.kb_dir = kb_dir
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> BotProcess:
        """Start the bot (appending to the log file)."""
        out = self.log_path.open("ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "--kb", str(self.kb_dir), "run", "bluesky"],
            cwd=REPO,
            env=self.env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        out.close()
        return self

    def log(self) -> str:
        """Everything the bot wrote so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        """Stop it (SIGTERM drains; SIGKILL simulates a crash) and wait, bounded."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        code = self.proc.returncode
        self.proc = None
        return code


def bot_env(
    *, pds_url: str, handle: str, password: str, db: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    """Environment for the bot subprocess: only what it needs, all on 127.0.0.1."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("BLUESKY_", "TELEGRAM_", "PRIVACYBOT_"))
    }
    env.update(
        {
            "BLUESKY_HANDLE": handle,
            "BLUESKY_APP_PASSWORD": password,
            "BLUESKY_SERVICE_URL": pds_url,
            "BLUESKY_POLL_INTERVAL": "0.3",
            "PRIVACYBOT_DB": str(db),
            "PRIVACYBOT_HEALTH_PORT": "off",
            "PRIVACYBOT_LOG_FORMAT": "text",
            "PYTHONUNBUFFERED": "1",
        }
    )
    env.update(extra or {})
    return env


def replies_by(client: Any, uri: str, did: str) -> list[Any]:
    """The direct replies by ``did`` under post ``uri`` (getPostThread, as a user sees it)."""
    thread = client.get_post_thread(uri, depth=1).thread
    return [r for r in (getattr(thread, "replies", None) or []) if r.post.author.did == did]


# --------------------------------------------------------------------------- fake XRPC
# A faithful stand-in for a PDS (with the AppView behind it) on 127.0.0.1, only for
# what the real stack cannot produce on demand: 429 with ratelimit-reset, 500s,
# timeouts and revoked sessions. The real SDK talks to it over HTTP; nothing is mocked.

CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


def _b64(data: dict[str, Any]) -> str:
    import base64
    import json

    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def fake_jwt(sub: str, *, scope: str, ttl: float = 7200) -> str:
    """An unsigned JWT shaped like the PDS's (the SDK reads ``exp`` to plan refreshes)."""
    now = int(time.time())
    header = _b64({"typ": "at+jwt", "alg": "ES256K"})
    payload = _b64(
        {"scope": scope, "sub": sub, "iat": now, "exp": now + int(ttl), "jti": secrets_hex()}
    )
    return f"{header}.{payload}.c2ln"


def secrets_hex() -> str:
    import secrets

    return secrets.token_hex(8)


class FakeXrpc:
    """A tiny PDS: sessions, notifications, threads and post creation.

    ``faults[nsid]`` is a list of scripted failures consumed one per call:
    ``("429", reset_epoch)``, ``("500",)``, ``("sleep", seconds)``, and
    ``("500-after",)``: the call is carried out, then answered with a 500 (the
    answer is lost, the record exists). With ``appview_behind`` set, threads do
    not show the bot's replies yet (the AppView has not indexed them); its
    repository (``listRecords``) does.
    """

    def __init__(self, handle: str = "privacybot.test", password: str = "app-pass-1234") -> None:
        self.handle = handle
        self.password = password
        self.did = "did:plc:botbotbotbotbotbotbotbot"
        self.access: set[str] = set()
        self.refresh: set[str] = set()
        self.notifications: list[dict[str, Any]] = []
        self.posts: dict[str, dict[str, Any]] = {}
        self.created: list[tuple[float, dict[str, Any]]] = []
        self.calls: list[tuple[float, str]] = []
        self.faults: dict[str, list[tuple[Any, ...]]] = {}
        self.headers: dict[str, str] = {}
        self.appview_behind = False
        self.blocked: set[str] = set()  # posts the bot sees as blockedPost (their author blocks it)
        self.url = ""
        self._runner: Any = None
        self._seq = 0

    # -- content
    def add_mention(
        self,
        text: str,
        *,
        author: str = "alice",
        langs: list[str] | None = None,
        label_bot: bool = False,
        in_thread: str | None = None,
        reason: str = "mention",
        mention_bot: bool = True,
    ) -> str:
        """A user's post mentioning the bot (with its mention facet) and its notification.

        ``in_thread``: the post is a reply to that post (root and parent); with
        ``reason="quote"`` it quotes the bot's profile post, mentioning the bot
        or not (``mention_bot``).
        """
        self._seq += 1
        did = f"did:plc:{author:a<24}"[:32]
        uri = f"at://{did}/app.bsky.feed.post/3k{self._seq:011d}"
        mention = f"@{self.handle}"
        full = f"{mention} {text}" if mention_bot else text
        record: dict[str, Any] = {
            "$type": "app.bsky.feed.post",
            "text": full,
            "createdAt": _iso(time.time()),
            "langs": langs or ["en"],
            "facets": [
                {
                    "index": {"byteStart": 0, "byteEnd": len(mention.encode())},
                    "features": [{"$type": "app.bsky.richtext.facet#mention", "did": self.did}],
                }
            ]
            if mention_bot
            else [],
        }
        if in_thread is not None:
            ref = {"uri": in_thread, "cid": CID}
            record["reply"] = {"root": ref, "parent": ref}
        if reason == "quote":
            quoted = {"uri": f"at://{self.did}/app.bsky.feed.post/3kbotpost0001", "cid": CID}
            record["embed"] = {"$type": "app.bsky.embed.record", "record": quoted}
        labels = [_label(did, "bot")] if label_bot else []
        author_view = {"did": did, "handle": f"{author}.test", "labels": labels}
        self.posts[uri] = {"uri": uri, "cid": CID, "author": author_view, "record": record}
        self.notifications.insert(
            0,
            {
                "uri": uri,
                "cid": CID,
                "author": author_view,
                "reason": reason,
                "record": record,
                "isRead": False,
                "indexedAt": _iso(time.time()),
                "labels": [],
            },
        )
        return uri

    def add_post(self, text: str, *, author: str = "carol") -> str:
        """A post that does not concern the bot (a thread root), without a notification."""
        self._seq += 1
        did = f"did:plc:{author:a<24}"[:32]
        uri = f"at://{did}/app.bsky.feed.post/3k{self._seq:011d}"
        record = {"$type": "app.bsky.feed.post", "text": text, "createdAt": _iso(time.time())}
        author_view = {"did": did, "handle": f"{author}.test", "labels": []}
        self.posts[uri] = {"uri": uri, "cid": CID, "author": author_view, "record": record}
        return uri

    def replies_to(self, uri: str) -> list[dict[str, Any]]:
        return [r for _, r in self.created if r["record"]["reply"]["parent"]["uri"] == uri]

    def count(self, nsid: str) -> int:
        return sum(1 for _, n in self.calls if n == nsid)

    # -- server
    async def start(self) -> FakeXrpc:
        from aiohttp import web

        app = web.Application()
        app.router.add_route("*", "/xrpc/{nsid}", self._dispatch)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _dispatch(self, request: Any) -> Any:
        import asyncio

        from aiohttp import web

        nsid = request.match_info["nsid"]
        self.calls.append((time.time(), nsid))
        script = self.faults.get(nsid)
        fault: tuple[Any, ...] = script.pop(0) if script else ()
        if fault:
            if fault[0] == "429":
                return web.json_response(
                    {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"},
                    status=429,
                    headers={
                        "ratelimit-limit": "5000",
                        "ratelimit-remaining": "0",
                        "ratelimit-reset": str(int(fault[1])),
                        "ratelimit-policy": "5000;w=3600",
                    },
                )
            if fault[0] == "500":
                return web.json_response(
                    {"error": "InternalServerError", "message": "Internal Server Error"},
                    status=500,
                )
            if fault[0] == "sleep":
                await asyncio.sleep(fault[1])
        handler = getattr(self, "_" + nsid.replace(".", "_"), None)
        if handler is None:
            return web.json_response({"error": "MethodNotImplemented"}, status=501)
        if nsid not in ("com.atproto.server.createSession", "com.atproto.server.refreshSession"):
            token = request.headers.get("Authorization", "").removeprefix("Bearer ")
            if token not in self.access:
                return web.json_response(
                    {"error": "ExpiredToken", "message": "Token has expired"}, status=400
                )
        body = await request.json() if request.method == "POST" and request.can_read_body else {}
        result = await handler(request, body)
        if fault and fault[0] == "500-after":
            return web.json_response(
                {"error": "InternalServerError", "message": "Internal Server Error"}, status=500
            )
        return web.json_response(result, headers=self.headers)

    def revoke_all(self) -> None:
        """Invalidate every issued token (as after a password change)."""
        self.access.clear()
        self.refresh.clear()

    def _session(self) -> dict[str, Any]:
        access = fake_jwt(self.did, scope="com.atproto.appPass")
        refresh = fake_jwt(self.did, scope="com.atproto.refresh", ttl=90 * 86400)
        self.access.add(access)
        self.refresh.add(refresh)
        return {"accessJwt": access, "refreshJwt": refresh, "handle": self.handle, "did": self.did}

    async def _com_atproto_server_createSession(self, request: Any, body: dict[str, Any]) -> Any:
        from aiohttp import web

        if body.get("identifier") != self.handle or body.get("password") != self.password:
            raise web.HTTPUnauthorized(
                text='{"error":"AuthenticationRequired","message":"Invalid identifier or password"}',
                content_type="application/json",
            )
        return self._session()

    async def _com_atproto_server_refreshSession(self, request: Any, body: dict[str, Any]) -> Any:
        from aiohttp import web

        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token not in self.refresh:
            raise web.HTTPBadRequest(
                text='{"error":"ExpiredToken","message":"Token has been revoked"}',
                content_type="application/json",
            )
        self.refresh.discard(token)
        return self._session()

    async def _app_bsky_actor_getProfile(self, request: Any, body: dict[str, Any]) -> Any:
        return {"did": self.did, "handle": self.handle, "labels": [_label(self.did, "bot")]}

    async def _app_bsky_notification_listNotifications(
        self, request: Any, body: dict[str, Any]
    ) -> Any:
        limit = int(request.query.get("limit", "50"))
        start = int(request.query.get("cursor", "0"))
        page = self.notifications[start : start + limit]
        cursor = str(start + limit) if start + limit < len(self.notifications) else None
        out: dict[str, Any] = {"notifications": page}
        if cursor:
            out["cursor"] = cursor
        return out

    async def _app_bsky_feed_getPostThread(self, request: Any, body: dict[str, Any]) -> Any:
        from aiohttp import web

        uri = request.query["uri"]
        if uri in self.blocked:
            did = uri.removeprefix("at://").split("/", 1)[0]
            author = {"did": did, "viewer": {"blockedBy": True, "muted": False}}
            return {
                "thread": {
                    "$type": "app.bsky.feed.defs#blockedPost",
                    "uri": uri,
                    "blocked": True,
                    "author": author,
                }
            }
        post = self.posts.get(uri)
        if post is None:
            raise web.HTTPBadRequest(
                text='{"error":"NotFound","message":"Post not found"}',
                content_type="application/json",
            )
        replies = [
            {"$type": "app.bsky.feed.defs#threadViewPost", "post": self.posts[r["uri"]]}
            for r in ([] if self.appview_behind else self.replies_to(uri))
        ]
        view = {**post, "indexedAt": post["record"]["createdAt"], "viewer": {}}
        return {
            "thread": {
                "$type": "app.bsky.feed.defs#threadViewPost",
                "post": view,
                "replies": replies,
            }
        }

    async def _com_atproto_repo_listRecords(self, request: Any, body: dict[str, Any]) -> Any:
        """The bot's posts, newest first (rkeys sort by creation), as a PDS lists them."""
        if request.query.get("repo") != self.did or (
            request.query.get("collection") != "app.bsky.feed.post"
        ):
            return {"records": []}
        limit = int(request.query.get("limit", "50"))
        mine = [entry for _, entry in reversed(self.created)]
        before = request.query.get("cursor")
        if before:
            mine = [e for e in mine if e["uri"].rsplit("/", 1)[1] < before]
        page = mine[:limit]
        out: dict[str, Any] = {
            "records": [{"uri": e["uri"], "cid": e["cid"], "value": e["record"]} for e in page]
        }
        if len(mine) > limit:
            out["cursor"] = page[-1]["uri"].rsplit("/", 1)[1]
        return out

    async def _com_atproto_repo_createRecord(self, request: Any, body: dict[str, Any]) -> Any:
        self._seq += 1
        uri = f"at://{self.did}/app.bsky.feed.post/3r{self._seq:011d}"
        author = {"did": self.did, "handle": self.handle, "labels": []}
        entry = {"uri": uri, "cid": CID, "author": author, "record": body["record"]}
        self.posts[uri] = {**entry, "indexedAt": _iso(time.time())}
        self.created.append((time.time(), entry))
        return {"uri": uri, "cid": CID}


def _iso(epoch: float) -> str:
    import datetime as dt

    return (
        dt.datetime.fromtimestamp(epoch, dt.UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


def _label(did: str, val: str) -> dict[str, Any]:
    return {
        "src": did,
        "uri": f"at://{did}/app.bsky.actor.profile/self",
        "val": val,
        "cts": _iso(time.time()),
    }


def fake_channel(core: Any, fake: Any, *, timeout: str = "0.5", **env: str) -> Any:
    """A Bluesky channel pointed at a fake XRPC server, polling fast and backing off briefly.

    Args:
        core: The :class:`bot.core.Core` to answer with.
        fake: The :class:`FakeXrpc` server (its handle, password and URL are used).
        timeout: ``BLUESKY_TIMEOUT`` in seconds.
        **env: More ``BLUESKY_*`` settings.
    """
    from bot.adapters.bluesky import BlueskyChannel, BlueskySettings

    settings = BlueskySettings.from_env(
        {
            "BLUESKY_HANDLE": fake.handle,
            "BLUESKY_APP_PASSWORD": fake.password,
            "BLUESKY_SERVICE_URL": fake.url,
            "BLUESKY_POLL_INTERVAL": "0.1",
            "BLUESKY_TIMEOUT": timeout,
            # The fake's mentions all come from one author: no per-person hourly cap
            # unless a test sets one.
            "BLUESKY_MAX_POSTS_PER_PERSON_HOUR": "1000000",
            **env,
        }
    )
    channel = BlueskyChannel(core, settings)
    channel.gate.backoff_start = 0.1
    return channel


async def until(check: Callable[[], bool], timeout: float = 15.0) -> None:
    """Wait, without blocking the loop, until ``check()`` is true; TimeoutError after ``timeout``."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


class Running:
    """Run a channel in the background for the ``async with`` block, then stop it.

    Leaving the block sets the channel's stop event and waits (10 s at most) for
    ``run()`` to drain and return, so a test sees everything the channel did.
    """

    def __init__(self, channel: Any) -> None:
        self.channel = channel
        self.stop = asyncio.Event()
        self.task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Any:
        self.task = asyncio.create_task(self.channel.run(self.stop))
        return self.channel

    async def __aexit__(self, *exc: object) -> None:
        self.stop.set()
        assert self.task is not None
        await asyncio.wait_for(self.task, timeout=10)
