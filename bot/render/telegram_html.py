"""Telegram HTML rendering of a reply: escaped, split under 4096, plus buttons as data.

Telegram rejects a whole message for one stray ``<`` or ``&`` ("can't parse
entities") and any text over 4096 characters ("message is too long"), so this
module builds every message from structured spans, escapes each interpolated
string with :func:`html.escape` exactly once, and splits between paragraphs,
then lines, then sentences, then words, never inside a tag or a link. Splitting
counts UTF-16 code units of the HTML source, which is never shorter than the
text Telegram counts after parsing, so a chunk that passes here passes there;
how long a message *looks* (the one-screen target of the short answer) is
measured on the parsed text, as Telegram counts it (:func:`visible_length`).

A reply is shown one part at a time: the short answer (summary, steps for one
surface, direct link) is one message with buttons for the other surfaces and
for each detail part (why, sources, related), which open in place.

Nothing here imports ``telegram``: the functions are pure and can be fuzzed
without python-telegram-bot. Buttons are returned as neutral :class:`Button`
rows that the adapter turns into an inline keyboard.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.kb.schema import LANGUAGES
from bot.messages import DETAIL_PARTS, Reply
from bot.render.dates import format_date
from bot.render.typography import typeset

MAX_MESSAGE_LENGTH = 4096
"""Telegram's limit on a message text (``MessageLimit.MAX_TEXT_LENGTH``)."""
MAX_CALLBACK_DATA = 64
"""Telegram's limit on a button's callback data, in bytes."""

# Callback data kinds: "s" shows another surface and "c" picks a candidate topic
# (both edit the pressed message); "t" sends a topic as a new message; "l" sets
# the language.
CB_SURFACE = "s"
CB_CHOOSE = "c"
CB_TOPIC = "t"
CB_LANGUAGE = "l"
# "p" shows one part of a topic ("p:en:x.grok_training:why.web"): the part, then
# the surface the person was on, so "back" returns to the same steps.
CB_PART = "p"
_CB_KINDS = frozenset({CB_SURFACE, CB_CHOOSE, CB_TOPIC, CB_LANGUAGE, CB_PART})
_PARTS = frozenset({"short", *DETAIL_PARTS})


@dataclass(frozen=True, slots=True)
class Span:
    """A run of text with at most one style; ``href`` makes it a link."""

    text: str
    style: str | None = None  # "b", "i" or "code"
    href: str | None = None


Line = tuple[Span, ...]
Paragraph = list[Line]


@dataclass(frozen=True, slots=True)
class Button:
    """An inline keyboard button as neutral data (``data`` ≤ 64 bytes)."""

    label: str
    data: str


@dataclass(frozen=True, slots=True)
class Callback:
    """Parsed callback data of a button press."""

    kind: str
    language: str
    topic_id: str | None = None
    surface: str | None = None
    part: str | None = None


# A lone surrogate (a JSON "\ud800" escape decodes to one) cannot be encoded,
# so it would crash the length count and the request: it is shown as U+FFFD.
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(text: str) -> str:
    """Replace lone surrogates, which no UTF encoding accepts, with U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit Telegram measures texts in."""
    return len(text.encode("utf-16-le")) // 2


# --- rendering spans -------------------------------------------------------------


def render_span(span: Span) -> str:
    """Render one span as Telegram HTML, escaping its text and link."""
    body = html.escape(scrub(span.text), quote=False)
    if span.style:
        body = f"<{span.style}>{body}</{span.style}>"
    if span.href:
        body = f'<a href="{html.escape(scrub(span.href), quote=True)}">{body}</a>'
    return body


def render_line(line: Iterable[Span]) -> str:
    """Render a line (a sequence of spans)."""
    return "".join(render_span(s) for s in line)


def _t(text: str) -> Span:
    return Span(text)


def _b(text: str) -> Span:
    return Span(text, "b")


def _i(text: str) -> Span:
    return Span(text, "i")


# --- splitting -------------------------------------------------------------------

