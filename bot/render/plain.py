"""Plain-text rendering of a reply, for the terminal (and ``--json``'s ``text``)."""

from __future__ import annotations

from bot.messages import Reply


def _date(reply: Reply, value: object) -> str:
    return value.isoformat() if value is not None else reply.labels.get("no_date", "n.d.")  # type: ignore[attr-defined]


def render_plain(reply: Reply) -> str:
    """Render a reply as readable plain text.

    Args:
        reply: The neutral reply.

    Returns:
        Text with numbered steps, the direct link, facts, caveats and sources.
    """
    lab = reply.labels
    out: list[str] = [reply.title]
    if reply.summary:
        out.append(reply.summary)
    if reply.kind != "answer":
        if reply.items:
            out.extend(f"  - {item}" for item in reply.items)
        if reply.kind == "clarify":
            out.extend(f"  {i}. {c.label}" for i, c in enumerate(reply.choices, 1))
        return "\n".join(out)
    if reply.items:
        out.extend(f"  - {item}" for item in reply.items)
    if reply.steps or reply.surface_note:
        out.append("")
        out.append(f"{lab.get('steps', 'Steps')} ({reply.surface_label}):")
        out.extend(f"  {i}. {step}" for i, step in enumerate(reply.steps, 1))
        if reply.surface_note:
            out.append(f"  ({reply.surface_note})")
    if reply.url:
        out.append(f"{lab.get('link', 'Direct link')}: {reply.url}")
    if reply.facts:
        out.append("")
        out.append(f"{lab.get('facts', 'Facts')}:")
        out.extend(f"  - {fact}" for fact in reply.facts)
    if reply.caveats:
        out.append("")
        out.append(f"{lab.get('caveats', 'Caveats')}:")
        out.extend(f"  - {c}" for c in reply.caveats)
    if reply.sources:
        out.append("")
        out.append(f"{lab.get('sources', 'Sources')}:")
        out.extend(
            f"  - {s.title} ({s.publisher}, {_date(reply, s.date)}): {s.url}" for s in reply.sources
        )
    if reply.last_verified:
        out.append(f"{lab.get('checked', 'Checked on')}: {reply.last_verified.isoformat()}")
    others = [c.label for c in reply.choices if c.kind == "surface"]
    if others:
        out.append(f"[{' | '.join(others)}]")
    return "\n".join(out)
