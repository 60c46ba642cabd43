"""The core answering questions from the real knowledge base."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml
from helpers.replies import check_reply_shape

from bot.core import Core, Forgotten
from bot.kb.loader import KnowledgeBase, load_knowledge
from bot.messages import IncomingMessage
from bot.render.dates import format_date
from bot.render.plain import render_plain
from bot.store.memory import MemoryStore

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "eval" / "dev.yaml"


@pytest.fixture(scope="module")
def core(knowledge: KnowledgeBase) -> Core:
    return Core(knowledge, MemoryStore())


def _cases(path: Path) -> list[dict]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _dev_cases() -> list[dict]:
    if not DEV.exists():  # the shared folder sits beside the clone in CI and here
        pytest.skip(f"{DEV} not found")
    return _cases(DEV)


@pytest.mark.parametrize("case", _cases(DEV) if DEV.exists() else [], ids=lambda c: c["q"][:40])
async def test_dev_question_gets_its_topic_in_its_language(core: Core, case: dict) -> None:
    answer = await core.respond(IncomingMessage(text=case["q"]))
    assert answer.reply.topic_id == case["expect"], answer.match.ranked[:3]
    assert answer.reply.language == case["lang"]
    if case["expect"] is None:
        assert answer.reply.kind == "fallback"


def test_dev_set_covers_every_required_topic_in_both_languages() -> None:
    cases = _dev_cases()
    seen = {(c["expect"], c["lang"]) for c in cases if c["expect"]}
    topics = {t for t, _ in seen}
    assert {(t, lang) for t in topics for lang in ("en", "fr")} <= seen


@pytest.mark.parametrize("name", ["heldout.yaml", "fresh_eval.yaml"])
async def test_accuracy_on_questions_written_apart_from_the_examples(core: Core, name: str) -> None:
    """Sets written without seeing the knowledge base, to measure generalisation."""
    from bot.evaluation import evaluate_async, load_cases

    report = await evaluate_async(core, load_cases(Path(__file__).parent / name))
    assert report.total >= 200
    misses = [(m.case.question, m.case.expect, m.got) for m in report.misses]
    assert report.accuracy >= 0.95, misses
    assert report.abstention_recall >= 0.95, misses
    assert report.language_accuracy >= 0.98, misses


@pytest.mark.parametrize(
    "question",
    ["what's the weather like tomorrow", "quel temps fera-t-il demain ?", "recipe for pancakes"],
)
async def test_off_topic_gets_the_fallback_listing_what_the_bot_can_do(
    core: Core, question: str
) -> None:
    reply = await core.handle(IncomingMessage(text=question))
    assert reply.kind == "fallback"
    assert reply.topic_id is None
    assert reply.steps == () and reply.url is None
    assert len(reply.items) >= 10


async def test_answer_carries_steps_link_facts_sources_and_date(core: Core) -> None:
    reply = await core.handle(IncomingMessage(text="how do I stop Grok training on my posts?"))
    assert reply.topic_id == "x.grok_training"
    assert reply.kind == "answer"
    assert reply.surface == "web" and len(reply.steps) >= 3
    assert reply.url and reply.url.startswith("https://x.com/settings/")
    assert reply.facts and reply.sources and reply.last_verified
    assert {c.value for c in reply.choices if c.kind == "surface"} == {"ios", "android"}
    text = render_plain(reply)
    assert reply.url in text and format_date(reply.last_verified, "en") in text
    assert reply.parts == ("surfaces", "why", "sources", "related")
    assert len(reply.sources) <= 3  # the best three, not every source


async def test_topic_part_shows_one_part_and_falls_back_to_the_short_answer(core: Core) -> None:
    why = core.topic_part("x.grok_training", "fr", "why", surface="android")
    assert why.part == "why" and why.surface == "android" and why.language == "fr"
    assert why.details.facts == why.facts and why.short_answer.surface is not None
    assert core.next_part(why) == "sources"
    privacy = core.topic_part("bot.privacy", "en", "surfaces")  # it has no steps at all
    assert privacy.part == "short"


async def test_a_word_asks_for_a_detail_part_of_the_last_topic(core: Core) -> None:
    await core.handle(IncomingMessage(text="stop grok training on android", user_id="d1"))
    sources = await core.detail_request(IncomingMessage(text="Sources ?", user_id="d1"))
    assert sources is not None and sources.part == "sources"
    assert sources.topic_id == "x.grok_training" and sources.surface == "android"
    more = await core.detail_request(IncomingMessage(text="more", user_id="d1"))
    assert more is not None and more.part == "why"
    assert await core.detail_request(IncomingMessage(text="more", user_id="nobody")) is None
    question = IncomingMessage(text="how do I delete my account", user_id="d1")
    assert await core.detail_request(question) is None


def test_deep_link_payloads_round_trip(core: Core) -> None:
    for topic_id in core.kb.topics:
        payload = core.deep_link_payload(topic_id, "fr")
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", payload)
        assert core.deep_link_topic(payload) == (topic_id, "fr")
        assert core.deep_link_topic(core.deep_link_payload(topic_id)) == (topic_id, None)
    assert core.deep_link_topic("x-nothing") is None and core.deep_link_topic("<b>") is None


def test_inline_replies_are_empty_when_nothing_matches(core: Core) -> None:
    _, replies = core.inline_replies("grok training", "en")
    assert replies and replies[0].topic_id == "x.grok_training"
    assert core.inline_replies("what is the weather in Paris", "en")[1] == []
    assert core.inline_replies("   ", "fr") == ("fr", [])


async def test_surface_named_in_the_question_is_used(core: Core) -> None:
    reply = await core.handle(IncomingMessage(text="stop grok training on my android phone"))
    assert reply.topic_id == "x.grok_training" and reply.surface == "android"
    reply = await core.handle(IncomingMessage(text="désactiver l'entraînement de grok sur iphone"))
    assert reply.surface == "ios" and reply.language == "fr"


async def test_follow_up_uses_the_last_topic_and_the_new_surface(core: Core) -> None:
    first = await core.handle(IncomingMessage(text="stop grok training", user_id="u1"))
    follow = await core.handle(IncomingMessage(text="and on Android?", user_id="u1"))
    assert first.topic_id == follow.topic_id == "x.grok_training"
    assert follow.surface == "android"
    assert follow.steps != first.steps or follow.surface_note


async def test_follow_up_without_history_is_not_guessed(core: Core) -> None:
    reply = await core.handle(IncomingMessage(text="and on Android?", user_id="stranger"))
    assert reply.topic_id is None


async def test_reply_language_follows_question_not_hint(core: Core) -> None:
    reply = await core.handle(
        IncomingMessage(text="comment supprimer mon compte twitter", language_hint="en")
    )
    assert reply.language == "fr"
    reply = await core.handle(IncomingMessage(text="grok", language_hint="fr"))
    assert reply.language == "fr"


async def test_help_lists_topics(core: Core) -> None:
    reply = await core.handle(IncomingMessage(text="/help"))
    assert reply.topic_id == "bot.help"
    titles = [t.en.title for t in core.kb.topics.values() if t.platform == "x"]
    assert list(reply.items[:-1]) == titles[:5]
    assert reply.items[-1].startswith("Also:") and "LinkedIn" in reply.items[-1]


async def test_forget_erases_user_state(core: Core) -> None:
    await core.handle(IncomingMessage(text="stop grok training", user_id="u2"))
    assert await core.store.get_user("cli", "u2") is not None
    assert await core.forget("cli", "u2") is Forgotten.ERASED
    assert await core.store.get_user("cli", "u2") is None


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        pytest.param("", "fallback", id="empty"),
        pytest.param("   \n\t ", "fallback", id="blank"),
        pytest.param("😀🔥🙏" * 50, "fallback", id="emoji"),
        pytest.param("\x00\x01\x02\x1b[31mred\x07", "fallback", id="control"),
        pytest.param("a" * 100_000, "fallback", id="100k"),
        pytest.param("grok " * 20_000, "clarify", id="100k-words"),  # Grok, but which need?
        pytest.param("\u202eoverride\u200d\u200b", "fallback", id="rtl-zwj"),
        pytest.param(
            "<b>hi</b> <script>alert(1)</script> **bold** [link](javascript:alert(1))",
            "fallback",
            id="markup",
        ),
        pytest.param("\udcff broken surrogate", "fallback", id="surr"),
    ],
)
async def test_hostile_input_gets_a_clear_answer(core: Core, text: str, kind: str) -> None:
    reply = await core.handle(IncomingMessage(text=text, user_id="h"))
    assert reply.kind == kind
    check_reply_shape(reply, core.kb)
    rendered = render_plain(reply)
    assert len(rendered) < 20_000
    assert "<script>" not in rendered


async def test_empty_message_says_so(core: Core) -> None:
    reply = await core.handle(IncomingMessage(text="🙏🙏"))
    assert reply.kind == "fallback"
    assert reply.title == "I didn't find a question in your message."


async def test_every_answer_is_counted_in_the_metrics_given(core: Core) -> None:
    from bot.metrics import Metrics

    metrics = Metrics()
    counted = Core(core.kb, metrics=metrics)
    await counted.handle(IncomingMessage(text="stop grok training", channel="metrics-test"))
    assert metrics.sample("privacybot_messages_total", channel="metrics-test") == 1
    assert 'channel="metrics-test"' in metrics.render()


# -- issue 10: platform x need, seven languages, conversations -------------------------


@pytest.mark.parametrize(
    ("question", "platform", "need"),
    [
        ("how do I close my spotify account for good", "spotify", "delete_account"),
        ("turn off youtube watch history", "youtube", "activity_history"),
        ("does deezer share my data with third parties", "deezer", "third_party_sharing"),
        ("does kwai train ai on my videos", "kwai", "ai_training"),
        ("¿cómo borro mi cuenta de Telegram?", "telegram", "delete_account"),
        ("does doordash sell my data to advertisers", "doordash", "third_party_sharing"),
        ("¿cómo borro mi cuenta de Glovo?", "glovo", "delete_account"),
        ("turn off my google location history", "google", "location_history"),
        ("désactiver l'historique de position sur google", "google", "location_history"),
    ],
)
async def test_a_platform_without_that_topic_is_told_honestly_never_another_platforms_steps(
    core: Core, question: str, platform: str, need: str
) -> None:
    answer = await core.respond(IncomingMessage(text=question))
    assert answer.reply.kind == "not_covered"
    assert answer.reply.topic_id is None and answer.reply.steps == ()
    assert answer.understood is not None
    assert (answer.understood.platform, answer.understood.need) == (platform, need)
    assert core.engine.registry.name(platform) in answer.reply.title


@pytest.mark.parametrize(
    "question", ["a lojazinha vende meus dados?", "la tiendita comparte mis datos?"]
)
async def test_an_unknown_service_never_gets_the_only_platform_with_that_need(
    core: Core, question: str
) -> None:
    answer = await core.respond(IncomingMessage(text=question))
    assert answer.reply.topic_id is None and answer.reply.steps == ()
    assert answer.reply.kind == "clarify"


async def test_not_covered_offers_what_exists_for_that_platform(core: Core) -> None:
    reply = await core.handle(IncomingMessage(text="delete my google account"))
    assert reply.kind == "not_covered"
    assert "google.gemini_activity" in {c.value for c in reply.choices}
    assert reply.title == "I don't have steps for deleting an account on Google yet."


@pytest.mark.parametrize(
    ("text", "language"), [("hi!", "en"), ("thank you so much", "en"), ("merci beaucoup", "fr")]
)
async def test_greetings_and_thanks_get_one_friendly_line(
    core: Core, text: str, language: str
) -> None:
    reply = await core.handle(IncomingMessage(text=text))
    assert reply.kind == "smalltalk"
    assert reply.language == language
    assert reply.items == () and reply.choices == ()


async def test_polite_question_and_pasted_url_and_article_phrase_are_understood(
    core: Core,
) -> None:
    polite = (
        "Salut ! Tu peux m'aider pour un truc ? Je veux que Grok arrête d'apprendre avec mes posts"
    )
    assert (await core.handle(IncomingMessage(text=polite))).topic_id == "x.grok_training"
    url = "x.com/settings/grok_settings is that the page where I untick the training thing?"
    assert (await core.handle(IncomingMessage(text=url))).topic_id == "x.grok_training"
    article = "an article I read says 'transferts spéciaux de données', where is that in X?"
    assert (await core.handle(IncomingMessage(text=article))).topic_id == "x.third_party_sharing"


@pytest.mark.parametrize(
    ("text", "topic"),
    [
        pytest.param("stop gr\u200bok tra\u200dining", "x.grok_training", id="zero-width-chars"),
        pytest.param(
            "o copilot treina com as minhas conversas?",
            "microsoft.copilot_training",
            id="training-on-my-chats-is-training-not-history",
        ),
        pytest.param(
            "https://x.com/settings/data_sharing_with_business_partners ?",
            "x.third_party_sharing",
            id="a-pasted-settings-link",
        ),
        pytest.param(
            "https://x.com/settings/grok_settings how do I turn this off",
            "x.grok_training",
            id="a-pasted-settings-link-and-words",
        ),
        pytest.param(
            "あなたは私のどんなデータを保存していますか",
            "bot.privacy",
            id="what-the-bot-keeps-is-about-the-bot-not-a-download",
        ),
        pytest.param(
            "私のどんなデータを保存してるの？", "bot.privacy", id="what-the-bot-keeps-casually"
        ),
    ],
)
async def test_a_message_is_answered_with_its_topic(core: Core, text: str, topic: str) -> None:
    reply = await core.handle(IncomingMessage(text=text))
    assert (reply.kind, reply.topic_id) == ("answer", topic)


@pytest.mark.parametrize(
    ("question", "topic", "language"),
    [
        (
            "¿Cómo desactivo que X use mis publicaciones para entrenar a Grok?",
            "x.grok_training",
            "es",
        ),
        ("Wie lösche ich mein Twitter-Konto?", "x.delete_account", "de"),
        ("como tirar a Meta AI do zap", "meta.whatsapp_ai", "pt"),
        ("come scarico l'archivio dei miei dati di Twitter", "x.download_archive", "it"),
        ("Xのアカウントを非公開にする方法", "x.protect_posts", "ja"),
    ],
)
async def test_five_more_languages_get_the_topic_in_their_language(
    core: Core, question: str, topic: str, language: str
) -> None:
    answer = await core.respond(IncomingMessage(text=question))
    assert answer.reply.topic_id == topic
    assert answer.understood is not None and answer.understood.language == language
    assert answer.reply.language == language
    assert answer.reply.title == core.kb.topics[topic].lang(language).title


async def test_a_topic_not_yet_translated_is_english_with_one_line_saying_so() -> None:
    from bot.texts import text

    demo = Core(load_knowledge(REPO / "tests" / "fixtures" / "kb_valid"), MemoryStore())
    answer = await demo.respond(
        IncomingMessage(text="¿cómo impido que demo entrene con mis fotos?")
    )
    assert answer.reply.topic_id == "demo.training"
    assert answer.reply.language == "en"
    assert answer.reply.summary.startswith(text("es", "untranslated"))


async def test_declared_bluesky_language_weighs_more_than_a_tie_breaker(core: Core) -> None:
    plain = await core.respond(IncomingMessage(text="grok ai opt out", language_hint="fr"))
    declared = await core.respond(
        IncomingMessage(text="grok ai opt out", channel="bluesky", language_hint="fr")
    )
    assert plain.understood is not None and plain.understood.language == "en"
    assert declared.understood is not None and declared.understood.language == "fr"


async def test_a_language_chosen_with_lang_stays(core: Core) -> None:
    await core.set_language("cli", "chooser", "fr")
    reply = await core.handle(IncomingMessage(text="delete my twitter account", user_id="chooser"))
    assert reply.language == "fr" and reply.topic_id == "x.delete_account"
    state = await core.store.get_user("cli", "chooser")
    assert state is not None and state.language == "fr" and state.language_chosen


async def _talk(core: Core, user: str, *messages: str) -> list:
    return [await core.handle(IncomingMessage(text=m, user_id=user)) for m in messages]


async def test_follow_up_naming_a_platform_keeps_the_need(core: Core) -> None:
    replies = await _talk(
        core,
        "f1",
        "does LinkedIn train AI on my profile?",
        "same question for gemini",
        "et pour Grok ?",
        "and instagram?",
        "and for facebook?",
    )
    assert [r.topic_id for r in replies] == [
        "linkedin.ai_training",
        "google.gemini_activity",
        "x.grok_training",
        "meta.ai_training",
        "meta.ai_training",
    ]


async def test_follow_up_naming_a_need_keeps_the_platform(core: Core) -> None:
    replies = await _talk(core, "f2", "grok?", "training", "and deleting my history?")
    assert replies[0].kind == "clarify"
    assert [r.topic_id for r in replies[1:]] == ["x.grok_training", "x.grok_history"]
    other = await _talk(core, "f3", "delete my twitter account", "and for spotify?")
    assert other[1].kind == "not_covered" and other[1].topic_id is None


async def test_choices_are_picked_by_number_or_words_in_the_core(core: Core) -> None:
    first = await _talk(core, "c1", "grok", "2")
    assert first[1].topic_id == first[0].choices[1].value
    words = await _talk(core, "c2", "grok", "the chat history one")
    assert words[0].kind == "clarify" and words[1].topic_id == "x.grok_history"
    assert "x.grok_history" in {c.value for c in words[0].choices}


async def test_not_understood_gets_the_short_form_again(core: Core) -> None:
    first, again = await _talk(core, "s1", "how do I stop grok training", "sorry, I don't get it")
    assert again.topic_id == first.topic_id and again.kind == "answer"
    assert again.summary == first.short and again.steps == ()


async def test_a_new_question_is_not_taken_for_a_follow_up(core: Core) -> None:
    """Without "and ...", a question the engine understands alone is a new one."""
    replies = await _talk(
        core, "n1", "delete my spotify account", "download an archive of my tweets"
    )
    assert replies[0].kind == "not_covered"
    assert replies[1].topic_id == "x.download_archive"
    follow = await _talk(core, "n2", "delete my spotify account", "and download my data?")
    assert follow[1].kind == "not_covered"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("meta ki nutzung widersprechen instagram", "de"),
        ("apple intelligence abschalten", "de"),
        ("togliere meta ai dal gruppo whatsapp", "it"),
    ],
)
async def test_short_messages_are_answered_in_their_language_not_the_platform_names(
    core: Core, text: str, language: str
) -> None:
    reply = await core.handle(IncomingMessage(text=text))
    assert reply.language == language


@pytest.mark.parametrize(
    "text", ["cancellare la cronologia di chatgpt", "delete my microsoft account"]
)
async def test_no_neighbouring_topic_stands_in_for_a_missing_one(core: Core, text: str) -> None:
    reply = await core.handle(IncomingMessage(text=text))
    assert reply.kind == "not_covered" and reply.topic_id is None


async def test_a_surface_alone_after_an_answer_is_the_same_topic_there(core: Core) -> None:
    replies = await _talk(core, "f9", "rendre mon compte tiktok privé", "et depuis le site web ?")
    assert [r.topic_id for r in replies] == ["tiktok.private_account"] * 2
    assert replies[1].surface == "web"


async def test_a_need_said_alone_keeps_the_conversations_platform(core: Core) -> None:
    replies = await _talk(
        core, "f10", "delete my tiktok account", "wait, before that I want to download my data"
    )
    assert [r.topic_id for r in replies] == ["tiktok.delete_account", "tiktok.download_data"]


async def test_a_carried_need_is_looser_than_one_asked_in_words(core: Core) -> None:
    replies = await _talk(core, "f11", "stop gemini keeping my chats", "what about chatgpt?")
    assert [r.topic_id for r in replies] == ["google.gemini_activity", "openai.chatgpt_training"]
    asked = await core.handle(IncomingMessage(text="clear my chatgpt chat history"))
    assert asked.kind == "not_covered"


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("great, that works now", "en"),
        ("merci, ça fonctionne", "fr"),
        ("kkkkkk", "pt"),
        ("wwww", "ja"),
    ],
)
async def test_acknowledgements_and_laughter_get_a_friendly_line_in_their_language(
    core: Core, text: str, language: str
) -> None:
    reply = await core.handle(IncomingMessage(text=text))
    assert (reply.kind, reply.language) == ("smalltalk", language)
