"""Cleaning, language and surface detection, typo correction."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.kb.loader import KnowledgeBase
from bot.nlu.language import normalize_hint
from bot.nlu.matcher import Matcher, detect_surface
from bot.nlu.normalize import MAX_CHARS, canonical, clean

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def matcher(knowledge: KnowledgeBase) -> Matcher:
    return Matcher(knowledge)


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
    # "montreal" is two edits from the French "montrer": too far for an 8-letter word.
    assert matcher.understand("comment montrer").ranked  # what it would match if corrected
    assert matcher.understand("comment montreal").ranked == ()


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


# -- issue 10: registry, needs, seven languages ---------------------------------------


@pytest.fixture(scope="module")
def registry():  # type: ignore[no-untyped-def]
    from bot.nlu.registry import load_registry

    return load_registry(REPO / "knowledge")


def test_registry_has_the_agreed_ids_and_many_more(registry) -> None:  # type: ignore[no-untyped-def]
    agreed = """x grok grok_app meta facebook instagram threads whatsapp messenger meta_ai linkedin
    google gemini youtube google_photos openai bluesky anthropic microsoft reddit perplexity
    wordpress tumblr quora slack substack medium grammarly amazon apple snapchat pinterest
    tiktok adobe discord zoom bot""".split()
    assert set(agreed) <= set(registry.platforms)
    assert len(set(registry.platforms) - set(agreed)) >= 80


@pytest.mark.parametrize(
    ("text", "platform"),
    [
        ("mon Insta", "instagram"),
        ("my FB account", "facebook"),
        ("tirar a meta ai do zap zap", "whatsapp"),
        ("ツイッターのアカウント", "x"),
        ("https://twitter.com/settings", "x"),
        ("opt out on grok.com", "grok_app"),
        ("I use LINE every day", "line"),
        ("Grokの学習", "grok"),
    ],
)
def test_platform_names_spellings_and_scripts(registry, text: str, platform: str) -> None:  # type: ignore[no-untyped-def]
    assert platform in [m.platform for m in registry.mentions(text)]


def test_common_words_are_not_platforms(registry) -> None:  # type: ignore[no-untyped-def]
    found = {m.platform for m in registry.mentions("draw a line, send a signal, a medium pizza")}
    assert found == set()
    assert "grok_app" not in {
        m.platform for m in registry.mentions("treinar o grok com meus posts")
    }


def test_relations_cover_parents_and_products_not_siblings(registry) -> None:  # type: ignore[no-untyped-def]
    assert registry.related("meta", "instagram") and registry.related("instagram", "meta")
    assert registry.related("grok", "x")
    assert not registry.related("youtube", "gemini")
    assert not registry.related("grok_app", "grok")


@pytest.mark.parametrize(
    ("text", "need"),
    [
        ("transferts spéciaux de données", "third_party_sharing"),
        ("¿cómo borro mi cuenta?", "delete_account"),
        ("Grokの学習に使わせない", "ai_training"),
        ("delete my instagram account", "delete_account"),
        ("personalisierte Werbung abschalten", "ad_personalization"),
    ],
)
def test_needs_in_seven_languages(registry, text: str, need: str) -> None:  # type: ignore[no-untyped-def]
    from bot.nlu.registry import fold

    scores = registry.need_scores(fold(text))
    assert max(scores, key=scores.__getitem__) == need


def test_invalid_registry_is_reported_by_file_and_id(tmp_path: Path) -> None:
    from bot.nlu.registry import RegistryError, load_registry

    (tmp_path / "platforms.yaml").write_text(
        "platforms:\n- {id: a, name: A, kind: platform, parent: nowhere, names: {all: [a]}}\n"
        "- {id: b, name: B, kind: platform, names: {all: [a]}}\n",
        encoding="utf-8",
    )
    (tmp_path / "needs.yaml").write_text(
        "needs:\n- {id: n, description: d, near: [m], triggers: {xx: [w]}}\n", encoding="utf-8"
    )
    with pytest.raises(RegistryError) as info:
        load_registry(tmp_path)
    text = "\n".join(info.value.problems)
    assert "needs.yaml: n: triggers" in text
    assert "platforms.yaml: b: names: 'a' also names a" in text


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("¿Cómo desactivo que X use mis publicaciones?", "es"),
        ("como eu impeço o Grok de usar meus tweets pra treinar?", "pt"),
        ("Wie lade ich ein Archiv meiner X-Daten herunter?", "de"),
        ("come faccio a impedire che X usi i miei post?", "it"),
        ("ChatGPTに会話を学習させない方法", "ja"),
        ("X soll meine Daten nicht an Dritte weitergeben", "de"),
    ],
)
def test_seven_languages_are_recognised(matcher: Matcher, text: str, language: str) -> None:
    assert matcher.understand(text).language == language
