"""Cleaning, language and surface detection, typo correction."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.loader import load_knowledge
from bot.nlu.language import normalize_hint
from bot.nlu.matcher import Matcher, detect_surface
from bot.nlu.normalize import MAX_CHARS, canonical, clean

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def matcher() -> Matcher:
    return Matcher(load_knowledge(REPO / "knowledge"))


def test_clean_folds_accents_case_links_mentions_and_emoji() -> None:
    text = "@privacybot.bsky.social Désactiver l'ENTRAÎNEMENT 🙏 https://x.com/settings/grok x.com"
    assert clean(text) == "desactiver l entrainement x"


def test_clean_joins_common_phrases() -> None:
    assert (
        clean("Opt-out of third party sharing on Chat GPT")
        == "optout of thirdparty sharing on chatgpt"
    )


def test_clean_reads_only_the_start_of_huge_messages() -> None:
    assert len(clean("word " * 100_000)) <= MAX_CHARS


def test_synonyms_fold_platform_names() -> None:
    assert [canonical(t) for t in clean("Twitter tweets xAI publications").split()] == [
        "x",
        "post",
        "grok",
        "post",
    ]


@pytest.mark.parametrize(
    ("text", "surface"),
    [
        ("on my iPhone", "ios"),
        ("sur Android", "android"),
        ("dans l'appli", "app"),
        ("in the browser", "web"),
        ("stop grok training", None),
    ],
)
def test_detect_surface(text: str, surface: str | None) -> None:
    assert detect_surface(clean(text)) == surface


@pytest.mark.parametrize(
    ("hint", "expected"),
    [("fr-CA", "fr"), ("en_US", "en"), ("pt_BR", "pt"), ("de", "de"), ("ru", None), (None, None)],
)
def test_normalize_hint(hint: str | None, expected: str | None) -> None:
    assert normalize_hint(hint) == expected


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("grok training off", "en"),
        ("instagram IA opposition", "fr"),
        ("supprimer mon compte twitter", "fr"),
        ("delete my twitter account", "en"),
        ("Comment désactiver Grok ?", "fr"),
    ],
)
def test_language_of_short_messages(matcher: Matcher, text: str, language: str) -> None:
    assert matcher.understand(text).language == language


def test_language_hint_breaks_ties_only(matcher: Matcher) -> None:
    assert matcher.understand("grok", language_hint="fr").language == "fr"
    assert matcher.understand("grok", language_hint="en").language == "en"
    assert matcher.understand("delete my twitter account", language_hint="fr").language == "en"


@pytest.mark.parametrize("typo", ["grok trainng", "grok traning off", "linkdin ai training"])
def test_typos_are_corrected(matcher: Matcher, typo: str) -> None:
    assert matcher.understand(typo).topic_id is not None


def test_correction_does_not_invent_words(matcher: Matcher) -> None:
    assert matcher._correct("montreal") == "montreal"


def test_platform_alone_offers_that_platforms_topics(matcher: Matcher) -> None:
    match = matcher.understand("grok?")
    assert match.ambiguous
    assert [t for t, _ in match.ranked][:1] == ["x.grok_training"]
    assert all(t.startswith("x.") for t, _ in match.ranked)


def test_platform_with_unrelated_words_is_not_answered(matcher: Matcher) -> None:
    assert matcher.understand("how to get more followers on bluesky").topic_id is None
    assert matcher.understand("what is elon musk's net worth").topic_id is None


def test_matching_is_linear_in_message_size(matcher: Matcher) -> None:
    """A pathological message is cut, so it costs no more than MAX_CHARS of text."""
    match = matcher.understand("grok " * 200_000 + "a" * 1_000_000)
    assert match.language in {"en", "fr"}


def test_narrow_topic_needs_its_required_words(matcher: Matcher) -> None:
    """The Grok app's own setting only when the app is named; X's setting otherwise."""
    assert matcher.understand("disable grok data use").topic_id == "x.grok_training"
    assert matcher.understand("opt out of training on grok.com").topic_id == (
        "x.grok_app_improve_model"
    )
