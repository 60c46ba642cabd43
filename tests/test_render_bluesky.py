"""Tests of bot.render.bluesky: grapheme limits, byte-offset facets, thread splits."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys

from helpers.replies import topics_reply
from hypothesis import given, settings
from hypothesis import strategies as st

from bot.core import Core
from bot.kb.loader import KnowledgeBase
from bot.kb.schema import LANGUAGES
from bot.messages import Reply, SourceRef
from bot.render.bluesky import (
    MAX_GRAPHEMES,
    ExternalEmbed,
    Paragraph,
    Post,
    Span,
    grapheme_len,
    link_text,
    render_bluesky,
    split_posts,
)
from bot.texts import labels


def _reply(**kw: object) -> Reply:
    base: dict[str, object] = dict(
        kind="answer",
        language="en",
        topic_id="x.grok_training",
        confidence=1.0,
        title="Stop Grok training",
        summary="Untick the box.",
        short="Untick the Grok box in Settings › Privacy and safety › Grok.",
        url="https://x.com/settings/grok_settings",
        surface="web",
        surface_label="On the web",
        steps=("Open Settings.", "Privacy and safety › Grok.", "Untick the box."),
        sources=(SourceRef("About Grok", "X", "https://help.x.com/en/using-x/about-grok", None),),
        last_verified=dt.date(2026, 11, 1),
        labels=labels("en"),
    )
    base.update(kw)
    return Reply(**base)  # type: ignore[arg-type]


def _check(post: Post, limit: int = MAX_GRAPHEMES) -> None:
    assert grapheme_len(post.text) <= limit
    assert len(post.text.encode()) <= 3000
    data = post.text.encode()
    previous_end = 0
    for facet in post.facets:
        assert previous_end <= facet.byte_start < facet.byte_end <= len(data)
        data[facet.byte_start : facet.byte_end].decode()  # on character boundaries
        previous_end = facet.byte_end


def _link_texts(post: Post) -> list[tuple[str, str]]:
    data = post.text.encode()
    return [(data[f.byte_start : f.byte_end].decode(), f.uri) for f in post.facets]


def test_grapheme_len_counts_clusters_not_code_points() -> None:
    assert grapheme_len("👍🏽 é\u0301 🇫🇷") == 5
    assert grapheme_len("🙅🏽‍♀️") == 1
    assert len("🙅🏽‍♀️") == 5


def test_render_has_no_atproto_dependency() -> None:
    code = (
        "import sys, bot.render.bluesky as r; "
        "assert not [m for m in sys.modules if m.startswith('atproto')], 'atproto imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


def test_short_answer_fits_one_post_with_the_direct_link_facet() -> None:
    posts = render_bluesky(_reply())
    assert len(posts) == 1
    _check(posts[0])
    assert ("x.com/settings/grok_settings", "https://x.com/settings/grok_settings") in _link_texts(
        posts[0]
    )
    assert posts[0].text.startswith("Untick the Grok box")
    assert "1. Open Settings." not in posts[0].text  # the one-post answer says what to do
    assert posts[0].embed == ExternalEmbed(
        "https://x.com/settings/grok_settings", "Stop Grok training", "Untick the box."
    )
    (asked,) = render_bluesky(_reply(surface_asked=True))  # "on the web?": the steps fit
    assert asked.text.startswith("On the web:\n1. Open Settings.") and asked.embed is not None
    assert "Untick the Grok box" not in asked.text  # a follow-up never repeats the first post
    assert asked.facets[-1].uri == "https://x.com/settings/grok_settings"


def test_every_topic_is_one_post_with_a_link_facet_and_a_card_when_it_has_a_url(
    knowledge: KnowledgeBase,
) -> None:
    core = Core(knowledge)
    for topic_id, topic in core.kb.topics.items():
        for language in LANGUAGES:
            posts = render_bluesky(core.topic_reply(topic_id, language))
            assert len(posts) == 1, (topic_id, language)
            _check(posts[0])
            assert posts[0].facets, (topic_id, language)
            if topic.url:
                assert topic.url in [f.uri for f in posts[0].facets]
                assert posts[0].embed is not None and posts[0].embed.uri == topic.url


def test_domain_names_and_urls_in_the_text_become_link_facets() -> None:
    (post,) = render_bluesky(
        _reply(short="Go to x.com or gemini.google.com/app, not me@mail.com. Café.fr!", url=None)
    )
    found = _link_texts(post)
    assert ("x.com", "https://x.com") in found
    assert ("gemini.google.com/app", "https://gemini.google.com/app") in found
    assert not any("mail.com" in text for text, _ in found)
    assert post.embed is None


def test_detail_parts_sources_dated_in_the_reply_language() -> None:
    sources = tuple(
        SourceRef(f"T{i}", f"Pub{i}", f"https://example.org/{i}", dt.date(2026, 12, 5))
        for i in range(3)
    )
    (post,) = render_bluesky(
        _reply(language="fr", labels=labels("fr"), sources=sources, part="sources")
    )
    assert "Pub0, 5 décembre 2026\u202f: example.org/0" in post.text
    assert [uri for _, uri in _link_texts(post)] == [s.url for s in sources]
    assert post.embed is None
    (why,) = render_bluesky(_reply(facts=("On by default.",), caveats=("EU only.",), part="why"))
    assert why.text == "• On by default.\n\n• EU only."


def test_off_topic_is_one_short_post_and_smalltalk_one_line() -> None:
    fallback = topics_reply(
        "fallback",
        "en",
        "Sorry, I don't know how to answer that.",
        items=tuple(f"Topic {i}" for i in range(16)),
    )
    (post,) = render_bluesky(fallback)
    assert "Topic" not in post.text and grapheme_len(post.text) < 200


def test_facet_offsets_are_utf8_bytes_after_multibyte_text() -> None:
    reply = _reply(
        short="Décochez « Autoriser » 🙅🏽‍♀️ dans Paramètres › Confidentialité.", language="fr"
    )
    post = render_bluesky(reply)[0]
    _check(post)
    text, uri = _link_texts(post)[0]
    assert text == "x.com/settings/grok_settings" and uri == "https://x.com/settings/grok_settings"
    assert post.text.index(text) != post.facets[0].byte_start  # chars != bytes here


def test_long_url_is_shown_short_but_facet_keeps_it_whole() -> None:
    url = "https://help.x.com/en/rules-and-policies/" + "very-long-segment-" * 10 + "?x=1#y"
    shown = link_text(url)
    assert shown.startswith("help.x.com/en/rules") and shown.endswith("…")
    assert grapheme_len(shown) <= 32
    post = render_bluesky(_reply(url=url))[0]
    assert (shown, url) in _link_texts(post)


def test_long_answer_becomes_a_thread_split_at_step_boundaries() -> None:
    steps = tuple(
        f"Step {i} is a long sentence about what to tap in the settings page." * 2 for i in range(9)
    )
    posts = render_bluesky(_reply(steps=steps, surface_asked=True), max_posts=4)
    assert 2 <= len(posts) <= 4
    for post in posts:
        _check(post)
    # First post: the short answer and the direct link, complete.
    assert posts[0].facets and posts[0].facets[0].uri == "https://x.com/settings/grok_settings"
    # Each later post starts with a whole numbered step (never mid-word).
    for post in posts[1:]:
        first_line = post.text.splitlines()[0]
        assert first_line[0].isdigit() or first_line.startswith("On the web")


def test_thread_is_capped_with_an_ellipsis() -> None:
    steps = tuple("word " * 55 for _ in range(10))
    posts = render_bluesky(_reply(steps=steps, surface_asked=True), max_posts=3)
    assert len(posts) == 3
    assert posts[-1].text.endswith("…")


def test_split_prefers_paragraph_then_sentence_then_word() -> None:
    para1: Paragraph = [Span("First paragraph. " * 5)]
    para2: Paragraph = [Span("Second one has sentences. And more sentences here. " * 6)]
    posts = split_posts([para1, para2], max_graphemes=120)
    assert posts[0].text == ("First paragraph. " * 5).strip()
    for post in posts[1:]:
        assert post.text.endswith(".")


def test_a_link_is_never_cut() -> None:
    spans: Paragraph = [
        Span("a " * 40),
        Span("example.org/x", "https://example.org/x"),
        Span(". end"),
    ]
    for limit in range(14, 60):
        posts = split_posts([spans], max_graphemes=limit)
        found = [lt for p in posts for lt in _link_texts(p)]
        assert found == [("example.org/x", "https://example.org/x")]
        for post in posts:
            _check(post, limit)


def test_clarify_lists_the_choices() -> None:
    reply = topics_reply(
        "clarify",
        "en",
        "Which one do you mean?",
        {"a": "Stop Grok training", "b": "Delete account"},
        summary="Your question could be about several things:",
    )
    posts = render_bluesky(reply)
    (post,) = posts
    assert "1. Stop Grok training\n2. Delete account" in post.text  # reply with a number
    assert post.text.endswith("Reply with a number.")


def test_oversized_word_is_hard_cut_at_grapheme_boundaries() -> None:
    posts = split_posts([[Span("🇫🇷" * 700)]])
    assert len(posts) == 3
    for post in posts:
        _check(post)
        assert len(post.text) % 2 == 0  # never half a flag


_TEXT = st.lists(
    st.sampled_from([*"abc déf.!? \n", "🇫🇷", "👍🏽", "é\u0301", "\u200d", "中", "  ", "\u00a0"]),
    max_size=300,
).map("".join)


@st.composite
def _paragraphs(draw: st.DrawFn) -> list[Paragraph]:
    out = []
    for _ in range(draw(st.integers(1, 4))):
        spans = []
        for _ in range(draw(st.integers(1, 5))):
            if draw(st.booleans()):
                spans.append(Span(draw(_TEXT)))
            else:
                spans.append(
                    Span(
                        draw(st.sampled_from(["ex.org/a", "x.com/…", "é.fr"])),
                        "https://e.org/" + draw(st.text("abc", min_size=1, max_size=5)),
                    )
                )
        out.append(spans)
    return out


@settings(max_examples=300, deadline=None)
@given(_paragraphs(), st.integers(min_value=12, max_value=300))
def test_fuzz_every_post_fits_and_every_link_survives(paras: list[Paragraph], limit: int) -> None:
    posts = split_posts(paras, max_graphemes=limit)
    links_in = [s.uri for p in paras for s in p if s.uri is not None and s.text]
    links_out = []
    for post in posts:
        _check(post, limit)
        assert post.text.strip() != "" or not post.text
        links_out += [uri for _, uri in _link_texts(post)]
        for text, _uri in _link_texts(post):
            assert text in {"ex.org/a", "x.com/…", "é.fr"}
    assert links_out == links_in
    # No visible character is lost: the words survive in order.
    words_in = "".join("".join(s.text for s in p) for p in paras).split()
    words_out = " ".join(p.text for p in posts).split()
    assert "".join(words_out) == "".join(words_in)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.text(max_size=200), max_size=8), st.text(max_size=400))
def test_fuzz_render_reply(steps: list[str], short: str) -> None:
    posts = render_bluesky(_reply(steps=tuple(steps), short=short or "x", surface_asked=True))
    assert 1 <= len(posts) <= 4
    for post in posts:
        _check(post)


def test_not_covered_numbers_what_exists_and_asks_for_a_number() -> None:
    reply = topics_reply(
        "not_covered",
        "fr",
        "Je n'ai rien sur Pinterest et l'IA.",
        {"a": "Compte privé", "b": "Supprimer"},
        summary="Voici ce que j'ai :",
    )
    (post,) = render_bluesky(reply)
    assert "Voici ce que j'ai\u202f:\n\n1. Compte privé\n2. Supprimer" in post.text
    assert post.text.endswith("Répondez par un numéro.")


def test_a_link_longer_than_a_post_is_shown_short_and_kept_whole() -> None:
    from bot.render.bluesky import MAX_GRAPHEMES, Span, grapheme_len, split_posts

    url = "https://x.com/settings/grok_settings?a=1&b=<2>" * 7
    posts = split_posts([[Span(url, url)]])
    assert all(grapheme_len(p.text) <= MAX_GRAPHEMES for p in posts)
    assert [f.uri for p in posts for f in p.facets] == [url]


def test_a_link_goes_to_the_host_the_reader_sees() -> None:
    # Found by the hostile-input property test: a URL written inside another link's
    # path made the whole text link to the hidden host.
    from bot.render.bluesky import Span, autolink

    text = "see www.example.com/a?https://x.com/settings/grok_settings now"
    links = [(span.text, span.uri) for span in autolink(Span(text)) if span.uri]
    assert links == [
        (
            "www.example.com/a?https://x.com/settings/grok_settings",
            "https://www.example.com/a?https://x.com/settings/grok_settings",
        )
    ]
    assert [s.uri for s in autolink(Span("HTTP://Example.com/a"))] == ["http://example.com/a"]


def test_no_post_is_only_a_blank() -> None:
    # Found by the property test: a word cut at the limit left its no-break space alone.
    posts = split_posts([[Span("aaaaaaaa"), Span("aaaa\xa0")]], max_graphemes=12)
    assert [p.text for p in posts] == ["aaaaaaaaaaaa"]
