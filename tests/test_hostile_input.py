"""Hostile input through the question pipeline and the three renderers.

What people send is arbitrary: control characters, bidi overrides, zero-width
joiners, lone surrogates (a JSON ``\\ud800`` escape decodes to one), a megabyte
of text, thousands of emoji, HTML and Markdown meant to be rendered. The bot
must answer, never crash, never render markup it did not write, and keep every
message within the channel's limits (Telegram: 4096 UTF-16 code units of
Telegram HTML; Bluesky: 300 graphemes, 3,000 UTF-8 bytes, link facets on UTF-8
byte ranges of the link text).

The user's text is never echoed in an answer, so the renderers are also fuzzed
with :class:`~bot.messages.Reply` objects whose every free-text field is hostile
(ids and URLs keep the shape the knowledge base validator enforces).

Linearity is checked without clocks: by counting Python calls for a 10 kB and a
1 MB message, and by checking that no phrase rule of the normalizer ever sees a
run of whitespace its ``\\s*-?\\s*`` could backtrack over.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from helpers.replies import check_reply_shape
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core import Answer, Core
from bot.kb.loader import KnowledgeBase
from bot.messages import Choice, IncomingMessage, Reply, SourceRef
from bot.nlu import normalize
from bot.nlu.language import SUPPORTED
from bot.render.bluesky import MAX_BYTES, MAX_GRAPHEMES, MAX_POSTS, link_text, render_bluesky
from bot.render.plain import render_plain
from bot.render.telegram_html import (
    MAX_CALLBACK_DATA,
    MAX_MESSAGE_LENGTH,
    render_reply,
    render_text,
    reply_keyboard,
    scrub,
)
from bot.render.typography import typeset
from bot.store.memory import MemoryStore
from bot.texts import labels

REPO = Path(__file__).resolve().parents[1]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REPLIES = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- hostile material ------------------------------------------------------------

CONTROL = [chr(c) for c in (*range(0x00, 0x20), 0x7F, *range(0x80, 0xA0))]
BIDI = [
    "\u200e",
    "\u200f",
    "\u061c",
    *map(chr, range(0x202A, 0x202F)),
    *map(chr, range(0x2066, 0x206A)),
]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u034f", "\u180e"]
SURROGATES = ["\ud800", "\udbff", "\udc00", "\udfff", "\ud83d", "\ude00"]
EMOJI = [
    "😀",
    "👍🏽",
    "👨‍👩‍👧‍👦",
    "🏳️‍🌈",
    "🇫🇷",
    "🧑🏿‍🚀",
    "❤️",
    "🫠",
    "#️⃣",
    "🏴󠁧󠁢󠁳󠁣󠁴󠁿",
]
COMBINING = ["e\u0301", "a" + "\u0300" * 30, "Z\u0336\u0335\u0334\u0337" * 3]
HTML = [
    "<b>",
    "</b>",
    "<i>x</i>",
    "<u>",
    "<s>",
    "<pre>",
    "<code>",
    "<tg-spoiler>",
    '<span class="tg-spoiler">',
    "<blockquote>",
    '<a href="https://evil.example/">',
    '<a href="javascript:alert(1)">click</a>',
    "</a>",
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<!-- c -->",
    "<![CDATA[x]]>",
    "<?xml?>",
    "&amp;",
    "&lt;b&gt;",
    "&#60;b&#62;",
    "&#x3c;",
    "&nbsp;",
    "&",
    "<",
    ">",
    '"',
    "'",
]
MARKDOWN = [
    "**bold**",
    "__under__",
    "_i_",
    "*b*",
    "~~s~~",
    "||spoiler||",
    "`code`",
    "```py\nprint(1)\n```",
    "[click](https://evil.example/)",
    "![img](https://evil.example/a.png)",
    "> quote",
    "\\",
    "# Title",
]
WORDS = [
    "grok",
    "Grok",
    "train",
    "training",
    "opt out",
    "opt   -   out",
    "x.com",
    "x . com",
    "Twitter",
    "tweets",
    "données",
    "entraînement",
    "iPhone",
    "android",
    "web",
    "delete",
    "account",
    "stop",
    "how do I",
    "comment",
    "@privacybot.bsky.social",
    "@privacy_bot",
    "https://x.com/settings/grok_settings?a=1&b=<2>",
    "www.example.com/" + "a" * 40,
    "?",
    "!",
    "…",
    ".",
]
SPACES = [" ", "  ", "\t", "\n", "\n\n", "\r\n", "\u00a0", "\u2007", "\u3000", "\u2028", " " * 50]


def _pieces() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(CONTROL + BIDI + INVISIBLE + SURROGATES + EMOJI + COMBINING),
        st.sampled_from(HTML + MARKDOWN),
        st.sampled_from(WORDS + SPACES),
        # Any code point at all, surrogates included.
        st.text(st.characters(codec=None, exclude_categories=()), max_size=8),
    )


hostile_text = st.lists(_pieces(), max_size=40).map("".join)
"""A message made of hostile pieces, topic words and arbitrary characters."""

# What the knowledge base validator lets through for ids and URLs (see
# bot.kb.schema): the free text around them is where anything goes.
topic_ids = st.from_regex(r"\A[a-z][a-z0-9_]{0,12}\.[a-z][a-z0-9_]{0,20}\Z")
url_path = st.lists(
    st.one_of(
        st.sampled_from(['"', "'", "<", ">", "&", "&amp;", "?", "#", "%", "[", "]", "é", "😀"]),
        st.text(
            st.characters(codec=None, exclude_categories=("Zs", "Zl", "Zp", "Cc")),
            max_size=6,
        ).filter(lambda s: not any(ch.isspace() for ch in s)),
    ),
    max_size=20,
).map("".join)
urls = st.builds(
    lambda scheme, host, path: f"{scheme}://{host}/{path}",
    st.sampled_from(["http", "https"]),
    st.from_regex(r"\A[a-z0-9-]{1,20}(\.[a-z0-9-]{1,10}){0,2}\.[a-z]{2,6}\Z"),
    url_path,
)
long_text = st.one_of(
    hostile_text,
    st.builds(lambda unit, n: unit * n, hostile_text, st.integers(1, 300)),
)
dates = st.one_of(st.none(), st.dates(dt.date(2000, 1, 1), dt.date(2100, 1, 1)))


@st.composite
def hostile_replies(draw: st.DrawFn) -> Reply:
    """A Reply whose every free-text field is hostile."""
    language = draw(st.sampled_from(["en", "fr"]))
    kind = draw(st.sampled_from(["answer", "clarify", "fallback"]))
    choices = draw(
        st.lists(
            st.one_of(
                st.builds(
                    Choice,
                    st.just("surface"),
                    st.sampled_from(["web", "ios", "android"]),
                    long_text,
                ),
                st.builds(Choice, st.just("topic"), topic_ids, long_text),
            ),
            max_size=6,
        )
    )
    hostile_labels = draw(
        st.dictionaries(
            st.sampled_from(["steps", "link", "facts", "caveats", "sources", "checked", "no_date"]),
            hostile_text,
        )
    )
    return Reply(
        kind=kind,
        language=language,
        topic_id=draw(topic_ids),
        confidence=draw(st.floats(0, 1)),
        title=draw(long_text),
        summary=draw(long_text),
        short=draw(long_text),
        surface=draw(st.sampled_from([None, "web", "ios", "android"])),
        surface_label=draw(hostile_text),
        steps=tuple(draw(st.lists(long_text, max_size=8))),
        surface_note=draw(st.none() | hostile_text),
        url=draw(st.none() | urls),
        facts=tuple(draw(st.lists(long_text, max_size=5))),
        caveats=tuple(draw(st.lists(hostile_text, max_size=4))),
        sources=tuple(
            draw(
                st.lists(
                    st.builds(SourceRef, long_text, hostile_text, urls, dates),
                    max_size=4,
                )
            )
        ),
        last_verified=draw(dates),
        items=tuple(draw(st.lists(hostile_text, max_size=8))),
        choices=tuple(choices),
        labels={**labels(language), **hostile_labels},
    )


# --- what a valid output is ------------------------------------------------------

TELEGRAM_TAGS = frozenset(
    "b strong i em u ins s strike del a code pre blockquote tg-spoiler span".split()
)
_ENTITY = re.compile(r"&(?:lt|gt|amp|quot|#[0-9]{1,7}|#x[0-9a-fA-F]{1,6});")


class TelegramHtmlError(AssertionError):
    """The text would be refused by Telegram ("can't parse entities")."""


class TelegramHtmlValidator(HTMLParser):
    """Accepts only the HTML Telegram's ``parse_mode=HTML`` accepts, balanced.

    Tags: b/strong, i/em, u/ins, s/strike/del, ``a href``, code, pre,
    blockquote, tg-spoiler and ``span class="tg-spoiler"``. Every ``<`` must open
    one of them and every ``&`` must start one of the entities Telegram knows.
    """

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TELEGRAM_TAGS:
            raise TelegramHtmlError(f"tag <{tag}> is not allowed")
        found = dict(attrs)
        if len(found) != len(attrs):
            raise TelegramHtmlError(f"<{tag}> repeats an attribute")
        if tag == "a":
            if set(found) != {"href"} or not found["href"]:
                raise TelegramHtmlError(f"<a> needs exactly one href, got {attrs}")
        elif tag == "span":
            if found != {"class": "tg-spoiler"}:
                raise TelegramHtmlError(f"<span> must be class=tg-spoiler, got {attrs}")
        elif found:
            raise TelegramHtmlError(f"<{tag}> takes no attribute, got {attrs}")
        if tag == "a" and "a" in self.stack:
            raise TelegramHtmlError("nested links")
        self.stack.append(tag)
        self.tags.append((tag, found))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise TelegramHtmlError(f"self-closing <{tag}/>")

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise TelegramHtmlError(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            raise TelegramHtmlError(f"unescaped angle bracket in {data[:40]!r}")
        self.text.append(data)

    def handle_entityref(self, name: str) -> None:
        if name not in ("lt", "gt", "amp", "quot"):
            raise TelegramHtmlError(f"unknown entity &{name};")
        self.text.append(html.unescape(f"&{name};"))

    def handle_charref(self, name: str) -> None:
        self.text.append(html.unescape(f"&#{name};"))

    def handle_comment(self, data: str) -> None:
        raise TelegramHtmlError("comment")

    def handle_decl(self, decl: str) -> None:
        raise TelegramHtmlError("declaration")

    def handle_pi(self, data: str) -> None:
        raise TelegramHtmlError("processing instruction")

    def unknown_decl(self, data: str) -> None:
        raise TelegramHtmlError("CDATA or unknown declaration")


def validate_telegram_html(source: str) -> TelegramHtmlValidator:
    """Parse one message as Telegram would; raise TelegramHtmlError if it would refuse it.

    Args:
        source: The message text sent with ``parse_mode=HTML``.

    Returns:
        The parser, with the tags and the visible text it saw.
    """
    for match in re.finditer("&", source):
        if not _ENTITY.match(source, match.start()):
            raise TelegramHtmlError(f"bare & at {match.start()}: {source[match.start() :][:20]!r}")
    parser = TelegramHtmlValidator()
    parser.feed(source)
    parser.close()
    if parser.rawdata:
        raise TelegramHtmlError(f"unparsed tail {parser.rawdata[:40]!r}")
    if parser.stack:
        raise TelegramHtmlError(f"unclosed {parser.stack}")
    return parser


def utf16_units(text: str) -> int:
    """UTF-16 code units, counted independently of the renderer (lone surrogates: 1)."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def is_scalar_text(text: str) -> bool:
    """Whether the text can be sent as UTF-8 (no lone surrogate)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def check_telegram(reply: Reply, messages: list[str]) -> None:
    """Every message fits, parses, and carries only markup the renderer wrote."""
    assert messages
    own_links = {scrub(u) for u in (reply.url, *(s.url for s in reply.sources)) if u}
    for message in messages:
        assert message.strip()
        assert utf16_units(message) <= MAX_MESSAGE_LENGTH
        assert is_scalar_text(message)
        parser = validate_telegram_html(message)
        for tag, attrs in parser.tags:
            # The renderer writes bold, italics and links; anything else came from text.
            assert tag in ("b", "i", "a"), tag
            if tag == "a":
                assert attrs["href"] in own_links  # the parser has unescaped it
    for row in reply_keyboard(reply):
        for button in row:
            assert len(button.data.encode()) <= MAX_CALLBACK_DATA
            assert is_scalar_text(button.label)


def check_bluesky(posts: list[Any]) -> None:
    """Every post fits and every facet covers its link text on UTF-8 boundaries."""
    from bot.render.bluesky import grapheme_len

    assert 1 <= len(posts) <= MAX_POSTS
    for post in posts:
        assert is_scalar_text(post.text)
        data = post.text.encode()
        assert grapheme_len(post.text) <= MAX_GRAPHEMES
        assert len(data) <= MAX_BYTES
        previous_end = 0
        for facet in post.facets:
            assert previous_end <= facet.byte_start < facet.byte_end <= len(data)
            previous_end = facet.byte_end
            shown = data[facet.byte_start : facet.byte_end].decode("utf-8")  # on boundaries
            assert is_scalar_text(facet.uri)
            # A link the renderer shortened, or a domain/URL written in the text itself.
            written = shown.lower().removeprefix("https://").removeprefix("http://")
            assert shown == link_text(facet.uri) or written in facet.uri.lower()


# --- the pipeline ---------------------------------------------------------------


@pytest.fixture(scope="module")
def core(knowledge: KnowledgeBase) -> Core:
    return Core(knowledge, MemoryStore(), log_unanswered=True)


def ask(
    core: Core, text: str, *, user_id: str | None = "hostile", hint: str | None = None
) -> Answer:
    """Run one message through the whole core, as an adapter would."""
    message = IncomingMessage(text=text, channel="telegram", user_id=user_id, language_hint=hint)
    return asyncio.run(core.respond(message))


def check_all_renderers(reply: Reply) -> None:
    check_telegram(reply, render_reply(reply))
    check_bluesky(render_bluesky(reply))
    assert render_plain(reply).strip()  # something to show, whatever the reply


@FUZZ
@given(text=hostile_text, hint=st.none() | st.sampled_from(["en", "fr", "fr-CA", "xx", "", "<b>"]))
def test_any_message_gets_a_reply_that_every_renderer_can_send(
    core: Core, text: str, hint: str | None
) -> None:
    answer = ask(core, text, hint=hint)
    reply = answer.reply
    check_reply_shape(reply, core.kb)
    assert reply.language in SUPPORTED
    check_all_renderers(reply)


@FUZZ
@given(prefix=hostile_text, suffix=hostile_text)
def test_the_question_is_never_echoed_in_any_rendering(
    core: Core, prefix: str, suffix: str
) -> None:
    marker = "Qzx7<b>injected</b>&amp;[m](https://evil.example/)"
    reply = ask(core, f"{prefix} grok {marker} {suffix}").reply
    rendered = "\n".join(
        [*render_reply(reply), *(p.text for p in render_bluesky(reply)), render_plain(reply)]
    )
    assert "qzx7" not in rendered.lower()
    assert "evil.example" not in rendered


@FEW
@given(unit=st.text(st.characters(codec=None, exclude_categories=()), min_size=1, max_size=40))
def test_a_megabyte_message_is_answered_from_its_first_characters(core: Core, unit: str) -> None:
    text = (unit * (1_000_000 // len(unit) + 1))[:1_000_000]
    assert normalize.clean(text) == normalize.clean(text[: normalize.MAX_CHARS])
    check_all_renderers(ask(core, text).reply)


@FEW
@given(
    emoji=st.lists(st.sampled_from(EMOJI), min_size=1, max_size=8), count=st.integers(1000, 6000)
)
def test_thousands_of_emoji(core: Core, emoji: list[str], count: int) -> None:
    text = "".join(emoji) * (count // len(emoji)) + " grok training"
    reply = ask(core, text).reply
    check_all_renderers(reply)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "\x00" * 5000,
        "\ud800",
        "grok \udfff training",
        "\u202egniniart korg\u202c",
        "\u200d" * 10_000 + "grok",
        "g\u200dr\u200do\u200dk training",
        "<b>grok</b> <i>training</i> &amp; <a href='javascript:x'>opt out</a>",
        "**grok** `training` [opt out](https://evil.example)",
        "@privacybot.bsky.social " * 2000,
        "https://x.com/" + "a" * 100_000,
        "x" + " " * 100_000 + "ai",
        "a" * 1_000_000,
    ],
    ids=lambda t: repr(t[:20]),
)
def test_known_nasty_messages(core: Core, text: str) -> None:
    reply = ask(core, text).reply
    check_reply_shape(reply, core.kb)
    check_all_renderers(reply)


def test_a_flood_of_distinct_users_and_messages_keeps_the_store_consistent(core: Core) -> None:
    """Odd user ids (the store hashes them) and follow-ups after hostile text.

    Platforms hand over numeric Telegram ids and validated DIDs, so a lone
    surrogate is not among them (it could not be hashed as UTF-8).
    """
    for user in ["", "<b>", "0" * 10_000, "\u202e", "💥" * 100]:
        ask(core, "how do I stop grok training on my posts", user_id=user)
        follow = ask(core, "and on android?", user_id=user).reply
        assert follow.kind == "answer"
        check_all_renderers(follow)


async def test_unanswered_text_with_a_lone_surrogate_can_be_stored(
    tmp_path: Path, knowledge: KnowledgeBase
) -> None:
    """SQLite refuses text that is not UTF-8; the core keeps what it can."""
    from bot.store.sqlite import SQLiteStore

    store = SQLiteStore(tmp_path / "bot.db", b"s" * 32)
    await store.open()
    try:
        core = Core(knowledge, store, log_unanswered=True)
        reply = await core.handle(IncomingMessage(text="weather \ud800 tomorrow", user_id="1"))
        assert reply.kind == "fallback"
        assert await store.unanswered() == [("weather ? tomorrow", "en")]
    finally:
        await store.close()


# --- linear time ----------------------------------------------------------------


def _count_calls(action: Callable[[], object]) -> int:
    """Python and C function calls made by ``action`` (a deterministic work measure)."""
    calls = 0

    def profile(frame: Any, event: str, arg: Any) -> None:
        nonlocal calls
        if event in ("call", "c_call"):
            calls += 1

    sys.setprofile(profile)
    try:
        action()
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize(
    "unit",
    [
        "grok training opt out ",
        "x" + " " * 99,
        "opt" + "\t" * 97,
        "abcde fghij klmno pqrst uvwxy ",  # unknown words: the spelling corrector's worst case
        "😀👨‍👩‍👧‍👦\u200d\u202e<b>&amp;",
        "@a.b https://x.com/ www.x.com ",
    ],
    ids=["words", "x-spaces", "opt-tabs", "unknown-words", "emoji-bidi", "links"],
)
def test_work_does_not_grow_past_the_reading_cap(core: Core, unit: str) -> None:
    """A 1 MB message costs what a 10 kB one does: both are read up to MAX_CHARS."""

    def measure(size: int) -> int:
        text = (unit * (size // len(unit) + 1))[:size]
        fresh = Core(core.kb, MemoryStore())  # its own spelling cache: nothing carried over
        normalize.stems.cache_clear()
        return _count_calls(lambda: ask(fresh, text, user_id=None))

    small, big = measure(10_000), measure(1_000_000)
    assert big <= small * 1.01 + 20, (small, big)


class _RecordingPattern:
    """Wraps a phrase rule to record the longest whitespace run it is given."""

    longest = 0

    def __init__(self, pattern: re.Pattern[str]) -> None:
        self.pattern = pattern

    def sub(self, replacement: str, text: str) -> str:
        runs = [len(m) for m in re.findall(r"\s+", text)]
        _RecordingPattern.longest = max([_RecordingPattern.longest, *runs])
        return self.pattern.sub(replacement, text)


@contextmanager
def recording_phrases() -> Iterator[type[_RecordingPattern]]:
    _RecordingPattern.longest = 0
    wrapped = [(_RecordingPattern(p), r) for p, r in normalize._PHRASES]
    with mock.patch.object(normalize, "_PHRASES", wrapped):
        yield _RecordingPattern


@FUZZ
@given(text=st.lists(st.sampled_from(WORDS + SPACES + ["-", "x", "opt", "chat"]), max_size=60))
def test_phrase_rules_never_see_a_long_whitespace_run(text: list[str]) -> None:
    """``\\s*-?\\s*`` backtracks quadratically over long runs; the normalizer folds them first."""
    with recording_phrases() as recorder:
        normalize.clean("".join(text))
    # Replacements such as " optout " may add a space on each side of a single
    # one: a run stays a few spaces long, whatever the input.
    assert recorder.longest <= 2 * len(normalize._PHRASES) + 1


def test_the_worst_whitespace_message_is_folded() -> None:
    with recording_phrases() as recorder:
        assert normalize.clean("x" + " " * 3990 + "ai") == "grok"
    assert recorder.longest <= 3


# --- the renderers on their own -----------------------------------------------------


@REPLIES
@given(reply=hostile_replies())
def test_telegram_renders_hostile_replies_safely(reply: Reply) -> None:
    check_telegram(reply, render_reply(reply))


@REPLIES
@given(reply=hostile_replies())
def test_bluesky_renders_hostile_replies_within_limits(reply: Reply) -> None:
    check_bluesky(render_bluesky(reply))


@pytest.mark.parametrize(
    "fields",
    [
        {"short": " ", "summary": "", "title": "t" * 1000},
        {"short": "\u200b", "title": "\ud800" * 700},
        {"kind": "clarify", "title": " ", "summary": "\n"},
        {"kind": "fallback", "title": "", "items": ("",)},
        {"short": "s", "url": "https://x.com/" + "\ud800" * 5, "steps": ("",) * 50},
    ],
    ids=["blank-short-long-title", "surrogate-title", "blank-clarify", "empty-item", "odd-url"],
)
def test_bluesky_never_falls_back_to_an_oversized_post(fields: dict[str, Any]) -> None:
    reply = Reply(
        **{"kind": "answer", "language": "en", "topic_id": None, "confidence": 0, **fields}
    )
    check_bluesky(render_bluesky(reply))
    check_telegram(reply, render_reply(reply))


@REPLIES
@given(reply=hostile_replies())
def test_plain_renders_hostile_replies(reply: Reply) -> None:
    out = render_plain(reply)
    assert typeset(reply.title, reply.language) in out  # French spacing is applied


@FUZZ
@given(text=long_text)
def test_telegram_plain_text_escapes_everything(text: str) -> None:
    messages = render_text(text)
    for message in messages:
        assert utf16_units(message) <= MAX_MESSAGE_LENGTH
        parser = validate_telegram_html(message)
        assert parser.tags == []


def test_the_validator_refuses_what_telegram_refuses() -> None:
    for bad in [
        "<b>x",
        "<b><i>x</b></i>",
        "<div>x</div>",
        '<a href="x" title="y">x</a>',
        "<a>x</a>",
        '<span class="x">x</span>',
        "1 < 2",
        "Tom & Jerry",
        "&nbsp;",
        "<br/>",
        "<!-- x -->",
        '<a href="a"><a href="b">x</a></a>',
    ]:
        with pytest.raises(TelegramHtmlError):
            validate_telegram_html(bad)
    ok = validate_telegram_html(
        "<b>a</b><strong>b</strong><i>c</i><em>d</em><u>e</u><ins>f</ins><s>g</s><strike>h</strike>"
        '<del>i</del><a href="https://x.com/?a=1&amp;b=2">j</a><code>k</code><pre>l</pre>'
        '<blockquote>m</blockquote><tg-spoiler>n</tg-spoiler><span class="tg-spoiler">o</span>'
        "&lt;&gt;&amp;&quot;&#60;&#x3c;"
    )
    assert "".join(ok.text).endswith('<>&"<<')
