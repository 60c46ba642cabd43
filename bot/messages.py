"""Neutral messages exchanged between the core and the channel adapters.

Adapters (Telegram, Bluesky, the terminal) translate a platform update into an
:class:`IncomingMessage`, await one core call and render the :class:`Reply` they
get back. Nothing here knows about HTML, graphemes or buttons: renderers decide
markup, so one reply fits a 4096-character Telegram message and a 300-grapheme
Bluesky post alike.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Literal

ReplyKind = Literal["answer", "clarify", "fallback", "not_covered", "smalltalk"]
ChoiceKind = Literal["surface", "topic"]
ChatType = Literal["private", "group"]
Part = Literal["short", "surfaces", "why", "sources", "related", "full"]
"""Which part of an answer a reply shows.

``short`` is what every channel sends first (summary, the steps for the
person's surface, the direct link); ``surfaces`` (the steps elsewhere), ``why``
(facts and caveats), ``sources`` (the best three, dated) and ``related`` (other
topics) are the details a person asks for; ``full`` is everything (the
terminal's ``--full``).
"""
DETAIL_PARTS: tuple[Part, ...] = ("surfaces", "why", "sources", "related")


@dataclass(frozen=True, slots=True)
class ThreadPost:
    """A post above the message in its thread, as the channel saw it.

    Attributes:
        text: The post's text (a person's: mentions of the bot removed).
        author: ``person`` or ``bot`` (the bot itself).
        language_hint: The language the post declares, if any.
    """

    text: str
    author: Literal["person", "bot"]
    language_hint: str | None = None


@dataclass(frozen=True, slots=True)
class IncomingMessage:
    """A question as the core sees it, whatever channel it came from.

    Attributes:
        text: What the person wrote, mentions of the bot already removed.
        channel: ``"cli"``, ``"telegram"``, ``"bluesky"``...
        user_id: The platform's id for the person, or None. The core only ever
            stores a salted hash of it.
        language_hint: A language the platform suggests (Telegram's
            ``language_code``, a Bluesky post's first ``langs`` entry). It only
            breaks ties: the language of the text wins.
        surface_hint: ``web``/``ios``/``android`` when the channel knows it.
        thread: The posts above the message in its thread, nearest first (a
            Bluesky reply under the bot's answer); empty when the channel has none.
        mentioned: The bot was tagged (a Bluesky mention).
        quoted: The message quotes one of the bot's posts.
        replied_to: The message replies to one of the bot's own messages.
        chat_type: ``private`` or ``group`` when the channel has chats (Telegram).
    """

    text: str
    channel: str = "cli"
    user_id: str | None = None
    language_hint: str | None = None
    surface_hint: str | None = None
    thread: tuple[ThreadPost, ...] = ()
    mentioned: bool = False
    quoted: bool = False
    replied_to: bool = False
    chat_type: ChatType | None = None


@dataclass(frozen=True, slots=True)
class SourceRef:
    """A source of the facts in a reply."""

    title: str
    publisher: str
    url: str
    date: dt.date | None


@dataclass(frozen=True, slots=True)
class Choice:
    """A follow-up the person can pick (a button on Telegram).

    Attributes:
        kind: ``surface`` (show the steps for another surface of the same topic)
            or ``topic`` (show another topic).
        value: The surface name or the topic id.
        label: Text to show, in the reply's language.
    """

    kind: ChoiceKind
    value: str
    label: str


@dataclass(frozen=True, slots=True)
class SurfaceAnswer:
    """The steps of a topic on one surface (web, iPhone app, Android app)."""

    surface: str
    label: str
    steps: tuple[str, ...] = ()
    note: str | None = None


@dataclass(frozen=True, slots=True)
class ShortAnswer:
    """The part every channel sends first: what to do, now."""

    title: str
    summary: str
    short: str
    surface: SurfaceAnswer | None
    url: str | None


@dataclass(frozen=True, slots=True)
class Details:
    """The parts sent only on request."""

    surfaces: tuple[SurfaceAnswer, ...]
    facts: tuple[str, ...]
    caveats: tuple[str, ...]
    sources: tuple[SourceRef, ...]
    related: tuple[Choice, ...]


@dataclass(frozen=True, slots=True)
class Alternative:
    """A topic the engine also considered, with its confidence."""

    topic_id: str
    confidence: float


@dataclass(frozen=True, slots=True)
class Reply:
    """What the core answers: structure, never markup.

    ``kind`` is ``answer`` when a topic was chosen, ``clarify`` when two topics
    were too close to pick (``choices`` then holds them), ``fallback`` when
    the engine does not know (``items`` then lists what it can help with),
    ``not_covered`` when the platform meant has no topic for the need yet
    (``choices`` then offer what exists) and ``smalltalk`` for greetings and
    thanks (one line: ``title``).

    An answer is laid out in parts (:data:`Part`): ``part`` says which one to
    show, ``parts`` which details the person can still ask for, in order (the
    core leaves out the empty ones). :attr:`short_answer` and :attr:`details`
    group the fields by part; renderers only lay them out.
    """

    kind: ReplyKind
    language: str
    topic_id: str | None
    confidence: float
    title: str = ""
    summary: str = ""
    short: str = ""
    surface: str | None = None
    surface_label: str = ""
    steps: tuple[str, ...] = ()
    surface_note: str | None = None
    url: str | None = None
    facts: tuple[str, ...] = ()
    caveats: tuple[str, ...] = ()
    sources: tuple[SourceRef, ...] = ()
    last_verified: dt.date | None = None
    items: tuple[str, ...] = ()
    choices: tuple[Choice, ...] = ()
    alternatives: tuple[Alternative, ...] = ()
    labels: dict[str, str] = field(default_factory=dict)
    """Localized headings for renderers ("Steps", "Sources", "Checked on"...)."""
    part: Part = "short"
    parts: tuple[Part, ...] = ()
    other_surfaces: tuple[SurfaceAnswer, ...] = ()
    surface_asked: bool = False
    """The person named a surface ("on Android"): its steps belong in the short answer."""

    silent: bool = False
    """Post nothing: chatter (thanks, hello, or what the bot cannot place under its own
    answer) where a reply would only be noise in a public thread (:meth:`Core.converse`)."""

    site_url: str | None = None
    """The topic's page on the published site (``PRIVACYBOT_SITE_URL``), or None: the
    Telegram "full answer" button and the Bluesky link card point there."""

    @property
    def short_answer(self) -> ShortAnswer:
        """The summary, the steps for the person's surface and the direct link."""
        surface = None
        if self.surface is not None:
            surface = SurfaceAnswer(self.surface, self.surface_label, self.steps, self.surface_note)
        return ShortAnswer(self.title, self.summary, self.short, surface, self.url)

    @property
    def details(self) -> Details:
        """Other surfaces, facts and caveats, the best sources, related topics."""
        return Details(
            self.other_surfaces,
            self.facts,
            self.caveats,
            self.sources,
            tuple(c for c in self.choices if c.kind == "topic"),
        )
