"""Translation between atproto records and the bot's own shapes (no I/O).

Rendering (300 graphemes, link facets at UTF-8 byte offsets, threads) lives in
:mod:`bot.render.bluesky`, which knows nothing of the SDK; this module converts
its facets and link cards into SDK models, reads the fields of notifications
and records, and names posts in logs without naming their authors.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import os
import re
from typing import Any

from atproto import models

from bot.render.bluesky import ExternalEmbed, LinkFacet, Post


def parse_time(value: str | None) -> dt.datetime | None:
    """Parse an atproto datetime (``indexedAt``); None when absent or invalid."""
    if not value:
        return None
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def did_of(uri: str) -> str:
    """The repository DID of an ``at://did/collection/rkey`` URI."""
    return uri.removeprefix("at://").split("/", 1)[0]


def is_bot_labelled(author: Any) -> bool:
    """Whether an author carries the ``bot`` label (self-label or moderation)."""
    return any(getattr(label, "val", None) == "bot" for label in (author.labels or []))


def is_blocked(author: Any) -> bool:
    """Whether a profile view says it blocks the bot, or the bot blocks it."""
    viewer = getattr(author, "viewer", None)
    return bool(getattr(viewer, "blocked_by", False) or getattr(viewer, "blocking", None))


def question_text(record: Any, my_did: str, my_handle: str) -> str:
    """The question in a post: its text without the mentions of the bot.

    Mention facets pointing at the bot are cut by their UTF-8 byte range, then
    any remaining ``@handle`` of the bot is removed.
    """
    data = (record.text or "").encode()
    ranges = []
    for facet in record.facets or []:
        if any(getattr(f, "did", None) == my_did for f in facet.features):
            ranges.append((facet.index.byte_start, facet.index.byte_end))
    for start, end in sorted(ranges, reverse=True):
        if 0 <= start <= end <= len(data):
            data = data[:start] + data[end:]
    text = data.decode(errors="ignore")
    text = re.sub(rf"@{re.escape(my_handle)}\b", " ", text, flags=re.IGNORECASE)
    return re.sub(r"\s+", " ", text).strip()


def mentions(record: Any, my_did: str, my_handle: str) -> bool:
    """Whether a post tags the bot: a mention facet of its DID, or ``@handle`` in the text."""
    for facet in getattr(record, "facets", None) or []:
        if any(getattr(f, "did", None) == my_did for f in facet.features):
            return True
    text = getattr(record, "text", "") or ""
    return re.search(rf"@{re.escape(my_handle)}\b", text, flags=re.IGNORECASE) is not None


def language_of(record: Any) -> str | None:
    """The first language a post declares (``langs``), or None."""
    langs = list(getattr(record, "langs", None) or [])
    return langs[0] if langs else None


def to_sdk_facets(facets: tuple[LinkFacet, ...]) -> list[models.AppBskyRichtextFacet.Main] | None:
    """Convert the renderer's link facets into SDK facet models."""
    if not facets:
        return None
    return [
        models.AppBskyRichtextFacet.Main(
            features=[models.AppBskyRichtextFacet.Link(uri=f.uri)],
            index=models.AppBskyRichtextFacet.ByteSlice(
                byte_start=f.byte_start, byte_end=f.byte_end
            ),
        )
        for f in facets
    ]


def to_sdk_embed(embed: ExternalEmbed | None) -> models.AppBskyEmbedExternal.Main | None:
    """Convert the renderer's link card into the SDK's ``app.bsky.embed.external``."""
    if embed is None:
        return None
    return models.AppBskyEmbedExternal.Main(
        external=models.AppBskyEmbedExternal.External(
            uri=embed.uri, title=embed.title, description=embed.description
        )
    )


def reply_refs(notification: Any) -> models.AppBskyFeedPost.ReplyRef:
    """Thread refs for answering a post: parent = the post, root = its root if it is a reply."""
    parent = models.ComAtprotoRepoStrongRef.Main(uri=notification.uri, cid=notification.cid)
    reply = getattr(notification.record, "reply", None)
    root = (
        models.ComAtprotoRepoStrongRef.Main(uri=reply.root.uri, cid=reply.root.cid)
        if reply is not None
        else parent
    )
    return models.AppBskyFeedPost.ReplyRef(root=root, parent=parent)


def post_to_json(post: Post) -> dict[str, Any]:
    """A post of an unfinished thread as stored (text and link facets)."""
    return {"text": post.text, "facets": [[f.byte_start, f.byte_end, f.uri] for f in post.facets]}


def post_from_json(data: dict[str, Any]) -> Post:
    """The inverse of :func:`post_to_json`."""
    return Post(
        text=str(data["text"]),
        facets=tuple(LinkFacet(int(a), int(b), str(u)) for a, b, u in data.get("facets", [])),
    )


def field(value: Any, *names: str) -> Any:
    """A field of a record that the SDK returns as a model or as a plain dict."""
    if value is None:
        return None
    for name in names:
        found = value.get(name) if isinstance(value, dict) else getattr(value, name, None)
        if found is not None:
            return found
    return None


def to_dict(value: Any) -> dict[str, Any]:
    """A record as a plain dict, whether the SDK returned a model or a dict."""
    if isinstance(value, dict):
        return dict(value)
    from atproto_client.models.utils import get_model_as_dict

    return get_model_as_dict(value)


_LOG_KEY = os.urandom(16)


def log_ref(uri: str) -> str:
    """How a post is named in logs: a keyed hash, stable within this process only.

    Post URIs name their author's DID; the logs only need to tell posts apart.
    """
    return "post-" + hmac.new(_LOG_KEY, uri.encode(), hashlib.sha256).hexdigest()[:12]
