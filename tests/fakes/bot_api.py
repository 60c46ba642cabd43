"""A faithful fake of the Telegram Bot API server, for end-to-end tests and the bench.

No real Telegram is reachable in tests, and the existing emulators do not speak
python-telegram-bot 22 correctly, so this aiohttp server plays Telegram where the
bot depends on it, on 127.0.0.1 and a random port:

* ``/bot<token>/<method>`` with form, multipart or JSON bodies; form fields
  that carry JSON (``reply_markup``, ``commands``...) are parsed as Telegram does;
  an unknown method answers 404 and a wrong token 401, as Telegram does.
* ``getUpdates`` long polling with offsets, limits and timeouts (409 while a
  webhook is set); webhook delivery with the ``X-Telegram-Bot-Api-Secret-Token``
  header once ``setWebhook`` was called.
* ``sendMessage``/``editMessageText`` parse Telegram HTML with Telegram's rules
  and reject bad markup with ``Bad Request: can't parse entities: ...``, texts
  over 4096 characters with ``Bad Request: message is too long``, identical edits
  with ``message is not modified`` and callback data over 64 bytes.
* Flood limits: 1 message/s per chat and 30 messages/s overall, answered with
  429 and ``parameters.retry_after``; 429s can also be injected on demand; a
  blocked user answers 403 ``Forbidden: bot was blocked by the user``.
* Faults on demand, for the fault tests: any error answer (500, 409 ``Conflict``...)
  for the next N calls of a method or for some seconds (:meth:`inject_error`,
  :meth:`fail_for`), a request stalled longer than the client waits
  (:meth:`inject_stall`: the client gives up, the request is *not* processed),
  and long polls whose connection is dropped (:meth:`drop_polls`).

The test side plays users: :meth:`FakeTelegram.send_text`, :meth:`press`,
:meth:`inline_query`; then waits on what the bot did with :meth:`wait_for` and
reads :attr:`calls` and :attr:`messages` (the chat as the user sees it).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import math
import re
import time
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp import web

BOT_ID = 7000001
BOT_USERNAME = "privacy_test_bot"
MAX_TEXT = 4096
MAX_CALLBACK_DATA = 64
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"

# Fields Telegram reads as JSON when they arrive in a form body.
JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "entities",
        "caption_entities",
        "commands",
        "scope",
        "allowed_updates",
        "results",
        "link_preview_options",
        "reply_parameters",
        "button",
        "media",
    }
)
INT_FIELDS = frozenset(
    {"chat_id", "message_id", "offset", "limit", "timeout", "user_id", "cache_time"}
)
BOOL_FIELDS = frozenset(
    {
        "drop_pending_updates",
        "disable_notification",
        "show_alert",
        "is_personal",
        "disable_web_page_preview",
        "protect_content",
    }
)

# Telegram HTML: the tags it accepts and the entity each makes.
_TAG_ENTITY = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "span": "spoiler",
    "tg-spoiler": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


class ApiError(Exception):
    """An error answer of the Bot API (``ok: false``)."""

    def __init__(self, code: int, description: str, parameters: dict | None = None) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters


class HtmlError(ValueError):
    """Telegram could not parse the HTML; the message is Telegram's."""


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram's offsets and limits."""
    return len(text.encode("utf-16-le")) // 2


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML the way the Bot API does (strictly).

    Args:
        source: The ``text`` sent with ``parse_mode=HTML``.

    Returns:
        The text the user sees and its entities (UTF-16 offsets).

    Raises:
        HtmlError: With Telegram's description of what is wrong.
    """
    out: list[str] = []
    out_len = 0  # UTF-16 length of what has been output
    stack: list[tuple[str, int, dict[str, str]]] = []
    entities: list[dict[str, Any]] = []
    i, n = 0, len(source)

    def offset(pos: int) -> int:
        return len(source[:pos].encode())

    while i < n:
        c = source[i]
        if c == "&":
            m = re.match(r"&(?:(lt|gt|amp|quot)|#(\d{1,7})|#[xX]([0-9a-fA-F]{1,6}));", source[i:])
            if m:
                if m.group(1):
                    ch = _NAMED[m.group(1)]
                else:
                    code = int(m.group(2)) if m.group(2) else int(m.group(3), 16)
                    ch = chr(code) if 0 < code < 0x110000 else "\ufffd"
                out.append(ch)
                out_len += utf16_len(ch)
                i += m.end()
            else:  # an unknown entity is kept as text, as Telegram does
                out.append("&")
                out_len += 1
                i += 1
            continue
        if c != "<":
            out.append(c)
            out_len += utf16_len(c)
            i += 1
            continue
        start = i
        if source.startswith("</", i):
            end = source.find(">", i)
            if end < 0:
                raise HtmlError(f"Unclosed end tag at byte offset {offset(start)}")
            name = source[i + 2 : end].strip().lower()
            if not stack:
                raise HtmlError(f"Unexpected end tag at byte offset {offset(start)}")
            top, begin, attrs = stack[-1]
            if name != top:
                raise HtmlError(
                    f'Unmatched end tag at byte offset {offset(start)}, expected "</{top}>", '
                    f'found "</{name}>"'
                )
            stack.pop()
            length = out_len - begin
            entity: dict[str, Any] = {"type": _TAG_ENTITY[top], "offset": begin, "length": length}
            if top == "a":
                href = attrs.get("href", "")
                if re.match(r"^(https?|tg)://\S+$", href):
                    entity["url"] = href
                else:
                    entity = {}
            if top == "pre" and attrs.get("language"):
                entity["language"] = attrs["language"]
            if entity and length > 0:
                entities.append(entity)
            i = end + 1
            continue
        m = re.match(r"<([a-zA-Z][a-zA-Z0-9-]*)?", source[i:])
        name = (m.group(1) or "").lower() if m else ""
        if name not in _TAG_ENTITY:
            raise HtmlError(f'Unsupported start tag "{name}" at byte offset {offset(start)}')
        j = i + 1 + len(name)
        attrs: dict[str, str] = {}
        while True:
            while j < n and source[j].isspace():
                j += 1
            if j >= n:
                raise HtmlError(f"Unclosed start tag at byte offset {offset(start)}")
            if source[j] == ">":
                j += 1
                break
            am = re.match(r"([a-zA-Z_-]+)", source[j:])
            if not am:
                raise HtmlError(
                    f'Empty attribute name in the tag "{name}" at byte offset {offset(j)}'
                )
            attr = am.group(1).lower()
            j += am.end()
            while j < n and source[j].isspace():
                j += 1
            if j >= n or source[j] != "=":
                if name == "blockquote" and attr == "expandable":
                    attrs[attr] = ""
                    continue
                raise HtmlError(
                    f'Expected equal sign in declaration of an attribute of the tag "{name}" '
                    f"at byte offset {offset(j)}"
                )
            j += 1
            while j < n and source[j].isspace():
                j += 1
            if j < n and source[j] in "\"'":
                quote = source[j]
                close = source.find(quote, j + 1)
                if close < 0:
                    raise HtmlError(f"Unclosed start tag at byte offset {offset(start)}")
                raw = source[j + 1 : close]
                j = close + 1
            else:
                vm = re.match(r"[^\s>]*", source[j:])
                raw = vm.group(0) if vm else ""
                j += len(raw)
            value, _ = parse_html(raw.replace("<", "&lt;")) if "&" in raw else (raw, [])
            attrs[attr] = value
        if name == "span" and attrs.get("class") != "tg-spoiler":
            raise HtmlError('Tag "span" must have class "tg-spoiler"')
        stack.append((name, out_len, attrs))
        i = j
    if stack:
        raise HtmlError(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


@dataclass
class Call:
    """One Bot API request the bot made, and what the fake answered."""

    method: str
    params: dict[str, Any]
    at: float
    ok: bool = True
    error: str | None = None
    result: Any = None


@dataclass
class SentMessage:
    """A message in a chat as the user sees it."""

    chat_id: int
    message_id: int
    text: str
    entities: list[dict[str, Any]]
    html: str | None
    reply_markup: dict | None
    from_bot: bool
    date: int
    edits: int = 0
    reply_to: int | None = None

    def buttons(self) -> list[dict[str, Any]]:
        """All inline keyboard buttons, row after row."""
        rows = (self.reply_markup or {}).get("inline_keyboard", [])
        return [b for row in rows for b in row]

    def bold(self) -> list[str]:
        """The bold parts of the text."""
        return _entity_texts(self.text, self.entities, "bold")

    def links(self) -> list[str]:
        """The URLs of text links."""
        return [e["url"] for e in self.entities if e["type"] == "text_link"]


def _entity_texts(text: str, entities: list[dict], kind: str) -> list[str]:
    raw = text.encode("utf-16-le")
    return [
        raw[e["offset"] * 2 : (e["offset"] + e["length"]) * 2].decode("utf-16-le")
        for e in entities
        if e["type"] == kind
    ]


@dataclass
class Fault:
    """An injected misbehaviour of the server for one request.

    Attributes:
        kind: ``error`` (answer ``code``/``description``) or ``stall`` (wait
            ``seconds`` before handling; a client that gives up meanwhile
            cancels the request, which is then never processed, as Telegram's
            front end does with a request it has not yet passed on).
        code: The HTTP status and ``error_code`` of an error.
        description: Telegram's ``description`` of an error.
        seconds: How long a stall lasts.
    """

    kind: str = "error"
    code: int = 500
    description: str = "Internal Server Error"
    seconds: float = 0.0


CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)
"""What Telegram answers a long poll cut short by another poller with the same token."""


@dataclass
class FloodLimits:
    """Telegram's flood limits as the fake enforces them (sliding one-second windows)."""

    per_chat: int = 1
    overall: int = 30
    window: float = 1.0
    enabled: bool = True


