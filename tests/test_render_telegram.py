"""The Telegram HTML renderer: escaping, splitting under 4096, buttons as data.

Every chunk is checked with the fake Bot API's strict HTML parser, the same one
that answers the bot with Telegram's "can't parse entities" errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import subprocess
import sys

import pytest
from fakes.bot_api import parse_html, utf16_len
from helpers.replies import topics_reply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import Core
from bot.kb.loader import KnowledgeBase
from bot.kb.schema import LANGUAGES
from bot.messages import Choice, Reply, SourceRef, SurfaceAnswer
from bot.render.telegram_html import (
    MAX_CALLBACK_DATA,
    MAX_MESSAGE_LENGTH,
    SHORT_TARGET,
    encode_callback,
    language_buttons,
    parse_callback,
    render_reply,
    render_text,
    reply_keyboard,
    visible_length,
)
from bot.render.typography import typeset
from bot.texts import labels

NASTY = "Tom & Jerry <b>not bold</b> \"quotes\" 'single' 1 < 2 > 0 &amp; &lt; 😀 é"


def answer(**changes: object) -> Reply:
    base = {
        "kind": "answer",
        "language": "en",
        "topic_id": "x.grok_training",
        "confidence": 0.9,
        "title": "Stop Grok training",
        "summary": "Untick the box.",
        "surface": "web",
        "surface_label": "On the web",
        "steps": ("Open Settings.", "Untick the box."),
        "url": "https://x.com/settings/grok_settings",
        "facts": ("On by default.",),
        "caveats": ("Labels change.",),
        "sources": (
            SourceRef("X Help", "X", "https://help.x.com/grok?a=1&b=2", dt.date(2024, 7, 26)),
            SourceRef("Undated", "Blog", "https://example.org/p", None),
        ),
        "last_verified": dt.date(2026, 11, 26),
        "choices": (
            Choice("surface", "ios", "iPhone app"),
            Choice("surface", "android", "Android app"),
            Choice("topic", "x.grok_history", "Delete Grok history"),
        ),
        "labels": labels("en"),
        "parts": ("surfaces", "why", "sources", "related"),
        "other_surfaces": (
            SurfaceAnswer("ios", "In the iPhone app", ("Tap Settings.",)),
            SurfaceAnswer("android", "In the Android app", ("Tap Menu.",), "Labels differ."),
        ),
    }
    base.update(changes)
    return Reply(**base)  # type: ignore[arg-type]


def visible(chunks: list[str]) -> str:
    """What the user reads, all chunks joined (each parsed like Telegram does)."""
    return "\n".join(parse_html(c)[0] for c in chunks)


def test_the_short_answer_has_title_summary_numbered_steps_and_link_only() -> None:
    (html,) = render_reply(answer())
    text, entities = parse_html(html)
    bold = [text[e["offset"] : e["offset"] + e["length"]] for e in entities if e["type"] == "bold"]
    assert "Stop Grok training" in bold and "1." in bold and "2." in bold
    assert "On the web:" in bold
    links = [e["url"] for e in entities if e["type"] == "text_link"]
    assert links == ["https://x.com/settings/grok_settings"]
    assert "Checked on 26 November 2026" in text
    assert "On by default." not in text and "X Help" not in text  # details wait


def test_each_detail_part_is_its_own_message() -> None:
    (why,) = render_reply(answer(part="why"))
    assert "On by default." in parse_html(why)[0] and "Labels change." in parse_html(why)[0]
    (sources,) = render_reply(answer(part="sources"))
    text, entities = parse_html(sources)
    assert "https://help.x.com/grok?a=1&b=2" in [e.get("url") for e in entities]
    assert "X Help — X, 26 July 2024" in text
    assert "Undated — Blog, n.d." in text
    (surfaces,) = render_reply(answer(part="surfaces"))
    assert "In the Android app:" in parse_html(surfaces)[0]
    assert "Labels differ." in parse_html(surfaces)[0]
    (related,) = render_reply(answer(part="related"))
    assert "• Delete Grok history" in parse_html(related)[0]


def test_a_french_reply_has_french_dates_spacing_and_labels() -> None:
    reply = answer(
        language="fr",
        labels=labels("fr"),
        summary="Vous voulez arrêter ? Décochez : voilà !",
        part="sources",
    )
    text = parse_html(render_reply(reply)[0])[0]
    assert "26 juillet 2024" in text and "s.d." in text and "Vérifié le 26 novembre 2026" in text
    short = parse_html(render_reply(dataclasses.replace(reply, part="short"))[0])[0]
    assert "arrêter\u202f? Décochez\u202f: voilà\u202f!" in short
    labels_shown = [b.label for row in reply_keyboard(reply) for b in row]
    assert labels_shown == [
        "↩ Réponse courte",
        "Autres appareils",
        "Pourquoi, ce qui se passe",
        "Voir aussi",
    ]


def test_visible_length_counts_what_telegram_shows_not_the_html() -> None:
    html = '<b>Tom &amp; Jerry</b> <a href="https://example.org/?a=1&amp;b=2">link</a> 😀'
    assert visible_length(html) == utf16_len(parse_html(html)[0]) == len("Tom & Jerry link ") + 2
    for reply in (answer(), answer(part="why"), answer(part="sources")):
        for chunk in render_reply(reply):
            assert visible_length(chunk) == utf16_len(parse_html(chunk)[0])


def test_every_topic_s_short_answer_is_one_message_mostly_within_one_screen(
    knowledge: KnowledgeBase,
) -> None:
    core = Core(knowledge)
    lengths = []
    for topic_id in core.kb.topics:
        for language in LANGUAGES:
            chunks = render_reply(core.topic_reply(topic_id, language))
            assert len(chunks) == 1, (topic_id, language)
            lengths.append(visible_length(chunks[0]))
    within = sum(n <= SHORT_TARGET for n in lengths)
    assert within >= 0.9 * len(lengths), sorted(lengths)
    assert max(lengths) <= MAX_MESSAGE_LENGTH


def test_every_interpolated_string_is_escaped() -> None:
    reply = answer(
        title=NASTY,
        summary=NASTY,
        steps=(NASTY,),
        facts=(NASTY,),
        surface_note=NASTY,
        url='https://example.org/a?x="1"&y=<2>',
        sources=(SourceRef(NASTY, NASTY, "https://example.org/?q=<b>&r='s'", None),),
    )
    text, entities = parse_html(render_reply(dataclasses.replace(reply, part="full"))[0])
    assert text.count(NASTY) == 7  # title, summary, step, note, fact, source, publisher
    assert all(e["type"] in {"bold", "italic", "text_link"} for e in entities)
    assert "https://example.org/?q=<b>&r='s'" in [e.get("url") for e in entities]


def test_a_long_part_is_split_at_paragraph_boundaries() -> None:
    facts = tuple(f"Fact number {n}: " + "words " * 60 for n in range(40))
    chunks = render_reply(answer(facts=facts, part="why"))
    assert len(chunks) > 1
    assert all(utf16_len(c) <= MAX_MESSAGE_LENGTH for c in chunks)
    for fact in facts:  # no fact cut in two: lines are never split when they fit
        assert sum(fact.strip() in parse_html(c)[0] for c in chunks) == 1


def test_a_line_without_spaces_longer_than_a_message_is_cut_safely() -> None:
    reply = answer(facts=("&<" * 5000,), sources=(), part="why")
    chunks = render_reply(reply)
    assert all(utf16_len(c) <= MAX_MESSAGE_LENGTH for c in chunks)
    assert visible(chunks).count("&<") == 5000


def test_emoji_count_double_toward_the_limit() -> None:
    chunks = render_text("😀" * 3000)  # 6000 UTF-16 code units
    assert len(chunks) == 2
    assert all(utf16_len(parse_html(c)[0]) <= MAX_MESSAGE_LENGTH for c in chunks)


def test_clarify_and_fallback_render_their_choices() -> None:
    clarify = topics_reply(
        "clarify",
        "en",
        "Which one do you mean?",
        {"x.a": "A <1>", "x.b": "B & C"},
        summary="Your question could be about several things:",
        surface="ios",
    )
    (html,) = render_reply(clarify)
    assert "1. A <1>" in parse_html(html)[0]
    rows = reply_keyboard(clarify)
    assert [b.data for row in rows for b in row] == ["c:en:x.a:ios", "c:en:x.b:ios"]
    assert [b.label for row in rows for b in row] == ["1. A <1>", "2. B & C"]
    fallback = topics_reply("fallback", "fr", "Désolé", {"x.a": "A"}, items=("Un", "Deux"))
    (html,) = render_reply(fallback)  # one short message, not a list of every topic
    assert "Un" not in visible([html])
    assert reply_keyboard(fallback)[0][0].data == "c:fr:x.a"
    smalltalk = topics_reply("smalltalk", "en", "Hi!", confidence=1.0)
    assert visible(render_reply(smalltalk)) == "Hi!"
    assert reply_keyboard(smalltalk) == []


def test_short_answer_buttons_switch_surface_then_open_each_detail_part() -> None:
    rows = reply_keyboard(answer())
    assert [b.data for b in rows[0]] == ["s:en:x.grok_training:ios", "s:en:x.grok_training:android"]
    parts = [b.data for row in rows[1:] for b in row]
    assert parts == [
        "p:en:x.grok_training:why.web",
        "p:en:x.grok_training:sources.web",
        "p:en:x.grok_training:related.web",
    ]
    related = reply_keyboard(answer(part="related"))
    assert related[0][0].data == "p:en:x.grok_training:short.web"  # back
    assert related[-1][0].data == "t:en:x.grok_history"
    parsed = parse_callback("p:en:x.grok_training:sources.ios")
    assert parsed is not None and (parsed.part, parsed.surface) == ("sources", "ios")
    assert parse_callback("p:en:x.grok_training:nonsense.ios") is None


def test_callback_data_round_trips_and_stays_under_64_bytes() -> None:
    data = encode_callback("s", "fr", "x.third_party_sharing", "android")
    assert data == "s:fr:x.third_party_sharing:android"
    parsed = parse_callback(data)
    assert parsed is not None
    assert (parsed.kind, parsed.language, parsed.topic_id, parsed.surface) == (
        "s",
        "fr",
        "x.third_party_sharing",
        "android",
    )
    assert encode_callback("t", "en", "x." + "a" * 70) is None
    reply = answer(topic_id="x." + "a" * 70)
    assert all(len(b.data.encode()) <= MAX_CALLBACK_DATA for r in reply_keyboard(reply) for b in r)
    for junk in ("", "zz", "s:en:x.a", "t:zz:x.a", "x:en:x.a", "a:b:c:d:e", None):
        assert parse_callback(junk) is None
    assert parse_callback("l:fr") is not None
    assert {b.data for b in language_buttons("fr")[0]} == {"l:en", "l:fr"}


def test_the_renderer_does_not_import_telegram() -> None:
    code = "import sys, bot.render.telegram_html; sys.exit('telegram' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"),
    max_size=300,
) | st.sampled_from(["<", "&", "&amp;", "<b>", "</a>", '"', "😀" * 50, "x" * 5000])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_text,
    summary=_text,
    steps=st.lists(_text, max_size=12),
    facts=st.lists(_text, max_size=30),
    source_titles=st.lists(_text, max_size=5),
    limit=st.sampled_from([MAX_MESSAGE_LENGTH, 300, 60]),
)
def test_fuzz_every_chunk_parses_fits_and_nothing_is_lost(
    title: str,
    summary: str,
    steps: list[str],
    facts: list[str],
    source_titles: list[str],
    limit: int,
) -> None:
    reply = answer(
        title=title,
        summary=summary,
        steps=tuple(steps),
        facts=tuple(facts),
        sources=tuple(
            SourceRef(t or "s", "P&<", "https://e.org/?a=<>", None) for t in source_titles
        ),
        part="full",
    )
    chunks = render_reply(reply, limit=limit)
    assert chunks
    for chunk in chunks:
        assert utf16_len(chunk) <= limit
        text, _ = parse_html(chunk)  # never "can't parse entities"
        assert text.strip()
    whole = render_reply(reply, limit=10**9)
    squash = re.compile(r"\s+")
    assert squash.sub("", visible(chunks)) == squash.sub("", visible(whole))


@pytest.mark.parametrize("limit", [MAX_MESSAGE_LENGTH, 100])
def test_plain_text_is_escaped_and_split(limit: int) -> None:
    chunks = render_text(("a < b & c\n" * 300 + "\n\n") * 3, limit=limit)
    assert all(utf16_len(c) <= limit for c in chunks)
    assert visible(chunks).count("a < b & c") == 900


def test_not_covered_offers_numbered_buttons() -> None:
    reply = topics_reply(
        "not_covered",
        "en",
        "I have nothing on Pinterest and AI yet.",
        {"x.a": "Private account", "x.b": "Delete"},
        summary="Here is what I have:",
    )
    (html,) = render_reply(reply)
    assert "1. Private account\n2. Delete" in parse_html(html)[0]
    assert [b.label for row in reply_keyboard(reply) for b in row] == [
        "1. Private account",
        "2. Delete",
    ]


ENGLISH_FRAGMENTS = (
    "Checked on",
    "Direct link",
    "Open the setting",
    "What happens",
    "Good to know",
    "Related",
    "Other devices",
    "Short answer",
    "On the web",
    "iPhone app",
    "Android app",
    "n.d.",
    "Why / what",
)


def test_no_english_fragment_in_any_french_part_on_either_channel(knowledge: KnowledgeBase) -> None:
    from bot.render.bluesky import render_bluesky

    core = Core(knowledge)
    for topic_id, topic in core.kb.topics.items():
        if not topic.has_language("fr"):
            continue
        short = core.topic_reply(topic_id, "fr")
        for reply in [short] + [core.topic_part(topic_id, "fr", p) for p in short.parts]:
            shown = [parse_html(m)[0] for m in render_reply(reply)]
            shown += [b.label for row in reply_keyboard(reply) for b in row]
            shown += [p.text for p in render_bluesky(reply)]
            for source in reply.sources:  # a cited work keeps its own title
                title = typeset(source.title, "fr")
                shown = [s.replace(title, "").replace(source.title, "") for s in shown]
            for fragment in ENGLISH_FRAGMENTS:
                assert not any(fragment in s for s in shown), (topic_id, reply.part, fragment)


def test_button_labels_follow_the_reply_language() -> None:
    for language, why in (("de", "Warum, was passiert"), ("ja", "理由と仕組み")):
        reply = answer(language=language, labels=labels(language))
        assert why in [b.label for row in reply_keyboard(reply) for b in row]
