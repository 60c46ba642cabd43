"""The answer engine's front door: one incoming message in, one neutral reply out.

Every channel (terminal, Telegram, Bluesky) builds one :class:`Core` and awaits
:meth:`Core.handle`. The core never imports ``telegram`` or ``atproto``; it reads
the knowledge base, understands the question, remembers the little it needs for
follow-ups ("and on Android?") in the store, and returns structure that each
adapter renders within its own limits.
"""

from __future__ import annotations

import enum
import logging
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

from bot import metrics
from bot.kb.loader import KnowledgeBase
from bot.kb.schema import SURFACES, Topic
from bot.messages import Alternative, Choice, IncomingMessage, Reply, SourceRef
from bot.nlu.language import normalize_hint
from bot.nlu.matcher import Match, Matcher, detect_surface
from bot.nlu.normalize import STOPWORDS, clean
from bot.ratelimit import UserRateLimiter, Verdict
from bot.store.base import Store, UserState
from bot.store.memory import MemoryStore
from bot.texts import labels, text

log = logging.getLogger(__name__)
T = TypeVar("T")

HELP_TOPIC = "bot.help"
PRIMARY_PLATFORM = "x"
MAX_RELATED = 3
# A follow-up like "and on Android?" is short and names a surface but no topic.
_FOLLOW_UP_MAX_WORDS = 6


class Forgotten(enum.Enum):
    """What :meth:`Core.forget` did: the adapter tells the person which one."""

    ERASED = "erased"
    NOTHING = "nothing"
    FAILED = "failed"
    """The store failed: nothing was erased, the person should try again."""


@dataclass(frozen=True, slots=True)
class Answer:
    """A reply plus what was understood, for logs, metrics and ``--json``."""

    reply: Reply
    match: Match
    follow_up: bool
    latency_ms: float


