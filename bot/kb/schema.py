"""Pydantic models of the YAML knowledge base.

The knowledge base is data, validated at load time like ``rasa data validate``:
every topic carries English and French (and optionally five more languages),
what need it answers, its sources with their kind and the date it was last
verified, so that an answer can always say where a fact comes from and how old
it is. Models are strict (``extra="forbid"``) so that a misspelt field is an
error rather than silently ignored data. The format is described in the
team's KB format note (round 2).
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LANGUAGES: tuple[str, ...] = ("en", "fr", "es", "pt", "de", "it", "ja")
REQUIRED_LANGUAGES: tuple[str, ...] = ("en", "fr")
SURFACES: tuple[str, ...] = ("web", "ios", "android")
SOURCE_KINDS: tuple[str, ...] = ("official", "regulator", "press", "guide")
# A fact whose topic was last verified longer ago than this is shown with its date.
FACT_DATED_AFTER_DAYS = 365

Language = Literal["en", "fr", "es", "pt", "de", "it", "ja"]
Surface = Literal["web", "ios", "android"]
SourceKind = Literal["official", "regulator", "press", "guide"]

_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_URL = re.compile(r"^https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?(/[^\s]*)?$")


# "(as of 5 December 2025)" in each language, for facts shown with their date.
AS_OF: dict[str, str] = {
    "en": "as of {date}",
    "fr": "au {date}",
    "es": "a fecha de {date}",
    "pt": "em {date}",
    "de": "Stand: {date}",
    "it": "al {date}",
    "ja": "{date}時点",
}
_MONTHS: dict[str, tuple[str, ...]] = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "fr": (
        "janvier",
        "février",
        "mars",
        "avril",
        "mai",
        "juin",
        "juillet",
        "août",
        "septembre",
        "octobre",
        "novembre",
        "décembre",
    ),
    "es": (
        "enero",
        "febrero",
        "marzo",
        "abril",
        "mayo",
        "junio",
        "julio",
        "agosto",
        "septiembre",
        "octubre",
        "noviembre",
        "diciembre",
    ),
    "pt": (
        "janeiro",
        "fevereiro",
        "março",
        "abril",
        "maio",
        "junho",
        "julho",
        "agosto",
        "setembro",
        "outubro",
        "novembro",
        "dezembro",
    ),
    "de": (
        "Januar",
        "Februar",
        "März",
        "April",
        "Mai",
        "Juni",
        "Juli",
        "August",
        "September",
        "Oktober",
        "November",
        "Dezember",
    ),
    "it": (
        "gennaio",
        "febbraio",
        "marzo",
        "aprile",
        "maggio",
        "giugno",
        "luglio",
        "agosto",
        "settembre",
        "ottobre",
        "novembre",
        "dicembre",
    ),
}


def format_date(day: dt.date, language: str) -> str:
    """Write a date the way people of ``language`` read it (never ISO in prose).

    Args:
        day: The date.
        language: One of :data:`LANGUAGES` (English for any other).

    Returns:
        E.g. ``5 December 2025``, ``5 décembre 2025``, ``5. Dezember 2025``,
        ``2025年12月5日``.
    """
    if language == "ja":
        return f"{day.year}年{day.month}月{day.day}日"
    months = _MONTHS.get(language, _MONTHS["en"])
    month = months[day.month - 1]
    if language == "de":
        return f"{day.day}. {month} {day.year}"
    if language in ("es", "pt"):
        return f"{day.day} de {month} de {day.year}"
    first = "1er" if language == "fr" and day.day == 1 else str(day.day)
    return f"{first} {month} {day.year}"


def check_url(value: str) -> str:
    """Validate an absolute http(s) URL with a host name.

    Args:
        value: The URL as written in the knowledge file.

    Returns:
        The URL unchanged.

    Raises:
        ValueError: If it is not an absolute http(s) URL without spaces.
    """
    if not _URL.match(value):
        raise ValueError(f"not an absolute http(s) URL: {value!r}")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Source(_Strict):
    """Where a fact comes from."""

    url: str
    title: str = Field(min_length=1)
    publisher: str = Field(min_length=1)
    date: dt.date | None = Field(
        description="Date shown on the source; null when the page shows none (n.d.)."
    )
    kind: SourceKind = Field(
        description="official (the platform's own help, policy, blog or app text), regulator, "
        "press (a newsroom with editors) or guide (anything else)."
    )

    _url = field_validator("url")(check_url)

    @property
    def host(self) -> str:
        """The URL's host name in lower case, without a port."""
        return urlsplit(self.url).hostname or ""


