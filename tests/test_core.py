"""The core answering questions from the real knowledge base."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.core import Core
from bot.kb.loader import load_knowledge
from bot.messages import IncomingMessage
from bot.render.plain import render_plain
from bot.store.memory import MemoryStore

REPO = Path(__file__).resolve().parents[1]
DEV = REPO.parent / "shared" / "eval" / "dev.yaml"


@pytest.fixture(scope="module")
def core() -> Core:
    return Core(load_knowledge(REPO / "knowledge"), MemoryStore())


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
    assert reply.url in text and reply.last_verified.isoformat() in text


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
    titles = {t.en.title for t in core.kb.topics.values() if t.platform != "bot"}
    assert set(reply.items) == titles


async def test_forget_erases_user_state(core: Core) -> None:
    await core.handle(IncomingMessage(text="stop grok training", user_id="u2"))
    assert await core.store.get_user("cli", "u2") is not None
    assert await core.forget("cli", "u2") is True
    assert await core.store.get_user("cli", "u2") is None


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t ",
        "😀🔥🙏" * 50,
        "\x00\x01\x02\x1b[31mred\x07",
        "a" * 100_000,
        "grok " * 20_000,
        "\u202eoverride\u200d\u200b",
        "<b>hi</b> <script>alert(1)</script> **bold** [link](javascript:alert(1))",
        "\udcff broken surrogate",
    ],
    ids=["empty", "blank", "emoji", "control", "100k", "100k-words", "rtl-zwj", "markup", "surr"],
)
async def test_hostile_input_gets_a_clear_answer(core: Core, text: str) -> None:
    reply = await core.handle(IncomingMessage(text=text, user_id="h"))
    assert reply.kind in {"answer", "clarify", "fallback"}
    assert reply.title
    rendered = render_plain(reply)
    assert len(rendered) < 20_000
    if reply.kind == "fallback":
        assert "<script>" not in rendered


async def test_empty_message_says_so(core: Core) -> None:
    reply = await core.handle(IncomingMessage(text="🙏🙏"))
    assert reply.kind == "fallback"
    assert reply.title == "I didn't find a question in your message."


async def test_every_answer_is_counted_in_the_metrics(core: Core) -> None:
    from bot import metrics

    before = metrics.METRICS.messages["metrics-test"]
    await core.handle(IncomingMessage(text="stop grok training", channel="metrics-test"))
    assert metrics.METRICS.messages["metrics-test"] == before + 1
    assert 'channel="metrics-test"' in metrics.METRICS.render()
