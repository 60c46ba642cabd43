"""The ledger of answered posts: never reply twice to one post.

Kept in the store's generic "seen" set (:meth:`bot.store.base.Store.mark_seen`),
which holds only a salted hash of each post URI (a URI names its author's DID)
and expires with user data: enough to tell "already answered", not who asked.
"""

from __future__ import annotations

from bot.store.base import Store

KIND = "post"
"""The namespace of answered posts in the seen set (stored as ``HMAC(salt, "post:<uri>")``)."""


class AnsweredPosts:
    """Which posts the bot has handled (answered, or decided to leave alone).

    Args:
        store: The shared store.
    """

    def __init__(self, store: Store) -> None:
        self.store = store

    async def is_answered(self, post_uri: str) -> bool:
        """Whether the bot already handled ``post_uri``."""
        return await self.store.is_seen(KIND, post_uri)

    async def mark_answered(self, post_uri: str) -> None:
        """Record ``post_uri`` as handled (idempotent). The reply's URI is not kept:
        it would lead back to the asker."""
        await self.store.mark_seen(KIND, post_uri)