_SENTENCE = re.compile(r"[^.!?…]+(?:[.!?…]+\s*|$)|[.!?…]+\s*")
_WORD = re.compile(r"\S+\s*|\s+")


def _pieces(text: str, pattern: re.Pattern[str]) -> list[str]:
    found = pattern.findall(text)
    return found if "".join(found) == text else [text]


def _hard_cut(span: Span, limit: int) -> list[Span]:
    """Cut a span whose single word is too long, between characters."""
    if utf16_len(render_span(Span(span.text[:1], span.style, span.href))) > limit:
        span = Span(span.text)  # the markup alone does not fit: keep the words
    out: list[Span] = []
    rest = span.text
    while rest:
        lo, hi = 1, len(rest)
        while lo < hi:  # the longest prefix that still fits once rendered
            mid = (lo + hi + 1) // 2
            if utf16_len(render_span(Span(rest[:mid], span.style, span.href))) <= limit:
                lo = mid
            else:
                hi = mid - 1
        out.append(Span(rest[:lo], span.style, span.href))
        rest = rest[lo:]
    return out


def _atoms(span: Span, limit: int) -> list[Span]:
    """Break a span into pieces that each fit, preferring sentences, then words."""
    if utf16_len(render_span(span)) <= limit:
        return [span]
    out: list[Span] = []
    for sentence in _pieces(span.text, _SENTENCE):
        piece = Span(sentence, span.style, span.href)
        if utf16_len(render_span(piece)) <= limit:
            out.append(piece)
            continue
        for word in _pieces(sentence, _WORD):
            wpiece = Span(word, span.style, span.href)
            if utf16_len(render_span(wpiece)) <= limit:
                out.append(wpiece)
            else:
                out.extend(_hard_cut(wpiece, limit))
    return out


def _merge(spans: list[Span]) -> list[Span]:
    """Join neighbouring spans of the same style, so tags are not repeated."""
    merged: list[Span] = []
    for span in spans:
        if merged and (merged[-1].style, merged[-1].href) == (span.style, span.href):
            merged[-1] = Span(merged[-1].text + span.text, span.style, span.href)
        else:
            merged.append(span)
    return merged


def _split_line(line: Line, limit: int) -> list[str]:
    """Split one over-long line into rendered pieces, each within ``limit``.

    Each piece's length is bounded by the sum of its atoms rendered one by one,
    which is never less than the merged rendering, so pieces always fit.
    """
    atoms = [a for span in line for a in _atoms(span, limit)]
    chunks: list[str] = []
    current: list[Span] = []
    size = 0
    for atom in atoms:
        atom_size = utf16_len(render_span(atom))
        if current and size + atom_size > limit:
            chunks.append(render_line(_merge(current)))
            current, size = [], 0
        current.append(atom)
        size += atom_size
    if current:
        chunks.append(render_line(_merge(current)))
    return chunks


def _pack(parts: Sequence[str], separator: str, limit: int) -> list[str]:
    """Greedily join rendered parts with ``separator`` into chunks within ``limit``."""
    chunks: list[str] = []
    current = ""
    for part in parts:
        if not current:
            current = part
        elif utf16_len(current) + utf16_len(separator) + utf16_len(part) <= limit:
            current = current + separator + part
        else:
            chunks.append(current)
            current = part
    if current:
        chunks.append(current)
    return chunks


def render_paragraphs(
    paragraphs: Sequence[Paragraph], *, limit: int = MAX_MESSAGE_LENGTH
) -> list[str]:
    """Render paragraphs into as few messages as fit, each at most ``limit`` long.

    Paragraphs are separated by a blank line. A paragraph too long for one message
    is split between its lines, a line between sentences, then words.

    Args:
        paragraphs: Paragraphs of lines of spans (plain text, not yet escaped).
        limit: Maximum length of one message in UTF-16 code units.

    Returns:
        One or more HTML strings, none empty, each at most ``limit`` long.
    """
    units: list[str] = []  # rendered pieces that each fit, with how they join
    for paragraph in paragraphs:
        lines: list[str] = []
        for line in paragraph:
            rendered = render_line(line)
            if utf16_len(rendered) <= limit:
                lines.append(rendered)
            else:
                lines.extend(_split_line(line, limit))
        lines = [ln for ln in lines if visible_text(ln).strip()]  # no blank-looking line
        if not lines:
            continue
        joined = "\n".join(lines)
        if utf16_len(joined) <= limit:
            units.append(joined)
        else:
            units.extend(_pack(lines, "\n", limit))
    chunks = [c.strip() for c in _pack(units, "\n\n", limit)]
    return [c for c in chunks if c] or ["…"]


