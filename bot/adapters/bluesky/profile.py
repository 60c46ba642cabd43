"""The bot account's profile: the ``bot`` self-label and what it stores."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from atproto_client.exceptions import BadRequestError, RequestException

from bot.adapters.bluesky.convert import is_bot_labelled, to_dict
from bot.adapters.bluesky.limits import UPDATE_POINTS
from bot.adapters.bluesky.session import RetryLater, Session
from bot.render.bluesky import grapheme_len

if TYPE_CHECKING:
    from bot.adapters.bluesky.channel import BlueskyChannel

log = logging.getLogger("bot.adapters.bluesky")

PROFILE_COLLECTION = "app.bsky.actor.profile"
PROFILE_DESCRIPTION = (
    "🤖 Bot. Tag me with a question (English/français) on how to stop a platform using "
    "your data; I reply with the settings steps. I store the IDs of posts I answered and, "
    "per account, a hashed ID with the last topic and language (expires). Never your posts."
)


async def warn_unless_labelled(session: Session) -> None:
    """Log a warning when the bot account lacks the ``bot`` self-label."""
    try:
        profile = await session.call(lambda c: c.get_profile(session.did))
    except (RetryLater, RequestException):
        return
    if not is_bot_labelled(profile):
        log.warning(
            "bluesky: the bot account has no 'bot' self-label; run "
            "`privacybot bluesky setup-profile` (Bluesky asks bots to label themselves)"
        )


async def setup_profile(
    channel: BlueskyChannel,
    *,
    description: str = PROFILE_DESCRIPTION,
    display_name: str | None = None,
) -> dict[str, Any]:
    """Give the bot account the ``bot`` self-label and a description of what it stores.

    Keeps the other profile fields (avatar, banner...) and uses ``swapRecord``
    so a concurrent edit is not overwritten.

    Args:
        channel: A channel whose settings name the account.
        description: Profile text (at most 256 graphemes).
        display_name: Display name; unchanged when None.

    Returns:
        The profile record written.

    Raises:
        ValueError: The description is longer than 256 graphemes.
    """
    if grapheme_len(description) > 256:
        raise ValueError("the profile description must be at most 256 graphemes")
    session = channel.session
    if session.client is None:
        await session.login()
    did = session.did
    try:
        current = await session.call(
            lambda c: c.com.atproto.repo.get_record(
                params={"repo": did, "collection": PROFILE_COLLECTION, "rkey": "self"}
            )
        )
        record = to_dict(current.value)
        swap = current.cid
    except BadRequestError:
        record, swap = {}, None
    record["$type"] = PROFILE_COLLECTION
    record["description"] = description
    if display_name is not None:
        record["displayName"] = display_name
    labels = record.get("labels") or {"$type": "com.atproto.label.defs#selfLabels", "values": []}
    values = [v for v in labels.get("values", []) if v.get("val") != "bot"]
    labels["values"] = [*values, {"val": "bot"}]
    record["labels"] = labels
    await session.call(
        lambda c: c.com.atproto.repo.put_record(
            data={
                "repo": did,
                "collection": PROFILE_COLLECTION,
                "rkey": "self",
                "record": record,
                "swapRecord": swap,
            }
        )
    )
    channel.outbox.budget.spend(UPDATE_POINTS)
    await channel.outbox.save_budget()
    return record
