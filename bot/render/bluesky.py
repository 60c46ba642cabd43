"""Render a neutral :class:`~bot.messages.Reply` as Bluesky posts.

Bluesky counts graphemes, not characters: a post's text may hold at most 300
extended grapheme clusters (and 3,000 UTF-8 bytes), and the server rejects a
longer record. Links are not detected by the server either: a URL is only
tappable when a *link facet* covers it, and facets index **UTF-8 byte offsets**
into the text, not Python string indices.

So this module does three things, without importing the atproto SDK (the
adapter converts :class:`LinkFacet` into SDK models), which keeps it pure and
easy to fuzz:

* builds one part of the answer as rich text: by default the short answer
  (the one-post answer with the direct settings link, and a link card for it),
  the steps only when the person named a surface; the details (other
  surfaces, why, sources, related) when the person replies asking;
* turns domain names and URLs written in the text ("x.com") into link facets;
* shows long URLs as short link text (``help.x.com/settings/…``) whose facet
  carries the full URL, as the official app does;
* splits into a thread at paragraph, then line, then sentence, then word
  boundaries, never inside a word or a link, each post within the limits.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import regex

from bot.messages import Reply
from bot.render.dates import format_date
from bot.render.typography import typeset

MAX_GRAPHEMES = 300
MAX_BYTES = 3000
MAX_POSTS = 4
LINK_TEXT_MAX = 32

_GRAPHEME = regex.compile(r"\X")

# Break strengths between two atoms: where a split is least disruptive.
# GLUE joins the pieces of a word that had to be cut (no separator at all).
GLUE, WORD, SENTENCE, LINE, PARAGRAPH = -1, 0, 1, 2, 3
_SEPARATORS = {GLUE: "", WORD: " ", SENTENCE: " ", LINE: "\n", PARAGRAPH: "\n\n"}
_WHITESPACE = regex.compile(r"([^\S\u00a0\u202f\u2007]+)")
_SENTENCE_END = (".", "!", "?", "…", ":", ";", "»", ")")
# A lone surrogate cannot be UTF-8 encoded (byte counts, facets, the record):
# it is shown as U+FFFD.
_LONE_SURROGATE = regex.compile("[\ud800-\udfff]")


def _scrub(text: str) -> str:
    return _LONE_SURROGATE.sub("\ufffd", text)


def grapheme_len(text: str) -> int:
    """Count extended grapheme clusters, as Bluesky does.

    Args:
        text: Any string.

    Returns:
        The number of user-perceived characters (``"👍🏽"`` counts 1).
    """
    return len(_GRAPHEME.findall(text))


def graphemes(text: str) -> list[str]:
    """Split a string into its extended grapheme clusters."""
    return _GRAPHEME.findall(text)


@dataclass(frozen=True, slots=True)
class LinkFacet:
    """A link over ``text.encode()[byte_start:byte_end]`` of a post."""

    byte_start: int
    byte_end: int
    uri: str


@dataclass(frozen=True, slots=True)
class Post:
    """One post of a reply thread: text within the limits, its link facets, a link card."""

    text: str
    facets: tuple[LinkFacet, ...] = ()
    embed: ExternalEmbed | None = None


@dataclass(frozen=True, slots=True)
class Span:
    """A run of rich text: plain when ``uri`` is None, else the display text of a link."""

    text: str
    uri: str | None = None


# A paragraph is a list of spans; ``\n`` inside plain spans separates lines.
Paragraph = list[Span]


def link_text(url: str, *, limit: int = LINK_TEXT_MAX) -> str:
    """Shorten a URL for display: no scheme, no ``www.``, ellipsis past ``limit``.

    Args:
        url: The full URL (the facet keeps it whole).
        limit: Maximum graphemes of the display text.

    Returns:
        For example ``help.x.com/en/using-x/…``.
    """
    parts = urlsplit(url)
    host = parts.netloc.removeprefix("www.")
    shown = host + parts.path.rstrip("/")
    if parts.query or parts.fragment:
        shown += "…" if not shown.endswith("…") else ""
    if not host:
        shown = url
    items = graphemes(shown)
    if len(items) > limit:
        shown = "".join(items[: limit - 1]) + "…"
    return shown


@dataclass(frozen=True, slots=True)
class _Atom:
    """An unbreakable piece: a word, or a link with the punctuation glued to it."""

    spans: tuple[Span, ...]
    graphemes: int
    nbytes: int
    strength: int  # strength of the break *before* this atom


def _atoms(paragraphs: Sequence[Paragraph]) -> list[_Atom]:
    atoms: list[_Atom] = []
    for paragraph in paragraphs:
        current: list[Span] = []
        # Whitespace seen since the last atom (None before the paragraph's first atom).
        gap: str | None = None

        def flush(current: list[Span] = current) -> None:
            nonlocal gap
            if not current:
                return
            if not atoms:
                strength = WORD
            elif gap is None:
                strength = PARAGRAPH
            elif "\n" in gap:
                strength = LINE
            elif "".join(s.text for s in atoms[-1].spans).endswith(_SENTENCE_END):
                strength = SENTENCE
            else:
                strength = WORD
            text = "".join(s.text for s in current)
            atoms.append(_Atom(tuple(current), grapheme_len(text), len(text.encode()), strength))
            current.clear()
            gap = ""

        for span in paragraph:
            span = Span(_scrub(span.text), None if span.uri is None else _scrub(span.uri))
            if span.uri is not None:
                current.append(span)
                continue
            for piece in _WHITESPACE.split(span.text):
                if not piece:
                    continue
                if piece.isspace():
                    flush()
                    if gap is not None:
                        gap += piece
                else:
                    current.append(Span(piece))
        flush()
    return _merge_adjacent(atoms)


def _merge_adjacent(atoms: list[_Atom]) -> list[_Atom]:
    out: list[_Atom] = []
    for atom in atoms:
        merged: list[Span] = []
        for span in atom.spans:
            if merged and merged[-1].uri is None and span.uri is None:
                merged[-1] = Span(merged[-1].text + span.text)
            else:
                merged.append(span)
        out.append(_Atom(tuple(merged), atom.graphemes, atom.nbytes, atom.strength))
    return out


def _hard_split(atom: _Atom, max_graphemes: int, max_bytes: int) -> list[_Atom]:
    """Cut a word longer than a whole post (last resort).

    Links stay whole: the cut falls between a link and the text glued to it,
    and plain text is cut at grapheme boundaries.
    """
    pieces: list[_Atom] = []

    def add(spans: tuple[Span, ...], count: int, size: int) -> None:
        pieces.append(_Atom(spans, count, size, GLUE if pieces else atom.strength))

    for span in atom.spans:
        if span.uri is not None:
            shown = span.text
            if grapheme_len(shown) > max_graphemes or len(shown.encode()) > max_bytes:
                # A link longer than a post (URLs glued together) is shown short;
                # its facet keeps the whole address.
                shown = link_text(span.uri)
            add((Span(shown, span.uri),), grapheme_len(shown), len(shown.encode()))
            continue
        chunk: list[str] = []
        size = 0
        for g in graphemes(span.text):
            gb = len(g.encode())
            if chunk and (len(chunk) + 1 > max_graphemes or size + gb > max_bytes):
                add((Span("".join(chunk)),), len(chunk), size)
                chunk, size = [], 0
            chunk.append(g)
            size += gb
        if chunk:
            add((Span("".join(chunk)),), len(chunk), size)
    return pieces


def _build(atoms: Sequence[_Atom]) -> Post:
    text_parts: list[str] = []
    facets: list[LinkFacet] = []
    offset = 0
    for i, atom in enumerate(atoms):
        if i:
            sep = _SEPARATORS[atom.strength]
            text_parts.append(sep)
            offset += len(sep.encode())
        for span in atom.spans:
            encoded = len(span.text.encode())
            if span.uri is not None:
                facets.append(LinkFacet(offset, offset + encoded, span.uri))
            text_parts.append(span.text)
            offset += encoded
    return Post("".join(text_parts), tuple(facets))


def split_posts(
    paragraphs: Sequence[Paragraph],
    *,
    max_graphemes: int = MAX_GRAPHEMES,
    max_bytes: int = MAX_BYTES,
) -> list[Post]:
    """Pack rich-text paragraphs into posts that each fit the limits.

    A post breaks at the strongest boundary that still leaves it at least a
    third full: paragraph, then line, then sentence, then word. A link is never
    split; a single plain word longer than a post is cut at grapheme boundaries.

    Args:
        paragraphs: Rich text; each paragraph is a list of spans.
        max_graphemes: Grapheme limit per post.
        max_bytes: UTF-8 byte limit per post.

    Returns:
        The posts, in thread order (empty when there is no text).
    """
    atoms: list[_Atom] = []
    for atom in _atoms(paragraphs):
        if atom.graphemes > max_graphemes or atom.nbytes > max_bytes:
            atoms.extend(_hard_split(atom, max_graphemes, max_bytes))
        else:
            atoms.append(atom)

    posts: list[Post] = []
    start = 0
    while start < len(atoms):
        # Longest run of atoms from ``start`` that fits.
        g = b = 0
        end = start
        while end < len(atoms):
            atom = atoms[end]
            sep = len(_SEPARATORS[atom.strength]) if end > start else 0
            if end > start and (
                g + sep + atom.graphemes > max_graphemes or b + sep + atom.nbytes > max_bytes
            ):
                break
            g += sep + atom.graphemes
            b += sep + atom.nbytes
            end += 1
        if end < len(atoms):
            end = _best_break(atoms, start, end, max_graphemes)
        post = _build(atoms[start:end])
        # Graphemes may merge across a boundary only in exotic text; re-check and shrink.
        while end - start > 1 and (
            grapheme_len(post.text) > max_graphemes or len(post.text.encode()) > max_bytes
        ):
            end -= 1
            post = _build(atoms[start:end])
        if post.text.strip():  # a long word cut before its no-break space leaves a blank
            posts.append(post)
        start = end
    return posts


def _best_break(atoms: Sequence[_Atom], start: int, end: int, max_graphemes: int) -> int:
    """Choose where to end a post among atoms[start:end], which all fit."""
    sizes = [0]
    for i in range(start, end):
        sep = len(_SEPARATORS[atoms[i].strength]) if i > start else 0
        sizes.append(sizes[-1] + sep + atoms[i].graphemes)
    floor = max_graphemes // 3
    for strength in (PARAGRAPH, LINE, SENTENCE):
        # Break before atom ``cut`` (cut in start+1 .. end), strongest and latest first.
        for cut in range(end, start, -1):
            boundary = atoms[cut].strength if cut < len(atoms) else PARAGRAPH
            if boundary >= strength and sizes[cut - start] >= floor:
                return cut
    return end


def _paragraph(text: str) -> Paragraph:
    return [Span(text)]


def _link_line(label: str, url: str) -> Paragraph:
    return [Span(f"{label}: " if label else ""), Span(link_text(url), url)]


# A domain name or URL written in the text ("x.com", "gemini.google.com/app"):
# Bluesky shows it as plain text unless a link facet covers it.
_TLDS = "com|org|net|ai|app|io|fr|de|es|it|pt|jp|eu|ie|uk|social|news|co|gov|int|info|me|tv|be|ch"
_DOMAIN = regex.compile(
    rf"(?<![\w@/.-])((?:https?://)?(?:[a-z0-9](?:[a-z0-9-]*[a-z0-9])?\.)+(?:{_TLDS})"
    rf"(?![\w-])(?:/[^\s]*)?)",
    regex.IGNORECASE,
)
_TRAILING = ".,;:!?)»\"'”’…"


def autolink(span: Span) -> list[Span]:
    """Split a plain span so each domain name or URL in it becomes a link span.

    Args:
        span: Plain text (a link span is returned as it is).

    Returns:
        Spans whose concatenated text is the original text.
    """
    if span.uri is not None:
        return [span]
    out: list[Span] = []
    last = 0
    for found in _DOMAIN.finditer(span.text):
        shown = found.group(1).rstrip(_TRAILING)
        start, end = found.start(1), found.start(1) + len(shown)
        if not shown or "." not in shown:
            continue
        if start > last:
            out.append(Span(span.text[last:start]))
        # The scheme only counts at the start: "a.com/x?https://b.com" must link to
        # a.com, the host a reader sees, not to the b.com hidden in its path.
        scheme, sep, rest = shown.partition("://")
        has_scheme = bool(sep) and scheme.lower() in {"http", "https"}
        host, _, path = (rest if has_scheme else shown).partition("/")
        uri = f"https://{host.lower()}" + (f"/{path}" if path else "")
        if has_scheme and scheme.lower() == "http":
            uri = "http://" + uri.removeprefix("https://")
        out.append(Span(shown, uri))
        last = end
    if last < len(span.text):
        out.append(Span(span.text[last:]))
    return out or [span]


@dataclass(frozen=True, slots=True)
class ExternalEmbed:
    """A link card (``app.bsky.embed.external``) under a post."""

    uri: str
    title: str
    description: str = ""


def _typeset(paragraphs: list[Paragraph], language: str) -> list[Paragraph]:
    return [
        [
            piece
            for span in paragraph
            for piece in autolink(Span(typeset(span.text, language)) if span.uri is None else span)
        ]
        for paragraph in paragraphs
    ]


def _date(reply: Reply, value: dt.date | None) -> str:
    if value is None:
        return reply.labels.get("no_date", "n.d.")
    return format_date(value, reply.language)


def _steps_lines(label: str, steps: Sequence[str], note: str | None) -> str:
    lines = [f"{label}:"] if label else []
    lines += [f"{i}. {step}" for i, step in enumerate(steps, 1)]
    if note:
        lines.append(note)
    return "\n".join(lines)


def _first_link(reply: Reply) -> tuple[str, str] | None:
    """The link of the first post: the direct settings link, else the best source."""
    if reply.url:
        return reply.labels.get("link", "Direct link"), reply.url
    if reply.sources:
        return reply.labels.get("sources", "Sources"), reply.sources[0].url
    return None


def _short_paragraphs(reply: Reply) -> tuple[list[Paragraph], list[Paragraph]]:
    """The short answer as (one-post answer, steps): steps only when a surface was named."""
    first: Paragraph = [Span(reply.short or reply.summary or reply.title)]
    link = _first_link(reply)
    if link:
        first += [Span("\n"), *_link_line(*link)]
    steps: list[Paragraph] = []
    if reply.surface_asked and (reply.steps or reply.surface_note):
        steps = [_paragraph(_steps_lines(reply.surface_label, reply.steps, reply.surface_note))]
    return [first], steps


def part_paragraphs(reply: Reply) -> list[Paragraph]:
    """Lay out the part a reply shows as rich-text paragraphs (not yet typeset).

    Args:
        reply: The neutral reply.

    Returns:
        Paragraphs for :func:`split_posts`.
    """
    lab = reply.labels
    if reply.kind == "not_covered" and not reply.choices:
        return [_paragraph(f"{reply.title} {reply.summary}".strip())]
    if reply.kind in ("clarify", "not_covered"):
        listed = [f"{n}. {c.label}" for n, c in enumerate(reply.choices, 1) if c.kind == "topic"]
        head = reply.title if reply.kind == "clarify" else f"{reply.title} {reply.summary}"
        return [
            _paragraph(head.strip()),
            _paragraph("\n".join(listed)),
            _paragraph(lab.get("bsky.pick", "Reply with a number.")),
        ]
    if reply.kind == "fallback":
        return [_paragraph(f"{reply.title} {lab.get('bsky.fallback', '')}".strip())]
    if reply.kind != "answer":
        return [_paragraph(reply.title)]
    part = reply.part
    if part == "short":
        first, steps = _short_paragraphs(reply)
        return first + steps
    paragraphs: list[Paragraph] = []
    if part in ("surfaces", "full"):
        if part == "full":
            paragraphs += _short_paragraphs(reply)[0]
            if reply.steps or reply.surface_note:
                paragraphs.append(
                    _paragraph(_steps_lines(reply.surface_label, reply.steps, reply.surface_note))
                )
        paragraphs += [
            _paragraph(_steps_lines(o.label, o.steps, o.note)) for o in reply.other_surfaces
        ]
    if part in ("why", "full"):
        paragraphs += [_paragraph(f"• {fact}") for fact in reply.facts]
        paragraphs += [_paragraph(f"• {caveat}") for caveat in reply.caveats]
    if part in ("sources", "full") and reply.sources:
        lines: Paragraph = [Span(f"{lab.get('sources', 'Sources')}:")]
        for source in reply.sources:
            lines += [
                Span(f"\n{source.publisher}, {_date(reply, source.date)}: "),
                Span(link_text(source.url), source.url),
            ]
        if reply.last_verified:
            checked = f"{lab.get('checked', 'Checked on')} {_date(reply, reply.last_verified)}"
            lines.append(Span(f"\n{checked}"))
        paragraphs.append(lines)
    if part in ("related", "full") and reply.details.related:
        related = "\n".join(f"• {c.label}" for c in reply.details.related)
        paragraphs.append(_paragraph(f"{lab.get('related', 'Related')}:\n{related}"))
    return paragraphs


def answer_paragraphs(reply: Reply, *, full: bool = True) -> list[Paragraph]:
    """Everything (``full``) or the short answer of a reply, as paragraphs."""
    shown = dataclasses.replace(reply, part="full" if full else "short")
    return _typeset(part_paragraphs(shown), reply.language)


def embed_for(reply: Reply) -> ExternalEmbed | None:
    """The link card of a short answer: the topic's page on the published site
    (``PRIVACYBOT_SITE_URL``: steps for every device, every source), else the
    topic's direct settings URL, if any."""
    uri = reply.site_url or reply.url
    if reply.kind != "answer" or reply.part != "short" or not uri:
        return None
    description = "".join(graphemes(reply.summary)[:280])
    return ExternalEmbed(uri, reply.title, description)


