"""The answer engine's front door: one incoming message in, one neutral reply out.

Every channel (terminal, Telegram, Bluesky) builds one :class:`Core` and awaits
:meth:`Core.handle`. The core never imports ``telegram`` or ``atproto``; it reads
the knowledge base, understands the question, remembers the little it needs for
follow-ups ("and on Android?") in the store, and returns structure that each
adapter renders within its own limits.
"""

from __future__ import annotations

import dataclasses
import enum
import logging
import re
import time
from collections.abc import Awaitable
from dataclasses import dataclass, replace
from typing import Literal, TypeVar

from bot.kb.loader import KnowledgeBase
from bot.kb.schema import SURFACES, Surface, Topic
from bot.messages import (
    DETAIL_PARTS,
    Alternative,
    Choice,
    IncomingMessage,
    Part,
    Reply,
    SourceRef,
    SurfaceAnswer,
)
from bot.metrics import Metrics
from bot.nlu.language import normalize_hint
from bot.nlu.matcher import Match, Matcher
from bot.nlu.normalize import clean
from bot.nlu.understand import Context, Engine, Understanding
from bot.ratelimit import UserRateLimiter, Verdict
from bot.site.urls import topic_page_url
from bot.store.base import Store, UserState
from bot.store.memory import MemoryStore
from bot.texts import labels, text

log = logging.getLogger(__name__)
T = TypeVar("T")

HELP_TOPIC = "bot.help"
PRIMARY_PLATFORM = "x"
MAX_RELATED = 3
MAX_SOURCES = 3
MAX_HELP_TOPICS = 5
MAX_INLINE = 10
# Words that ask for one detail part after a short answer (cleaned: lower case, no
# accents), in every language the bot speaks; "more" means the next useful part.
_PART_WORDS: dict[str, Part | Literal["more"]] = {
    **dict.fromkeys(
        ("more", "tell me more", "details", "plus", "en savoir plus", "dis m en plus", "mas",
         "mais", "mehr", "altro", "di piu", "もっと", "詳しく", "詳細"),
        "more",
    ),
    **dict.fromkeys(
        ("sources", "source", "your sources", "fuentes", "fuente", "fontes", "fonte", "quellen",
         "quelle", "fonti", "出典", "ソース", "情報源"),
        "sources",
    ),
    **dict.fromkeys(
        ("why", "pourquoi", "por que", "porque", "warum", "perche", "なぜ", "どうして"), "why"
    ),
    **dict.fromkeys(("related", "voir aussi", "see also"), "related"),
}  # fmt: skip
# A Telegram deep-link payload allows only A-Z a-z 0-9 _ -: "x.grok_training" travels
# as "x-grok_training", optionally followed by "-fr" for the language.
_PAYLOAD = re.compile(r"^([a-z][a-z0-9_]*)-([a-z][a-z0-9_]*)(?:-([a-z]{2}))?$")


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
    understood: Understanding | None = None


