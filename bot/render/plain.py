"""Plain-text rendering of a reply, for the terminal (and ``--json``'s ``text``).

It shows the part the reply carries: the short answer by default (what to do,
now), one detail part when asked, or everything for ``privacybot ask --full``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from bot.messages import Reply
from bot.render.dates import format_date
from bot.render.typography import typeset


def _date(reply: Reply, value: dt.date | None) -> str:
    if value is None:
        return reply.labels.get("no_date", "n.d.")
    return format_date(value, reply.language)


def _short(reply: Reply) -> list[str]:
    lab = reply.labels
    out = [reply.title]
    if reply.summary:
        out.append(reply.summary)
    out.extend(f"  - {item}" for item in reply.items)
    if reply.steps or reply.surface_note:
        out.append("")
        out.append(f"{reply.surface_label}:")
        out.extend(f"  {i}. {step}" for i, step in enumerate(reply.steps, 1))
        if reply.surface_note:
            out.append(f"  ({reply.surface_note})")
    if reply.url:
        out.append(f"{lab.get('link', 'Direct link')}: {reply.url}")
    if reply.last_verified:
        out.append(f"{lab.get('checked', 'Checked on')} {_date(reply, reply.last_verified)}")
    return out


def _part(reply: Reply, part: str) -> list[str]:
    lab = reply.labels
    out: list[str] = []
    if part == "surfaces":
        for other in reply.other_surfaces:
            out.append(f"{other.label}:")
            out.extend(f"  {i}. {step}" for i, step in enumerate(other.steps, 1))
            if other.note:
                out.append(f"  ({other.note})")
    elif part == "why":
        if reply.facts:
            out.append(f"{lab.get('facts', 'What happens')}:")
            out.extend(f"  - {fact}" for fact in reply.facts)
        if reply.caveats:
            out.append(f"{lab.get('caveats', 'Good to know')}:")
            out.extend(f"  - {c}" for c in reply.caveats)
    elif part == "sources":
        out.append(f"{lab.get('sources', 'Sources')}:")
        out.extend(
            f"  - {s.title} ({s.publisher}, {_date(reply, s.date)}): {s.url}" for s in reply.sources
        )
    elif part == "related":
        out.append(f"{lab.get('related', 'Related')}:")
        out.extend(f"  - {c.label}" for c in reply.details.related)
    return out


def render_plain(reply: Reply) -> str:
    """Render the part a reply shows as readable plain text.

    Args:
        reply: The neutral reply.

    Returns:
        The short answer (title, summary, numbered steps, direct link, date
        checked), one detail part, or everything when ``reply.part`` is ``full``.
    """
    if reply.kind != "answer":
        out = [reply.title]
        if reply.summary:
            out.append(reply.summary)
        if reply.kind in ("clarify", "not_covered") and reply.choices:
            out.extend(f"  {i}. {c.label}" for i, c in enumerate(reply.choices, 1))
        elif reply.items:
            out.extend(f"  - {item}" for item in reply.items)
    elif reply.part == "short":
        out = _short(reply)
        others = [c.label for c in reply.choices if c.kind == "surface"]
        more = [reply.labels.get(f"part.{p}", p) for p in reply.parts if p != "surfaces"]
        if others or more:
            out.append(f"[{' | '.join(others + more)}]")
    elif reply.part == "full":
        out = _short(reply)
        for part in reply.parts:
            out.append("")
            out.extend(_part(reply, part))
    else:
        out = [reply.title, *_part(reply, reply.part)]
    return "\n".join(typeset(line, reply.language) for line in out)


def render_full(reply: Reply) -> str:
    """Everything a reply holds (``privacybot ask --full``)."""
    if reply.kind != "answer":
        return render_plain(reply)
    return render_plain(dataclasses.replace(reply, part="full"))