def render_bluesky(
    reply: Reply,
    *,
    max_posts: int = MAX_POSTS,
    max_graphemes: int = MAX_GRAPHEMES,
) -> list[Post]:
    """Render the part a reply shows as one post, or a short thread when it does not fit.

    The short answer is one post: the one-post answer, the direct link as a
    link facet and a link card for it; the steps come in a second post only
    when the person named a surface and they do not fit the first. Domain
    names and URLs in the text are link facets too. A longer part stops at a
    post boundary with "…" after ``max_posts`` posts.

    Args:
        reply: The neutral reply.
        max_posts: Longest thread to post.
        max_graphemes: Grapheme limit per post.

    Returns:
        Between 1 and ``max_posts`` posts; the first carries the card.
    """
    language = reply.language
    if reply.kind == "answer" and reply.part == "short":
        first, steps = _short_paragraphs(reply)
        posts = split_posts(_typeset(first, language), max_graphemes=max_graphemes)
        if steps:
            # A surface was named ("and on Android?"): its steps replace the one-post
            # answer (which follows the default surface), the link after them, or
            # first when the steps need a thread.
            link = _first_link(reply)
            tail = [_link_line(*link)] if link else []
            posts = split_posts(_typeset(steps + tail, language), max_graphemes=max_graphemes)
            if len(posts) > 1:
                posts = split_posts(_typeset(tail + steps, language), max_graphemes=max_graphemes)
    else:
        posts = split_posts(_typeset(part_paragraphs(reply), language), max_graphemes=max_graphemes)
    if len(posts) > max_posts:
        # Keep whole posts (they end at step or bullet boundaries) and say there is more.
        posts = posts[:max_posts]
        last = posts[-1]
        if grapheme_len(last.text) + 2 <= max_graphemes:
            posts[-1] = Post(last.text + " …", last.facets)
    if not posts:  # nothing readable: the title, within the limits
        posts = split_posts([_paragraph(reply.title or "…")], max_graphemes=max_graphemes)[:1]
    posts = posts[:max_posts] or [Post("…")]
    embed = embed_for(reply)
    if embed is not None:
        posts[0] = Post(posts[0].text, posts[0].facets, embed)
    return posts