class Core:
    """Understands questions and builds replies from the knowledge base.

    Args:
        kb: The validated knowledge base.
        store: Where per-user state lives; an in-memory store if None.
        log_unanswered: Keep unanswered questions (text and language only) for
            improving the knowledge base. Off by default.
        limiter: The per-person rate limit adapters consult through
            :meth:`admit`; None for no limit.
        site_url: The published site's root (``PRIVACYBOT_SITE_URL``); answers
            then carry their topic page's address in ``Reply.site_url``.
        metrics: Where answers and store failures are counted; its own (a fresh
            registry) if None.
    """

    def __init__(
        self,
        kb: KnowledgeBase,
        store: Store | None = None,
        *,
        log_unanswered: bool = False,
        limiter: UserRateLimiter | None = None,
        site_url: str | None = None,
        metrics: Metrics | None = None,
    ) -> None:
        self.store: Store = store or MemoryStore()
        self.metrics = metrics if metrics is not None else Metrics()
        self.log_unanswered = log_unanswered
        self.limiter = limiter
        self.site_url = site_url
        self._kb = kb
        self._engine = Engine(kb)

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base in use."""
        return self._kb

    @property
    def matcher(self) -> Matcher:
        """The topic matcher built from :attr:`kb`."""
        return self._engine.matcher

    @property
    def engine(self) -> Engine:
        """The understanding engine (matcher, platform registry, needs)."""
        return self._engine

    def reload(self, kb: KnowledgeBase, matcher: Matcher | None = None) -> None:
        """Swap in a new, already validated knowledge base.

        The matcher is built before anything is replaced, so a question being
        answered meanwhile sees either the old pair or the new one. Pass one
        built elsewhere (the reloader builds it off the event loop) to make this
        call instant.
        """
        engine = Engine(kb, matcher=matcher)
        self._kb, self._engine = kb, engine

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
        """Answer one message (see :meth:`respond` for what was understood).

        "more", "sources" or "why" after an answer shows that part of it
        (:meth:`detail_request`); anything else goes to :meth:`respond`.
        """
        return await self.detail_request(message) or (await self.respond(message)).reply

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
        # Bluesky's ``langs`` is what the author declared; Telegram's code is the
        # interface language, and a remembered language only breaks ties.
        declared = (
            message.channel == "bluesky" and normalize_hint(message.language_hint) is not None
        )
        hint = normalize_hint(message.language_hint) or (state.language if state else None)
        context = (
            Context(
                platform=state.platform,
                need=state.need,
                surface=state.surface,
                last_topic=state.last_topic,
                choices=state.choices,
            )
            if state
            else None
        )
        understood = self._engine.understand(
            message.text,
            language_hint=hint,
            declared=declared,
            surface_hint=message.surface_hint,
            context=context,
        )
        asked = understood.language
        # A language chosen with /lang stays until the person changes it.
        language = state.language if state and state.language_chosen and state.language else asked
        reply = self._reply_for(understood, language, state)
        if reply.kind == "fallback" and self.log_unanswered and understood.kind != "empty":
            # A lone surrogate cannot be stored as UTF-8 (SQLite, PostgreSQL).
            kept = message.text[:2000].encode("utf-8", "replace").decode("utf-8")
            await self._best_effort("record_unanswered", self.store.record_unanswered(kept, asked))

        if message.user_id is not None:
            await self._best_effort(
                "save_user",
                self.remember(
                    message.channel,
                    message.user_id,
                    reply,
                    previous=state,
                    understood=understood,
                    optional=True,
                ),
            )
        await self._best_effort("increment", self.store.increment(f"answers.{reply.kind}"))
        latency = (time.perf_counter() - started) * 1000.0
        answer = Answer(
            reply=reply,
            match=understood.match,
            follow_up=understood.follow_up,
            latency_ms=latency,
            understood=understood,
        )
        # Every channel gets the same counters and the one log line per answer
        # (channel, topic, confidence, language, latency; never the text).
        self.metrics.record_answer(message.channel, answer)
        return answer

    def _reply_for(
        self, understood: Understanding, language: str, state: UserState | None
    ) -> Reply:
        """Turn what was understood into a reply in the person's language."""
        kind = understood.kind
        if kind == "answer" and understood.topic_id in self._kb.topics:
            topic_id = understood.topic_id
            assert topic_id is not None
            surface = understood.surface
            if surface is None and understood.follow_up and state is not None:
                surface = state.surface if state.last_topic == topic_id else None
            shown = language if self._engine.has_language(topic_id, language) else "en"
            reply = self.topic_reply(
                topic_id,
                shown,
                surface=surface,
                confidence=understood.confidence,
                alternatives=understood.match.ranked[1:4],
            )
            if understood.short:
                reply = replace(
                    reply, summary=reply.short, steps=(), surface_note=None, facts=(), caveats=()
                )
            if shown != language:
                # English steps, with one line in the person's language saying so.
                note = text(language, "untranslated")
                reply = replace(
                    reply, summary=f"{note}\n{reply.summary}", short=f"{note} {reply.short}"
                )
            return reply
        if kind == "clarify" and understood.choices:
            return self._clarify(understood, language)
        if kind == "not_covered":
            return self._not_covered(understood, language)
        if kind == "smalltalk":
            return self._smalltalk(understood, language)
        return self._fallback(understood.match, empty=kind == "empty", language=language)

    async def _best_effort(self, operation: str, call: Awaitable[T]) -> T | None:
        """Await a store call whose failure must not cost the person their answer.

        A locked, full or damaged database loses a follow-up context or a
        counter, which is logged (operation and error, never the text); the
        reply still goes out.
        """
        try:
            return await call
        except Exception as exc:
            self.metrics.record_error("store", operation)
            log.warning(
                "store %s failed; answering without it",
                operation,
                extra={"operation": operation, "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
            return None

    def resolve_surface(self, topic: Topic, language: str, requested: str | None) -> Surface | None:
        """Pick which surface's steps to show.

        ``app`` (a phone, OS unknown) becomes the iPhone steps when they exist,
        else the Android ones; a topic without steps has no surface.
        """
        steps = topic.lang(language).steps
        if not steps:
            return None
        wanted = ("ios", "android") if requested == "app" else (requested,)
        for candidate in (*wanted, topic.default_surface):
            # The key itself is returned (typed as a surface), not the caller's string.
            for surface in steps:
                if surface == candidate:
                    return surface
        return next(iter(steps))

    def topic_reply(
        self,
        topic_id: str,
        language: str,
        *,
        surface: str | None = None,
        confidence: float = 1.0,
        alternatives: tuple[tuple[str, float], ...] = (),
        part: Part = "short",
    ) -> Reply:
        """Build the answer for a topic, with every part, showing ``part``.

        The short answer holds the summary, the steps for one surface and the
        direct link; the details are the other surfaces, the facts and caveats
        ("why"), the best three sources with their dates and the related topics.
        Renderers show ``part`` and offer the others (``Reply.parts``).

        Args:
            topic_id: The topic to answer.
            language: The reply's language.
            surface: ``web``/``ios``/``android``/``app``, or None for the default.
            confidence: Reported confidence.
            alternatives: Other candidate topics with scores.
            part: Which part to show (see :data:`bot.messages.Part`).

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
        others = tuple(
            SurfaceAnswer(name, text(language, f"surface.on.{name}"), tuple(e.steps), e.note)
            for name, e in sorted(loc.steps.items(), key=lambda item: SURFACES.index(item[0]))
            if name != chosen
        )
        choices = [
            Choice("surface", o.surface, text(language, f"surface.{o.surface}")) for o in others
        ]
        related = [
            Choice("topic", rel, self._kb.topics[rel].lang(language).title)
            for rel in topic.related[:MAX_RELATED]
            if rel in self._kb.topics
        ]
        choices += related
        sources = self.best_sources(topic_id)
        available = {
            "surfaces": bool(others),
            "why": bool(topic.fact_lines(language) or loc.caveats),
            "sources": bool(sources),
            "related": bool(related),
        }
        items: tuple[str, ...] = ()
        if topic_id == HELP_TOPIC:
            items = self._help_items(language)
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
            sources=sources,
            last_verified=topic.last_verified,
            items=items,
            choices=tuple(choices),
            alternatives=tuple(
                Alternative(t, round(c, 3)) for t, c in alternatives if t != topic_id
            ),
            labels=labels(language),
            part=part,
            parts=tuple(p for p in DETAIL_PARTS if available[p]),
            other_surfaces=others,
            surface_asked=surface is not None and chosen is not None,
            # The page in the reply's language when the topic has one, else in English.
            site_url=topic_page_url(
                self.site_url, language if topic.has_language(language) else "en", topic_id
            ),
        )

    def best_sources(self, topic_id: str, n: int = MAX_SOURCES) -> tuple[SourceRef, ...]:
        """The ``n`` sources a reply shows: official, then regulator, then newest press."""
        topic = self._kb.topics[topic_id]
        return tuple(SourceRef(s.title, s.publisher, s.url, s.date) for s in topic.best_sources(n))

    def topic_part(
        self, topic_id: str, language: str, part: Part, *, surface: str | None = None
    ) -> Reply:
        """Show one part of a topic: what a button or "more", "sources", "why" asks for.

        Args:
            topic_id: The topic.
            language: The reply's language.
            part: ``short``, ``surfaces``, ``why``, ``sources``, ``related`` or ``full``.
            surface: The surface the person is on, if known.

        Returns:
            An ``answer`` reply whose ``part`` is the one asked for, or the short
            answer when the topic has nothing in that part.

        Raises:
            KeyError: If the topic does not exist.
        """
        reply = self.topic_reply(topic_id, language, surface=surface)
        if part in ("short", "full") or part in reply.parts:
            return dataclasses.replace(reply, part=part)
        return reply

    def next_part(self, reply: Reply) -> Part | None:
        """The detail a person most likely wants after ``reply`` ("more").

        After the short answer that is "why" (other surfaces are asked for by
        name: "on Android"); after a detail part, the one that follows it.
        """
        if reply.kind != "answer" or reply.part == "full":
            return None
        following = reply.parts
        if reply.part == "short":
            following = tuple(p for p in following if p != "surfaces")
        elif reply.part in following:
            following = following[following.index(reply.part) + 1 :]
        return following[0] if following else None

    async def detail_request(self, message: IncomingMessage) -> Reply | None:
        """The detail part a message asks for ("more", "sources", "why"), if that is all it says.

        A person who got a short answer asks for the rest in a word or two; the
        part is shown for their last topic, on their last surface. Anything else
        (a question, "and on Android?") is left to :meth:`respond`.

        Args:
            message: The incoming message.

        Returns:
            The part's reply, or None when the message asks for no part or the
            person has no last topic.
        """
        raw = message.text or ""
        # clean() keeps Latin letters only; Japanese words are looked up as written.
        asked = _PART_WORDS.get(clean(raw).strip(" ?!.") or raw.strip(" ?!.？！。、").lower())
        if asked is None or message.user_id is None:
            return None
        state = await self._best_effort(
            "get_user", self.store.get_user(message.channel, message.user_id)
        )
        if state is None or not state.last_topic or state.last_topic not in self._kb.topics:
            return None
        language = state.language or normalize_hint(message.language_hint) or "en"
        part: Part
        if asked == "more":
            short = self.topic_reply(state.last_topic, language, surface=state.surface)
            part = self.next_part(short) or "short"
        else:
            part = asked
        return self.topic_part(state.last_topic, language, part, surface=state.surface)

    def inline_replies(self, query: str, language_hint: str | None) -> tuple[str, list[Reply]]:
        """Short answers to share from any chat (Telegram inline mode); nothing is stored.

        Args:
            query: What the person typed after the bot's name.
            language_hint: Their app's language.

        Returns:
            The language and the answers of the topics that match, best first;
            none when the query is empty or matches nothing.
        """
        language = normalize_hint(language_hint) or "en"
        question = query.strip()
        if not clean(question):
            return language, []
        match = self._engine.matcher.understand(question, language_hint=language)
        topic_ids = [t for t, s in match.ranked if s >= self._engine.matcher.threshold]
        if match.topic_id is None and not match.ambiguous:
            topic_ids = []
        return match.language, [
            self.topic_reply(t, match.language, surface=match.surface)
            for t in topic_ids[:MAX_INLINE]
        ]

    @staticmethod
    def deep_link_payload(topic_id: str, language: str | None = None) -> str:
        """The ``/start`` payload that opens a topic (``x.grok_training`` → ``x-grok_training``)."""
        payload = topic_id.replace(".", "-")
        return f"{payload}-{language}" if language else payload

    def deep_link_topic(self, payload: str) -> tuple[str, str | None] | None:
        """The topic (and language, if given) a ``/start`` payload opens; None if unknown."""
        found = _PAYLOAD.match(payload.strip())
        if not found:
            return None
        topic_id = f"{found.group(1)}.{found.group(2)}"
        if topic_id not in self._kb.topics:
            return None
        return topic_id, normalize_hint(found.group(3)) if found.group(3) else None

    def _help_items(self, language: str) -> tuple[str, ...]:
        # The short answer fits one screen: X's first topics by name, the other
        # platforms in one line (/topics lists every topic).
        primary = [t for t in self._kb.topics.values() if t.platform == PRIMARY_PLATFORM]
        others = dict.fromkeys(
            # "Google (Gemini, Web & App Activity)" is "Google" in a list of names.
            re.sub(r"\s*\(.*\)$", "", self._kb.platforms.get(t.platform, t.platform))
            for t in self._kb.topics.values()
            if t.platform not in (PRIMARY_PLATFORM, "bot")
        )
        items = [t.lang(language).title for t in primary[:MAX_HELP_TOPICS]]
        if others:
            items.append(f"{text(language, 'help.also')} {', '.join(others)}")
        return tuple(items)

    def _topic_titles(self, language: str) -> tuple[str, ...]:
        # X first: it is what most people come for; then the other platforms.
        topics = [t for t in self._kb.topics.values() if t.platform != "bot"]
        topics.sort(key=lambda t: t.platform != PRIMARY_PLATFORM)
        return tuple(t.lang(language).title for t in topics)

    def _titles(self, topic_ids: tuple[str, ...], language: str) -> list[Choice]:
        return [
            Choice("topic", t, self._kb.topics[t].lang(language).title)
            for t in topic_ids
            if t in self._kb.topics
        ]

    def _clarify(self, understood: Understanding, language: str) -> Reply:
        match = understood.match
        return Reply(
            kind="clarify",
            language=language,
            topic_id=None,
            confidence=round(match.confidence, 3),
            title=text(language, "clarify.title"),
            summary=text(language, "clarify.summary"),
            short=text(language, "clarify.title"),
            surface=match.surface if match.surface in SURFACES else None,
            choices=tuple(self._titles(understood.choices, language)),
            alternatives=tuple(Alternative(t, round(s, 3)) for t, s in match.ranked[:3]),
            labels=labels(language),
        )

    def _not_covered(self, understood: Understanding, language: str) -> Reply:
        """Honesty when the platform meant has no topic for the need: never another's steps."""
        registry = self._engine.registry
        platform = registry.name(understood.platform or "")
        if understood.need:
            need = text(language, f"need.{understood.need}")
            title = text(language, "not_covered.need").format(platform=platform, need=need)
        else:
            title = text(language, "not_covered.platform").format(platform=platform)
        offers = self._titles(understood.choices, language)
        elsewhere = self._titles(understood.also, language)
        if offers:
            summary = text(language, "not_covered.offer").format(platform=platform)
        elif elsewhere:
            summary = text(language, "not_covered.elsewhere")
        else:
            summary = text(language, "not_covered.none")
        choices = tuple(offers or elsewhere)
        return Reply(
            kind="not_covered",
            language=language,
            topic_id=None,
            confidence=round(understood.match.confidence, 3),
            title=title,
            summary=summary,
            short=f"{title} {summary}" if not choices else title,
            items=tuple(c.label for c in choices),
            choices=choices,
            labels=labels(language),
        )

    def _smalltalk(self, understood: Understanding, language: str) -> Reply:
        """A greeting or a thank-you gets one short friendly line, not the topic list."""
        line = text(language, "smalltalk.thanks" if understood.thanks else "smalltalk.hello")
        return Reply(
            kind="smalltalk",
            language=language,
            topic_id=None,
            confidence=1.0,
            title=line,
            short=line,
            labels=labels(language),
        )

    def _fallback(self, match: Match, *, empty: bool, language: str | None = None) -> Reply:
        language = language or match.language
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
        understood: Understanding | None = None,
        optional: bool = False,
    ) -> None:
        """Keep what a follow-up needs after a reply: language, topic, platform, need, choices.

        A reply without a topic (fallback, smalltalk) keeps the previous topic,
        platform and need, so "and on Android?" still refers to the last real
        answer; a clarifying question or an honest "not covered" keeps the
        choices it offered, so that "2" or "the first one" picks among them.
        ``optional``: a short lock wait, skipped while the store fails (the reply
        must not wait).
        """
        kept = previous or UserState()
        topic = reply.topic_id or kept.last_topic
        platform, need = kept.platform, kept.need
        choices: tuple[str, ...] = kept.choices
        if understood is not None and reply.kind in ("answer", "clarify", "not_covered"):
            platform = understood.platform or (
                self._engine.products_of[topic][0]
                if reply.topic_id and topic in self._engine.products_of
                else platform
            )
            need = understood.need or (self._engine.need_of.get(topic) if topic else need)
            choices = tuple(c.value for c in reply.choices if c.kind == "topic")
            if reply.kind == "answer":
                choices = ()
        elif reply.kind == "answer":
            choices = ()
        chosen = kept.language_chosen and kept.language is not None
        await self.store.save_user(
            channel,
            user_id,
            UserState(
                language=kept.language if chosen else reply_language(reply, understood),
                last_topic=topic,
                surface=reply.surface or kept.surface,
                platform=platform,
                need=need,
                choices=choices,
                language_chosen=chosen,
            ),
            optional=optional,
        )

    async def remember_shown(self, channel: str, user_id: str, reply: Reply) -> None:
        """Keep a reply shown without a message (a button pressed) as the last answer.

        The rest of the person's state (a language chosen with /lang, the
        platform) is kept, unlike writing a new :class:`UserState`.
        """
        previous = await self.store.get_user(channel, user_id)
        await self.remember(channel, user_id, reply, previous=previous)

    async def restore_context(
        self,
        channel: str,
        user_id: str,
        text: str,
        *,
        language_hint: str | None = None,
        surface: str | None = None,
    ) -> bool:
        """Make an earlier question of a thread the context of the next message.

        A Bluesky reply under one of the bot's answers continues *that* answer,
        even if the person asked something else elsewhere since.

        Returns:
            True if the question named a topic (and became the context).
        """
        understood = self._engine.understand(
            text, language_hint=language_hint, declared=language_hint is not None
        )
        if understood.kind != "answer" or understood.topic_id is None:
            return False
        previous = await self.store.get_user(channel, user_id)
        reply = self.topic_reply(understood.topic_id, understood.language, surface=surface)
        await self.remember(channel, user_id, reply, previous=previous, understood=understood)
        return True

    async def converse(self, message: IncomingMessage) -> Reply:
        """Answer a message in a public thread, or decide to stay silent.

        A reply under the bot's own answer ("and on Android?") continues *that*
        answer: the nearest question above it that names a topic (from
        ``message.thread``) becomes the person's context first, even if they
        asked something else elsewhere since. Greetings and thanks, and what the
        bot cannot place under its own answer (unless tagged), get a ``silent``
        reply: nothing is posted.

        Args:
            message: The message with what the channel knows of its thread.

        Returns:
            The reply (``silent`` when nothing should be posted).
        """
        if message.replied_to and message.user_id is not None:
            await self._restore_from_thread(message)
        reply = await self.handle(message)
        chatter = reply.kind == "fallback" and not (message.mentioned or message.quoted)
        if reply.kind == "smalltalk" or (message.replied_to and chatter):
            return replace(reply, silent=True)
        return reply

    async def _restore_from_thread(self, message: IncomingMessage) -> None:
        """Make the nearest person's question above the message that names a topic its context.

        The surface is the first one named on the way up ("on Android" asked
        once, then "and the history?").
        """
        assert message.user_id is not None
        surface: str | None = None
        for post in message.thread:
            if post.author != "person":
                continue
            understood = self.matcher.understand(post.text, language_hint=post.language_hint)
            surface = surface or understood.surface
            if await self.restore_context(
                message.channel,
                message.user_id,
                post.text,
                language_hint=post.language_hint,
                surface=surface,
            ):
                return

    async def forget(self, channel: str, user_id: str) -> Forgotten:
        """Erase what is stored about a person.

        Returns:
            ``ERASED`` or ``NOTHING``; ``FAILED`` when the store failed (logged,
            never raised), so the person can be told to try again.
        """
        try:
            erased = await self.store.forget_user(channel, user_id)
        except Exception as exc:
            self.metrics.record_error("store", "forget_user")
            log.error(
                "store forget_user failed; the person is told to try again",
                extra={"operation": "forget_user", "error": f"{type(exc).__name__}: {exc}"[:300]},
            )
            return Forgotten.FAILED
        return Forgotten.ERASED if erased else Forgotten.NOTHING

    async def set_language(self, channel: str, user_id: str, language: str) -> None:
        """Remember a person's chosen reply language (``/lang fr``); it stays until changed."""
        state = await self.store.get_user(channel, user_id) or UserState()
        await self.store.save_user(
            channel, user_id, replace(state, language=language, language_chosen=True)
        )

    # --- what chat adapters ask the core to decide (Telegram) ---------------------

    async def language_of(
        self, channel: str, user_id: str | None, app_language: str | None = None
    ) -> str:
        """The language to speak to a person outside an answer (a command, a notice).

        Their chosen or last language, else their app's, else English; a failing
        store counts as nothing remembered.
        """
        state = await self._state_of(channel, user_id)
        if state is not None and state.language:
            return state.language
        return normalize_hint(app_language) or "en"

    async def handle_chat(self, message: IncomingMessage) -> Reply:
        """:meth:`handle` for a chat app whose hint is its interface language (Telegram).

        The language the person last wrote or chose comes before the app's
        interface language, which only breaks ties for someone new.
        """
        state = await self._state_of(message.channel, message.user_id)
        remembered = state.language if state is not None else None
        if remembered:
            message = replace(message, language_hint=remembered)
        return await self.handle(message)

    async def open_deep_link(
        self, channel: str, user_id: str | None, payload: str, language: str
    ) -> Reply | None:
        """The short answer a ``/start`` payload opens (``x-grok_training-fr``), remembered.

        Args:
            channel: The adapter's channel name.
            user_id: The person, or None.
            payload: The deep link's payload.
            language: The person's language, when the payload names none.

        Returns:
            The topic's short answer, or None when the payload opens no topic.
        """
        opened = self.deep_link_topic(payload)
        if opened is None:
            return None
        topic_id, wanted = opened
        reply = self.topic_reply(topic_id, wanted or language)
        if user_id is not None:
            await self._best_effort("save_user", self.remember(channel, user_id, reply))
        return reply

    async def choose(
        self,
        channel: str,
        user_id: str,
        topic_id: str,
        language: str,
        *,
        part: Part | None = None,
        surface: str | None = None,
    ) -> Reply | None:
        """A choice made without a message (a button): the topic, kept as the last answer.

        Args:
            channel: The adapter's channel name.
            user_id: The person.
            topic_id: The topic chosen.
            language: The reply's language.
            part: The part asked for, or None for the answer on ``surface``.
            surface: The surface chosen or shown.

        Returns:
            The reply, or None if the topic is no longer in the knowledge base.
        """
        if topic_id not in self._kb.topics:
            return None
        if part is not None:
            reply = self.topic_part(topic_id, language, part, surface=surface)
        else:
            reply = self.topic_reply(topic_id, language, surface=surface)
        await self._best_effort("save_user", self.remember_shown(channel, user_id, reply))
        return reply

    def menu(self, language: str) -> tuple[Choice, ...]:
        """Every topic a person can pick from a menu (not the bot's own pages), in order."""
        return tuple(
            Choice("topic", t.id, t.lang(language).title)
            for t in self._kb.topics.values()
            if t.platform != "bot"
        )

    def page(self, topic_id: str, language: str) -> Reply | None:
        """A topic's answer if the knowledge base has it (the bot's help and privacy pages)."""
        return self.topic_reply(topic_id, language) if topic_id in self._kb.topics else None

    async def _state_of(self, channel: str, user_id: str | None) -> UserState | None:
        if user_id is None:
            return None
        return await self._best_effort("get_user", self.store.get_user(channel, user_id))


def reply_language(reply: Reply, understood: Understanding | None) -> str:
    """The language a person wrote in (kept for the next message), else the reply's."""
    return understood.language if understood is not None else reply.language