class Fact(_Strict):
    """One fact, optionally true only for a time span (``since``/``until``).

    A fact may be written in YAML as a plain string or as
    ``{text: ..., since: 2025-03-28}``; both load as a :class:`Fact`.
    """

    text: str = Field(min_length=1)
    since: dt.date | None = None
    until: dt.date | None = None

    @model_validator(mode="after")
    def _span_in_order(self) -> Fact:
        if self.since and self.until and self.until < self.since:
            raise ValueError("'until' is before 'since'")
        return self

    def __str__(self) -> str:
        return self.text

    @property
    def dates(self) -> tuple[dt.date, ...]:
        """The dates the fact names (since and/or until)."""
        return tuple(d for d in (self.since, self.until) if d is not None)


class SurfaceSteps(_Strict):
    """Numbered steps for one surface (web, iOS app, Android app).

    Either ``steps`` lists what to tap/click, or ``note`` says why this surface
    cannot do it (and what to do instead); both may be present.
    """

    steps: list[str] = Field(default_factory=list)
    note: str | None = None

    @model_validator(mode="after")
    def _steps_or_note(self) -> SurfaceSteps:
        if not self.steps and not self.note:
            raise ValueError("needs steps or a note saying this surface cannot do it")
        return self


class LocalizedTopic(_Strict):
    """Everything a topic says in one language."""

    title: str = Field(min_length=1)
    summary: str = Field(min_length=1)
    examples: list[str] = Field(min_length=3)
    keywords: list[str] = Field(default_factory=list)
    steps: dict[Surface, SurfaceSteps] = Field(default_factory=dict)
    facts: list[Fact] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
    short: str | None = Field(
        default=None,
        description="Optional one-post answer for short channels (Bluesky); the summary is "
        "used when absent.",
    )

    @field_validator("facts", mode="before")
    @classmethod
    def _plain_facts(cls, value: object) -> object:
        # A plain string is the common case; it is a fact without a time span.
        if isinstance(value, list):
            return [{"text": v} if isinstance(v, str) else v for v in value]
        return value

    def missing_against(self, reference: LocalizedTopic) -> list[tuple[str, str]]:
        """What this translation lacks compared with the English ``reference``.

        A language is complete only with all its fields: title, summary and
        examples (checked by the model), a short answer if English has one, steps
        for every surface English has, as many facts as English and at least as
        many caveats (a translation may add one, e.g. about an untranslated label).

        Args:
            reference: The English block of the same topic.

        Returns:
            (field, what is missing) pairs; empty when complete.
        """
        missing: list[tuple[str, str]] = []
        if reference.short and not self.short:
            missing.append(("short", "missing (English has one)"))
        if reference.keywords and not self.keywords:
            missing.append(("keywords", "missing (English has some)"))
        for surface in reference.steps:
            if surface not in self.steps:
                missing.append((f"steps.{surface}", "missing (English has it)"))
        if len(self.facts) != len(reference.facts):
            missing.append(
                ("facts", f"{len(self.facts)} facts, English has {len(reference.facts)}")
            )
        if len(self.caveats) < len(reference.caveats):
            missing.append(
                ("caveats", f"{len(self.caveats)} caveats, English has {len(reference.caveats)}")
            )
        return missing