def render_text(text: str, *, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Escape and split plain text (paragraphs separated by blank lines)."""
    paragraphs: list[Paragraph] = [
        [(_t(line),) for line in block.split("\n")] for block in re.split(r"\n\s*\n", text)
    ]
    return render_paragraphs(paragraphs, limit=limit)


# --- replies ---------------------------------------------------------------------

NUMBERED_KINDS = ("clarify", "not_covered")
"""Replies whose choices are numbered: a person may answer "2" (the core resolves it)."""

SHORT_TARGET = 700
"""Visible characters the short answer aims at: one screen of a phone, no scrolling."""

_TAG = re.compile(r"<[^>]*>")


def visible_text(source: str) -> str:
    """The text Telegram shows for an HTML message: tags dropped, entities decoded."""
    return html.unescape(_TAG.sub("", source))


def visible_length(source: str) -> int:
    """Length of what Telegram counts (UTF-16 units of the parsed text, not the HTML)."""
    return utf16_len(visible_text(source))


def _date(reply: Reply, value: dt.date | None) -> str:
    if value is None:
        return reply.labels.get("no_date", "n.d.")
    return format_date(value, reply.language)


def _typeset(paragraphs: list[Paragraph], language: str) -> list[Paragraph]:
    return [
        [tuple(Span(typeset(s.text, language), s.style, s.href) for s in line) for line in p]
        for p in paragraphs
        if p
    ]


def _steps_paragraph(label: str, steps: Sequence[str], note: str | None) -> Paragraph:
    lines: Paragraph = [(_b(label),)] if label else []
    lines.extend((_b(f"{n}."), _t(f" {step}")) for n, step in enumerate(steps, 1))
    if note:
        lines.append((_i(note),))
    return lines


def _short_paragraphs(reply: Reply, *, with_summary: bool = True) -> list[Paragraph]:
    lab = reply.labels
    head: Paragraph = [(_b(reply.title),)] if reply.title else []
    if with_summary and reply.summary:
        head.append((_t(reply.summary),))
    head.extend((_t(f"• {item}"),) for item in reply.items)
    paragraphs: list[Paragraph] = [head]
    if reply.steps or reply.surface_note:
        paragraphs.append(
            _steps_paragraph(f"{reply.surface_label}:", reply.steps, reply.surface_note)
        )
    tail: Paragraph = []
    if reply.url:
        tail.append((_t("🔗 "), Span(lab.get("open", "Open the setting"), href=reply.url)))
    if reply.last_verified:
        tail.append(
            (_i(f"{lab.get('checked', 'Checked on')} {_date(reply, reply.last_verified)}"),)
        )
    paragraphs.append(tail)
    return paragraphs


def _surfaces_paragraphs(reply: Reply) -> list[Paragraph]:
    head: Paragraph = [(_b(reply.title),)]
    return [head] + [_steps_paragraph(f"{o.label}:", o.steps, o.note) for o in reply.other_surfaces]


def _why_paragraphs(reply: Reply) -> list[Paragraph]:
    lab = reply.labels
    paragraphs: list[Paragraph] = [[(_b(reply.title),)]]
    if reply.facts:
        paragraphs.append(
            [(_b(lab.get("facts", "What happens")),), *((_t(f"• {f}"),) for f in reply.facts)]
        )
    if reply.caveats:
        paragraphs.append(
            [(_b(lab.get("caveats", "Good to know")),), *((_t(f"• {c}"),) for c in reply.caveats)]
        )
    return paragraphs


def _sources_paragraphs(reply: Reply, *, titled: bool = True) -> list[Paragraph]:
    lab = reply.labels
    heading = lab.get("sources", "Sources")
    sources: Paragraph = [(_b(f"{heading} — {reply.title}" if titled else heading),)]
    sources.extend(
        (_t("• "), Span(s.title, href=s.url), _t(f" — {s.publisher}, {_date(reply, s.date)}"))
        for s in reply.sources
    )
    paragraphs = [sources]
    if reply.last_verified:
        checked = f"{lab.get('checked', 'Checked on')} {_date(reply, reply.last_verified)}"
        paragraphs.append([(_i(checked),)])
    return paragraphs


def _related_paragraphs(reply: Reply, *, titled: bool = True) -> list[Paragraph]:
    lab = reply.labels
    heading = lab.get("related", "Related")
    lines: Paragraph = [(_b(f"{heading} — {reply.title}" if titled else heading),)]
    lines += [(_t(f"• {c.label}"),) for c in reply.details.related]
    return [lines]


def _other_paragraphs(reply: Reply) -> list[Paragraph]:
    if reply.kind == "smalltalk":  # "hi", "thanks": one plain line
        return [[(_t(reply.title or reply.short),)]]
    head: Paragraph = [(_b(reply.title),)] if reply.title else []
    if reply.summary:
        head.append((_t(reply.summary),))
    paragraphs = [head]
    if reply.kind in NUMBERED_KINDS:
        paragraphs.append(
            [(_t(f"{n}. {c.label}"),) for n, c in enumerate(reply.choices, 1) if c.kind == "topic"]
        )
    return paragraphs


def reply_paragraphs(reply: Reply) -> list[Paragraph]:
    """Lay out the part of a reply it shows, as paragraphs of spans (not yet escaped).

    The short answer is the title, the summary, the numbered steps for one
    surface, the direct link and when it was checked; each detail part (other
    surfaces, why, sources, related) is its own message. A clarification lists
    the numbered candidates; a fallback or small talk is its line and a hint.
    Text is typeset for the reply's language (French spacing).
    """
    if reply.kind != "answer":
        paragraphs = _other_paragraphs(reply)
    elif reply.part == "short":
        paragraphs = _short_paragraphs(reply)
        if _measure(paragraphs, reply.language) > SHORT_TARGET:
            # Over one screen: the title says what the summary would, the steps stay.
            paragraphs = _short_paragraphs(reply, with_summary=False)
    elif reply.part == "full":
        paragraphs = _short_paragraphs(reply)
        if reply.other_surfaces:
            paragraphs += _surfaces_paragraphs(reply)[1:]
        paragraphs += _why_paragraphs(reply)[1:] + _sources_paragraphs(reply, titled=False)
        if reply.details.related:
            paragraphs += _related_paragraphs(reply, titled=False)
    else:
        paragraphs = {
            "surfaces": _surfaces_paragraphs,
            "why": _why_paragraphs,
            "sources": _sources_paragraphs,
            "related": _related_paragraphs,
        }[reply.part](reply)
    return _typeset(paragraphs, reply.language)


def _measure(paragraphs: list[Paragraph], language: str) -> int:
    rendered = render_paragraphs(_typeset(paragraphs, language), limit=MAX_MESSAGE_LENGTH)
    return sum(visible_length(m) for m in rendered)


def render_reply(reply: Reply, *, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """Render the part a reply shows as Telegram HTML messages, in order.

    The short answer of every topic fits one message; a long detail part (many
    facts) may take more. The keyboard goes on the last message.

    Args:
        reply: The neutral reply from the core.
        limit: Maximum length of one message (Telegram's 4096 by default).

    Returns:
        One or more HTML messages, each at most ``limit`` long.
    """
    return render_paragraphs(reply_paragraphs(reply), limit=limit)


# --- buttons ---------------------------------------------------------------------


def encode_callback(kind: str, language: str, topic_id: str = "", surface: str = "") -> str | None:
    """Build button callback data ``kind:lang[:topic[:surface]]``; None if over 64 bytes."""
    parts = [kind, language]
    if topic_id:
        parts.append(topic_id)
    if surface:
        parts.append(surface)
    data = ":".join(parts)
    return data if len(data.encode()) <= MAX_CALLBACK_DATA else None


def parse_callback(data: str | None) -> Callback | None:
    """Parse callback data made by :func:`encode_callback`; None if it is not ours."""
    if not data:
        return None
    parts = data.split(":")
    if len(parts) < 2 or len(parts) > 4 or parts[0] not in _CB_KINDS:
        return None
    kind, language = parts[0], parts[1]
    if language not in LANGUAGES:
        return None
    topic = parts[2] if len(parts) > 2 else None
    surface = parts[3] if len(parts) > 3 else None
    if kind in (CB_SURFACE, CB_CHOOSE, CB_TOPIC, CB_PART) and not topic:
        return None
    if kind == CB_SURFACE and not surface:
        return None
    part = None
    if kind == CB_PART:
        part, _, surface = (surface or "").partition(".")
        if part not in _PARTS:
            return None
    return Callback(kind, language, topic, surface or None, part)


def _button(
    label: str, kind: str, language: str, topic: str = "", surface: str = ""
) -> Button | None:
    data = encode_callback(kind, language, topic, surface)
    return Button(scrub(label), data) if data else None


def reply_keyboard(reply: Reply) -> list[list[Button]]:
    """Buttons for a reply, in its language.

    Under the short answer: the other surfaces (edit in place), then one button
    per detail part (why, sources, related). Under a detail part: back to the
    short answer and the other parts; under "related", one button per topic
    (sent as a new message). A clarification numbers its candidates; a
    fallback offers a few topics; small talk has none.
    """
    rows: list[list[Button]] = []
    lang = reply.language
    if reply.kind == "answer" and reply.topic_id:
        topic, surface = reply.topic_id, reply.surface or ""
        if reply.part == "short":
            surfaces = [
                _button(c.label, CB_SURFACE, lang, topic, c.value)
                for c in reply.choices
                if c.kind == "surface"
            ]
            if row := [b for b in surfaces if b]:
                rows.append(row)
        parts = [p for p in reply.parts if p != reply.part]
        if reply.part == "short":
            parts = [p for p in parts if p != "surfaces"]  # the surface buttons are there
        elif reply.part != "full":
            parts = ["short", *parts]
        part_buttons = [
            b
            for p in parts
            if (
                b := _button(
                    reply.labels.get(f"part.{p}", p), CB_PART, lang, topic, f"{p}.{surface}"
                )
            )
        ]
        rows.extend(part_buttons[i : i + 2] for i in range(0, len(part_buttons), 2))
        if reply.part == "related":
            rows.extend(
                [b]
                for c in reply.details.related
                if (b := _button(c.label, CB_TOPIC, lang, c.value))
            )
        return rows
    if reply.kind not in (*NUMBERED_KINDS, "fallback"):
        return rows
    surface = (reply.surface or "") if reply.kind == "clarify" else ""
    numbered = reply.kind in NUMBERED_KINDS
    for n, choice in enumerate((c for c in reply.choices if c.kind == "topic"), 1):
        label = f"{n}. {choice.label}" if numbered else choice.label
        button = _button(label, CB_CHOOSE, lang, choice.value, surface)
        if button:
            rows.append([button])
    return rows


def topic_buttons(topics: Iterable[tuple[str, str]], language: str) -> list[list[Button]]:
    """One ``t:`` button per ``(topic_id, label)``, one per row."""
    rows = []
    for topic_id, label in topics:
        button = _button(label, CB_TOPIC, language, topic_id)
        if button:
            rows.append([button])
    return rows


def language_buttons(current: str) -> list[list[Button]]:
    """The language switch: English / Français, the current one marked."""
    names = {"en": "English", "fr": "Français"}
    return [
        [
            Button(("✓ " if code == current else "") + name, f"{CB_LANGUAGE}:{code}")
            for code, name in names.items()
        ]
    ]