class Core:
    """Understands questions and builds replies from the knowledge base.

    Args:
        kb: The validated knowledge base.
        store: Where per-user state lives; an in-memory store if None.
        log_unanswered: Keep unanswered questions (text and language only) for
            improving the knowledge base. Off by default.
        limiter: The per-person rate limit adapters consult through
            :meth:`admit`; None for no limit.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        store: Store | None = None,
        *,
        log_unanswered: bool = False,
        limiter: UserRateLimiter | None = None,
    ) -> None:
        self.store: Store = store or MemoryStore()
        self.log_unanswered = log_unanswered
        self.limiter = limiter
        self._kb = kb
        self._matcher = Matcher(kb)

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base in use."""
        return self._kb

    @property
    def matcher(self) -> Matcher:
        """The topic matcher built from :attr:`kb`."""
        return self._matcher

    def reload(self, kb: KnowledgeBase, matcher: Matcher | None = None) -> None:
        """Swap in a new, already validated knowledge base.

        The matcher is built before anything is replaced, so a question being
        answered meanwhile sees either the old pair or the new one. Pass one
        built elsewhere (the runner builds it off the event loop) to make this
        call instant.
        """
        matcher = matcher or Matcher(kb)
        self._kb, self._matcher = kb, matcher

    def admit(self, channel: str, user_id: str | None) -> Verdict:
        """Whether to serve a message from a person, under the per-person rate limit.

        Adapters call it once per message, before any work, and send the
        ``rate.slow_down`` text on :attr:`Verdict.WARN`, nothing on
        :attr:`Verdict.DROP`.

        Args:
            channel: The adapter's channel name.
            user_id: The platform's id of the sender; None is always allowed.

        Returns:
            The limiter's verdict (always ``ALLOW`` without a limiter).
        """
        if self.limiter is None or user_id is None:
            return Verdict.ALLOW
        verdict = self.limiter.check(channel, user_id)
        if verdict is Verdict.WARN:
            log.info(
                "a person went over the rate limit; told to slow down",
                extra={"channel": channel, "event": "user_rate_limited"},
            )
        return verdict

    async def admit_async(self, channel: str, user_id: str | None) -> Verdict:
        """:meth:`admit`, counted across replicas when the limiter is shared (PostgreSQL)."""
        check = getattr(self.limiter, "acheck", None)
        if check is None or user_id is None:
            return self.admit(channel, user_id)
        verdict: Verdict = await check(channel, user_id)
        if verdict is Verdict.WARN:
            log.info(
                "a person went over the rate limit; told to slow down",
                extra={"channel": channel, "event": "user_rate_limited"},
            )
        return verdict

    async def handle(self, message: IncomingMessage) -> Reply:
        """Answer one message (see :meth:`respond` for what was understood)."""
        return (await self.respond(message)).reply

    async def respond(self, message: IncomingMessage) -> Answer:
        """Understand a message, update the person's state and build the reply.

        Args:
            message: The neutral incoming message.

        Returns:
            The reply with the match behind it.
        """
        started = time.perf_counter()
        state: UserState | None = None
        if message.user_id is not None:
            state = await self._best_effort(
                "get_user", self.store.get_user(message.channel, message.user_id)
            )
        hint = normalize_hint(message.language_hint) or (state.language if state else None)
        match = self._matcher.understand(
            message.text, language_hint=hint, surface_hint=message.surface_hint
        )
        follow_up = False
        topic_id = match.topic_id
        if topic_id is None and state and state.last_topic and self._is_follow_up(message.text):
            topic_id, follow_up = state.last_topic, True
            if self._kb.get(topic_id) is None:
                topic_id, follow_up = None, False

        if topic_id is not None and (follow_up or not match.ambiguous):
            surface = match.surface or (state.surface if state and follow_up else None)
            reply = self.topic_reply(
                topic_id,
                match.language,
                surface=surface,
                confidence=match.confidence if not follow_up else max(match.confidence, 0.5),
                alternatives=match.ranked[1:4],
            )
        elif topic_id is not None:
            reply = self._clarify(match)
        else:
            readable = bool(clean(message.text))
            reply = self._fallback(match, empty=not readable)
            if self.log_unanswered and readable:
                # A lone surrogate cannot be stored as UTF-8 (SQLite, PostgreSQL).
                kept = message.text[:2000].encode("utf-8", "replace").decode("utf-8")
                await self._best_effort(
                    "record_unanswered", self.store.record_unanswered(kept, match.language)
                )

        if message.user_id is not None:
            await self._best_effort(
                "save_user",
                self.remember(
                    message.channel, message.user_id, reply, previous=state, optional=True
                ),
            )
        await self._best_effort("increment", self.store.increment(f"answers.{reply.kind}"))
        latency = (time.perf_counter() - started) * 1000.0
        answer = Answer(reply=reply, match=match, follow_up=follow_up, latency_ms=latency)
        # Every channel gets the same counters and the one log line per answer
        # (channel, topic, confidence, language, latency; never the text).
        metrics.record_answer(message.channel, answer)
        return answer

    @staticmethod
    async def _best_effort(operation: str, call: Awaitable[T]) -> T | None:
        """Await a store call whose failure must not cost the person their answer.

        A locked, full or damaged database loses a follow-up context or a
        counter, which is logged (operation and error, never the text); the
        reply still goes out.
        """
        try:
            return await call
        except Exception as exc:
            metrics.record_error("store", operation)
            log.warning(
                "store %s failed; answering without it",
                operation,
                extra={"operation": operation, "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
            return None

    @staticmethod
    def _is_follow_up(raw: str) -> bool:
        cleaned = clean(raw)
        words = [w for w in cleaned.split() if w not in STOPWORDS]
        return detect_surface(cleaned) is not None and len(words) <= _FOLLOW_UP_MAX_WORDS

    def resolve_surface(self, topic: Topic, language: str, requested: str | None) -> str | None:
        """Pick which surface's steps to show.

        ``app`` (a phone, OS unknown) becomes the iPhone steps when they exist,
        else the Android ones; a topic without steps has no surface.
        """
        steps = topic.lang(language).steps
        if not steps:
            return None
        if requested == "app":
            for candidate in ("ios", "android"):
                if candidate in steps:
                    return candidate
        if requested in steps:
            return requested
        if topic.default_surface in steps:
            return topic.default_surface
        return next(iter(steps))

    def topic_reply(
        self,
        topic_id: str,
        language: str,
        *,
        surface: str | None = None,
        confidence: float = 1.0,
        alternatives: tuple[tuple[str, float], ...] = (),
    ) -> Reply:
        """Build the full answer for a topic (also used when a button is pressed).

        Args:
            topic_id: The topic to answer.
            language: ``en`` or ``fr``.
            surface: ``web``/``ios``/``android``/``app`` or None for the default.
            confidence: Reported confidence.
            alternatives: Other candidate topics with scores.

        Returns:
            An ``answer`` reply.

        Raises:
            KeyError: If the topic does not exist.
        """
        topic = self._kb.topics[topic_id]
        loc = topic.lang(language)
        chosen = self.resolve_surface(topic, language, surface)
        steps: tuple[str, ...] = ()
        note: str | None = None
        if chosen is not None:
            entry = loc.steps[chosen]
            steps, note = tuple(entry.steps), entry.note
        choices = [
            Choice("surface", s, text(language, f"surface.{s}"))
            for s in SURFACES
            if s in loc.steps and s != chosen
        ]
        choices += [
            Choice("topic", rel, self._kb.topics[rel].lang(language).title)
            for rel in topic.related[:MAX_RELATED]
        ]
        items: tuple[str, ...] = ()
        if topic_id == HELP_TOPIC:
            items = self._topic_titles(language)
        return Reply(
            kind="answer",
            language=language,
            topic_id=topic_id,
            confidence=round(confidence, 3),
            title=loc.title,
            summary=loc.summary,
            short=loc.short or loc.summary,
            surface=chosen,
            surface_label=text(language, f"surface.on.{chosen}") if chosen else "",
            steps=steps,
            surface_note=note,
            url=topic.url,
            facts=tuple(topic.fact_lines(language)),
            caveats=tuple(loc.caveats),
            sources=tuple(
                SourceRef(s.title, s.publisher, s.url, s.date) for s in topic.best_sources(3)
            ),
            last_verified=topic.last_verified,
            items=items,
            choices=tuple(choices),
            alternatives=tuple(
                Alternative(t, round(c, 3)) for t, c in alternatives if t != topic_id
            ),
            labels=labels(language),
        )

    def _topic_titles(self, language: str) -> tuple[str, ...]:
        # X first: it is what most people come for; then the other platforms.
        topics = [t for t in self._kb.topics.values() if t.platform != "bot"]
        topics.sort(key=lambda t: t.platform != PRIMARY_PLATFORM)
        return tuple(t.lang(language).title for t in topics)

    def _clarify(self, match: Match) -> Reply:
        language = match.language
        candidates = [t for t, s in match.ranked[:3] if s >= self._matcher.threshold]
        return Reply(
            kind="clarify",
            language=language,
            topic_id=None,
            confidence=round(match.confidence, 3),
            title=text(language, "clarify.title"),
            summary=text(language, "clarify.summary"),
            short=text(language, "clarify.title"),
            surface=match.surface if match.surface in SURFACES else None,
            choices=tuple(
                Choice("topic", t, self._kb.topics[t].lang(language).title) for t in candidates
            ),
            alternatives=tuple(Alternative(t, round(s, 3)) for t, s in match.ranked[:3]),
            labels=labels(language),
        )

    def _fallback(self, match: Match, *, empty: bool) -> Reply:
        language = match.language
        title = text(language, "fallback.empty" if empty else "fallback.title")
        return Reply(
            kind="fallback",
            language=language,
            topic_id=None,
            confidence=round(match.confidence, 3),
            title=title,
            summary=text(language, "fallback.summary"),
            short=title,
            items=self._topic_titles(language),
            choices=tuple(
                Choice("topic", t.id, t.lang(language).title)
                for t in self._kb.topics.values()
                if t.platform == PRIMARY_PLATFORM
            )[:4],
            alternatives=tuple(Alternative(t, round(s, 3)) for t, s in match.ranked[:3]),
            labels=labels(language),
        )

    async def remember(
        self,
        channel: str,
        user_id: str,
        reply: Reply,
        *,
        previous: UserState | None = None,
        optional: bool = False,
    ) -> None:
        """Keep what a follow-up needs after a reply: its language, topic and surface.

        A reply without a topic (fallback, clarify) keeps the previous topic, so
        "and on Android?" still refers to the last real answer. ``optional``: a
        short lock wait, skipped while the store fails (the reply must not wait).
        """
        await self.store.save_user(
            channel,
            user_id,
            UserState(
                language=reply.language,
                last_topic=reply.topic_id or (previous.last_topic if previous else None),
                surface=reply.surface or (previous.surface if previous else None),
            ),
            optional=optional,
        )

    async def forget(self, channel: str, user_id: str) -> Forgotten:
        """Erase what is stored about a person.

        Returns:
            ``ERASED`` or ``NOTHING``; ``FAILED`` when the store failed (logged,
            never raised), so the person can be told to try again.
        """
        try:
            erased = await self.store.forget_user(channel, user_id)
        except Exception as exc:
            metrics.record_error("store", "forget_user")
            log.error(
                "store forget_user failed; the person is told to try again",
                extra={"operation": "forget_user", "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
            return Forgotten.FAILED
        return Forgotten.ERASED if erased else Forgotten.NOTHING

    async def set_language(self, channel: str, user_id: str, language: str) -> None:
        """Remember a person's chosen reply language (``/lang fr``)."""
        state = await self.store.get_user(channel, user_id)
        await self.store.save_user(
            channel,
            user_id,
            UserState(
                language=language,
                last_topic=state.last_topic if state else None,
                surface=state.surface if state else None,
            ),
        )