class Topic(_Strict):
    """One question people ask, answered in every language."""

    id: str
    need: str = Field(
        pattern=r"^[a-z][a-z0-9_]*$",
        description="One id of the need vocabulary (knowledge/needs.yaml).",
    )
    products: list[Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$")]] | None = Field(
        default=None,
        description="Registry product ids the topic applies to; the platform when absent.",
    )
    url: str | None = Field(default=None, description="Direct settings URL, where one exists.")
    related: list[str] = Field(default_factory=list)
    requires: list[str] = Field(
        default_factory=list,
        description="Words or phrases (any language) of which a question must contain one for "
        "this topic to be considered: a narrow topic beside a broad one, such as the Grok app's "
        "own setting beside X's Grok setting.",
    )
    default_surface: Surface = "web"
    last_verified: dt.date
    sources: list[Source] = Field(min_length=1)
    en: LocalizedTopic
    fr: LocalizedTopic
    es: LocalizedTopic | None = None
    pt: LocalizedTopic | None = None
    de: LocalizedTopic | None = None
    it: LocalizedTopic | None = None
    ja: LocalizedTopic | None = None

    def gaps(self, language: str) -> list[tuple[str, str]]:
        """What the ``language`` block lacks against English (empty when absent or complete)."""
        block = self._block(language)
        return [] if block is None or language == "en" else block.missing_against(self.en)

    def _block(self, language: str) -> LocalizedTopic | None:
        if language not in LANGUAGES:
            return None
        block = getattr(self, language)
        return block if isinstance(block, LocalizedTopic) else None

    @field_validator("id")
    @classmethod
    def _id_shape(cls, value: str) -> str:
        if not _TOPIC_ID.match(value):
            raise ValueError(f"topic id must look like 'platform.topic', got {value!r}")
        return value

    @field_validator("url")
    @classmethod
    def _url_shape(cls, value: str | None) -> str | None:
        return None if value is None else check_url(value)

    @property
    def platform(self) -> str:
        """The platform part of the id (``x`` for ``x.grok_training``)."""
        return self.id.split(".", 1)[0]

    @property
    def product_ids(self) -> list[str]:
        """The products the topic applies to (the platform itself by default)."""
        return list(self.products) if self.products else [self.platform]

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages this topic is written in, in :data:`LANGUAGES` order."""
        return tuple(lang for lang in LANGUAGES if self._block(lang) is not None)

    def has_language(self, language: str) -> bool:
        """Whether the topic is written in ``language`` (no English fallback)."""
        return self._block(language) is not None

    def is_complete(self, language: str) -> bool:
        """Whether ``language`` is present with all its fields (see ``missing_against``)."""
        return self._block(language) is not None and not self.gaps(language)

    def lang(self, language: str) -> LocalizedTopic:
        """Return the localized part for ``language`` (English when absent or unknown)."""
        return self._block(language) or self.en

    def best_sources(self, n: int = 3) -> list[Source]:
        """The sources an answer shows: official, then regulator, then the newest press.

        Official and regulator sources keep the file's order (best first); press
        sources come newest first (undated last); guides only fill places left.
        The others stay in the knowledge base for editors.

        Args:
            n: How many to return at most.

        Returns:
            At most ``n`` sources.
        """

        def newest_first(kind: str) -> list[Source]:
            found = [s for s in self.sources if s.kind == kind]
            return sorted(found, key=lambda s: s.date or dt.date.min, reverse=True)

        ordered = [s for s in self.sources if s.kind == "official"]
        ordered += [s for s in self.sources if s.kind == "regulator"]
        ordered += newest_first("press") + newest_first("guide")
        return ordered[: max(n, 0)]

    def fact_dated(self, today: dt.date | None = None) -> dt.date | None:
        """The date facts must be shown with, or None while they are fresh.

        A fact older than a year without re-verification is shown with its date:
        the topic's ``last_verified`` day when that is over
        :data:`FACT_DATED_AFTER_DAYS` before ``today``.

        Args:
            today: The day of the answer (today when None).

        Returns:
            ``last_verified`` when the facts are due, else None.
        """
        today = today or dt.date.today()
        if (today - self.last_verified).days > FACT_DATED_AFTER_DAYS:
            return self.last_verified
        return None

    def fact_lines(self, language: str, today: dt.date | None = None) -> list[str]:
        """The facts of ``language`` as text, each dated when it is over a year old.

        Args:
            language: The answer's language (English when the topic lacks it).
            today: The day of the answer (today when None).

        Returns:
            One string per fact, e.g. ``"... (as of 5 December 2025)"``.
        """
        texts = [fact.text for fact in self.lang(language).facts]
        dated = self.fact_dated(today)
        if dated is None:
            return texts
        shown = language if self.has_language(language) else "en"
        suffix = AS_OF[shown].format(date=format_date(dated, shown))
        return [f"{text} ({suffix})" for text in texts]


class KnowledgeFile(_Strict):
    """One ``knowledge/<platform>.yaml`` file."""

    platform: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1, description="Display name, e.g. 'X (Twitter)'.")
    topics: list[Topic] = Field(min_length=1)
