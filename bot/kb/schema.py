"""Pydantic models of the YAML knowledge base.

The knowledge base is data, validated at load time like ``rasa data validate``:
every topic carries both languages, its sources and the date it was last
verified, so that an answer can always say where a fact comes from and how old
it is. Models are strict (``extra="forbid"``) so that a misspelt field is an
error rather than silently ignored data.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LANGUAGES: tuple[str, ...] = ("en", "fr")
SURFACES: tuple[str, ...] = ("web", "ios", "android")

Language = Literal["en", "fr"]
Surface = Literal["web", "ios", "android"]

_TOPIC_ID = re.compile(r"^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$")
_URL = re.compile(r"^https?://[A-Za-z0-9.-]+\.[A-Za-z]{2,}(:\d+)?(/[^\s]*)?$")


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

    _url = field_validator("url")(check_url)


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
    facts: list[str] = Field(default_factory=list)
    caveats: list[str] = Field(default_factory=list)
    short: str | None = Field(
        default=None,
        description="Optional one-post answer for short channels (Bluesky); the summary is "
        "used when absent.",
    )


class Topic(_Strict):
    """One question people ask, answered in every language."""

    id: str
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

    def lang(self, language: str) -> LocalizedTopic:
        """Return the localized part for ``language`` (English when unknown)."""
        return self.fr if language == "fr" else self.en


class KnowledgeFile(_Strict):
    """One ``knowledge/<platform>.yaml`` file."""

    platform: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1, description="Display name, e.g. 'X (Twitter)'.")
    topics: list[Topic] = Field(min_length=1)
