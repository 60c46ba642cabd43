"""Telegram HTML rendering of a reply: escaped, split under 4096, plus buttons as data.

Telegram rejects a whole message for one stray ``<`` or ``&`` ("can't parse
entities") and any text over 4096 characters ("message is too long"), so this
module builds every message from structured spans, escapes each interpolated
string with :func:`html.escape` exactly once, and splits between paragraphs,
then lines, then sentences, then words, never inside a tag or a link. Lengths
are counted in UTF-16 code units of the HTML source, which is never shorter
than the text Telegram counts after parsing, so a chunk that passes here passes
there.

Nothing here imports ``telegram``: the functions are pure and can be fuzzed
without python-telegram-bot. Buttons are returned as neutral :class:`Button`
rows that the adapter turns into an inline keyboard.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from bot.messages import Reply

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
_CB_KINDS = frozenset({CB_SURFACE, CB_CHOOSE, CB_TOPIC, CB_LANGUAGE})


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
        lines = [ln for ln in lines if ln.strip()]
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
    paragraphs = [
        [(_t(line),) for line in block.split("\n")] for block in re.split(r"\n\s*\n", text)
    ]
    return render_paragraphs(paragraphs, limit=limit)


# --- replies ---------------------------------------------------------------------


def _date(reply: Reply, value: object) -> str:
    if value is None:
        return reply.labels.get("no_date", "n.d.")
    return value.isoformat()  # type: ignore[attr-defined]


def _head_paragraphs(reply: Reply) -> list[Paragraph]:
    lab = reply.labels
    head: Paragraph = [(_b(reply.title),)] if reply.title else []
    if reply.summary:
        head.append((_t(reply.summary),))
    if reply.items:
        head.extend((_t(f"• {item}"),) for item in reply.items)
    paragraphs: list[Paragraph] = [head]
    if reply.kind == "clarify":
        paragraphs.append(
            [(_t(f"{n}. {c.label}"),) for n, c in enumerate(reply.choices, 1) if c.kind == "topic"]
        )
    if reply.kind != "answer":
        return [p for p in paragraphs if p]
    if reply.steps or reply.surface_note:
        heading = lab.get("steps", "Steps")
        if reply.surface_label:
            heading = f"{heading} — {reply.surface_label}"
        steps: Paragraph = [(_b(heading),)]
        steps.extend((_b(f"{n}."), _t(f" {step}")) for n, step in enumerate(reply.steps, 1))
        if reply.surface_note:
            steps.append((_i(reply.surface_note),))
        paragraphs.append(steps)
    if reply.url:
        link = lab.get("link", "Direct link")
        paragraphs.append([(_t(f"🔗 {link}: "), Span(reply.url, href=reply.url))])
    return [p for p in paragraphs if p]


def _detail_paragraphs(reply: Reply) -> list[Paragraph]:
    if reply.kind != "answer":
        return []
    lab = reply.labels
    paragraphs: list[Paragraph] = []
    if reply.facts:
        paragraphs.append(
            [(_b(lab.get("facts", "Facts")),), *((_t(f"• {fact}"),) for fact in reply.facts)]
        )
    if reply.caveats:
        paragraphs.append(
            [(_b(lab.get("caveats", "Caveats")),), *((_t(f"• {c}"),) for c in reply.caveats)]
        )
    if reply.sources:
        sources: Paragraph = [(_b(lab.get("sources", "Sources")),)]
        sources.extend(
            (
                _t("• "),
                Span(s.title, href=s.url),
                _t(f" — {s.publisher}, {_date(reply, s.date)}"),
            )
            for s in reply.sources
        )
        paragraphs.append(sources)
    if reply.last_verified:
        checked = f"{lab.get('checked', 'Checked on')} {reply.last_verified.isoformat()}"
        paragraphs.append([(_i(checked),)])
    return paragraphs


def reply_paragraphs(reply: Reply) -> list[Paragraph]:
    """Lay out a reply as paragraphs of spans (not yet escaped).

    An answer shows the title in bold, the summary, the numbered steps for one
    surface under a bold label, the direct settings link, then the facts,
    caveats, sources with their dates and when it was last checked. A
    clarification or a fallback shows its question and the topics to pick from.
    """
    return _head_paragraphs(reply) + _detail_paragraphs(reply)


def render_answer(
    reply: Reply, *, separate_details: bool | None = None, limit: int = MAX_MESSAGE_LENGTH
) -> tuple[list[str], list[str]]:
    """Render a reply as its first part and the rest, each a list of messages.

    A reply that fits in one message is that one message. One that does not is
    sent as the surface-dependent part (title, summary, steps, link), which
    carries the buttons and is what a surface button edits, followed by the
    details (facts, caveats, sources), which are the same for every surface.

    Args:
        reply: The neutral reply from the core.
        separate_details: Force (True) or forbid (False) the split; None splits
            only when the whole reply does not fit. Pass the same value for every
            surface of a topic so that switching surface keeps the same layout.
        limit: Maximum length of one message (Telegram's 4096 by default).

    Returns:
        ``(first, rest)``: HTML messages; the keyboard goes on ``first[-1]``.
    """
    whole = render_paragraphs(reply_paragraphs(reply), limit=limit)
    if separate_details is None:
        separate_details = len(whole) > 1
    details = _detail_paragraphs(reply)
    if not separate_details or not details:
        return whole, []
    head = render_paragraphs(_head_paragraphs(reply), limit=limit)
    return head, render_paragraphs(details, limit=limit)


def render_reply(
    reply: Reply, *, separate_details: bool | None = None, limit: int = MAX_MESSAGE_LENGTH
) -> list[str]:
    """Render a reply as one or more Telegram HTML messages, in order.

    See :func:`render_answer` for the layout; the keyboard goes on the last
    message of the first part.
    """
    first, rest = render_answer(reply, separate_details=separate_details, limit=limit)
    return first + rest


def needs_separate_details(replies: Iterable[Reply], *, limit: int = MAX_MESSAGE_LENGTH) -> bool:
    """Whether any of these replies (a topic on each surface) needs the split layout."""
    return any(len(render_paragraphs(reply_paragraphs(r), limit=limit)) > 1 for r in replies)


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
    if language not in ("en", "fr"):
        return None
    topic = parts[2] if len(parts) > 2 else None
    surface = parts[3] if len(parts) > 3 else None
    if kind in (CB_SURFACE, CB_CHOOSE, CB_TOPIC) and not topic:
        return None
    if kind == CB_SURFACE and not surface:
        return None
    return Callback(kind, language, topic, surface)


def _button(
    label: str, kind: str, language: str, topic: str = "", surface: str = ""
) -> Button | None:
    data = encode_callback(kind, language, topic, surface)
    return Button(scrub(label), data) if data else None


def reply_keyboard(reply: Reply) -> list[list[Button]]:
    """Buttons for a reply: other surfaces in one row, then one topic per row.

    Surface buttons and the candidates of a clarification or fallback edit the
    pressed message; related topics of an answer arrive as a new message.
    """
    rows: list[list[Button]] = []
    lang = reply.language
    if reply.kind == "answer" and reply.topic_id:
        surfaces = [
            _button(c.label, CB_SURFACE, lang, reply.topic_id, c.value)
            for c in reply.choices
            if c.kind == "surface"
        ]
        if row := [b for b in surfaces if b]:
            rows.append(row)
    kind = CB_TOPIC if reply.kind == "answer" else CB_CHOOSE
    surface = (reply.surface or "") if reply.kind == "clarify" else ""
    for choice in reply.choices:
        if choice.kind != "topic":
            continue
        button = _button(choice.label, kind, lang, choice.value, surface)
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