@dataclass
class _Flood:
    overall: deque[float] = field(default_factory=deque)
    chats: dict[int, deque[float]] = field(default_factory=lambda: defaultdict(deque))


class FakeTelegram:
    """The fake Bot API server.

    Args:
        token: The only bot token accepted.
        limits: Flood limits to enforce on ``sendMessage``.
    """

    def __init__(self, token: str, *, limits: FloodLimits | None = None) -> None:
        self.token = token
        self.limits = limits or FloodLimits()
        self.url = ""
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], SentMessage] = {}
        self.commands: dict[str, list[dict]] = {}
        self.descriptions: dict[str, str] = {}
        self.short_descriptions: dict[str, str] = {}
        self.webhook: dict[str, Any] = {}
        self.webhook_responses: list[int] = []
        # Telegram posts only to https:// URLs; tests play the TLS proxy in front
        # of the bot by naming where a delivery really goes (``http://host:port``).
        self.webhook_proxy: str | None = None
        self.blocked: set[int] = set()
        self.flood_429s = 0  # answers from the enforced limits, not the injected ones
        self.flood_429s_by_limit: dict[str, int] = defaultdict(int)  # per_chat / overall
        self.delivered = 0  # messages sent successfully
        self.update_times: dict[int, float] = {}
        self.callback_answers: dict[str, dict] = {}
        self.inline_answers: dict[str, dict] = {}
        self._injected: dict[str, list[int]] = defaultdict(list)
        self._faults: dict[str, deque[Fault]] = defaultdict(deque)
        self._timed_faults: list[tuple[float, frozenset[str] | None, Fault]] = []
        self._pending_polls: dict[int, web.Request] = {}
        self.faults_served: dict[tuple[str, str], int] = defaultdict(int)
        self.dropped_polls = 0
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids: dict[int, itertools.count] = defaultdict(lambda: itertools.count(1))
        self._query_ids = itertools.count(1)
        self._flood = _Flood()
        self._changed = asyncio.Condition()
        self._closing = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._webhook_queue: asyncio.Queue[dict] = asyncio.Queue()
        self._webhook_task: asyncio.Task | None = None
        self._session: aiohttp.ClientSession | None = None
        self._polling = 0

    # --- lifecycle ---------------------------------------------------------------

    async def start(self, *, port: int = 0) -> FakeTelegram:
        """Listen on 127.0.0.1; :attr:`url` is the API base URL.

        Args:
            port: The port; a free one when 0. Pass the old port to bring a
                stopped server back where the bot expects it, with its updates.
        """
        self._closing.clear()
        app = web.Application(client_max_size=10 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._handle)
        self._runner = web.AppRunner(
            app, handler_cancellation=True, access_log=None, shutdown_timeout=0.5
        )
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", port)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def stop(self) -> None:
        """Stop serving and delivering."""
        self._closing.set()
        async with self._changed:
            self._changed.notify_all()
        if self._webhook_task:
            self._webhook_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._webhook_task
            self._webhook_task = None
        if self._session:
            await self._session.close()
            self._session = None
        if self._runner:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> FakeTelegram:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- the user's side ---------------------------------------------------------

    @staticmethod
    def user(user_id: int, first_name: str = "Ann", language_code: str | None = "en") -> dict:
        """A Telegram ``User`` object for a person."""
        user: dict[str, Any] = {"id": user_id, "is_bot": False, "first_name": first_name}
        if language_code:
            user["language_code"] = language_code
        return user

    @staticmethod
    def private_chat(user: dict) -> dict:
        return {"id": user["id"], "type": "private", "first_name": user["first_name"]}

    @staticmethod
    def group_chat(chat_id: int, title: str = "Friends") -> dict:
        return {"id": chat_id, "type": "supergroup", "title": title}

    async def send_text(
        self,
        user: dict,
        text: str,
        *,
        chat: dict | None = None,
        reply_to: SentMessage | None = None,
    ) -> dict:
        """The user writes ``text`` (commands and @mentions get their entities)."""
        chat = chat or self.private_chat(user)
        message_id = next(self._message_ids[chat["id"]])
        entities = []
        for m in re.finditer(r"(?<!\S)/[A-Za-z0-9_]+(?:@[A-Za-z0-9_]+)?", text):
            if m.start() == 0:
                entities.append(
                    {"type": "bot_command", "offset": m.start(), "length": m.end() - m.start()}
                )
        for m in re.finditer(r"@[A-Za-z0-9_]{5,}", text):
            if not any(e["offset"] <= m.start() < e["offset"] + e["length"] for e in entities):
                entities.append(
                    {"type": "mention", "offset": m.start(), "length": m.end() - m.start()}
                )
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = self._message_json(reply_to)
        self.messages[(chat["id"], message_id)] = SentMessage(
            chat["id"], message_id, text, entities, None, None, False, message["date"]
        )
        return await self.push_update({"message": message})

    async def send_media(
        self, user: dict, kind: str, *, caption: str | None = None, text: str | None = None
    ) -> dict:
        """The user sends a photo, sticker, voice note... (``kind`` is the Message field)."""
        chat = self.private_chat(user)
        message_id = next(self._message_ids[chat["id"]])
        media: Any = {
            "photo": [{"file_id": "p1", "file_unique_id": "u1", "width": 90, "height": 90}],
            "sticker": {
                "file_id": "s1",
                "file_unique_id": "u2",
                "width": 512,
                "height": 512,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
                "emoji": "👍",
            },
            "voice": {"file_id": "v1", "file_unique_id": "u3", "duration": 2},
        }[kind]
        message: dict[str, Any] = {
            "message_id": message_id,
            "date": int(time.time()),
            "chat": chat,
            "from": user,
            kind: media,
        }
        if caption is not None:
            message["caption"] = caption
        self.messages[(chat["id"], message_id)] = SentMessage(
            chat["id"], message_id, caption or "", [], None, None, False, message["date"]
        )
        return await self.push_update({"message": message})

    async def press(self, user: dict, message: SentMessage, data: str) -> str:
        """The user taps the inline button carrying ``data`` under ``message``."""
        query_id = str(next(self._query_ids))
        await self.push_update(
            {
                "callback_query": {
                    "id": query_id,
                    "from": user,
                    "chat_instance": str(message.chat_id),
                    "data": data,
                    "message": self._message_json(message),
                }
            }
        )
        return query_id

    async def inline_query(self, user: dict, query: str) -> str:
        """The user types ``@bot query`` in some chat."""
        query_id = str(next(self._query_ids))
        await self.push_update(
            {"inline_query": {"id": query_id, "from": user, "query": query, "offset": ""}}
        )
        return query_id

    async def push_update(self, body: dict) -> dict:
        """Queue an update for ``getUpdates``, or deliver it to the webhook."""
        update = {"update_id": next(self._update_ids), **body}
        self.update_times[update["update_id"]] = time.monotonic()
        if self.webhook.get("url"):
            self._ensure_webhook_worker()
            await self._webhook_queue.put(update)
        else:
            async with self._changed:
                self._updates.append(update)
                self._changed.notify_all()
        return update

    def _webhook_target(self) -> str:
        """Where a webhook delivery goes: the set URL, or through :attr:`webhook_proxy`."""
        url = str(self.webhook["url"])
        if self.webhook_proxy is None:
            return url
        parts = urlsplit(url)
        return self.webhook_proxy.rstrip("/") + urlunsplit(("", "", parts.path, parts.query, ""))

    async def post_webhook(self, update: dict, *, secret: str | None) -> int:
        """POST an update to the bot's webhook with the given secret header; the status."""
        assert self._session or self._new_session()
        headers = {SECRET_HEADER: secret} if secret is not None else {}
        async with self._session.post(  # type: ignore[union-attr]
            self._webhook_target(), json=update, headers=headers
        ) as response:
            return response.status

    def block(self, chat_id: int) -> None:
        """The user blocks the bot: sending to them answers 403."""
        self.blocked.add(chat_id)

    def inject_429(
        self, method: str = "sendMessage", *, retry_after: int = 1, count: int = 1
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with 429 ``retry_after``."""
        self._injected[method.lower()].extend([retry_after] * count)

    def inject_error(
        self,
        method: str,
        *,
        code: int = 500,
        description: str = "Internal Server Error",
        count: int = 1,
    ) -> None:
        """Answer the next ``count`` calls of ``method`` with an error (``ok: false``)."""
        self._faults[method.lower()].extend([Fault("error", code, description)] * count)

    def inject_stall(self, method: str, seconds: float, *, count: int = 1) -> None:
        """Hold the next ``count`` calls of ``method`` for ``seconds`` before handling them."""
        self._faults[method.lower()].extend([Fault("stall", seconds=seconds)] * count)

    def fail_for(
        self,
        seconds: float,
        *,
        methods: set[str] | None = None,
        code: int = 500,
        description: str = "Internal Server Error",
    ) -> None:
        """Answer every call (or every call of ``methods``) with an error for ``seconds``."""
        names = frozenset(m.lower() for m in methods) if methods else None
        fault = Fault("error", code, description)
        self._timed_faults.append((time.monotonic() + seconds, names, fault))

    def clear_faults(self) -> None:
        """Forget every pending injected fault (not the injected 429s)."""
        self._faults.clear()
        self._timed_faults.clear()

    def drop_polls(self) -> int:
        """Cut the connection of every pending ``getUpdates`` without an answer.

        Returns:
            How many long polls were dropped.
        """
        dropped = 0
        for request in list(self._pending_polls.values()):
            if request.transport is not None:
                request.transport.close()
                dropped += 1
        self.dropped_polls += dropped
        return dropped

    def _next_fault(self, method: str) -> Fault | None:
        now = time.monotonic()
        self._timed_faults = [f for f in self._timed_faults if f[0] > now]
        for _, names, fault in self._timed_faults:
            if names is None or method in names:
                return fault
        queue = self._faults.get(method)
        return queue.popleft() if queue else None

    def chat(self, chat_id: int, *, from_bot: bool = True) -> list[SentMessage]:
        """The messages in a chat, in order (the bot's only by default)."""
        found = [m for (c, _), m in self.messages.items() if c == chat_id]
        found.sort(key=lambda m: m.message_id)
        return [m for m in found if m.from_bot or not from_bot]

    @property
    def polling(self) -> int:
        """How many ``getUpdates`` long polls are waiting now (the bot is listening)."""
        return self._polling

    def calls_of(self, method: str, **match: Any) -> list[Call]:
        """Recorded calls of a method whose params contain ``match``."""
        return [
            c
            for c in self.calls
            if c.method == method.lower() and all(c.params.get(k) == v for k, v in match.items())
        ]

    async def wait_for(self, predicate: Callable[[], Any], timeout: float = 10.0) -> Any:
        """Wait until ``predicate()`` is truthy (re-checked after every call); its value."""

        async def waiting() -> Any:
            async with self._changed:
                while not (value := predicate()):
                    await self._changed.wait()
                return value

        return await asyncio.wait_for(waiting(), timeout)

    async def wait_call(self, method: str, timeout: float = 10.0, **match: Any) -> Call:
        """Wait for the first successful call of ``method`` matching ``match``."""
        calls = await self.wait_for(
            lambda: [c for c in self.calls_of(method, **match) if c.ok], timeout
        )
        return calls[0]

    async def wait_messages(
        self, chat_id: int, count: int, timeout: float = 10.0
    ) -> list[SentMessage]:
        """Wait until the bot has sent at least ``count`` messages to a chat."""
        return await self.wait_for(
            lambda: (msgs := self.chat(chat_id)) and len(msgs) >= count and msgs, timeout
        )

    # --- the bot's side ----------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.Response:
        method = request.match_info["method"].lower()
        if request.match_info["token"] != self.token:
            return self._error(ApiError(401, "Unauthorized"))
        try:
            params = await self._params(request)
        except ApiError as exc:
            return self._error(exc)
        call = Call(method, params, time.monotonic())
        fault = self._next_fault(method)
        if fault is not None:
            self.faults_served[(method, fault.kind)] += 1
            if fault.kind == "stall":
                # Cancelled here if the client gives up first (handler_cancellation).
                await asyncio.sleep(fault.seconds)
                call.at = time.monotonic()
            else:
                async with self._changed:
                    self._changed.notify_all()
                return self._error(ApiError(fault.code, fault.description))
        if method == "getupdates":
            self._pending_polls[id(request)] = request
        try:
            handler = getattr(self, f"api_{method}", None)
            if handler is None:
                raise ApiError(404, "Not Found")
            if self._injected.get(method):
                retry = self._injected[method].pop(0)
                raise ApiError(
                    429, f"Too Many Requests: retry after {retry}", {"retry_after": retry}
                )
            result = await handler(params)
            call.result = result
            response = web.json_response({"ok": True, "result": result})
        except ApiError as exc:
            call.ok, call.error = False, exc.description
            response = self._error(exc)
        finally:
            self._pending_polls.pop(id(request), None)
        if method != "getupdates" or call.result:
            async with self._changed:
                self.calls.append(call)
                self._changed.notify_all()
        return response

    @staticmethod
    def _error(exc: ApiError) -> web.Response:
        body: dict[str, Any] = {"ok": False, "error_code": exc.code, "description": exc.description}
        if exc.parameters:
            body["parameters"] = exc.parameters
        return web.json_response(body, status=exc.code)

    async def _params(self, request: web.Request) -> dict[str, Any]:
        params: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                params.update(await request.json())
                return params
            form = await request.post()
            for key, value in form.items():
                params[key] = value if isinstance(value, str) else value.file.read()
        for key, value in list(params.items()):
            if not isinstance(value, str):
                continue
            if key in JSON_FIELDS:
                try:
                    params[key] = json.loads(value)
                except ValueError as exc:
                    raise ApiError(400, f"Bad Request: can't parse {key} JSON object") from exc
            elif key in INT_FIELDS and re.fullmatch(r"-?\d+", value):
                params[key] = int(value)
            elif key in BOOL_FIELDS:
                params[key] = value.lower() in ("true", "1")
        return params

    # getMe / webhook / commands ----------------------------------------------------

    async def api_getme(self, params: dict) -> dict:
        return {
            "id": BOT_ID,
            "is_bot": True,
            "first_name": "PrivacyBot",
            "username": BOT_USERNAME,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": True,
        }

    async def api_getupdates(self, params: dict) -> list[dict]:
        if self.webhook.get("url"):
            raise ApiError(
                409,
                "Conflict: can't use getUpdates method while webhook is active; "
                "use deleteWebhook to delete the webhook first",
            )
        offset = int(params.get("offset") or 0)
        limit = max(1, min(int(params.get("limit") or 100), 100))
        timeout = max(0.0, float(params.get("timeout") or 0))
        allowed = params.get("allowed_updates")
        deadline = time.monotonic() + timeout
        self._polling += 1
        try:
            async with self._changed:
                self._changed.notify_all()  # wakes wait_for(): someone is polling
                while True:
                    if offset:
                        self._updates = [u for u in self._updates if u["update_id"] >= offset]
                    ready = [
                        u
                        for u in self._updates
                        if u["update_id"] >= offset and (not allowed or set(u) & set(allowed))
                    ][:limit]
                    remaining = deadline - time.monotonic()
                    if ready or remaining <= 0 or self._closing.is_set():
                        return ready
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._changed.wait(), remaining)
        finally:
            self._polling -= 1

    async def api_deletewebhook(self, params: dict) -> bool:
        self.webhook = {}
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    async def api_setwebhook(self, params: dict) -> bool:
        url = params.get("url", "")
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
            raise ApiError(400, "Bad Request: secret token contains unallowed characters")
        if not url:
            self.webhook = {}
            return True
        if not url.startswith("https://"):
            raise ApiError(
                400, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook"
            )
        self.webhook = {
            "url": url,
            "secret_token": secret,
            "allowed_updates": params.get("allowed_updates"),
        }
        if params.get("drop_pending_updates"):
            self._updates.clear()
        self._ensure_webhook_worker()
        for update in self._updates:  # pending updates now go to the webhook
            self._webhook_queue.put_nowait(update)
        self._updates.clear()
        return True

    async def api_getwebhookinfo(self, params: dict) -> dict:
        return {
            "url": self.webhook.get("url", ""),
            "has_custom_certificate": False,
            "pending_update_count": len(self._updates) + self._webhook_queue.qsize(),
        }

    async def api_setmycommands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise ApiError(400, "Bad Request: commands must be an array")
        for cmd in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(cmd.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(cmd.get("description", ""))) <= 256:
                raise ApiError(400, "Bad Request: command description is empty or too long")
        self.commands[params.get("language_code") or ""] = commands
        return True

    async def api_getmycommands(self, params: dict) -> list[dict]:
        return self.commands.get(params.get("language_code") or "", [])

    async def api_setmydescription(self, params: dict) -> bool:
        description = params.get("description") or ""
        if len(description) > 512:
            raise ApiError(400, "Bad Request: description is too long")
        self.descriptions[params.get("language_code") or ""] = description
        return True

    async def api_setmyshortdescription(self, params: dict) -> bool:
        description = params.get("short_description") or ""
        if len(description) > 120:
            raise ApiError(400, "Bad Request: short description is too long")
        self.short_descriptions[params.get("language_code") or ""] = description
        return True

    async def api_sendchataction(self, params: dict) -> bool:
        self._check_chat(params.get("chat_id"))
        return True

    # messages ---------------------------------------------------------------------

    def _check_chat(self, chat_id: Any) -> int:
        if not isinstance(chat_id, int):
            raise ApiError(400, "Bad Request: chat not found")
        if chat_id in self.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _flood_check(self, chat_id: int) -> None:
        if not self.limits.enabled:
            return
        now = time.monotonic()
        window = self.limits.window
        overall, per_chat = self._flood.overall, self._flood.chats[chat_id]
        for q in (overall, per_chat):
            while q and q[0] <= now - window:
                q.popleft()
        if len(per_chat) >= self.limits.per_chat or len(overall) >= self.limits.overall:
            chat_full = len(per_chat) >= self.limits.per_chat
            oldest = per_chat[0] if chat_full else overall[0]
            retry = max(1, math.ceil(oldest + window - now))
            self.flood_429s += 1
            self.flood_429s_by_limit["per_chat" if chat_full else "overall"] += 1
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        overall.append(now)
        per_chat.append(now)

    @staticmethod
    def _parse_text(params: dict, key: str = "text") -> tuple[str, list[dict], str | None]:
        raw = params.get(key)
        if raw is None or not str(raw).strip():
            raise ApiError(400, "Bad Request: message text is empty")
        raw = str(raw)
        mode = (params.get("parse_mode") or "").lower()
        if mode == "html":
            try:
                text, entities = parse_html(raw)
            except HtmlError as exc:
                raise ApiError(400, f"Bad Request: can't parse entities: {exc}") from exc
        elif mode:
            raise ApiError(400, f"Bad Request: unsupported parse_mode {mode!r} in this fake")
        else:
            text, entities = raw, list(params.get("entities") or [])
        if not text.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if utf16_len(text) > MAX_TEXT:
            raise ApiError(400, "Bad Request: message is too long")
        return text, entities, raw if mode == "html" else None

    @staticmethod
    def _check_markup(markup: Any) -> dict | None:
        if markup is None:
            return None
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list):
            raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise ApiError(
                        400, "Bad Request: text buttons are unallowed in the inline keyboard"
                    )
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode()) <= MAX_CALLBACK_DATA:
                    raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")
                kinds = {
                    "callback_data",
                    "url",
                    "switch_inline_query",
                    "switch_inline_query_current_chat",
                } & set(button)
                if len(kinds) != 1:
                    raise ApiError(400, 'Bad Request: can\'t find field "callback_data"')
        return markup

    def _message_json(self, msg: SentMessage) -> dict:
        chat = {"id": msg.chat_id, "type": "private" if msg.chat_id > 0 else "supergroup"}
        if msg.chat_id > 0:
            chat["first_name"] = "Ann"
        else:
            chat["title"] = "Friends"
        body: dict[str, Any] = {
            "message_id": msg.message_id,
            "date": msg.date,
            "chat": chat,
            "text": msg.text,
        }
        if msg.from_bot:
            body["from"] = {
                "id": BOT_ID,
                "is_bot": True,
                "first_name": "PrivacyBot",
                "username": BOT_USERNAME,
            }
        if msg.entities:
            body["entities"] = msg.entities
        if msg.reply_markup:
            body["reply_markup"] = msg.reply_markup
        if msg.edits:
            body["edit_date"] = int(time.time())
        return body

    async def api_sendmessage(self, params: dict) -> dict:
        chat_id = self._check_chat(params.get("chat_id"))
        text, entities, source = self._parse_text(params)
        markup = self._check_markup(params.get("reply_markup"))
        self._flood_check(chat_id)
        reply_to = (params.get("reply_parameters") or {}).get("message_id")
        msg = SentMessage(
            chat_id,
            next(self._message_ids[chat_id]),
            text,
            entities,
            source,
            markup,
            True,
            int(time.time()),
            reply_to=reply_to,
        )
        self.messages[(chat_id, msg.message_id)] = msg
        self.delivered += 1
        return self._message_json(msg)

    async def api_editmessagetext(self, params: dict) -> dict | bool:
        if params.get("inline_message_id"):
            self._parse_text(params)
            self._check_markup(params.get("reply_markup"))
            return True
        chat_id = self._check_chat(params.get("chat_id"))
        msg = self.messages.get((chat_id, params.get("message_id")))  # type: ignore[arg-type]
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if not msg.from_bot:
            raise ApiError(400, "Bad Request: message can't be edited")
        text, entities, source = self._parse_text(params)
        markup = self._check_markup(params.get("reply_markup"))
        if text == msg.text and entities == msg.entities and markup == msg.reply_markup:
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        msg.text, msg.entities, msg.html, msg.reply_markup = text, entities, source, markup
        msg.edits += 1
        return self._message_json(msg)

    async def api_editmessagereplymarkup(self, params: dict) -> dict | bool:
        chat_id = self._check_chat(params.get("chat_id"))
        msg = self.messages.get((chat_id, params.get("message_id")))  # type: ignore[arg-type]
        if msg is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        markup = self._check_markup(params.get("reply_markup"))
        if markup == msg.reply_markup:
            raise ApiError(400, "Bad Request: message is not modified")
        msg.reply_markup = markup
        msg.edits += 1
        return self._message_json(msg)

    async def api_answercallbackquery(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id", ""))
        if query_id in self.callback_answers or not query_id:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        if len(params.get("text") or "") > 200:
            raise ApiError(400, "Bad Request: MESSAGE_TOO_LONG")
        self.callback_answers[query_id] = params
        return True

    async def api_answerinlinequery(self, params: dict) -> bool:
        query_id = str(params.get("inline_query_id", ""))
        if query_id in self.inline_answers or not query_id:
            raise ApiError(
                400,
                "Bad Request: query is too old and response timeout expired or query ID is invalid",
            )
        results = params.get("results")
        if not isinstance(results, list) or len(results) > 50:
            raise ApiError(400, "Bad Request: RESULTS_TOO_MUCH")
        ids = set()
        for result in results:
            rid = str(result.get("id", ""))
            if not 1 <= len(rid.encode()) <= 64 or rid in ids:
                raise ApiError(400, "Bad Request: RESULT_ID_INVALID")
            ids.add(rid)
            content = result.get("input_message_content") or {}
            self._parse_text(content, "message_text")
            self._check_markup(result.get("reply_markup"))
        self.inline_answers[query_id] = params
        return True

    # webhook delivery ---------------------------------------------------------------

    def _new_session(self) -> aiohttp.ClientSession:
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self._session

    def _ensure_webhook_worker(self) -> None:
        if self._webhook_task is None or self._webhook_task.done():
            self._webhook_task = asyncio.get_running_loop().create_task(self._deliver())

    async def _deliver(self) -> None:
        session = self._session or self._new_session()
        while True:
            update = await self._webhook_queue.get()
            secret = self.webhook.get("secret_token")
            headers = {SECRET_HEADER: secret} if secret else {}
            for attempt in range(3):
                try:
                    target = self._webhook_target()
                    async with session.post(target, json=update, headers=headers) as r:
                        self.webhook_responses.append(r.status)
                        if r.status < 500:
                            break
                except (aiohttp.ClientError, OSError):
                    self.webhook_responses.append(0)
                await asyncio.sleep(0.2 * (attempt + 1))
