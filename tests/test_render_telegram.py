"""The Telegram HTML renderer: escaping, splitting under 4096, buttons as data.

Every chunk is checked with the fake Bot API's strict HTML parser, the same one
that answers the bot with Telegram's "can't parse entities" errors.
"""

from __future__ import annotations

import datetime as dt
import re
import subprocess
import sys

import pytest
from fake_telegram import parse_html, utf16_len
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.messages import Choice, Reply, SourceRef
from bot.render.telegram_html import (
    MAX_CALLBACK_DATA,
    MAX_MESSAGE_LENGTH,
    encode_callback,
    language_buttons,
    needs_separate_details,
    parse_callback,
    render_answer,
    render_reply,
    render_text,
    reply_keyboard,
)
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
    }
    base.update(changes)
    return Reply(**base)  # type: ignore[arg-type]


def visible(chunks: list[str]) -> str:
    """What the user reads, all chunks joined (each parsed like Telegram does)."""
    return "\n".join(parse_html(c)[0] for c in chunks)


def test_an_answer_has_bold_title_numbered_steps_link_and_dated_sources() -> None:
    (html,) = render_reply(answer())
    text, entities = parse_html(html)
    bold = [text[e["offset"] : e["offset"] + e["length"]] for e in entities if e["type"] == "bold"]
    assert "Stop Grok training" in bold and "1." in bold and "2." in bold
    assert "Steps — On the web" in bold
    links = [e["url"] for e in entities if e["type"] == "text_link"]
    assert "https://x.com/settings/grok_settings" in links
    assert "https://help.x.com/grok?a=1&b=2" in links  # &amp; decoded back
    assert "X Help — X, 2024-07-26" in text
    assert "Undated — Blog, n.d." in text
    assert "Checked on 2026-11-26" in text


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
    (html,) = render_reply(reply)
    text, entities = parse_html(html)  # raises if Telegram would refuse it
    assert text.count(NASTY) == 7  # title, summary, step, note, fact, source, publisher
    assert all(e["type"] in {"bold", "italic", "text_link"} for e in entities)
    assert "https://example.org/?q=<b>&r='s'" in [e.get("url") for e in entities]


def test_a_long_reply_is_split_at_paragraph_boundaries() -> None:
    facts = tuple(f"Fact number {n}: " + "words " * 60 for n in range(40))
    reply = answer(facts=facts)
    first, rest = render_answer(reply)
    chunks = first + rest
    assert len(chunks) > 1
    assert all(utf16_len(c) <= MAX_MESSAGE_LENGTH for c in chunks)
    # The steps and the link stay together in the first part; details follow.
    assert "Untick the box." in parse_html(first[0])[0]
    assert "Sources" in visible(rest)
    for fact in facts:  # no fact cut in two: lines are never split when they fit
        assert sum(fact.strip() in parse_html(c)[0] for c in chunks) == 1


def test_a_topic_keeps_its_layout_across_surfaces() -> None:
    short = answer()
    long = answer(steps=tuple("step " * 100 for _ in range(10)), facts=("f " * 1500,))
    assert not needs_separate_details([short])
    assert needs_separate_details([short, long])
    first, rest = render_answer(short, separate_details=True)
    assert len(first) == 1 and rest and "Sources" in visible(rest)
    assert "Sources" not in visible(first)


def test_a_line_without_spaces_longer_than_a_message_is_cut_safely() -> None:
    reply = answer(facts=("&<" * 5000,), sources=())
    chunks = render_reply(reply)
    assert all(utf16_len(c) <= MAX_MESSAGE_LENGTH for c in chunks)
    assert visible(chunks).count("&<") == 5000


def test_emoji_count_double_toward_the_limit() -> None:
    chunks = render_text("😀" * 3000)  # 6000 UTF-16 code units
    assert len(chunks) == 2
    assert all(utf16_len(parse_html(c)[0]) <= MAX_MESSAGE_LENGTH for c in chunks)


def test_clarify_and_fallback_render_their_choices() -> None:
    clarify = Reply(
        kind="clarify",
        language="en",
        topic_id=None,
        confidence=0.4,
        title="Which one do you mean?",
        summary="Your question could be about several things:",
        surface="ios",
        choices=(Choice("topic", "x.a", "A <1>"), Choice("topic", "x.b", "B & C")),
        labels=labels("en"),
    )
    (html,) = render_reply(clarify)
    assert "1. A <1>" in parse_html(html)[0]
    rows = reply_keyboard(clarify)
    assert [b.data for row in rows for b in row] == ["c:en:x.a:ios", "c:en:x.b:ios"]
    fallback = Reply(
        kind="fallback",
        language="fr",
        topic_id=None,
        confidence=0.0,
        title="Désolé",
        items=("Un", "Deux"),
        choices=(Choice("topic", "x.a", "A"),),
        labels=labels("fr"),
    )
    assert "• Un" in visible(render_reply(fallback))
    assert reply_keyboard(fallback)[0][0].data == "c:fr:x.a"


def test_answer_buttons_switch_surface_then_show_related_topics() -> None:
    rows = reply_keyboard(answer())
    assert [b.data for b in rows[0]] == ["s:en:x.grok_training:ios", "s:en:x.grok_training:android"]
    assert rows[1][0].data == "t:en:x.grok_history"


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
    for junk in ("", "zz", "s:en:x.a", "t:de:x.a", "x:en:x.a", "a:b:c:d:e", None):
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
