"""A faithful stand-in for a PDS (with the AppView behind it) on 127.0.0.1.

Only for what the real Bluesky stack cannot produce on demand: 429 with
``ratelimit-reset``, 500s, timeouts and revoked sessions. The real SDK talks to
it over HTTP; nothing is mocked.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import json
import secrets
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"


def _b64(data: dict[str, Any]) -> str:
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
        self._changed: asyncio.Condition | None = None

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

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 15.0) -> Any:
        """Wait until ``predicate()`` is truthy, re-checked after every call served.

        Returns:
            The predicate's value.

        Raises:
            TimeoutError: Not true within ``timeout`` seconds.
        """
        changed = self._condition()

        async def waiting() -> Any:
            async with changed:
                while not (value := predicate()):
                    await changed.wait()
                return value

        return await asyncio.wait_for(waiting(), timeout)

    async def wait_calls(self, nsid: str, count: int, timeout: float = 15.0) -> None:
        """Wait until ``nsid`` was called ``count`` times in all (a poll cycle went by...)."""
        await self.wait_for(lambda: self.count(nsid) >= count, timeout)

    async def polled(self, times: int = 2, timeout: float = 15.0) -> None:
        """Wait until the bot has asked for its notifications ``times`` more times.

        After the awaited reply, this is the event that shows the bot went round
        its loop again: a duplicate or a stray answer would have been sent by now.
        """
        nsid = "app.bsky.notification.listNotifications"
        await self.wait_calls(nsid, self.count(nsid) + times, timeout)

    def _condition(self) -> asyncio.Condition:
        # Made lazily: the fake may be built before the test's event loop runs.
        if self._changed is None:
            self._changed = asyncio.Condition()
        return self._changed

    # -- server
    async def start(self) -> FakeXrpc:
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
        try:
            return await self._answer(request)
        finally:
            changed = self._condition()
            async with changed:
                changed.notify_all()  # wakes wait_for(): a call was served

    async def _answer(self, request: Any) -> Any:
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
        if body.get("identifier") != self.handle or body.get("password") != self.password:
            raise web.HTTPUnauthorized(
                text=(
                    '{"error":"AuthenticationRequired","message":"Invalid identifier or password"}'
                ),
                content_type="application/json",
            )
        return self._session()

    async def _com_atproto_server_refreshSession(self, request: Any, body: dict[str, Any]) -> Any:
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
